"""约谈 through ``/api/v1/summons/``: made from an issued bulletin for a laggard it named, read with its
commitments, held (the commitments become directives handed down to the unit), cancelled; the wrong people
refused (403), out of sight 404; the list by scope and filters."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from directives.models import Directive, Source
from documents.models import Summons
from tasks.models import Assignment

from .test_summons import bulletin, laggard  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
URL = "/api/v1/summons/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, code=200):
    assert response.status_code == code, response.content.decode()
    return response.json()


def test_a_summons_through_the_api(city, bulletin, laggard):  # noqa: F811
    hq = api(city["hq"])
    body = {"bulletin": bulletin.pk, "unit": laggard.code, "scheduled_on": "2026-09-04", "place": "市局三楼会议室"}
    assert api(city["station_lead"]).post(URL, body, format="json").status_code == 404  # the city's bulletin: unseen
    assert hq.post(URL, body | {"unit": "330310"}, format="json").status_code == 400  # not named a laggard
    assert hq.post(URL, body | {"scheduled_on": "9999-12-31"}, format="json").status_code == 400
    s = ok(hq.post(URL, body, format="json"), 201)
    assert s["unit"] == laggard.code and s["state"] == "planned" and s["actions"] == ["hold", "cancel"]
    assert s["scheduled_at"].startswith("2026-09-04T09:00") and s["bulletin_number"] == bulletin.number
    assert s["attendance"] == "主要负责人" and s["reasons"].startswith("完成率") and s["notice"]
    assert ok(hq.get(f"/api/v1/documents/{s['notice']}/"))["kind"] == "summons"
    assert hq.post(URL, body, format="json").status_code == 400  # once per bulletin
    pk = s["id"]
    assert api(city["east_lead"]).get(f"{URL}{pk}/").status_code == 404
    assert ok(api(city["inspector"]).get(f"{URL}{pk}/"))["actions"] == []
    hold = {
        "held_on": "2026-09-01",
        "attendees": "支队长张三",
        "chaired_by": "王副局长",
        "minutes": "指出问题，要求整改",
        "commitments": [{"text": "逾期任务清零", "deadline": "2026-09-10"}],
    }
    assert api(city["inspector"]).post(f"{URL}{pk}/hold/", hold, format="json").status_code == 403
    assert api(city["east_lead"]).post(f"{URL}{pk}/hold/", hold, format="json").status_code == 404
    assert hq.post(f"{URL}{pk}/hold/", hold | {"minutes": ""}, format="json").status_code == 400
    s = ok(hq.post(f"{URL}{pk}/hold/", hold, format="json"))
    assert s["state"] == "held" and s["held_on"] == "2026-09-01" and s["actions"] == []
    (c,) = s["commitments"]
    assert c["text"] == "逾期任务清零" and c["deadline"] == "2026-09-10" and c["directive_status"] == "handed_down"
    d = Directive.objects.get(pk=c["directive"])
    assert d.source == Source.MEETING and d.item.code == c["directive_code"]
    assert Assignment.objects.get(item=d.item).unit == laggard
    assert hq.post(f"{URL}{pk}/cancel/", {"note": "x"}, format="json").status_code == 400  # held already
    listed = ok(hq.get(URL, {"state": "held", "unit": "3303"}))
    assert [r["id"] for r in listed["results"]] == [pk]
    assert ok(hq.get(URL, {"state": "planned"}))["results"] == []
    assert ok(api(city["east_lead"]).get(URL))["results"] == []


def test_cancel_through_the_api(city, bulletin, laggard):  # noqa: F811
    hq = api(city["hq"])
    body = {"bulletin": bulletin.pk, "unit": laggard.code, "scheduled_on": "2026-09-04", "place": "会议室"}
    pk = ok(hq.post(URL, body, format="json"), 201)["id"]
    assert hq.post(f"{URL}{pk}/cancel/", {}, format="json").status_code == 400
    assert api(city["inspector"]).post(f"{URL}{pk}/cancel/", {"note": "x"}, format="json").status_code == 403
    s = ok(hq.post(f"{URL}{pk}/cancel/", {"note": "改期另行通知"}, format="json"))
    assert s["state"] == "cancelled" and s["cancelled_note"] == "改期另行通知"
    assert Summons.objects.get(pk=pk).state == "cancelled"
