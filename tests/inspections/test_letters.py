"""Risk letters (风险提示函) through their services: numbering in their own sequence, the life
issued → acknowledged → answered → closed or returned, every refusal, and the history."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from accounts.models import Role
from audit.models import AuditEvent
from inspections import letters
from inspections import services as svc
from inspections.models import DocumentKind, LetterFile, LetterSource, LetterStatus, RiskLetter
from notifications.models import Event, EventKind
from tasks.models import Campaign
from tasks.services.campaigns import close_campaign
from tasks.services.errors import CampaignClosed
from tests.conftest import make_user
from utilities.uploads import UploadRejected

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LS = LetterStatus


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def issue(city, *, by=None, unit="33031001", **kw):
    values = {
        "title": "关于夜市消防安全风险的提示",
        "risk": "夜市摊点密集，消防通道多处堵塞，存在火灾风险。",
        "requirements": "立即组织排查；落实专人巡查。",
        "reply_by": TODAY + timedelta(days=7),
    }
    return letters.issue_letter(by=by or city["inspector"], unit=city.units[unit], **(values | kw))


def test_life_issued_acknowledged_answered_closed_with_history(city, published):
    letter = issue(city, campaign=published)
    assert letter.number == "江城市风险提示〔2026〕1号" and letter.status == LS.ISSUED
    assert letter.source == LetterSource.ANALYSIS and letter.issuing_unit == city.units["3303"]
    assert Event.objects.filter(kind=EventKind.LETTER, subject_id=letter.pk, unit=letter.unit).exists()
    lead = city["station_lead"]
    done = letters.acknowledge_letter(letter=letter, by=lead)
    assert (done.status, done.acknowledged_by) == (LS.ACKNOWLEDGED, lead)
    again = letters.acknowledge_letter(letter=letter, by=city["east_lead"])  # nothing changes
    assert again.acknowledged_by == lead and again.version == done.version
    answered = letters.answer_letter(
        letter=letter, by=lead, text="已清理通道，增设巡查岗。", files=[SimpleUploadedFile("现场.png", PNG)]
    )
    assert (answered.status, answered.rounds, answered.answered_by) == (LS.ANSWERED, 1, lead)
    assert LetterFile.objects.get(letter=letter).round == 1
    closed = letters.close_letter(letter=letter, by=city["inspector"], note="措施到位")
    assert closed.status == LS.CLOSED and closed.closed_by == city["inspector"]
    verbs = list(
        AuditEvent.objects.filter(object_id=letter.pk, verb__startswith="letter.")
        .order_by("id")
        .values_list("verb", "actor__username")
    )
    assert verbs == [
        ("letter.issued", "inspector"),
        ("letter.acknowledged", "station_lead"),
        ("letter.answered", "station_lead"),
        ("letter.closed", "inspector"),
    ]
    assert Event.objects.filter(kind=EventKind.LETTER_CLOSED, subject_id=letter.pk).exists()


def test_returned_for_a_fuller_answer_then_answered_again(city, published):
    letter = issue(city, campaign=published)
    lead = city["station_lead"]
    letters.answer_letter(letter=letter, by=lead, text="已整改")  # an answer is a receipt too
    letter.refresh_from_db()
    assert letter.acknowledged_by == lead
    back = letters.return_letter(letter=letter, by=city["hq"], reason="措施不具体", reply_by=TODAY + timedelta(days=3))
    assert (back.status, back.returned_reason, back.reply_by) == (LS.ACKNOWLEDGED, "措施不具体", TODAY + timedelta(3))
    event = AuditEvent.objects.get(verb="letter.returned", object_id=letter.pk)
    assert event.changes["reason"] == "措施不具体" and event.changes["reply_by"] == [
        str(TODAY + timedelta(days=7)),
        str(TODAY + timedelta(days=3)),
    ]
    again = letters.answer_letter(letter=letter, by=lead, text="已逐项落实", files=[SimpleUploadedFile("b.png", PNG)])
    assert (again.status, again.rounds, again.answer) == (LS.ANSWERED, 2, "已逐项落实")
    assert LetterFile.objects.get(letter=letter).round == 2


def test_source_inspection_or_finding(city, published):
    visit = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[city.units["33031001"]], planned_on=TODAY
    )
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units["33031001"], place="夜市", description="通道堵塞"
    )
    by_finding = issue(city, finding=finding)
    assert (by_finding.source, by_finding.inspection, by_finding.campaign) == (
        LetterSource.INSPECTION,
        visit,
        published,
    )
    by_visit = issue(city, inspection=visit)
    assert by_visit.source == LetterSource.INSPECTION and by_visit.number.endswith("〔2026〕2号")
    with pytest.raises(svc.InspectionError, match="属于其他单位"):
        issue(city, unit="330310", finding=finding)
    with pytest.raises(svc.InspectionError, match="没有检查"):
        issue(city, unit="330310", inspection=visit)
    other = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[city.units["33031001"]], planned_on=TODAY
    )
    with pytest.raises(svc.InspectionError, match="不是该次检查"):
        issue(city, inspection=other, finding=finding)


def test_a_letter_of_no_campaign_is_pushed_under_the_default_rules(city):
    from notifications.models import Channel, Message

    letter = issue(city)
    event = Event.objects.get(subject_id=letter.pk, kind=EventKind.LETTER)
    assert letter.campaign is None and event.campaign is None and event.unit == letter.unit
    told = Message.objects.filter(event=event, recipient=city["station_lead"], channel=Channel.INBOX)
    assert told.exists()
    letters.answer_letter(letter=letter, by=city["station_lead"], text="已落实")
    letters.return_letter(letter=letter, by=city["inspector"], reason="不具体")
    back = Event.objects.get(kind=EventKind.LETTER_BACK, subject_id=letter.pk)
    assert back.campaign is None and back.reason == "不具体"


def test_numbers_per_issuer_year_and_kind(city, published):
    east = city.units["330310"]
    east.doc_prefix = "城东督"
    east.save()
    f = svc.log_finding(
        by=city["inspector"], campaign=published, unit=city.units["33031001"], place="p", description="d"
    )
    notice = svc.issue_notice(
        by=city["inspector"], unit=f.unit, findings=[f], deadline=TODAY, requirements="r", issuing_unit=east
    )
    numbers = [issue(city, issuing_unit=issuer).number for issuer in (east, east, city.units["3303"])]
    assert notice.number == "城东督〔2026〕1号"  # the notices' sequence is its own
    assert numbers == ["城东风险提示〔2026〕1号", "城东风险提示〔2026〕2号", "江城市风险提示〔2026〕1号"]
    with time_machine.travel(date(2027, 1, 4), tick=False):
        assert issue(city, issuing_unit=east, reply_by=date(2027, 1, 10)).number == "城东风险提示〔2027〕1号"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL (SQLite has one writer)"
)
def test_letter_and_notice_numbers_from_threads_no_gap_no_duplicate(city):
    issuer = city.units["330310"]
    barrier = threading.Barrier(6)
    got: dict[str, list[int]] = {DocumentKind.NOTICE: [], DocumentKind.LETTER: []}
    lock = threading.Lock()

    def draw(kind: str, n: int, fail_every: int):
        try:
            barrier.wait()
            for i in range(n):
                try:
                    with transaction.atomic():
                        seq, _ = svc._next_number(issuer, 2026, kind)
                        if fail_every and i % fail_every == 0:
                            raise RuntimeError("the letter failed after taking a number")
                    with lock:
                        got[kind].append(seq)
                except RuntimeError:
                    pass
        finally:
            connection.close()

    plan = [(DocumentKind.LETTER, 100, 0)] * 2 + [(DocumentKind.LETTER, 120, 6)] + [(DocumentKind.NOTICE, 100, 0)] * 3
    threads = [threading.Thread(target=draw, args=args) for args in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got[DocumentKind.LETTER]) == list(range(1, 301))
    assert sorted(got[DocumentKind.NOTICE]) == list(range(1, 301))


def test_refusals(city, published, west_inspector):
    with pytest.raises(PermissionDenied):
        issue(city, by=city["station_lead"])  # a lead does not issue
    with pytest.raises(PermissionDenied):
        issue(city, by=west_inspector)  # not over the east station
    with pytest.raises(svc.InspectionError, match="标题"):
        issue(city, title="  ")
    with pytest.raises(svc.InspectionError, match="早于今天"):
        issue(city, reply_by=TODAY - timedelta(days=1))
    unplaced = make_user("unplaced", None, (Role.INSPECTOR, city.units["3303"]))
    with pytest.raises(svc.InspectionError, match="发文单位"):
        issue(city, by=unplaced)  # no unit of its own to issue for, none named
    letter = issue(city, campaign=published)
    with pytest.raises(PermissionDenied):
        letters.acknowledge_letter(letter=letter, by=city["west_lead"])
    with pytest.raises(PermissionDenied):
        letters.acknowledge_letter(letter=letter, by=city["inspector"])  # the issuer is not the unit
    with pytest.raises(svc.InspectionError, match="防范措施"):
        letters.answer_letter(letter=letter, by=city["station_lead"], text=" ")
    with pytest.raises(PermissionDenied):
        letters.answer_letter(letter=letter, by=city["west_lead"], text="x")
    with pytest.raises(svc.InspectionError, match="没有待审核"):
        letters.close_letter(letter=letter, by=city["inspector"])
    with pytest.raises(UploadRejected):
        letters.answer_letter(
            letter=letter, by=city["station_lead"], text="x", files=[SimpleUploadedFile("a.png", b"<html>")]
        )
    assert RiskLetter.objects.get(pk=letter.pk).status == LS.ISSUED and not LetterFile.objects.exists()
    letters.answer_letter(letter=letter, by=city["station_lead"], text="已落实")
    with pytest.raises(svc.InspectionError, match="不需要答复"):
        letters.answer_letter(letter=letter, by=city["station_lead"], text="again")
    with pytest.raises(PermissionDenied):
        letters.close_letter(letter=letter, by=city["station_lead"])  # nobody judges their own unit
    with pytest.raises(PermissionDenied):
        letters.return_letter(letter=letter, by=city["east_lead"], reason="x")
    with pytest.raises(svc.InspectionError, match="写明理由"):
        letters.return_letter(letter=letter, by=city["inspector"], reason="")
    with pytest.raises(svc.InspectionError, match="早于今天"):
        letters.return_letter(letter=letter, by=city["inspector"], reason="x", reply_by=TODAY - timedelta(days=1))
    close_campaign(campaign=published, by=city["hq"])
    with pytest.raises(CampaignClosed):
        letters.close_letter(letter=letter, by=city["inspector"])
    with pytest.raises(CampaignClosed):
        issue(city, campaign=published)


def test_overdue_is_past_reply_by_without_an_answer(city):
    letter = issue(city)
    assert not letter.is_overdue
    with time_machine.travel(TODAY + timedelta(days=8), tick=False):
        assert RiskLetter.objects.get(pk=letter.pk).is_overdue
        assert RiskLetter.objects.filter(RiskLetter.overdue_q()).count() == 1
        letters.answer_letter(letter=letter, by=city["station_lead"], text="已落实")
        assert not RiskLetter.objects.filter(RiskLetter.overdue_q()).exists()


def test_an_inspection_of_units_out_of_scope_is_not_acted_for(city, published, west_inspector):
    tour = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[city.units["330320"], city.units["33031001"]], planned_on=TODAY
    )
    with pytest.raises(PermissionDenied):
        issue(city, by=west_inspector, unit="330320", inspection=tour)
    other = Campaign.objects.create(
        code="OTHER", name="另一行动", owner=city.units["3303"], start=TODAY, end=TODAY, status="published"
    )
    with pytest.raises(svc.InspectionError, match="不一致"):
        issue(city, unit="330320", by=city["inspector"], inspection=tour, campaign=other)
