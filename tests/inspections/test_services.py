"""Inspections, findings, notices and hotspots through their services: the lifecycle, the refusals,
the office number sequence under concurrency, the hotspot windows and the counts."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from audit.models import AuditEvent
from inspections import services as svc
from inspections.models import Finding, FindingStatus, Hotspot, InspectionKind, Notice, NoticeStatus, Photo
from utilities.uploads import UploadRejected

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def photo(name="现场.png", content=PNG):
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def visit(city, published):
    return svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )


def find(city, visit, place="夜宵摊聚集区", **kw):
    return svc.log_finding(
        by=city["inspector"],
        inspection=visit,
        unit=city.units["33031001"],
        place=place,
        description="消防通道堵塞，灭火器过期",
        **kw,
    )


def test_finding_with_photo_and_history(city, visit):
    finding = find(city, visit, photos=[photo()], severity="serious")
    assert finding.status == FindingStatus.OPEN and finding.campaign == visit.campaign
    assert Photo.objects.get(finding=finding).content_type == "image/png"
    event = AuditEvent.objects.get(verb="finding.logged", object_id=finding.pk)
    assert event.actor == city["inspector"] and event.changes["photos"] == ["现场.png"]
    assert event.changes["self_reported"] is False


def test_only_images_and_pdf_and_nothing_half_written(city, visit):
    docx_bytes = b"PK\x03\x04" + b"\x00" * 40
    with pytest.raises(UploadRejected):
        find(city, visit, photos=[photo("照片.jpg", b"<html>not an image</html>")])
    with pytest.raises(UploadRejected):
        find(city, visit, photos=[photo("a.docx", docx_bytes)])
    assert not Finding.objects.exists() and not Photo.objects.exists()


def test_self_reported_finding_by_the_unit_only(city, published):
    own = svc.log_finding(
        by=city["station_lead"], campaign=published, unit=city.units["33031001"], place="所内", description="台账缺页"
    )
    assert own.inspection is None
    assert AuditEvent.objects.get(verb="finding.logged", object_id=own.pk).changes["self_reported"] is True
    with pytest.raises(PermissionDenied):
        svc.log_finding(
            by=city["west_lead"], campaign=published, unit=city.units["33031001"], place="x", description="y"
        )


def test_the_whole_rectification_round_trip(city, visit):
    first, second = find(city, visit), find(city, visit, place="KTV")
    notice = svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[first, second],
        deadline=date(2026, 7, 27),
        requirements="立即清理消防通道，更换灭火器",
        inspection=visit,
    )
    assert notice.number == "江城市督〔2026〕1号"
    first.refresh_from_db()
    assert (first.status, first.deadline, first.rounds, first.notice) == (
        FindingStatus.ORDERED,
        date(2026, 7, 27),
        1,
        notice,
    )
    # the unit answers both; the inspector rejects one once
    for f in (first, second):
        svc.answer_finding(finding=f, by=city["station_lead"], text="已整改", files=[photo("整改后.png")])
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED
    svc.verify_finding(finding=second, by=city["inspector"], accept=True)
    with pytest.raises(svc.InspectionError, match="重新确定整改期限"):
        svc.verify_finding(finding=first, by=city["inspector"], accept=False, note="灭火器仍未更换")
    svc.verify_finding(
        finding=first, by=city["inspector"], accept=False, note="灭火器仍未更换", new_deadline=date(2026, 7, 31)
    )
    first.refresh_from_db()
    notice.refresh_from_db()
    assert (first.status, first.rounds, first.deadline) == (FindingStatus.ORDERED, 2, date(2026, 7, 31))
    assert notice.status == NoticeStatus.ISSUED
    svc.answer_finding(finding=first, by=city["station_lead"], text="已更换全部灭火器")
    svc.verify_finding(finding=first, by=city["inspector"], accept=True)
    first.refresh_from_db()
    notice.refresh_from_db()
    assert first.status == FindingStatus.CLOSED and notice.status == NoticeStatus.CLOSED
    assert [a.accepted for a in first.answers.order_by("round")] == [False, True]
    verbs = list(
        AuditEvent.objects.filter(object_id=first.pk, verb__startswith="finding.")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "finding.logged",
        "finding.ordered",
        "finding.answered",
        "finding.rejected",
        "finding.answered",
        "finding.verified",
    ]


def test_notice_refusals(city, visit, west_inspector):
    finding = find(city, visit)
    unit = city.units["33031001"]
    later = svc.plan_inspection(
        by=city["inspector"], campaign=visit.campaign, units=[unit], planned_on=date(2026, 7, 25)
    )
    with pytest.raises(svc.InspectionError, match="早于检查日期"):
        svc.issue_notice(
            by=city["inspector"],
            unit=unit,
            findings=[finding],
            deadline=date(2026, 7, 21),
            requirements="x",
            inspection=later,
        )
    with pytest.raises(svc.InspectionError, match="早于今天"):
        svc.issue_notice(
            by=city["inspector"], unit=unit, findings=[finding], deadline=date(2026, 7, 1), requirements="x"
        )
    with pytest.raises(PermissionDenied):  # issuing to a unit outside the inspector's scope
        svc.issue_notice(by=west_inspector, unit=unit, findings=[finding], deadline=date(2026, 7, 30), requirements="x")
    with pytest.raises(svc.InspectionError, match="属于其他单位"):
        svc.issue_notice(
            by=city["inspector"],
            unit=city.units["33031002"],
            findings=[finding],
            deadline=date(2026, 7, 30),
            requirements="x",
        )
    assert not Notice.objects.exists()
    svc.issue_notice(by=city["inspector"], unit=unit, findings=[finding], deadline=date(2026, 7, 30), requirements="x")
    with pytest.raises(svc.InspectionError, match="不能重复下发"):
        svc.issue_notice(
            by=city["inspector"], unit=unit, findings=[finding], deadline=date(2026, 7, 30), requirements="x"
        )
    # verifying a finding of another unit's notice: outside the scope
    svc.answer_finding(finding=finding, by=city["station_lead"], text="已整改")
    with pytest.raises(PermissionDenied):
        svc.verify_finding(finding=finding, by=west_inspector, accept=True)
    with pytest.raises(PermissionDenied):
        svc.answer_finding(finding=finding, by=city["west_lead"], text="x")


def test_numbers_run_per_issuing_unit_and_year(city, published):
    unit = city.units["33031001"]
    east = city.units["330310"]
    east.short_name = "城东"
    east.save()
    numbers = []
    for issuer in (city.units["3303"], east, east):
        f = svc.log_finding(by=city["inspector"], campaign=published, unit=unit, place="p", description="d")
        n = svc.issue_notice(
            by=city["inspector"], unit=unit, findings=[f], deadline=TODAY, requirements="r", issuing_unit=issuer
        )
        numbers.append(n.number)
    assert numbers == ["江城市督〔2026〕1号", "城东督〔2026〕1号", "城东督〔2026〕2号"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL (SQLite has one writer)"
)
def test_1000_numbers_from_8_threads_no_gap_no_duplicate(city):
    issuer = city.units["330310"]
    barrier = threading.Barrier(8)
    got: list[int] = []
    lock = threading.Lock()

    def issue(n: int, fail_every: int):
        try:
            barrier.wait()
            for i in range(n):
                try:
                    with transaction.atomic():
                        seq, _ = svc._next_number(issuer, 2026)
                        if fail_every and i % fail_every == 0:
                            raise RuntimeError("the notice failed after taking a number")
                    with lock:
                        got.append(seq)
                except RuntimeError:
                    pass
        finally:
            connection.close()

    # 8 threads; two of them fail some issues after drawing, whose numbers must come back
    plan = [(125, 0)] * 6 + [(150, 6), (150, 6)]
    threads = [threading.Thread(target=issue, args=args) for args in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 1000
    assert sorted(got) == list(range(1, 1001))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL (SQLite has one writer)"
)
def test_concurrent_notices_get_distinct_numbers(city, published):
    unit = city.units["33031001"]
    findings = [
        svc.log_finding(by=city["inspector"], campaign=published, unit=unit, place=f"p{i}", description="d")
        for i in range(16)
    ]
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def issue(batch):
        try:
            barrier.wait()
            for f in batch:
                svc.issue_notice(by=city["inspector"], unit=unit, findings=[f], deadline=TODAY, requirements="r")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(findings[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Notice.objects.values_list("seq", flat=True)) == list(range(1, 17))


def hotspot(city, published, **kw):
    return svc.list_hotspot(
        by=city["inspector"],
        campaign=published,
        unit=city.units["33031001"],
        name="城关夜市片区",
        problems="夜间警情集中，占道经营",
        responsible_name="田志勇",
        deadline=date(2026, 8, 31),
        criteria=["警情同比下降30%", "无占道经营"],
        listed_on=date(2026, 7, 1),
        **kw,
    )


def test_hotspot_windows_count_missed_weeks(city, published):
    spot = hotspot(city, published)
    visit = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[], hotspot=spot, planned_on=date(2026, 7, 9)
    )
    with time_machine.travel(date(2026, 7, 9), tick=False):
        svc.complete_inspection(inspection=visit, by=city["inspector"], summary="已督导")
    windows = svc.inspection_windows(spot, TODAY)
    assert [(w.start, w.inspected) for w in windows] == [
        (date(2026, 7, 1), False),
        (date(2026, 7, 8), True),
        (date(2026, 7, 15), False),
    ]
    assert svc.missed_inspections(spot, TODAY) == 1  # the running week is not missed yet


def test_joint_acceptance_extends_then_delists(city, published):
    spot = hotspot(city, published)
    criteria = list(spot.criteria.all())

    def accept(verdicts, **kw):
        visit = svc.plan_inspection(
            by=city["inspector"],
            campaign=published,
            units=[],
            hotspot=spot,
            planned_on=TODAY,
            kind=InspectionKind.JOINT,
        )
        return svc.complete_inspection(inspection=visit, by=city["inspector"], verdicts=verdicts, **kw)

    with pytest.raises(svc.InspectionError, match="尚缺"):
        accept([svc.Judgement(criteria[0].pk, True)])
    with pytest.raises(svc.InspectionError, match="新的整治期限"):
        accept([svc.Judgement(criteria[0].pk, True), svc.Judgement(criteria[1].pk, False, "仍有占道")])
    failed = accept(
        [svc.Judgement(criteria[0].pk, True), svc.Judgement(criteria[1].pk, False, "仍有占道")],
        extend_to=date(2026, 9, 15),
        reason="占道经营反弹",
    )
    spot.refresh_from_db()
    assert failed.passed is False and (spot.status, spot.deadline, spot.extensions) == ("listed", date(2026, 9, 15), 1)
    passed = accept([svc.Judgement(c.pk, True) for c in criteria])
    spot.refresh_from_db()
    assert passed.passed and spot.status == Hotspot.Status.DELISTED and spot.delisted_on == TODAY
    verbs = set(
        AuditEvent.objects.filter(object_id=spot.pk, verb__startswith="hotspot.").values_list("verb", flat=True)
    )
    assert verbs == {"hotspot.listed", "hotspot.extended", "hotspot.delisted"}


def test_no_one_accepts_their_own_units_hotspot(city, published):
    """A station lead who is also HQ over its sub-bureau may join the acceptance of its station's listed
    hotspot, but not judge it: completing the joint acceptance is refused and the hotspot stays listed."""
    from accounts.models import Role
    from tests.conftest import make_user

    both = make_user(
        "guan_hq", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]), (Role.HQ, city.units["330310"])
    )
    spot = hotspot(city, published)
    visit = svc.plan_inspection(
        by=both, campaign=published, units=[], hotspot=spot, planned_on=TODAY, kind=InspectionKind.JOINT
    )
    passed = [svc.Judgement(c.pk, True) for c in spot.criteria.all()]
    with pytest.raises(PermissionDenied, match="本单位"):
        svc.complete_inspection(inspection=visit, by=both, verdicts=passed)
    spot.refresh_from_db()
    assert spot.status == Hotspot.Status.LISTED
    assert not AuditEvent.objects.filter(object_id=spot.pk, verb="hotspot.delisted").exists()
    svc.complete_inspection(inspection=visit, by=city["inspector"], verdicts=passed)
    spot.refresh_from_db()
    assert spot.status == Hotspot.Status.DELISTED


def test_counts_in_one_query_and_by_scope(city, published, visit, django_assert_num_queries, west_inspector):
    a, b = find(city, visit), find(city, visit, place="KTV")
    svc.log_finding(
        by=city["west_lead"], campaign=published, unit=city.units["33032001"], place="西山", description="d"
    )
    svc.issue_notice(by=city["inspector"], unit=city.units["33031001"], findings=[a], deadline=TODAY, requirements="r")
    svc.answer_finding(finding=a, by=city["station_lead"], text="done")
    svc.verify_finding(finding=a, by=city["inspector"], accept=True)
    Finding.objects.filter(pk=b.pk).update(status=FindingStatus.ORDERED, deadline=date(2026, 7, 10))
    svc.complete_inspection(inspection=visit, by=city["inspector"])
    hotspot(city, published)
    hq = city["hq"]
    hq.__dict__.pop("_scope_cache", None)
    svc.counts(published, hq)  # the scope is read once per user
    with django_assert_num_queries(1):
        got = svc.counts(published, hq)
    assert got == {
        "inspections": 1,
        "units_inspected": 1,
        "findings": 3,
        "rectified": 1,
        "overdue": 1,
        "notices": 1,
        "hotspots_listed": 1,
        "hotspots_delisted": 0,
    }
    west = svc.counts(published, west_inspector)
    assert west["findings"] == 1 and west["inspections"] == 0 and west["notices"] == 0
    east = svc.counts(published, hq, unit=city.units["330320"])
    assert east["findings"] == 1


def test_acting_for_an_inspection_needs_every_unit_it_visits(city, published, west_inspector):
    tour = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"], city.units["33032001"]],
        planned_on=TODAY,
    )
    finding = svc.log_finding(
        by=west_inspector, inspection=tour, unit=city.units["33032001"], place="p", description="d"
    )
    for act in (
        lambda: svc.start_inspection(inspection=tour, by=west_inspector),
        lambda: svc.complete_inspection(inspection=tour, by=west_inspector),
        lambda: svc.issue_notice(
            by=west_inspector,
            unit=city.units["33032001"],
            findings=[finding],
            deadline=TODAY,
            requirements="r",
            inspection=tour,
        ),
    ):
        with pytest.raises(PermissionDenied):
            act()
    assert not Notice.objects.exists()


def test_no_one_verifies_their_own_units_rectification(city, visit):
    """A station lead who is also HQ over its sub-bureau answers its station's finding: it cannot then
    verify (close or send back) that answer; an inspector can."""
    from accounts.models import Role
    from tests.conftest import make_user

    both = make_user(
        "guan_hq", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]), (Role.HQ, city.units["330310"])
    )
    finding = find(city, visit)
    svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[finding],
        deadline=date(2026, 7, 27),
        requirements="立即整改",
    )
    svc.answer_finding(finding=finding, by=both, text="已整改")
    for accept, extra in ((True, {}), (False, {"note": "不合格", "new_deadline": date(2026, 7, 31)})):
        with pytest.raises(PermissionDenied):
            svc.verify_finding(finding=finding, by=both, accept=accept, **extra)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.SUBMITTED
    assert not AuditEvent.objects.filter(object_id=finding.pk, verb="finding.verified").exists()
    svc.verify_finding(finding=finding, by=city["inspector"], accept=True)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
