"""签收 of an assignment: one tap by the unit's lead (page and API), recorded and audited, idempotent;
HQ, an inspector, a leader over it are refused (403), another branch does not see it (404); a report or
a start acknowledges too; the item page counts it per unit; the API filters on it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tasks.models import Assignment
from tasks.services.progress import report_progress
from tasks.services.receipts import acknowledge_assignment
from tasks.services.workflow import transition_assignment
from tests.web.pages import login, text
from utilities.errors import Forbidden

pytestmark = pytest.mark.django_db

AT = datetime(2026, 7, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def events(a: Assignment) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=a.pk, verb="assignment.acknowledged").values_list(
            "actor__username", flat=True
        )
    )


@pytest.fixture
def chengguan(published) -> Assignment:
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


def test_the_lead_acknowledges_once_through_the_page(city, chengguan):
    lead = login(city["station_lead"])
    page = text(lead.get(f"/assignments/{chengguan.pk}/"))
    assert 'id="acknowledge"' in page and "未签收" in page
    with time_machine.travel(AT, tick=False):
        response = lead.post(f"/assignments/{chengguan.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == f"/assignments/{chengguan.pk}/"
    chengguan.refresh_from_db()
    assert chengguan.acknowledged_at == AT and chengguan.acknowledged_by == city["station_lead"]
    assert chengguan.version == 2 and events(chengguan) == ["station_lead"]
    page = text(lead.get(f"/assignments/{chengguan.pk}/"))
    assert 'id="acknowledge"' not in page and "已签收" in page and "赵关" in page
    # a second tap: nothing changes, the page says who and when
    again = lead.post(f"/assignments/{chengguan.pk}/acknowledge/", follow=True)
    assert again.status_code == 200 and "已由赵关于2026-07-20 09:30签收" in text(again)
    chengguan.refresh_from_db()
    assert chengguan.version == 2 and events(chengguan) == ["station_lead"]


@pytest.mark.parametrize(("who", "status"), [("hq", 403), ("inspector", 403), ("east_leader", 403), ("west_lead", 404)])
def test_others_may_not_acknowledge(city, chengguan, who, status):
    """HQ, the inspector and the sub-bureau's leader see the work but may not report for the unit; the
    other branch's lead does not see it at all."""
    page = login(city[who]).post(f"/assignments/{chengguan.pk}/acknowledge/")
    assert page.status_code == status
    call = api(city[who]).post(f"/api/v1/assignments/{chengguan.pk}/acknowledge/")
    assert call.status_code == status
    chengguan.refresh_from_db()
    assert chengguan.acknowledged_at is None and chengguan.version == 1 and events(chengguan) == []
    if status == 403:
        assert 'id="acknowledge"' not in text(login(city[who]).get(f"/assignments/{chengguan.pk}/"))


def test_the_sub_bureau_lead_acknowledges_its_stations_work(city, chengguan):
    """Report rights over the station come from the grant above it."""
    done = acknowledge_assignment(assignment=chengguan, by=city["east_lead"])
    assert done.acknowledged_by == city["east_lead"]


def test_the_api_acknowledges_idempotently(city, chengguan):
    client = api(city["station_lead"])
    first = client.post(f"/api/v1/assignments/{chengguan.pk}/acknowledge/")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["acknowledged_at"] and body["acknowledged_by"] == "赵关" and body["version"] == 2
    second = client.post(f"/api/v1/assignments/{chengguan.pk}/acknowledge/")
    assert second.status_code == 200 and second.json()["acknowledged_at"] == body["acknowledged_at"]
    assert second.json()["version"] == 2 and events(chengguan) == ["station_lead"]
    # HQ reads who acknowledged, and when
    seen = api(city["hq"]).get(f"/api/v1/assignments/{chengguan.pk}/").json()
    assert (seen["acknowledged_by"], seen["acknowledged_at"]) == ("赵关", body["acknowledged_at"])


def test_a_report_or_a_start_acknowledges(city, published):
    reported = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    with time_machine.travel(AT, tick=False):
        report_progress(assignment=reported, by=city["station_lead"], value=3, text="清查")
    reported.refresh_from_db()
    assert reported.acknowledged_at == AT and reported.acknowledged_by == city["station_lead"]
    event = AuditEvent.objects.get(object_id=reported.pk, verb="assignment.reported")
    assert "acknowledged_at" in event.changes
    # a later report keeps the first receipt
    report_progress(assignment=reported, by=city["east_lead"], value=1, text="再报")
    reported.refresh_from_db()
    assert reported.acknowledged_at == AT and reported.acknowledged_by == city["station_lead"]

    started = Assignment.objects.filter(unit__code="330310", acknowledged_at__isnull=True).first()
    transition_assignment(assignment=started, name="start", by=city["east_lead"])
    started.refresh_from_db()
    assert started.acknowledged_by == city["east_lead"]
    # HQ's own moves (accept, return) are no receipt
    transition_assignment(assignment=started, name="submit", by=city["east_lead"], confirm_shortfall=True)
    Assignment.objects.filter(pk=started.pk).update(acknowledged_at=None, acknowledged_by=None)
    transition_assignment(assignment=started, name="return", by=city["hq"], note="补材料")
    started.refresh_from_db()
    assert started.acknowledged_at is None


def test_withdrawn_work_or_a_stranger_is_refused(city, chengguan):
    with pytest.raises(Forbidden):
        acknowledge_assignment(assignment=chengguan, by=city["hq"])
    Assignment.objects.filter(pk=chengguan.pk).update(is_active=False)
    response = api(city["station_lead"]).post(f"/api/v1/assignments/{chengguan.pk}/acknowledge/")
    assert response.status_code == 400 and "撤销" in response.json()["detail"]


def test_the_item_page_shows_each_units_receipt_and_the_counts(city, published):
    item = Assignment.objects.get(item__code="1.1", unit__code="33031001").item
    rows = list(Assignment.objects.filter(item=item, is_active=True).select_related("unit"))
    assert len(rows) >= 2
    done = rows[0]
    acknowledge_assignment(assignment=done, by=_lead_of(city, done))
    page = text(login(city["hq"]).get(f"/items/{item.pk}/"))
    cell = page.split(f'data-receipt="{done.unit.code}">', 1)[1].split("</td>", 1)[0]
    assert "已签收" in cell
    for other in rows[1:]:
        assert "未签收" in page.split(f'data-receipt="{other.unit.code}">', 1)[1].split("</td>", 1)[0]
    assert f"已签收 1 · 未签收 {len(rows) - 1}" in page
    only = text(login(city["hq"]).get(f"/items/{item.pk}/?receipt=no"))
    assert f'data-receipt="{done.unit.code}"' not in only
    assert all(f'data-receipt="{o.unit.code}"' in only for o in rows[1:])
    odd = login(city["hq"]).get(f"/items/{item.pk}/?receipt=%00")  # ignored: all rows
    assert odd.status_code == 200 and f'data-receipt="{done.unit.code}"' in text(odd)


def _lead_of(city, a: Assignment):
    return {"33031001": city["station_lead"], "330320": city["west_lead"]}.get(a.unit.code, city["east_lead"])


@pytest.mark.parametrize(
    ("query", "status", "expect"),
    [
        ("acknowledged=true", 200, "done"),
        ("acknowledged=false", 200, "rest"),
        ("acknowledged=1", 200, "done"),
        ("acknowledged=0", 200, "rest"),
        ("acknowledged=", 200, "all"),
        # as ``overdue=``: a value that is no yes/no is left out, as if absent (django-filter's NullBoolean)
        ("acknowledged=maybe", 200, "all"),
        ("acknowledged=%00", 200, "all"),
        ("acknowledged=%C2%B2", 200, "all"),
    ],
)
def test_the_api_filters_on_receipts(city, published, query, status, expect):
    mine = Assignment.objects.filter(unit__code="33031001").order_by("pk")
    acknowledge_assignment(assignment=mine[0], by=city["station_lead"])
    response = api(city["hq"]).get(f"/api/v1/assignments/?{query}")
    assert response.status_code == status, response.content
    if expect is None:
        return
    got = {row["id"] for row in response.json()["results"]}
    every = set(Assignment.objects.values_list("pk", flat=True))
    want = {"done": {mine[0].pk}, "rest": every - {mine[0].pk}, "all": every}[expect]
    assert got == want


def test_lists_read_receipts_without_a_query_per_row(city, published, django_assert_max_num_queries):
    for a in Assignment.objects.filter(unit__code="33031001"):
        acknowledge_assignment(assignment=a, by=city["station_lead"])
    client = api(city["hq"])
    client.get("/api/v1/assignments/")  # warm: the session, the scope
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/assignments/")
    assert any(row["acknowledged_by"] == "赵关" for row in response.json()["results"])


def test_the_assignment_page_hides_the_button_once_reported(city, chengguan):
    report_progress(assignment=chengguan, by=city["station_lead"], value=1, text="开始")
    page = text(login(city["station_lead"]).get(f"/assignments/{chengguan.pk}/"))
    assert 'id="acknowledge"' not in page and "已签收" in page
