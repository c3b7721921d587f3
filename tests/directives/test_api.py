"""/api/v1/directives/: the list with its filters, HQ's 立项, and the life through the actions; the
secret rule (404 outside the named units and HQ over the owner)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from directives.models import Directive, Status
from tasks.models import Assignment
from tests.matrix_support import png_upload

pytestmark = pytest.mark.django_db
URL = "/api/v1/directives/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(client, query: str = "") -> set[int]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_hq_registers_and_hands_down_a_major_case(city, published):
    body = {
        "campaign": published.pk,
        "title": "“7·28”城关菜场盗窃系列案",
        "source": "case",
        "lead_units": ["33031001"],
        "cooperating_units": ["330302"],
        "due_date": "2026-09-30",
        "level": "city",
        "leader": city["east_leader"].pk,
        "is_case": True,
        "case_no": "A330300",
        "case_type": "盗窃",
        "crime_date": "2026-07-28",
        "hand_down": True,
    }
    response = api(city["hq"]).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["code"] == "督1" and got["status"] == "handed_down" and got["is_case"] and got["case_no"] == "A330300"
    assert {(w["unit"], w["role"]) for w in got["work"]} == {("33031001", "lead"), ("330302", "coop")}
    assert got["leader_name"] == "钱局"
    # a unit lead may not; a unit outside the owner's reach is refused; a campaign not seen is 404
    assert api(city["station_lead"]).post(URL, body, format="json").status_code == 403
    assert api(city["hq"]).post(URL, {**body, "lead_units": ["999"]}, format="json").status_code == 400
    assert api(city["hq"]).post(URL, {**body, "leader": 2**40}, format="json").status_code == 400
    assert api(city["hq"]).post(URL, {**body, "campaign": 2**40}, format="json").status_code == 404


@pytest.mark.smoke  # SQLite too
def test_the_life_through_the_api(city, directive):
    lead, hq = api(city["station_lead"]), api(city["hq"])
    base = f"{URL}{directive.pk}/"
    assert lead.post(base + "acknowledge/", {}, format="json").status_code == 200
    response = lead.post(base + "feedback/", {"text": "已约谈摊主", "files": [png_upload()]}, format="multipart")
    assert response.status_code == 201 and response.json()["evidence"][0]["name"] == "现场.png"
    assert lead.post(base + "complete/", {"report": "已整治"}, format="json").status_code == 200
    returned = hq.post(base + "review/", {"decision": "return", "reason": "缺照片"}, format="json")
    assert returned.status_code == 200 and returned.json()["work"][0]["status"] == "returned"
    Assignment.objects.filter(item=directive.item, role="lead").update(status="submitted")
    accepted = hq.post(base + "review/", {"decision": "accept"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "closed"
    rated = hq.post(base + "rate/", {"rating": "satisfied", "note": "好"}, format="json")
    assert rated.status_code == 200 and rated.json()["rating"] == "satisfied"
    assert lead.post(base + "rate/", {"rating": "satisfied"}, format="json").status_code == 403
    verbs = [e["verb"] for e in lead.get(base + "timeline/").json()]
    assert verbs[0] == "directive.registered" and "assignment.return" in verbs and verbs[-1] == "directive.rated"


def test_extensions_and_the_unit_named(city, directive):
    east = api(city["east_lead"])
    base = f"{URL}{directive.pk}/"
    body = {"requested_due": "2026-10-10", "reason": "待鉴定"}
    assert east.post(base + "extensions/", body, format="json").status_code == 400  # which unit?
    assert east.post(base + "extensions/", {**body, "unit": "nope"}, format="json").status_code == 400
    made = east.post(base + "extensions/", {**body, "unit": "33031003"}, format="json")
    assert made.status_code == 201
    assert [r["id"] for r in east.get(base + "extensions/").json()] == [made.json()["id"]]
    assert api(city["hq"]).post(base + "hand-down/").status_code == 400  # once
    assert api(city["hq"]).get(base).json()["work"][1]["unit"] == "33031003"


def test_the_list_filters(city, published, directive, secret, case):
    hq = api(city["hq"])
    assert ids(hq) == {directive.pk, secret.pk, case.pk}
    assert ids(hq, "?source=case") == {case.pk}
    assert ids(hq, "?secret=true") == {secret.pk}
    assert ids(hq, "?unit=330320") == set()
    assert ids(hq, "?unit=330310") == {directive.pk, secret.pk, case.pk}
    assert ids(hq, "?unit=nope") == set()
    assert ids(hq, "?overdue=true") == set() and len(ids(hq, "?overdue=false")) == 3
    assert ids(hq, f"?campaign={published.pk}&status=handed_down&level=city") == {directive.pk, secret.pk, case.pk}
    assert ids(hq, f"?leader={city['east_leader'].pk}&is_case=true") == {case.pk}
    # the sub-bureau sees the open ones under it, not the secret one; the other branch nothing
    assert ids(api(city["east_lead"])) == {directive.pk, case.pk}
    assert ids(api(city["west_lead"])) == set()
    assert ids(api(city["station_lead"])) == {directive.pk, secret.pk, case.pk}


def test_a_secret_directive_is_404_outside(city, secret):
    base = f"{URL}{secret.pk}/"
    for name in ("east_lead", "east_leader", "west_lead", "inspector"):
        client = api(city[name])
        assert client.get(base).status_code == 404, name
        assert client.post(base + "acknowledge/", {}, format="json").status_code == 404, name
        assert client.get(base + "timeline/").status_code == 404, name
    station = api(city["station_lead"])
    assert station.get(base).status_code == 200
    assert [w["unit"] for w in station.get(base).json()["work"]] == ["33031001"]  # not the cooperating unit's
    work = Assignment.objects.get(item=secret.item, unit__code="33031001")
    assert api(city["east_lead"]).get(f"/api/v1/assignments/{work.pk}/").status_code == 404
    assert Directive.objects.get(pk=secret.pk).status == Status.HANDED_DOWN
