"""Supervision through the REST API: the inspector's visit, finding with a photo, notice; the unit's
answer; rejection once, then verification; hotspots, counts, and the refusals of bad input."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Role
from inspections.models import Finding, Notice, Photo
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, code=200):
    assert response.status_code == code, response.content.decode()
    return response.json()


def test_inspection_to_verified_finding(city, published):
    insp, lead = api(city["inspector"]), api(city["station_lead"])
    visit = ok(
        insp.post(
            "/api/v1/inspections/",
            {"campaign": published.pk, "kind": "night", "units": ["33031001"], "planned_on": "2026-07-20"},
            format="json",
        ),
        201,
    )
    ok(insp.post(f"/api/v1/inspections/{visit['id']}/start/"))
    finding = ok(
        insp.post(
            "/api/v1/findings/",
            {
                "inspection": visit["id"],
                "unit": "33031001",
                "place": "城关夜市",
                "description": "消防通道堵塞",
                "severity": "serious",
                "photos": [SimpleUploadedFile("现场.png", PNG)],
            },
            format="multipart",
        ),
        201,
    )
    assert finding["status"] == "open" and finding["photos"][0]["name"] == "现场.png"
    notice = ok(
        insp.post(
            "/api/v1/notices/",
            {
                "unit": "33031001",
                "findings": [finding["id"]],
                "deadline": "2026-07-27",
                "requirements": "立即整改",
                "inspection": visit["id"],
            },
            format="json",
        ),
        201,
    )
    assert notice["number"] == "江城市督〔2026〕1号" and notice["status"] == "issued"
    # the unit lead sees its open findings and answers with evidence
    mine = ok(lead.get("/api/v1/findings/", {"mine": "true", "status": "ordered"}))
    assert [f["id"] for f in mine["results"]] == [finding["id"]]
    ok(
        lead.post(
            f"/api/v1/findings/{finding['id']}/answer/",
            {"text": "已清理", "files": [SimpleUploadedFile("整改后.png", PNG)]},
            format="multipart",
        ),
        201,
    )
    rejected = ok(
        insp.post(
            f"/api/v1/findings/{finding['id']}/verify/",
            {"accept": False, "note": "仍有杂物", "new_deadline": "2026-07-30"},
            format="json",
        )
    )
    assert (rejected["status"], rejected["rounds"], rejected["deadline"]) == ("ordered", 2, "2026-07-30")
    ok(lead.post(f"/api/v1/findings/{finding['id']}/answer/", {"text": "已彻底清理"}, format="json"), 201)
    closed = ok(insp.post(f"/api/v1/findings/{finding['id']}/verify/", {"accept": True}, format="json"))
    assert closed["status"] == "closed" and [a["accepted"] for a in closed["answers"]] == [False, True]
    assert ok(lead.get(f"/api/v1/notices/{notice['id']}/"))["status"] == "closed"
    photo = Photo.objects.get(answer__isnull=False)
    download = lead.get(f"/api/v1/finding-photos/{photo.pk}/download/")
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    ok(insp.post(f"/api/v1/inspections/{visit['id']}/complete/", {"summary": "检查3处"}, format="json"))
    counts = ok(api(city["hq"]).get("/api/v1/inspection-counts/", {"campaign": published.pk}))
    assert (
        counts["inspections"] == 1 and counts["findings"] == 1 and counts["rectified"] == 1 and counts["notices"] == 1
    )


def test_bad_input_is_refused_clearly(city, published):
    insp = api(city["inspector"])
    west_insp = api(make_user("west_insp", city.units["330320"], (Role.INSPECTOR, city.units["330320"])))
    visit = ok(
        insp.post(
            "/api/v1/inspections/",
            {"campaign": published.pk, "units": ["33031001"], "planned_on": "2026-07-25"},
            format="json",
        ),
        201,
    )
    not_image = insp.post(
        "/api/v1/findings/",
        {
            "inspection": visit["id"],
            "unit": "33031001",
            "place": "p",
            "description": "d",
            "photos": [SimpleUploadedFile("a.png", b"<svg/>")],
        },
        format="multipart",
    )
    assert not_image.status_code == 400 and "图片" in not_image.json()["detail"]
    assert not Finding.objects.exists()
    finding = ok(
        insp.post(
            "/api/v1/findings/",
            {"inspection": visit["id"], "unit": "33031001", "place": "p", "description": "d"},
            format="json",
        ),
        201,
    )
    early = insp.post(
        "/api/v1/notices/",
        {
            "unit": "33031001",
            "findings": [finding["id"]],
            "deadline": "2026-07-22",
            "requirements": "r",
            "inspection": visit["id"],
        },
        format="json",
    )
    assert early.status_code == 400 and "早于检查日期" in early.json()["detail"]
    outside = west_insp.post(
        "/api/v1/notices/",
        {"unit": "33031001", "findings": [finding["id"]], "deadline": "2026-07-30", "requirements": "r"},
        format="json",
    )
    assert outside.status_code == 400 and "不在您的职责范围内" in outside.json()["detail"]
    assert not Notice.objects.exists()
    # another unit's finding is not there for the west inspector at all
    assert (
        west_insp.post(f"/api/v1/findings/{finding['id']}/verify/", {"accept": True}, format="json").status_code == 404
    )
    # the station lead cannot verify or issue
    lead = api(city["station_lead"])
    assert (
        lead.post(
            "/api/v1/notices/",
            {"unit": "33031001", "findings": [finding["id"]], "deadline": "2026-07-30", "requirements": "r"},
            format="json",
        ).status_code
        == 403
    )
    assert api(city["hq"]).get("/api/v1/inspection-counts/").status_code == 400


def test_hotspot_listing_and_joint_acceptance(city, published):
    insp = api(city["inspector"])
    spot = ok(
        insp.post(
            "/api/v1/hotspots/",
            {
                "campaign": published.pk,
                "unit": "33031001",
                "name": "城关夜市片区",
                "problems": "夜间警情集中",
                "responsible_name": "田志勇",
                "listed_on": "2026-07-01",
                "deadline": "2026-08-31",
                "criteria": ["警情同比下降30%", "无占道经营"],
            },
            format="json",
        ),
        201,
    )
    assert spot["missed_inspections"] == 2  # weeks of 7月1日 and 7月8日 went without a visit
    visit = ok(
        insp.post(
            "/api/v1/inspections/",
            {"campaign": published.pk, "kind": "joint", "hotspot": spot["id"], "planned_on": "2026-07-20"},
            format="json",
        ),
        201,
    )
    verdicts = [{"criterion": c["id"], "passed": True} for c in spot["criteria"]]
    done = ok(insp.post(f"/api/v1/inspections/{visit['id']}/complete/", {"verdicts": verdicts}, format="json"))
    assert done["passed"] is True
    assert ok(insp.get(f"/api/v1/hotspots/{spot['id']}/"))["status"] == "delisted"
    assert api(city["west_lead"]).get(f"/api/v1/hotspots/{spot['id']}/").status_code == 404


def test_notice_print_view_and_pdf_are_scoped(city, published):
    from django.test import Client

    from inspections import services as svc

    finding = svc.log_finding(
        by=city["inspector"], campaign=published, unit=city.units["33031001"], place="夜市", description="消防通道堵塞"
    )
    notice = svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[finding],
        deadline=date(2026, 7, 27),
        requirements="立即整改",
    )
    lead = Client()
    lead.force_login(city["station_lead"])
    page = lead.get(f"/notices/{notice.pk}/print/")
    assert (
        page.status_code == 200 and "责令整改通知书" in page.content.decode() and notice.number in page.content.decode()
    )
    pdf = lead.get(f"/notices/{notice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and "attachment" in pdf["Content-Disposition"]
    outsider = Client()
    outsider.force_login(city["west_lead"])
    assert outsider.get(f"/notices/{notice.pk}/print/").status_code == 404
    assert outsider.get(f"/notices/{notice.pk}/pdf/").status_code == 404


def test_hotspot_list_queries_do_not_grow_with_hotspots(city, published):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inspections import services as svc

    def list_one():
        svc.list_hotspot(
            by=city["inspector"],
            campaign=published,
            unit=city.units["33031001"],
            name="片区",
            problems="p",
            responsible_name="r",
            listed_on=date(2026, 7, 1),
            deadline=date(2026, 8, 31),
            criteria=["c"],
        )

    client = api(city["hq"])
    list_one()
    client.get("/api/v1/hotspots/")  # the user's scope is read once
    with CaptureQueriesContext(connection) as one:
        assert len(ok(client.get("/api/v1/hotspots/"))["results"]) == 1
    list_one()
    list_one()
    with CaptureQueriesContext(connection) as three:
        assert len(ok(client.get("/api/v1/hotspots/"))["results"]) == 3
    assert len(one) == len(three)
