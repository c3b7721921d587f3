"""The assignment API answers in a fixed number of SQL queries, however many rows it lists.

Each page is requested once over the small published plan, then again after the data has grown
(a second campaign for every station, a pass-down to the stations, reports and comments): the rows
grow, the query count must not. A serializer field that reaches a relation the view does not
``select_related``/``prefetch_related`` adds one query per row and fails here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tasks.models import Assignment, AssignmentStatus, Campaign
from tasks.services.cascade import Share, pass_down
from tasks.services.plans import import_plan
from tasks.services.progress import add_comment, report_progress

from .planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 2)  # the 07-15 and 08-31 items are past due
# Every station gets these: due 08-31 (overdue on TODAY), 各分局 cooperating.
MORE = [
    (
        "一、“加码”行动（分管领导：王建国）",
        [
            (str(k), f"加码任务{k}", "逐所建立台账", "检查不少于10家次", "各派出所", "各分局", "王建国", "8月底前", "")
            for k in range(1, 7)
        ],
    )
]

LISTS = [
    pytest.param("station_lead", "/api/v1/assignments/?mine=true", id="station-lead-mine"),
    pytest.param("east_lead", "/api/v1/assignments/?unit=330310&overdue=true", id="sub-bureau-subtree-overdue"),
    pytest.param("hq", "/api/v1/assignments/?status=in_progress&status=returned&overdue=true", id="hq-status-overdue"),
    pytest.param("hq", "/api/v1/assignments/?status=submitted", id="hq-submitted"),
    pytest.param("hq", "/api/v1/assignments/", id="hq-all"),
]


def spread_statuses() -> None:
    """Every status the lists filter on, over every assignment (again after the data grows)."""
    cycle = [S.value for S in AssignmentStatus]
    for n, pk in enumerate(Assignment.objects.order_by("id").values_list("id", flat=True)):
        Assignment.objects.filter(pk=pk).update(status=cycle[n % len(cycle)])


def grow(city, published: Campaign, tmp_path) -> None:
    """More rows everywhere: a second campaign, a pass-down to the stations, reports and comments."""
    opts = {k: CAMPAIGN[k] for k in ("start", "end", "owner")}
    import_plan(path=write_xlsx(tmp_path / "more.xlsx", MORE), publish=True, name="加码行动", code="XJ2", **opts)
    parent = Assignment.objects.get(campaign=published, item__code="2.1", unit__code="330310")
    stations = [city.units[code] for code in ("33031001", "33031002", "33031003")]
    children = pass_down(
        assignment=parent,
        by=city["east_lead"],
        shares=[Share(unit, Decimal(10)) for unit in stations],
        keep_remainder=True,
    )
    for child in children:
        report_progress(assignment=child, by=city["east_lead"], value=Decimal(2), text="第一周清查")
        add_comment(assignment=child, by=city["hq"], text="请按周报送")
    add_comment(assignment=parent, by=city["hq"], text="分解到所")


def sign_all(signers) -> None:
    """Every assignment signed for (签收), by the users in turn: the list reads its page's signers apart."""
    for n, pk in enumerate(Assignment.objects.order_by("id").values_list("id", flat=True)):
        Assignment.objects.filter(pk=pk).update(
            acknowledged_by=signers[n % len(signers)], acknowledged_at=timezone.now()
        )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a real session, as the browser pages use: session and user are read each time
    return client


def measured(client: APIClient, url: str) -> tuple[int, dict]:
    with time_machine.travel(TODAY), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def describe(ctx_queries: int, body: dict) -> str:
    return f"{ctx_queries} queries for {body.get('count', 1)} rows"


@pytest.mark.parametrize(("persona", "url"), LISTS)
def test_list_query_count_does_not_grow_with_rows(city, published, tmp_path, persona, url):
    client = client_for(city[persona])
    spread_statuses()
    sign_all([city["east_lead"]])
    small, before = measured(client, url)
    grow(city, published, tmp_path)
    spread_statuses()
    sign_all([city["east_lead"], city["station_lead"], city["hq"]])  # more signers: still one statement
    large, after = measured(client, url)
    assert len(after["results"]) > len(before["results"]) >= 1, (before["count"], after["count"])
    assert large == small, f"{describe(small, before)}, then {describe(large, after)}"


@pytest.mark.parametrize(
    ("persona", "item", "unit"),
    [
        pytest.param("hq", "2.1", "330310", id="hq-passed-down-cadence-item"),
        pytest.param("east_lead", "2.1", "330310", id="sub-bureau-lead-own"),
        pytest.param("station_lead", "1.1", "33031001", id="station-lead-own"),
        pytest.param("east_lead", "1.2", "330310", id="sub-bureau-lead-cooperating"),
    ],
)
def test_detail_query_count_does_not_grow_with_rows(city, published, tmp_path, persona, item, unit):
    client = client_for(city[persona])
    pk = Assignment.objects.get(campaign=published, item__code=item, unit__code=unit).pk
    url = f"/api/v1/assignments/{pk}/"
    small, _ = measured(client, url)
    grow(city, published, tmp_path)
    large, body = measured(client, url)
    assert body["id"] == pk
    assert large == small, f"{small} queries, then {large} after the data grew"
