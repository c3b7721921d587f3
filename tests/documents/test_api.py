"""The documents' API: a bulletin drafted, edited, walked through the sign-off by the right people (the
wrong ones refused: 403, out of sight 404), issued, its files served as stored; a notice's document; the
list per campaign."""

from __future__ import annotations

import io

import docx
import pytest
from rest_framework.test import APIClient

from documents.models import Document

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
URL = "/api/v1/documents/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, code=200):
    assert response.status_code == code, response.content.decode()
    return response.json()


def test_a_bulletin_through_the_api(city, worked, city_leader):
    hq = api(city["hq"])
    body = {"kind": "bulletin", "campaign": worked.pk, "unit": "3303", "period": f"w{WEEK.isoformat()}"}
    assert api(city["east_lead"]).post(URL, body, format="json").status_code == 404  # the city: out of its sight
    assert api(city["east_lead"]).post(URL, body | {"unit": "330310"}, format="json").status_code == 403
    doc = ok(hq.post(URL, body, format="json"), 201)
    assert doc["state"] == "draft" and doc["actions"] == ["edit", "refresh", "submit"] and doc["files"] == {}
    pk = doc["id"]
    doc = ok(hq.patch(f"{URL}{pk}/", {"cc": "省厅", "version": doc["version"]}, format="json"))
    assert doc["cc"] == "省厅" and doc["version"] == 2
    assert hq.patch(f"{URL}{pk}/", {"cc": "x", "version": 1}, format="json").json()["version"] == 2  # 409
    assert hq.put(f"{URL}{pk}/", {"cc": "y"}, format="json").status_code == 405
    ok(hq.post(f"{URL}{pk}/refresh/"))
    assert api(city["east_leader"]).get(f"{URL}{pk}/").status_code == 404  # a branch's leader: out of sight
    ok(hq.post(f"{URL}{pk}/submit/"))
    assert api(city_leader).post(f"{URL}{pk}/check/").status_code == 403
    assert ok(api(city_leader).get(f"{URL}{pk}/"))["actions"] == []
    ok(hq.post(f"{URL}{pk}/check/"))
    assert hq.post(f"{URL}{pk}/sign/").status_code == 403
    assert hq.get(f"{URL}{pk}/pdf/").status_code == 404  # not issued yet
    assert api(city_leader).post(f"{URL}{pk}/return/", {}, format="json").status_code == 400
    assert ok(api(city_leader).post(f"{URL}{pk}/return/", {"note": "再核"}, format="json"))["state"] == "draft"
    ok(hq.post(f"{URL}{pk}/submit/"))
    ok(hq.post(f"{URL}{pk}/check/"))
    doc = ok(api(city_leader).post(f"{URL}{pk}/sign/"))
    assert doc["state"] == "issued" and doc["number"] == "江城市通〔2026〕1号" and doc["issue_no"] == 1
    assert [s["action"] for s in doc["steps"]] == [
        "drafted",
        "edited",
        "refreshed",
        "submitted",
        "checked",
        "returned",
        "submitted",
        "checked",
        "signed",
    ]
    assert doc["files"] == {"pdf": f"{URL}{pk}/pdf/", "docx": f"{URL}{pk}/docx/"}
    pdf = hq.get(f"{URL}{pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    stored = Document.objects.get(pk=pk)
    assert b"".join(pdf.streaming_content) == stored.pdf.read()  # served as stored, not made again
    word = hq.get(f"{URL}{pk}/docx/")
    assert docx.Document(io.BytesIO(b"".join(word.streaming_content))).paragraphs[0].text == "专项行动工作通报"
    assert "attachment" in word["Content-Disposition"]
    listed = ok(hq.get(URL, {"campaign": worked.pk, "state": "issued"}))
    assert [d["number"] for d in listed["results"]] == ["江城市通〔2026〕1号"]
    # the units under the city with work were sent it (docs/documents.md, "Distribution"): their people see it
    assert [d["id"] for d in ok(api(city["east_lead"]).get(URL))["results"]] == [pk]


def test_drafting_refusals_and_other_kinds(city, worked, notice, city_leader):
    hq = api(city["hq"])
    assert hq.post(URL, {"kind": "bulletin"}, format="json").status_code == 400
    assert (
        hq.post(
            URL, {"kind": "bulletin", "campaign": worked.pk, "unit": "3303", "period": "w2026-13-01"}, format="json"
        ).status_code
        == 400
    )
    assert (
        hq.post(
            URL, {"kind": "bulletin", "campaign": worked.pk, "unit": "3303", "period": "r999999"}, format="json"
        ).status_code
        == 404
    )
    assert hq.post(URL, {"kind": "rectification"}, format="json").status_code == 400
    assert (
        api(city["west_lead"]).post(URL, {"kind": "rectification", "notice": notice.pk}, format="json").status_code
        == 404
    )
    doc = ok(api(city["inspector"]).post(URL, {"kind": "rectification", "notice": notice.pk}, format="json"), 201)
    assert doc["title"] == "责令整改通知书" and doc["subject_unit"] == "33031001"
    free = ok(
        hq.post(URL, {"kind": "summons", "campaign": worked.pk, "unit": "3303", "title": "约谈通知"}, format="json"),
        201,
    )
    assert free["generated"] == {"head": {}, "blocks": [], "tail": []}
    default = ok(hq.post(URL, {"kind": "bulletin", "campaign": worked.pk, "unit": "3303"}, format="json"), 201)
    assert default["period_end"] == "2026-08-30"  # the last whole week


@pytest.mark.parametrize(
    "period, start, end, words",
    [
        ("m2026-08", "2026-08-01", "2026-08-31", "8月份"),
        ("c2026-08-25", "2026-07-01", "2026-08-25", "行动以来（截至8月25日）"),
        ("d2026-08-10..2026-08-03", "2026-08-03", "2026-08-10", "8月3日至10日"),
    ],
)
def test_a_bulletin_for_a_month_the_campaign_so_far_or_a_range(city, worked, period, start, end, words):
    """Every period the bulletin page offers can be drafted, and the refresh keeps it (made again from its days)."""
    hq = api(city["hq"])
    body = {"kind": "bulletin", "campaign": worked.pk, "unit": "3303", "period": period}
    doc = ok(hq.post(URL, body, format="json"), 201)
    assert (doc["period_start"], doc["period_end"]) == (start, end)
    assert words in doc["title"], doc["title"]
    refreshed = ok(hq.post(f"{URL}{doc['id']}/refresh/"))
    assert refreshed["title"] == doc["title"] and refreshed["generated"]["head"] == doc["generated"]["head"]
    for wrong in ("m2026-13", "d2026-08-01", "c1999-01-01", "x2026-08-01"):
        assert hq.post(URL, body | {"period": wrong}, format="json").status_code == 400, wrong
