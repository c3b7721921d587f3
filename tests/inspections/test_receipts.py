"""签收 of a rectification notice: one tap by the addressee's lead (page, rectification list, API),
recorded and audited, idempotent; the issuing inspector and HQ are refused (403), another branch does
not see it (404); the unit's first answer acknowledges it; the notice page and list show it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.models import AuditEvent
from inspections import services as svc
from inspections.models import InspectionKind, Notice
from tests.web.pages import login, text
from utilities.errors import Forbidden

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
AT = datetime(2026, 7, 20, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(AT, tick=False):
        yield


@pytest.fixture
def notice(city, published) -> Notice:
    visit = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units["33031001"], place="夜宵摊", description="通道堵塞"
    )
    return svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[finding],
        deadline=date(2026, 7, 27),
        requirements="立即清理",
        inspection=visit,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def events(n: Notice) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=n.pk, verb="notice.acknowledged").values_list("actor__username", flat=True)
    )


def test_the_lead_acknowledges_on_the_notice_page_once(city, notice):
    lead = login(city["station_lead"])
    page = text(lead.get(f"/notices/{notice.pk}/"))
    assert 'id="acknowledge"' in page and "未签收" in page
    response = lead.post(f"/notices/{notice.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == f"/notices/{notice.pk}/"
    notice.refresh_from_db()
    assert (notice.acknowledged_at, notice.acknowledged_by) == (AT, city["station_lead"])
    assert events(notice) == ["station_lead"]
    again = lead.post(f"/notices/{notice.pk}/acknowledge/", follow=True)
    assert "已由赵关于2026-07-20 10:05签收" in text(again) and events(notice) == ["station_lead"]
    # HQ and the inspector read it on the notice page and in the list
    for who in ("hq", "inspector"):
        shown = text(login(city[who]).get(f"/notices/{notice.pk}/"))
        receipt = shown.split('id="receipt">', 1)[1].split("</dd>", 1)[0]
        assert "已签收" in receipt and "赵关" in receipt and 'id="acknowledge"' not in shown
        listed = text(login(city[who]).get("/notices/"))
        assert "已签收" in listed.split(f'data-receipt="{notice.pk}">', 1)[1].split("</span></span>", 1)[0]


def test_from_the_rectification_list(city, notice):
    lead = login(city["station_lead"])
    page = text(lead.get("/rectification/"))
    assert f'data-acknowledge="{notice.pk}"' in page
    response = lead.post(f"/notices/{notice.pk}/acknowledge/", {"next": "rectification"})
    assert response.status_code == 302 and response["Location"] == "/rectification/"
    assert f'data-acknowledge="{notice.pk}"' not in text(lead.get("/rectification/"))


@pytest.mark.parametrize(("who", "status"), [("hq", 403), ("inspector", 403), ("west_lead", 404)])
def test_others_may_not_acknowledge(city, notice, who, status):
    assert login(city[who]).post(f"/notices/{notice.pk}/acknowledge/").status_code == status
    assert api(city[who]).post(f"/api/v1/notices/{notice.pk}/acknowledge/").status_code == status
    notice.refresh_from_db()
    assert notice.acknowledged_at is None and events(notice) == []
    if status == 403:
        page = text(login(city[who]).get(f"/notices/{notice.pk}/"))
        assert 'id="acknowledge"' not in page and "未签收" in page


def test_the_api_acknowledges_and_filters(city, notice):
    unread = api(city["hq"]).get("/api/v1/notices/?acknowledged=false").json()["results"]
    assert [n["id"] for n in unread] == [notice.pk] and unread[0]["acknowledged_at"] is None
    first = api(city["station_lead"]).post(f"/api/v1/notices/{notice.pk}/acknowledge/")
    assert first.status_code == 200 and first.json()["acknowledged_by"] == "赵关"
    second = api(city["station_lead"]).post(f"/api/v1/notices/{notice.pk}/acknowledge/")
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"] and events(notice) == ["station_lead"]
    hq = api(city["hq"])
    assert hq.get("/api/v1/notices/?acknowledged=false").json()["results"] == []
    assert [n["id"] for n in hq.get("/api/v1/notices/?acknowledged=true").json()["results"]] == [notice.pk]
    for odd in ("maybe", "%00", "9" * 30):  # not a yes/no: left out, as if absent
        response = hq.get(f"/api/v1/notices/?acknowledged={odd}")
        assert response.status_code == 200 and response.json()["count"] == 1


def test_an_answer_acknowledges_the_notice(city, notice):
    finding = notice.findings.get()
    svc.answer_finding(finding=finding, by=city["station_lead"], text="已清理")
    notice.refresh_from_db()
    assert notice.acknowledged_by == city["station_lead"] and notice.acknowledged_at == AT


def test_the_right_to_report_decides(city, notice):
    with pytest.raises(Forbidden):
        svc.acknowledge_notice(notice=notice, by=city["inspector"])
    done = svc.acknowledge_notice(notice=notice, by=city["east_lead"])  # report rights from above
    assert done.acknowledged_by == city["east_lead"]
