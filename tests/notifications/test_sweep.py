"""The sweep decides reminders set-based and once: the steps before and on the due date, the
escalation ladder while overdue, colours, quiet hours, superseding, and a constant query count."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import sweep
from notifications.models import Channel, Message, MessageStatus, Policy, Preference, Reminder
from tasks.models import Assignment, AssignmentStatus

# smoke: the sweep's SQL must run on the embedded SQLite default as well as on PostgreSQL
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 8, 31)  # item 1 of the test plan: 8月底前


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def run(day: date, hour: int = 9):
    with time_machine.travel(at(day, hour), tick=False):
        return sweep.run()


@pytest.fixture
def work(city, published) -> Assignment:
    """The station's share of item 1, with a responsible leader account."""
    a = Assignment.objects.select_related("item").get(item__code="1.1", unit__code="33031001")
    a.item.leader = city["east_leader"]
    a.item.save(update_fields=["leader"])
    return a


def to(a: Assignment) -> dict[str, set[str]]:
    """username → kinds of the reminders about ``a``."""
    out: dict[str, set[str]] = {}
    for kind, username in Reminder.objects.filter(subject_type="assignment", subject_id=a.pk).values_list(
        "kind", "recipient__username"
    ):
        out.setdefault(username, set()).add(kind)
    return out


def test_before_and_on_the_day_the_lead_is_told_in_blue(city, work):
    for day in (date(2026, 8, 27), date(2026, 8, 29), date(2026, 8, 30)):
        run(day)  # 4, 2 and 1 days before: only the 1-day step is in the default rules (3 and 1)
    assert to(work) == {"station_lead": {"due_soon"}}
    run(date(2026, 8, 28))  # 3 days before
    run(DUE)
    reminders = Reminder.objects.filter(subject_id=work.pk)
    assert sorted(reminders.values_list("occurrence", flat=True)) == [
        "due 2026-08-31",
        "due 2026-08-31 -1",
        "due 2026-08-31 -3",
    ]
    assert set(reminders.values_list("colour", flat=True)) == {"blue"}
    assert set(reminders.values_list("recipient__username", flat=True)) == {"station_lead"}


def test_returned_work_is_yellow(city, work):
    Assignment.objects.filter(pk=work.pk).update(status=AssignmentStatus.RETURNED)
    run(date(2026, 8, 30))
    assert Reminder.objects.get(subject_id=work.pk).colour == "yellow"


def test_the_ladder_climbs_while_overdue(city, work):
    run(date(2026, 9, 1))  # day 1
    assert to(work) == {"station_lead": {"overdue"}}
    run(date(2026, 9, 3))  # day 3: the leader and the superior unit's lead too
    assert set(to(work)) == {"station_lead", "east_leader", "east_lead"}
    run(date(2026, 9, 7))  # day 7: and HQ
    assert set(to(work)) == {"station_lead", "east_leader", "east_lead", "hq"}
    assert Reminder.objects.filter(subject_id=work.pk, recipient=city["station_lead"]).count() == 3  # daily
    assert set(Reminder.objects.filter(subject_id=work.pk).values_list("colour", flat=True)) == {"red"}


def test_finished_or_withdrawn_work_is_left_alone(city, work):
    Assignment.objects.filter(pk=work.pk).update(status=AssignmentStatus.SUBMITTED)
    other = Assignment.objects.get(item__code="1.1", unit__code="33031002")
    Assignment.objects.filter(pk=other.pk).update(is_active=False)
    run(date(2026, 9, 10))
    assert not Reminder.objects.filter(subject_id__in=[work.pk, other.pk]).exists()


def test_a_second_sweep_adds_nothing(city, work):
    first = run(date(2026, 9, 7))
    assert first.total > 0
    before = Reminder.objects.count(), Message.objects.count()
    second = run(
        date(
            2026,
            9,
            7,
        ),
        hour=15,
    )
    assert second.total == 0 and (Reminder.objects.count(), Message.objects.count()) == before


def test_messages_per_channel_and_quiet_hours(city, work):
    city["station_lead"].email = "lead@example.cn"
    city["station_lead"].save(update_fields=["email"])
    city["east_lead"].email = "east@example.cn"
    city["east_lead"].save(update_fields=["email"])
    Preference.objects.create(user=city["east_lead"], email=False, webhook=True)
    run(date(2026, 9, 3), hour=23)  # at night
    mine = {m.channel: m for m in Message.objects.filter(reminder__subject_id=work.pk, recipient=city["station_lead"])}
    assert set(mine) == {Channel.INBOX, Channel.EMAIL}
    assert mine[Channel.INBOX].not_before == at(date(2026, 9, 3), 23)  # the inbox is silent: at once
    assert mine[Channel.EMAIL].not_before == datetime(2026, 9, 4, 7, 30, tzinfo=TZ)  # push waits for morning
    east = set(
        Message.objects.filter(reminder__subject_id=work.pk, recipient=city["east_lead"]).values_list(
            "channel", flat=True
        )
    )
    assert east == {Channel.INBOX, Channel.WEBHOOK}


def test_a_campaign_with_its_own_quiet_hours_holds_its_mail_by_them(city, work):
    city["station_lead"].email = "lead@example.cn"
    city["station_lead"].save(update_fields=["email"])
    Policy.objects.create(campaign=work.campaign, quiet_start=time(20), quiet_end=time(8))
    run(date(2026, 9, 3), hour=21)  # quiet for this campaign, not by the default rules (22:00)
    mail = Message.objects.get(reminder__subject_id=work.pk, channel=Channel.EMAIL)
    assert mail.not_before == datetime(2026, 9, 4, 8, 0, tzinfo=TZ)
    Policy.objects.filter(campaign=work.campaign).delete()
    Reminder.objects.all().delete()
    run(date(2026, 9, 4), hour=21)
    assert Message.objects.get(channel=Channel.EMAIL).not_before == at(date(2026, 9, 4), 21)


def test_quiet_hours_edges():
    policy = Policy()
    assert sweep.quiet_until(policy, at(date(2026, 9, 3), 12)) == at(date(2026, 9, 3), 12)
    assert sweep.quiet_until(policy, at(date(2026, 9, 3), 3)) == datetime(2026, 9, 3, 7, 30, tzinfo=TZ)
    day = Policy(quiet_start=time(12), quiet_end=time(14))  # a window inside one day
    assert sweep.quiet_until(day, at(date(2026, 9, 3), 13)) == datetime(2026, 9, 3, 14, 0, tzinfo=TZ)


def test_a_newer_reminder_supersedes_the_unread_older_one(city, work):
    run(date(2026, 9, 1))
    run(date(2026, 9, 2))
    inbox = Message.objects.filter(reminder__subject_id=work.pk, recipient=city["station_lead"], channel=Channel.INBOX)
    assert list(inbox.order_by("id").values_list("status", flat=True)) == ["superseded", "pending"]
    # a message already read is history, not superseded
    inbox.filter(status=MessageStatus.PENDING).update(status=MessageStatus.SENT, read_at=at(date(2026, 9, 2)))
    run(date(2026, 9, 3))
    assert list(inbox.order_by("id").values_list("status", flat=True)) == ["superseded", "sent", "pending"]


def test_campaign_rules_replace_the_default(city, work):
    Policy.objects.create(
        campaign=work.campaign, before_days=[5], on_the_day=False, ladder=[{"day": 2, "audience": "lead"}]
    )
    run(date(2026, 8, 26))  # 5 days before
    run(date(2026, 8, 28))  # 3 days before: not in this campaign's rules
    run(date(2026, 9, 1))  # overdue day 1: the ladder starts at day 2
    assert list(Reminder.objects.filter(subject_id=work.pk).values_list("occurrence", flat=True)) == [
        "due 2026-08-31 -5"
    ]


def test_the_sweep_takes_the_same_queries_whatever_the_number_of_rows(city, published):
    with CaptureQueriesContext(connection) as few:
        run(date(2026, 6, 2))  # before the campaign, a Tuesday: nothing due
    with CaptureQueriesContext(connection) as many:
        outcome = run(date(2026, 9, 20))  # everything overdue
    assert outcome.total > 10
    assert len(many) == len(few) + 4  # + the three channels' messages and the superseding
