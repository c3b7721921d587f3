"""The catalogue under ``/api/v1/stats/indicators/`` and ``/api/v1/stats/rounds/``: listed to anyone who
sees the campaign, created and changed by HQ over its owner through ``stats.catalogue`` (a unit lead or
an inspector: 403; a campaign out of sight: 404), a row's problems answered with their fields."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from stats.models import Indicator, Round
from tasks.models import Campaign, CampaignStatus
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

V1 = "/api/v1/stats"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def west(city):
    return Campaign.objects.create(
        code="XW",
        name="西区行动",
        owner=city.units["330320"],
        start=date(2026, 7, 1),
        end=date(2026, 8, 31),
        status=CampaignStatus.PUBLISHED,
    )


def test_anyone_who_sees_the_campaign_lists_its_catalogue(city, catalogue, west):
    c = catalogue["campaign"]
    Indicator.objects.create(campaign=west, code="w", name="西区指标", measure="次")
    lead = api(city["station_lead"]).get(f"{V1}/indicators/", {"campaign": c.pk}).json()
    assert [r["code"] for r in lead["results"]] == ["police", "places"]
    assert api(city["station_lead"]).get(f"{V1}/indicators/", {"campaign": west.pk}).json()["results"] == []
    everything = api(city["hq"]).get(f"{V1}/indicators/").json()["results"]
    assert {r["name"] for r in everything} == {"出动警力", "检查场所", "西区指标"}
    rounds = api(city["east_leader"]).get(f"{V1}/rounds/", {"campaign": c.pk}).json()["results"]
    assert [(r["name"], r["start"], r["end"]) for r in rounds] == [
        ("第一轮", "2026-07-07", "2026-07-09"),
        ("第二轮", "2026-08-04", "2026-08-06"),
    ]


def test_hq_creates_and_changes_through_the_service(city, catalogue):
    c, police, first = catalogue["campaign"], catalogue["police"], catalogue["first"]
    hq = api(city["hq"])
    made = hq.post(f"{V1}/indicators/", {"campaign": c.pk, "name": "查处违法行为", "measure": "起"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["seq"] == 3 and made.json()["is_active"] is True and made.json()["code"]
    changed = hq.patch(f"{V1}/indicators/{police.pk}/", {"measure": "人", "is_active": False}, format="json")
    assert changed.status_code == 200 and (changed.json()["measure"], changed.json()["name"]) == ("人", "出动警力")
    assert AuditEvent.objects.filter(verb="indicator.changed", object_id=police.pk).get().changes == {
        "measure": ["人次", "人"],
        "is_active": [True, False],
    }
    moved = hq.patch(f"{V1}/rounds/{first.pk}/", {"end": "2026-07-10"}, format="json")
    assert moved.status_code == 200 and moved.json()["end"] == "2026-07-10"
    added = hq.post(
        f"{V1}/rounds/", {"campaign": c.pk, "name": "第三轮", "start": "2026-09-01", "end": "2026-09-03"}, format="json"
    )
    assert added.status_code == 201


def test_a_rows_problems_come_back_with_their_fields_and_nothing_is_written(city, catalogue):
    c, first = catalogue["campaign"], catalogue["first"]
    hq = api(city["hq"])
    dup = hq.post(f"{V1}/indicators/", {"campaign": c.pk, "name": "出动警力", "measure": ""}, format="json")
    assert dup.status_code == 400
    assert {(p["field"], p["message"]) for p in dup.json()["problems"]} == {
        ("name", "该行动已有同名指标"),
        ("measure", "请填写计量单位（人次、家次、起 …）"),
    }
    outside = hq.patch(f"{V1}/rounds/{first.pk}/", {"start": "2026-06-30"}, format="json")
    assert outside.status_code == 400 and outside.json()["problems"][0]["field"] == "start"
    assert Indicator.objects.filter(campaign=c).count() == 2
    assert Round.objects.get(pk=first.pk).start == date(2026, 7, 7)
    assert not AuditEvent.objects.filter(verb__regex=r"^(indicator|round)\.").exists()


def test_a_lead_an_inspector_and_hq_seeing_from_below_are_refused(city, catalogue, west):
    c, police, first = catalogue["campaign"], catalogue["police"], catalogue["first"]
    east_hq = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    for user in (city["station_lead"], city["inspector"], city["east_leader"], east_hq):
        client = api(user)
        made = client.post(f"{V1}/indicators/", {"campaign": c.pk, "name": "夜巡", "measure": "次"}, format="json")
        assert made.status_code == 403
        assert client.patch(f"{V1}/indicators/{police.pk}/", {"name": "改"}, format="json").status_code == 403
        assert client.patch(f"{V1}/rounds/{first.pk}/", {"name": "改"}, format="json").status_code == 403
    # the west's campaign is out of the station lead's sight: as missing
    lead = api(city["station_lead"])
    hidden = lead.post(f"{V1}/rounds/", {"campaign": west.pk, "name": "x", "start": "2026-07-02", "end": "2026-07-03"})
    ghost = lead.post(
        f"{V1}/rounds/", {"campaign": 2_000_000_007, "name": "x", "start": "2026-07-02", "end": "2026-07-03"}
    )
    assert hidden.status_code == ghost.status_code == 404 and hidden.json() == ghost.json()
    west_round = Round.objects.create(campaign=west, name="西一", start=date(2026, 7, 4), end=date(2026, 7, 5))
    assert lead.patch(f"{V1}/rounds/{west_round.pk}/", {"name": "改"}, format="json").status_code == 404
    assert not Indicator.objects.filter(name="夜巡").exists()
    assert Round.objects.get(pk=first.pk).name == "第一轮"
