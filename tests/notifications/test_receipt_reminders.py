"""未签收: work or a rectification notice not acknowledged within the rules' working hours reminds the
unit's leads once, and after twice as many the superior unit's leads once; acknowledged work, closed and
draft campaigns are left alone; the window is HQ's setting in the admin (0 = off)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import User
from inspections import services as svc
from inspections.models import InspectionKind, Notice
from notifications import delivery, digest, inbox, sweep
from notifications.models import Channel, Digest, Message, Policy, Preference, Reminder, Subject
from tasks.models import Assignment, Campaign, CampaignStatus
from tasks.services import receipts
from tests.web.pages import login, text

# smoke: the receipt statements run on SQLite as well as PostgreSQL
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")
PUBLISHED = datetime(2026, 7, 20, 10, 5, tzinfo=TZ)  # a Monday morning


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=TZ)


def run(moment: datetime):
    with time_machine.travel(moment, tick=False):
        return sweep.run()


@pytest.fixture(autouse=True)
def _published_monday():
    with time_machine.travel(PUBLISHED, tick=False):
        yield


@pytest.fixture
def work(city, published) -> Assignment:
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


@pytest.fixture
def notice(city, published) -> Notice:
    visit = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=date(2026, 7, 20),
        kind=InspectionKind.NIGHT,
    )
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units["33031001"], place="夜宵摊", description="通道堵塞"
    )
    return svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[finding],
        deadline=date(2026, 7, 27),
        requirements="立即清理",
        inspection=visit,
    )


def told(subject_type: str, row) -> dict[str, str]:
    """username → the step of the receipt reminders about the row: a notice's own, an assignment's
    unit's in its campaign (one reminder for all its items, the day they arrived and the unit named)."""
    if subject_type == Subject.UNACKED:
        rows = Reminder.objects.filter(subject_type=subject_type, subject_id=row.campaign_id, unit_id=row.unit_id)
    else:
        rows = Reminder.objects.filter(subject_type=subject_type, subject_id=row.pk)
    return {
        user: re.sub(r" \d{4}-\d\d-\d\d #\d+$", "", o)
        for user, o in rows.values_list("recipient__username", "occurrence")
    }


def unacked(work: Assignment):
    return Reminder.objects.filter(subject_type=Subject.UNACKED, subject_id=work.campaign_id, unit_id=work.unit_id)


def test_after_one_working_day_the_leads_are_told_once_then_the_superior(city, work):
    run(at(21, 10, 0))  # Tuesday 10:00: 6h55 working hours since publication
    assert told(Subject.UNACKED, work) == {}
    run(at(21, 10, 10))  # one working day (7 h)
    assert told(Subject.UNACKED, work) == {"station_lead": "unacked"}
    first = unacked(work).get()
    assert (first.kind, first.colour, first.audience) == ("unacked", "yellow", "lead")
    assert first.occurrence == f"unacked 2026-07-20 #{work.unit_id}" and first.due_date == work.due_date
    for moment in (at(21, 11), at(21, 16), at(22, 9)):  # the hourly sweep: never twice
        run(moment)
    assert unacked(work).count() == 1
    run(at(22, 10, 10))  # two working days: the sub-bureau's lead
    assert told(Subject.UNACKED, work) == {"station_lead": "unacked", "east_lead": "unacked superior"}
    run(at(24, 10))
    assert unacked(work).count() == 2


def test_the_message_reads_as_a_receipt_reminder_and_opens_the_work(city, work):
    with time_machine.travel(at(21, 10, 10), tick=False):
        sweep.run()
        delivery.drain()
    m = Message.objects.get(reminder__in=unacked(work), channel=Channel.INBOX)
    n = Assignment.objects.filter(unit=work.unit, campaign=work.campaign).count()
    assert m.subject == f"【签收提醒】《{work.campaign.name}》{n}项任务尚未签收"
    assert f"城关派出所的任务中，尚有{n}项未签收（最早完成时限" in m.body and "逐项签收" in m.body
    assert inbox.link(m) == reverse("web:tasks-my") + f"?campaign={work.campaign_id}"


def test_one_reminder_for_all_the_unit_s_items_and_again_for_work_arriving_later(city, published):
    east = Assignment.objects.filter(unit__code="330310", campaign=published)
    assert east.count() > 1  # the sub-bureau's several items: one reminder
    first = east.first()
    run(at(21, 10, 10))
    assert unacked(first).count() == 1
    for a in east:
        receipts.acknowledge_assignment(assignment=a, by=city["east_lead"])
    share = Assignment.objects.filter(unit__code="33031001").first()
    Assignment.objects.filter(pk=first.pk).update(acknowledged_at=None, created_at=at(22, 9), parent=share)
    run(at(22, 16))  # 6 h after the share arrived (Wednesday 9:00)
    assert unacked(first).count() == 1
    run(at(23, 9, 5))  # 7 h: reminded of it, once
    assert sorted(unacked(first).values_list("occurrence", flat=True)) == [
        f"unacked 2026-07-20 #{first.unit_id}",
        f"unacked 2026-07-22 #{first.unit_id}",
    ]


def test_the_weekend_and_the_evening_do_not_count(city, work):
    Assignment.objects.filter(unit=work.unit).update(created_at=at(24, 17, 0))  # Friday 17:00, synced in late
    Campaign.objects.filter(pk=work.campaign_id).update(published_at=at(24, 16, 0))
    run(at(27, 14, 30))  # Monday 14:30: half an hour Friday, 3.5 h Monday morning, half an hour after lunch
    assert told(Subject.UNACKED, work) == {}
    run(at(27, 17, 1))  # 7 h
    assert told(Subject.UNACKED, work) == {"station_lead": "unacked"}


def test_acknowledged_work_is_not_reminded(city, work):
    for a in Assignment.objects.filter(unit=work.unit, campaign=work.campaign):
        receipts.acknowledge_assignment(assignment=a, by=city["station_lead"])
    run(at(23, 10))
    assert told(Subject.UNACKED, work) == {}
    others = Reminder.objects.filter(subject_type=Subject.UNACKED)
    assert others.exists()  # the units that did not acknowledge are


@pytest.mark.parametrize("share", [False, True])
def test_received_is_the_later_of_creation_and_publication_and_a_share_its_creation(city, work, share):
    Campaign.objects.filter(pk=work.campaign_id).update(published_at=at(21, 10, 0))  # published Tuesday
    parent = Assignment.objects.exclude(unit=work.unit).first() if share else None
    Assignment.objects.filter(unit=work.unit).update(created_at=at(20, 9), parent=parent)  # written Monday
    run(at(21, 9, 30))  # 7 h after its creation: a share passed down then is due; a plan's work is not
    assert told(Subject.UNACKED, work) == ({"station_lead": "unacked"} if share else {})
    run(at(22, 10, 0))  # 7 h after the publication (the share's 14 h after its creation: the superior too)
    assert told(Subject.UNACKED, work)["station_lead"] == "unacked"


@pytest.mark.parametrize("status", [CampaignStatus.CLOSED, CampaignStatus.DRAFT])
def test_closed_and_draft_campaigns_are_left_alone(city, work, notice, status):
    Campaign.objects.filter(pk=work.campaign_id).update(status=status)
    run(at(24, 10))
    assert not Reminder.objects.filter(subject_type__in=[Subject.UNACKED, Subject.NOTICE_UNACKED]).exists()


def test_submitted_or_withdrawn_work_is_left_alone(city, work):
    Assignment.objects.filter(unit=work.unit).update(status="submitted")
    Assignment.objects.filter(unit__code="33031002").update(is_active=False)
    run(at(24, 10))
    assert told(Subject.UNACKED, work) == {}
    assert not Reminder.objects.filter(subject_type=Subject.UNACKED, unit__code="33031002").exists()


def test_a_notice_not_acknowledged_reminds_the_lead_then_the_superior(city, notice):
    run(at(21, 10, 10))
    assert told(Subject.NOTICE_UNACKED, notice) == {"station_lead": "unacked"}
    run(at(22, 10, 10))
    assert told(Subject.NOTICE_UNACKED, notice) == {"station_lead": "unacked", "east_lead": "unacked superior"}
    with time_machine.travel(at(22, 10, 15), tick=False):
        delivery.drain()
    m = Message.objects.get(
        reminder__subject_type=Subject.NOTICE_UNACKED, recipient=city["east_lead"], channel=Channel.INBOX
    )
    assert m.subject.startswith("【签收督办】下级单位城关派出所整改通知书") and notice.number in m.subject


def test_an_acknowledged_or_closed_notice_is_left_alone(city, notice):
    svc.acknowledge_notice(notice=notice, by=city["station_lead"])
    run(at(22, 10, 10))
    assert told(Subject.NOTICE_UNACKED, notice) == {}
    Notice.objects.filter(pk=notice.pk).update(acknowledged_at=None, status="closed")
    run(at(23, 10, 10))
    assert told(Subject.NOTICE_UNACKED, notice) == {}


def test_a_campaign_s_own_window_and_zero_turns_it_off(city, work):
    Policy.objects.create(campaign=work.campaign, receipt_hours=0)
    run(at(24, 10))
    assert not Reminder.objects.filter(subject_type=Subject.UNACKED).exists()
    Policy.objects.filter(campaign=work.campaign).update(receipt_hours=14)
    run(at(21, 10, 10))
    assert told(Subject.UNACKED, work) == {}
    run(at(22, 10, 10))  # two working days: the leads; four for the superior
    assert told(Subject.UNACKED, work) == {"station_lead": "unacked"}


def test_push_messages_wait_for_the_end_of_the_quiet_hours(city, work):
    Policy.objects.create(campaign=work.campaign, receipt_hours=7, quiet_start="09:00", quiet_end="11:00")
    city["station_lead"].email = "zhaoguan@example.cn"
    city["station_lead"].save(update_fields=["email"])
    run(at(21, 10, 10))
    email = Message.objects.filter(reminder__subject_type=Subject.UNACKED, channel=Channel.EMAIL).first()
    assert email is not None and email.not_before == at(21, 11)


def test_the_window_is_set_in_the_admin_with_the_other_rules(city):
    """The rules are the system administrator's (as every field of them): HQ's role has no admin rights
    on them, as a sub-bureau's HQ must not change the province's default."""
    default = Policy.objects.get(campaign=None)
    assert default.receipt_hours == 7  # one working day
    assert login(city["hq"]).get(f"/admin/notifications/policy/{default.pk}/change/").status_code == 403
    hq = login(User.objects.create_superuser("sysadmin", "sysadmin@example.cn", "a-long-password-1"))
    url = f"/admin/notifications/policy/{default.pk}/change/"
    page = hq.get(url)
    assert page.status_code == 200 and 'name="receipt_hours"' in page.content.decode()
    changed = hq.post(
        url,
        {
            "before_days": "[3, 1]",
            "on_the_day": "on",
            "ladder": '[{"day": 1, "audience": "lead"}]',
            "behind_weekday": 1,
            "receipt_hours": 14,
            "quiet_start": "22:00",
            "quiet_end": "07:30",
        },
    )
    assert changed.status_code == 302, text(changed)[:800]
    assert Policy.objects.get(campaign=None).receipt_hours == 14


def test_a_lead_who_chose_a_digest_reads_what_is_not_acknowledged_in_it(city, work, notice):
    Preference.objects.create(user=city["station_lead"], digest=True)
    run(at(21, 10, 10))
    with time_machine.travel(at(22, 8, 30), tick=False):
        assert digest.daily() >= 1
    body = Digest.objects.get(recipient=city["station_lead"]).body
    assert f"城关派出所 《{work.campaign.name}》任务，尚未签收" in body
    assert f"城关派出所 整改通知书{notice.number}，尚未签收" in body


# --- risk letters (风险提示函): 未签收 as a notice's ------------------------------------------------------


@pytest.fixture
def letter(city, published):
    from inspections.letters import issue_letter

    return issue_letter(
        by=city["inspector"],
        unit=city.units["33031001"],
        title="夜市消防通道堵塞风险",
        risk="夜市摊位占用消防通道",
        requirements="落实每日巡查",
        reply_by=date(2026, 7, 31),
        campaign=published,
    )


def test_a_risk_letter_not_acknowledged_reminds_the_lead_then_the_superior(city, letter):
    run(at(21, 10, 10))
    assert told(Subject.LETTER_UNACKED, letter) == {"station_lead": "unacked"}
    run(at(22, 10, 10))
    assert told(Subject.LETTER_UNACKED, letter) == {"station_lead": "unacked", "east_lead": "unacked superior"}
    run(at(22, 11, 10))  # once each, however often the sweep runs
    assert Reminder.objects.filter(subject_type=Subject.LETTER_UNACKED, subject_id=letter.pk).count() == 2
    with time_machine.travel(at(22, 10, 15), tick=False):
        delivery.drain()
    lead = Message.objects.get(
        reminder__subject_type=Subject.LETTER_UNACKED, recipient=city["station_lead"], channel=Channel.INBOX
    )
    assert lead.subject == f"【签收提醒】风险提示函{letter.number}尚未签收" and "7月31日" in lead.body
    assert inbox.link(lead) == reverse("web:inspections-letter", args=[letter.pk])
    boss = Message.objects.get(
        reminder__subject_type=Subject.LETTER_UNACKED, recipient=city["east_lead"], channel=Channel.INBOX
    )
    assert boss.subject.startswith("【签收督办】下级单位城关派出所风险提示函")


def test_an_acknowledged_or_closed_letter_is_left_alone(city, letter):
    from inspections.letters import acknowledge_letter
    from inspections.models import RiskLetter

    acknowledge_letter(letter=letter, by=city["station_lead"])
    run(at(22, 10, 10))
    assert told(Subject.LETTER_UNACKED, letter) == {}
    RiskLetter.objects.filter(pk=letter.pk).update(acknowledged_at=None, status="closed")
    run(at(23, 10, 10))
    assert told(Subject.LETTER_UNACKED, letter) == {}
