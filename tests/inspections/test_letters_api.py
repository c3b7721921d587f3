"""Risk letters through /api/v1/risk-letters/: the life by role (issue, 签收, answer with files, return,
close), the timeline, the list's filters, the attachments' download, and the refusals as answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inspections import letters
from inspections import services as svc
from inspections.models import RiskLetter
from tests.web.pages import login

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
URL = "/api/v1/risk-letters/"


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(**kw):
    return {
        "unit": "33031001",
        "title": "夜市消防风险",
        "risk": "通道堵塞",
        "requirements": "落实巡查",
        "reply_by": str(TODAY + timedelta(days=5)),
    } | kw


def test_the_life_by_role(city, published):
    inspector, lead, hq = api(city["inspector"]), api(city["station_lead"]), api(city["hq"])
    assert lead.post(URL, body(), format="json").status_code == 403  # a lead does not issue
    made = inspector.post(URL, body(campaign=published.pk), format="json")
    assert made.status_code == 201, made.json()
    got = made.json()
    assert (got["number"], got["status"], got["source"], got["unit"]) == (
        "江城市风险提示〔2026〕1号",
        "issued",
        "analysis",
        "33031001",
    )
    pk = got["id"]
    assert inspector.post(f"{URL}{pk}/acknowledge/").status_code == 403
    acked = lead.post(f"{URL}{pk}/acknowledge/").json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == city["station_lead"].get_full_name()
    assert lead.post(f"{URL}{pk}/answer/", {"text": ""}).status_code == 400
    answered = lead.post(f"{URL}{pk}/answer/", {"text": "已落实", "files": [SimpleUploadedFile("a.png", PNG)]})
    assert answered.status_code == 200, answered.json()
    (attached,) = answered.json()["files"]
    download = lead.get(attached["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert api(city["west_lead"]).get(attached["download"]).status_code == 404
    assert lead.post(f"{URL}{pk}/close/").status_code == 403  # not its own answer
    assert hq.post(f"{URL}{pk}/return/", {"reason": ""}, format="json").status_code == 400
    back = hq.post(
        f"{URL}{pk}/return/", {"reason": "不具体", "reply_by": str(TODAY + timedelta(days=9))}, format="json"
    )
    assert back.json()["status"] == "acknowledged" and back.json()["reply_by"] == str(TODAY + timedelta(days=9))
    lead.post(f"{URL}{pk}/answer/", {"text": "已逐项落实"})
    assert hq.post(f"{URL}{pk}/close/", {"note": "到位"}, format="json").json()["status"] == "closed"
    verbs = [e["verb"] for e in hq.get(f"{URL}{pk}/timeline/").json()]
    assert verbs == [
        "letter.issued",
        "letter.acknowledged",
        "letter.answered",
        "letter.returned",
        "letter.answered",
        "letter.closed",
    ]
    assert api(city["west_lead"]).get(f"{URL}{pk}/timeline/").status_code == 404


def test_sources_and_what_the_body_names(city, published, west_inspector):
    visit = svc.plan_inspection(
        by=city["inspector"], campaign=published, units=[city.units["33031001"]], planned_on=TODAY
    )
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units["33031001"], place="夜市", description="堵塞"
    )
    inspector = api(city["inspector"])
    got = inspector.post(URL, body(finding=finding.pk), format="json").json()
    assert (got["source"], got["inspection"], got["finding"], got["campaign"]) == (
        "inspection",
        visit.pk,
        finding.pk,
        published.pk,
    )
    west = api(west_inspector)
    assert west.post(URL, body(unit="330320", finding=finding.pk), format="json").status_code == 404
    assert west.post(URL, body(unit="33031001"), format="json").status_code == 400  # not its unit: not named
    assert inspector.post(URL, body(reply_by="2026-07-01"), format="json").status_code == 400


def test_list_filters(city):
    late = letters.issue_letter(
        by=city["inspector"], unit=city.units["33031001"], title="t", risk="r", requirements="m", reply_by=TODAY
    )
    west = letters.issue_letter(
        by=city["inspector"], unit=city.units["330320"], title="t", risk="r", requirements="m", reply_by=TODAY
    )
    letters.answer_letter(letter=west, by=city["west_lead"], text="已落实")
    hq = api(city["hq"])

    def ids(query):
        return {n["id"] for n in hq.get(f"{URL}?{query}").json()["results"]}

    assert ids("") == {late.pk, west.pk}
    assert ids("status=answered") == {west.pk}
    assert ids("unit=330310") == {late.pk}
    assert ids("acknowledged=true") == {west.pk}
    assert ids("acknowledged=false") == {late.pk}
    assert ids("overdue=true") == set()
    with time_machine.travel(TODAY + timedelta(days=1), tick=False):
        assert ids("overdue=true") == {late.pk} and ids("overdue=false") == {west.pk}
    assert {n["id"] for n in api(city["station_lead"]).get(URL).json()["results"]} == {late.pk}
    assert {n["id"] for n in api(city["east_lead"]).get(f"{URL}?mine=true").json()["results"]} == set()
    assert RiskLetter.objects.count() == 2


def test_the_lists_queries_do_not_grow_with_letters(city):
    def add(n):
        for _ in range(n):
            made = letters.issue_letter(
                by=city["inspector"], unit=city.units["33031001"], title="t", risk="r", requirements="m", reply_by=TODAY
            )
            letters.answer_letter(letter=made, by=city["station_lead"], text="已落实")

    hq, page = api(city["hq"]), login(city["hq"])
    hq.get(URL), page.get("/risk-letters/")  # warm the session and what is read once per process
    counts = []
    for n in (2, 6):
        add(n)
        with CaptureQueriesContext(connection) as listed:
            assert hq.get(URL).status_code == 200
        with CaptureQueriesContext(connection) as shown:
            assert page.get("/risk-letters/").status_code == 200
        with CaptureQueriesContext(connection) as desk:
            assert page.get("/review/").status_code == 200
        counts.append((len(listed), len(shown), len(desk)))
    assert counts[0] == counts[1], counts
