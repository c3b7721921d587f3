"""未签收 of official documents and of risk letters of no campaign (issues 21/22's gaps): a recipient unit
that has not acknowledged an issued document by the receipt cutoff reminds its leads once, and after twice
as many working hours the superior unit's leads once; acknowledged rows, outside bodies, drafts and closed
campaigns are left alone; a letter of no campaign is reminded under the default rules."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role, User
from documents import distribution
from documents import services as docs
from inspections.letters import acknowledge_letter, issue_letter
from notifications import delivery, digest, inbox
from notifications.models import Channel, Digest, Message, Policy, Preference, Reminder, Subject
from tasks.models import Campaign, CampaignStatus
from tests.conftest import make_user

from .test_receipt_reminders import at, run

# smoke: the receipt statements run on SQLite as well as PostgreSQL
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
D = Subject.DOC_UNACKED


@pytest.fixture(autouse=True)
def _issued_monday():
    with time_machine.travel(at(20, 10, 5), tick=False):  # a Monday morning
        yield


def _issue(city, campaign: Campaign, *, units: list[str], copies: list[str] = (), sign: bool = True):
    """A notice (通知) of the city bureau to ``units`` (主送) and ``copies`` (抄送), and an outside body."""
    hq = city["hq"]
    leader = User.objects.filter(username="city_leader").first() or make_user(
        "city_leader", city.units["3303"], (Role.LEADER, city.units["3303"]), name="陈局长"
    )
    d = docs.draft_document(
        by=hq, campaign=campaign, kind="notice", unit=city.units["3303"], title="关于加强夜市巡查的通知"
    )
    d = docs.update_draft(document=d, by=hq, requirements="各单位要加强夜市巡查。")
    d = distribution.set_recipients(
        document=d,
        by=hq,
        units=[city.units[c] for c in units],
        copies=[city.units[c] for c in copies],
        bodies=[("江城市委政法委", "copy")],
    )
    d = docs.submit_document(document=d, by=hq)
    d = docs.check_document(document=d, by=hq)
    return docs.sign_document(document=d, by=leader) if sign else d


@pytest.fixture
def document(city, published):
    return _issue(city, published, units=["33031001", "330320"], copies=["330310"])


def told(document) -> dict[tuple[str, str], str]:
    """(username, the unit reminded about) → the step."""
    rows = Reminder.objects.filter(subject_type=D, subject_id=document.pk)
    return {(r.recipient.username, r.unit.code): r.occurrence.split(" #")[0] for r in rows}


def test_the_units_not_acknowledged_are_reminded_once_then_their_superiors(city, document):
    distribution.acknowledge(document=document, by=city["west_lead"])  # 城西分局 has
    run(at(21, 10, 0))  # not yet seven working hours since the issue
    assert told(document) == {}
    first = run(at(21, 10, 10))
    # the station (主送) and the east branch (抄送) — not the west branch (acknowledged), nor the outside body
    assert told(document) == {("station_lead", "33031001"): "unacked", ("east_lead", "330310"): "unacked"}
    assert first.reminders[(D, "unacked", "lead")] == 2
    again = run(at(21, 11, 10))  # however often the sweep runs
    assert again.reminders[(D, "unacked", "lead")] == 0
    run(at(22, 10, 10))  # twice the hours: the superior unit's leads, about each unit of theirs
    assert told(document) == {
        ("station_lead", "33031001"): "unacked",
        ("east_lead", "330310"): "unacked",
        ("east_lead", "33031001"): "unacked superior",  # the station's superior; the city has no lead
    }
    run(at(23, 10, 10))
    assert Reminder.objects.filter(subject_type=D, subject_id=document.pk).count() == 3
    reminder = Reminder.objects.get(subject_type=D, recipient=city["station_lead"])
    assert reminder.campaign_id == document.campaign_id and reminder.colour == "yellow"
    assert reminder.due_date == date(2026, 7, 20)  # the issue day, which the texts quote


def test_the_message_names_the_document_and_opens_it(city, document):
    run(at(22, 10, 10))
    with time_machine.travel(at(22, 10, 15), tick=False):
        delivery.drain()
    lead = Message.objects.get(reminder__subject_type=D, recipient=city["station_lead"], channel=Channel.INBOX)
    assert lead.subject == f"【签收提醒】公文{document.number}尚未签收"
    assert "《关于加强夜市巡查的通知》" in lead.body and "7月20日" in lead.body and "城关派出所" in lead.body
    assert inbox.link(lead) == reverse("web:documents-document", args=[document.pk])
    boss = Message.objects.get(
        reminder__subject_type=D, recipient=city["east_lead"], unit=city.units["33031001"], channel=Channel.INBOX
    )
    assert boss.subject == f"【签收督办】下级单位城关派出所公文{document.number}尚未签收"
    # the east branch's own reminder is about the east branch, not superseded by the one about its station
    own = Message.objects.get(
        reminder__subject_type=D, recipient=city["east_lead"], unit=city.units["330310"], channel=Channel.INBOX
    )
    assert own.status == "sent" and "城东分局" in own.body


def test_acknowledged_after_the_lead_was_reminded_goes_no_further(city, document):
    run(at(21, 10, 10))
    distribution.acknowledge(document=document, by=city["station_lead"])
    run(at(22, 10, 10))
    assert ("east_lead", "33031001") not in told(document)


def test_drafts_closed_campaigns_and_rules_turned_off_are_left_alone(city, published):
    draft = _issue(city, published, units=["33031001"], sign=False)  # awaiting the signature
    run(at(22, 10, 10))
    assert told(draft) == {}
    issued = _issue(city, published, units=["33031001"])
    Campaign.objects.filter(pk=published.pk).update(status=CampaignStatus.CLOSED)
    run(at(23, 10, 10))
    assert told(issued) == {}
    Campaign.objects.filter(pk=published.pk).update(status=CampaignStatus.PUBLISHED)
    Policy.objects.create(campaign=published, receipt_hours=0)  # the campaign's own rules: off
    run(at(23, 10, 10))
    assert told(issued) == {}


def test_a_lead_who_chose_a_digest_reads_the_document_in_it(city, document):
    Preference.objects.create(user=city["station_lead"], digest=True)
    run(at(21, 10, 10))
    with time_machine.travel(at(22, 8, 30), tick=False):
        assert digest.daily() >= 1
    assert f"城关派出所 公文{document.number}，尚未签收" in Digest.objects.get(recipient=city["station_lead"]).body


# --- a risk letter of no campaign: the default rules --------------------------------------------------------


@pytest.fixture
def loose_letter(city, published):
    """A letter of no campaign (分析研判), while a campaign has its own rules (the default's group then names
    the campaigns it leaves out: the letter's empty campaign must not fall out with them)."""
    Policy.objects.create(campaign=published, receipt_hours=0)
    return issue_letter(
        by=city["inspector"],
        unit=city.units["33031001"],
        title="电诈高发风险",
        risk="辖区电信诈骗警情上升",
        requirements="加强反诈宣传",
        reply_by=date(2026, 7, 31),
    )


def letter_told(letter) -> dict[str, str]:
    rows = Reminder.objects.filter(subject_type=Subject.LETTER_UNACKED, subject_id=letter.pk)
    return {r.recipient.username: r.occurrence for r in rows}


def test_a_letter_of_no_campaign_is_reminded_under_the_default_rules(city, loose_letter):
    assert loose_letter.campaign_id is None
    run(at(21, 10, 10))
    assert letter_told(loose_letter) == {"station_lead": "unacked"}
    run(at(22, 10, 10))
    run(at(22, 11, 10))
    assert letter_told(loose_letter) == {"station_lead": "unacked", "east_lead": "unacked superior"}
    assert set(Reminder.objects.filter(subject_id=loose_letter.pk).values_list("campaign", flat=True)) == {None}
    # queued in the sweep's transaction like the others, and delivered
    with time_machine.travel(at(22, 11, 15), tick=False):
        delivery.drain()
    lead = Message.objects.get(
        reminder__subject_type=Subject.LETTER_UNACKED, recipient=city["station_lead"], channel=Channel.INBOX
    )
    assert lead.status == "sent" and lead.subject == f"【签收提醒】风险提示函{loose_letter.number}尚未签收"
    assert inbox.link(lead) == reverse("web:inspections-letter", args=[loose_letter.pk])


def test_a_letter_of_no_campaign_follows_the_default_rules_only(city, loose_letter):
    Policy.objects.filter(campaign=None).update(receipt_hours=0)  # the default: off
    run(at(22, 10, 10))
    assert letter_told(loose_letter) == {}
    Policy.objects.filter(campaign=None).update(receipt_hours=14)  # two working days
    run(at(21, 10, 10))
    assert letter_told(loose_letter) == {}
    run(at(22, 10, 10))
    assert letter_told(loose_letter) == {"station_lead": "unacked"}


def test_an_acknowledged_letter_of_no_campaign_is_left_alone(city, loose_letter):
    acknowledge_letter(letter=loose_letter, by=city["station_lead"])
    run(at(22, 10, 10))
    assert letter_told(loose_letter) == {}
