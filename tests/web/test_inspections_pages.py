"""The supervision pages through Django's test client: logging a finding with a photo, issuing a
notice, answering and verifying (rejected once), the lead's rectification page, the findings list
with its counts, inspections and the joint acceptance, the hotspots board; scope and refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from inspections import services as svc
from inspections.models import (
    Finding,
    FindingStatus,
    Hotspot,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Notice,
    NoticeStatus,
    Photo,
)
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
STATION = "33031001"


def errors(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def visit(city, published) -> Inspection:
    made = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units[STATION], city.units["33031002"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )
    return svc.start_inspection(inspection=made, by=city["inspector"])


def log(city, visit, place="夜宵摊聚集区", unit=STATION) -> Finding:
    return svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units[unit], place=place, description="消防通道堵塞"
    )


def order(city, findings, days=7) -> Notice:
    return svc.issue_notice(
        by=city["inspector"],
        unit=findings[0].unit,
        findings=findings,
        deadline=TODAY + timedelta(days=days),
        requirements="立即整改",
    )


# --- Logging a finding -------------------------------------------------------------------------------


def test_inspector_logs_a_finding_with_a_camera_photo(city, visit):
    client = login(city["inspector"])
    page = client.get("/findings/new/")
    assert page.status_code == 200
    html = text(page)
    assert 'capture="environment"' in html and 'accept="image/*,application/pdf"' in html
    # the one running inspection is chosen, and only its units are offered
    assert page.context["form"]["inspection"].value() == visit.pk
    assert set(page.context["form"].fields["unit"].queryset.values_list("code", flat=True)) == {STATION, "33031002"}
    response = client.post(
        "/findings/new/",
        {
            "inspection": visit.pk,
            "unit": STATION,
            "place": "人民路烧烤店",
            "description": "灭火器过期",
            "category": "fire",
            "severity": "serious",
            "campaign": visit.campaign_id,
            "camera": SimpleUploadedFile("现场.png", PNG),
        },
    )
    finding = Finding.objects.get(place="人民路烧烤店")
    assert response.status_code == 302 and response.url == f"/findings/{finding.pk}/"
    assert finding.inspection == visit and finding.severity == "serious" and finding.reported_by == city["inspector"]
    assert Photo.objects.get(finding=finding).name == "现场.png"
    detail = client.get(response.url)
    assert f"/api/v1/finding-photos/{finding.photos.get().pk}/download/" in text(detail)
    assert detail.context["can_order"] and not detail.context["can_answer"]


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_written(city, visit):
    response = login(city["inspector"]).post(
        "/findings/new/",
        {
            "inspection": visit.pk,
            "unit": STATION,
            "place": "人民路",
            "description": "灭火器过期",
            "category": "fire",
            "severity": "general",
            "campaign": visit.campaign_id,
            "photos": SimpleUploadedFile("照片.png", b"MZ\x90\x00 not a picture"),
        },
    )
    assert response.status_code == 400
    assert any("照片.png" in e for e in errors(response))
    assert response.context["form"]["place"].value() == "人民路"  # what was typed is kept
    assert not Finding.objects.filter(place="人民路").exists() and not Photo.objects.exists()


def test_a_unit_lead_reports_a_self_inspection_finding_of_its_own_unit_only(city, published):
    client = login(city["station_lead"])
    page = client.get("/findings/new/")
    assert "inspection" not in page.context["form"].fields
    units = set(page.context["form"].fields["unit"].queryset.values_list("code", flat=True))
    assert STATION in units and "33031002" not in units
    base = {
        "place": "辖区网吧",
        "description": "未落实实名登记",
        "category": "management",
        "severity": "general",
        "campaign": published.pk,
    }
    outside = client.post("/findings/new/", {**base, "unit": "33031002"})
    assert outside.status_code == 400 and "unit" in outside.context["form"].errors
    response = client.post("/findings/new/", {**base, "unit": STATION})
    finding = Finding.objects.get(place="辖区网吧")
    assert response.status_code == 302 and finding.inspection is None
    assert client.get(f"/findings/{finding.pk}/").context["self_reported"] is True


def test_people_without_a_role_to_log_cannot_open_the_form(city, published):
    assert login(city["east_leader"]).get("/findings/new/").status_code == 403


# --- Notices ---------------------------------------------------------------------------------------


def test_issuing_a_notice_from_the_inspection(city, visit):
    first, second = log(city, visit, "甲"), log(city, visit, "乙")
    other = log(city, visit, "丙", unit="33031002")
    client = login(city["inspector"])
    page = client.get(f"/inspections/{visit.pk}/")
    assert f"/notices/new/?unit={STATION}&amp;inspection={visit.pk}" in text(page)
    page = client.get(f"/notices/new/?unit={STATION}&inspection={visit.pk}")
    form = page.context["form"]
    # the date picker gets an ISO value whatever the language (a localized one leaves it empty)
    assert f'value="{(TODAY + timedelta(days=7)).isoformat()}"' in text(page)
    assert set(form["findings"].value()) == {first.pk, second.pk}  # the unit's open findings of the visit
    assert {pk for pk, _ in form.fields["findings"].choices} == {first.pk, second.pk}  # never another unit's
    deadline = TODAY + timedelta(days=10)
    response = client.post(
        "/notices/new/",
        {
            "unit": STATION,
            "inspection": visit.pk,
            "findings": [first.pk, second.pk, other.pk],
            "deadline": deadline.isoformat(),
            "requirements": "立即整改",
        },
    )
    assert response.status_code == 400  # 丙 is not offered for this unit
    response = client.post(
        "/notices/new/",
        {
            "unit": STATION,
            "inspection": visit.pk,
            "findings": [first.pk, second.pk],
            "deadline": deadline.isoformat(),
            "requirements": "立即整改",
        },
    )
    notice = Notice.objects.get()
    assert response.url == f"/notices/{notice.pk}/"
    assert set(notice.findings.values_list("status", flat=True)) == {FindingStatus.ORDERED}
    detail = text(client.get(response.url))
    assert (
        notice.number in detail and f"/notices/{notice.pk}/pdf/" in detail and f"/notices/{notice.pk}/print/" in detail
    )


def test_a_notice_with_a_deadline_in_the_past_is_refused(city, visit):
    finding = log(city, visit)
    response = login(city["inspector"]).post(
        "/notices/new/",
        {
            "unit": STATION,
            "findings": [finding.pk],
            "deadline": (TODAY - timedelta(days=1)).isoformat(),
            "requirements": "立即整改",
        },
    )
    assert response.status_code == 400 and any("早于今天" in e for e in errors(response))
    assert not Notice.objects.exists()
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.OPEN


def test_issuing_to_a_unit_outside_the_inspectors_scope_is_not_found(city, visit, west_inspector):
    finding = log(city, visit)
    client = login(west_inspector)
    assert client.get(f"/notices/new/?unit={STATION}").status_code == 404
    response = client.post(
        "/notices/new/",
        {"unit": STATION, "findings": [finding.pk], "deadline": "2026-07-30", "requirements": "整改"},
    )
    assert response.status_code == 404 and not Notice.objects.exists()
    assert login(city["station_lead"]).get(f"/notices/new/?unit={STATION}").status_code == 403


# --- Answer and verification -------------------------------------------------------------------------


def test_answer_rejected_once_then_verified(city, visit):
    finding = log(city, visit)
    notice = order(city, [finding])
    lead, inspector = login(city["station_lead"]), login(city["inspector"])
    page = lead.get(f"/findings/{finding.pk}/")
    assert page.context["can_answer"] and not page.context["can_verify"]
    response = lead.post(
        f"/findings/{finding.pk}/answer/",
        {"text": "已清理通道、更换灭火器", "camera": SimpleUploadedFile("整改后.png", PNG)},
    )
    assert response.status_code == 302
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.SUBMITTED
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.ANSWERED
    # rejecting needs a reason and a new deadline; refused with the message, nothing changes
    refused = inspector.post(f"/findings/{finding.pk}/verify/", {"accept": "0", "note": ""})
    assert refused.status_code == 400 and any("理由" in e for e in errors(refused))
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.SUBMITTED
    new_deadline = TODAY + timedelta(days=5)
    inspector.post(
        f"/findings/{finding.pk}/verify/", {"accept": "0", "note": "灭火器仍未更换", "new_deadline": new_deadline}
    )
    finding.refresh_from_db()
    assert (finding.status, finding.rounds, finding.deadline) == (FindingStatus.ORDERED, 2, new_deadline)
    lead.post(f"/findings/{finding.pk}/answer/", {"text": "已全部更换"})
    inspector.post(f"/findings/{finding.pk}/verify/", {"accept": "1"})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.CLOSED
    detail = lead.get(f"/findings/{finding.pk}/")
    assert [a.accepted for a in detail.context["answers"]] == [False, True]
    titles = [e.title for e in detail.context["events"]]
    assert len(titles) == 6 and titles[0] == "登记问题" and titles[2] == titles[4] == "答复整改情况"
    assert titles[3] == "整改不到位，退回"
    verbs = list(AuditEvent.objects.filter(object_id=finding.pk, verb__startswith="finding.").values_list("verb"))
    assert [v for (v,) in verbs].count("finding.answered") == 2


def test_only_the_inspector_verifies_and_only_the_unit_answers(city, visit):
    finding = log(city, visit)
    order(city, [finding])
    assert login(city["inspector"]).post(f"/findings/{finding.pk}/answer/", {"text": "代答"}).status_code == 403
    svc.answer_finding(finding=finding, by=city["station_lead"], text="已整改")
    assert login(city["station_lead"]).post(f"/findings/{finding.pk}/verify/", {"accept": "1"}).status_code == 403
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.SUBMITTED


def test_another_units_finding_does_not_exist_for_a_lead(city, visit):
    finding = log(city, visit)
    notice = order(city, [finding])
    west = login(city["west_lead"])
    for url in (f"/findings/{finding.pk}/", f"/notices/{notice.pk}/", f"/notices/{notice.pk}/pdf/"):
        assert west.get(url).status_code == 404
    assert west.post(f"/findings/{finding.pk}/answer/", {"text": "x"}).status_code == 404


# --- Lists -----------------------------------------------------------------------------------------


def test_the_leads_rectification_page(city, visit):
    ordered, submitted, found = log(city, visit, "甲"), log(city, visit, "乙"), log(city, visit, "丙")
    elsewhere = log(city, visit, "丁", unit="33031002")
    notice = order(city, [ordered, submitted])
    svc.answer_finding(finding=submitted, by=city["station_lead"], text="已整改")
    page = login(city["station_lead"]).get("/rectification/")
    groups = {key: [f.pk for f in rows] for key, _, rows in page.context["groups"]}
    assert groups == {"ordered": [ordered.pk], "submitted": [submitted.pk], "open": [found.pk]}
    assert [n.pk for n in page.context["notices"]] == [notice.pk]
    assert f"/findings/{elsewhere.pk}/" not in text(page)
    assert login(city["inspector"]).get("/rectification/").status_code == 403


def test_the_findings_list_filters_and_counts(city, visit):
    late, fresh = log(city, visit, "甲"), log(city, visit, "乙")
    order(city, [late], days=1)
    order(city, [fresh], days=30)
    with time_machine.travel(TODAY + timedelta(days=3), tick=False):
        client = login(city["hq"])  # signed in that day: a session lasts a working day
        overdue = client.get("/findings/?status=ordered&overdue=on")
        slot = f"/findings/counts/?campaign={visit.campaign_id}"
        assert slot in overdue.content.decode()  # loaded after the page (htmx)
        counts = client.get(slot).context["counts"]
    assert [f.pk for f in overdue.context["page"]] == [late.pk]
    assert counts["findings"] == 2 and counts["overdue"] == 1 and counts["notices"] == 2
    assert [f.pk for f in client.get("/findings/?q=乙").context["page"]] == [fresh.pk]
    assert login(city["west_lead"]).get(slot).context["counts"]["findings"] == 0  # over the scope only
    assert client.get("/findings/counts/?campaign=999999").status_code == 404


def test_the_findings_list_takes_the_same_queries_for_many_rows(city, visit):
    client = login(city["hq"])
    log(city, visit)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/findings/").status_code == 200
    for n in range(30):
        log(city, visit, f"第{n}处", unit=STATION if n % 2 else "33031002")
    order(city, list(Finding.objects.filter(unit__code=STATION, status=FindingStatus.OPEN)))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/findings/").status_code == 200
    assert len(many) == len(few)


# --- Inspections and hotspots ------------------------------------------------------------------------


def test_planning_and_starting_an_inspection_on_the_page(city, published):
    client = login(city["inspector"])
    response = client.post(
        "/inspections/new/",
        {"kind": "routine", "planned_on": TODAY.isoformat(), "units": [STATION], "campaign": published.pk},
    )
    made = Inspection.objects.get()
    assert response.url == f"/inspections/{made.pk}/" and made.status == InspectionStatus.PLANNED
    client.post(f"/inspections/{made.pk}/start/")
    assert Inspection.objects.get().status == InspectionStatus.IN_PROGRESS
    again = client.post(f"/inspections/{made.pk}/start/")
    assert again.status_code == 400 and any("不能开始" in e for e in errors(again))
    # a lead sees the inspection of its unit but cannot act for it
    lead_page = login(city["station_lead"]).get(f"/inspections/{made.pk}/")
    assert lead_page.status_code == 200 and not lead_page.context["may_act"]
    assert login(city["station_lead"]).post(f"/inspections/{made.pk}/start/").status_code == 403


def test_the_hotspots_board_pages_by_50_keeping_its_filter(city, published):
    """A province lists 300 hotspots: 50 a page, the status chosen kept in the pager's links."""
    first = _hotspot(city, published)
    Hotspot.objects.bulk_create(
        Hotspot(
            campaign=published,
            name=f"点位{n:02d}",
            problems="治安乱点",
            unit=first.unit,
            responsible_name="田所长",
            listed_on=first.listed_on,
            deadline=first.deadline + timedelta(days=n),
            listed_by=first.listed_by,
        )
        for n in range(1, 61)
    )
    client = login(city["hq"])
    with CaptureQueriesContext(connection) as one:
        page1 = client.get("/hotspots/?status=listed")
    assert len(page1.context["rows"]) == 50 and page1.context["rows"][0] == first
    assert 'href="?status=listed&page=2"' in text(page1)
    page2 = client.get("/hotspots/?status=listed&page=2")
    assert len(page2.context["rows"]) == 11 and page2.context["rows"][-1].name == "点位60"
    assert 'href="?status=listed&page=1"' in text(page2)
    assert client.get("/hotspots/?status=delisted").context["rows"] == []
    assert client.get("/hotspots/?page=999").context["rows"][-1].name == "点位60"  # past the end: the last page
    with CaptureQueriesContext(connection) as two:
        client.get("/hotspots/?status=listed&page=2")
    assert len(two) == len(one)  # the windows of the page's rows from prefetched visits


def _hotspot(city, published, **kw) -> Hotspot:
    return svc.list_hotspot(
        by=city["inspector"],
        campaign=published,
        unit=city.units[STATION],
        name="城关夜市",
        problems="夜间警情集中",
        responsible_name="田所长",
        listed_on=date(2026, 7, 1),
        deadline=date(2026, 8, 31),
        criteria=["警情同比下降30%", "无占道经营"],
        **kw,
    )


def test_the_hotspots_board_shows_missed_inspections(city, published):
    hotspot = _hotspot(city, published)
    weekly = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[], hotspot=hotspot, planned_on=date(2026, 7, 3)
    )
    with time_machine.travel(date(2026, 7, 3), tick=False):
        svc.complete_inspection(inspection=weekly, by=city["inspector"])
    board = login(city["hq"]).get("/hotspots/")
    (row,) = board.context["rows"]
    # windows 7/1–7/7 inspected, 7/8–7/14 missed, 7/15–7/21 running on 7/20
    assert row.missed == 1 and [css for css, _span in row.cells] == ["done", "missed", "now"]
    assert row.cells[0][1] == "7月1日–7月7日" and 'class="missed" title="7月8日–7月14日"' in text(board)
    assert 'data-missed="1"' in text(board)
    assert login(city["west_lead"]).get(f"/hotspots/{hotspot.pk}/").status_code == 404


def test_joint_acceptance_on_the_page_delists_or_extends(city, published):
    hotspot = _hotspot(city, published)
    client = login(city["inspector"])
    form = client.get(f"/inspections/new/?hotspot={hotspot.pk}&kind=joint").context["form"]
    assert form["units"].value() == [STATION] and form["kind"].value() == "joint"
    client.post(
        "/inspections/new/",
        {
            "kind": "joint",
            "planned_on": TODAY.isoformat(),
            "units": [STATION],
            "hotspot": hotspot.pk,
            "campaign": published.pk,
        },
    )
    joint = Inspection.objects.get(kind=InspectionKind.JOINT)
    first, second = hotspot.criteria.order_by("seq")
    failed = {f"passed_{first.pk}": "1", f"passed_{second.pk}": "0", "summary": "占道经营仍存在"}
    refused = client.post(f"/inspections/{joint.pk}/complete/", failed)
    assert refused.status_code == 400 and any("新的整治期限" in e for e in errors(refused))
    assert Inspection.objects.get(pk=joint.pk).status != InspectionStatus.COMPLETED
    client.post(f"/inspections/{joint.pk}/complete/", {**failed, "extend_to": "2026-09-30", "reason": "再整治一月"})
    hotspot.refresh_from_db()
    assert hotspot.status == Hotspot.Status.LISTED and hotspot.deadline == date(2026, 9, 30)
    second_joint = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[], hotspot=hotspot, planned_on=TODAY, kind="joint"
    )
    client.post(f"/inspections/{second_joint.pk}/complete/", {f"passed_{first.pk}": "1", f"passed_{second.pk}": "1"})
    hotspot.refresh_from_db()
    assert hotspot.status == Hotspot.Status.DELISTED
    titles = [e.title for e in client.get(f"/hotspots/{hotspot.pk}/").context["events"]]
    assert titles[-2:] == ["联合验收未通过，延长整治期限", "联合验收通过，摘牌"]


def test_listing_a_hotspot_on_the_page(city, published):
    client = login(city["inspector"])
    data = {
        "name": "西门客运站",
        "unit": STATION,
        "responsible_name": "所长",
        "problems": "黑车揽客",
        "criteria": "盗窃警情下降\n\n黑车整治到位\n",
        "listed_on": "2026-07-20",
        "deadline": "2026-07-10",
        "inspect_every_days": 7,
        "campaign": published.pk,
    }
    refused = client.post("/hotspots/new/", data)
    assert refused.status_code == 400 and any("早于挂牌日期" in e for e in errors(refused))
    response = client.post("/hotspots/new/", {**data, "deadline": "2026-08-31"})
    hotspot = Hotspot.objects.get()
    assert response.url == f"/hotspots/{hotspot.pk}/"
    assert list(hotspot.criteria.values_list("text", flat=True)) == ["盗窃警情下降", "黑车整治到位"]
