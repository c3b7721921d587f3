"""签收 on the battle board: each cell counts the work its units have not acknowledged, in the board's one
query, on every level; the JSON carries it; and the migration's backfill: work acted on was received."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Unit
from boards.queries import battle_board
from inspections import services as svc
from inspections.models import InspectionKind, Notice
from tasks.models import Assignment, AssignmentStatus
from tasks.services.receipts import acknowledge_assignment
from tests.boards.conftest import TODAY
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


@pytest.fixture
def some_received(city, published):
    """Every other assignment of 城东分局's subtree acknowledged by its lead."""
    for n, a in enumerate(Assignment.objects.filter(unit__path__startswith=city.units["330310"].path).order_by("id")):
        if n % 2 == 0:
            acknowledge_assignment(assignment=a, by=city["east_lead"])
    return published


def brute(campaign, root: Unit) -> dict[tuple[int, str], int]:
    """(action, column code) → unacknowledged work, from the rows and the tree."""
    out: Counter = Counter()
    for a in Assignment.objects.filter(campaign=campaign, is_active=True, parent=None).select_related("unit", "item"):
        if not a.unit.path.startswith(root.path):
            continue
        column = a.unit if a.unit.path == root.path else Unit.objects.get(path=a.unit.path[: len(root.path) + 4])
        out[(a.item.action_id, column.code)] += a.acknowledged_at is None
    return dict(out)


def test_each_cell_counts_the_unacknowledged_on_every_level(city, some_received):
    assert Assignment.objects.filter(acknowledged_at__isnull=False).exists()
    for root in ("3303", "330310", "33031001"):
        unit = city.units[root]
        board = battle_board(city["hq"], some_received, unit, today=TODAY)
        code = {u.pk: u.code for u in board.columns}
        got = {(a, code[uid]): c.unacknowledged for (a, uid), c in board.cells.items()}
        assert got == brute(some_received, unit), root
        assert board.total.unacknowledged == sum(got.values())
        assert sum(c.unacknowledged for c in board.row_totals.values()) == board.total.unacknowledged


def test_the_json_and_the_page_carry_it_in_the_same_number_of_queries(city, some_received):
    client = login(city["hq"])
    client.get("/api/v1/boards/battle/?unit=3303")
    with CaptureQueriesContext(connection) as with_receipts:
        answer = client.get("/api/v1/boards/battle/?unit=3303").json()
    board = battle_board(city["hq"], some_received, city.units["3303"], today=TODAY)
    assert answer["total"]["unacknowledged"] == board.total.unacknowledged > 0
    assert all("unacknowledged" in c for c in answer["cells"])
    Assignment.objects.update(acknowledged_at=None)
    with CaptureQueriesContext(connection) as without:
        client.get("/api/v1/boards/battle/?unit=3303")
    assert len(with_receipts) == len(without)  # one aggregate more, not one query more
    assert "未签收" in text(client.get("/board/?unit=3303"))


def test_the_migration_marks_work_acted_on_as_received(city, published):
    tasks_step = importlib.import_module("tasks.migrations.0013_assignment_receipt")
    notices_step = importlib.import_module("inspections.migrations.0003_notice_receipt")
    started = Assignment.objects.filter(unit__code="33031001").order_by("id").first()
    Assignment.objects.filter(pk=started.pk).update(status=AssignmentStatus.IN_PROGRESS)
    visit = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units["33031001"], place="甲", description="乙"
    )
    notice = svc.issue_notice(
        by=city["inspector"], unit=city.units["33031001"], findings=[finding], deadline=TODAY, requirements="丙"
    )
    answer = svc.answer_finding(finding=finding, by=city["station_lead"], text="已改")
    Assignment.objects.update(acknowledged_at=None, acknowledged_by=None)  # as before the migration
    Notice.objects.update(acknowledged_at=None, acknowledged_by=None)
    tasks_step.acted_on_is_received(apps, None)
    notices_step.answered_is_received(apps, None)
    started.refresh_from_db()
    assert started.acknowledged_at == started.updated_at and started.acknowledged_by is None
    assert not Assignment.objects.filter(status="pending", acknowledged_at__isnull=False).exists()
    notice.refresh_from_db()
    assert (notice.acknowledged_at, notice.acknowledged_by) == (answer.answered_at, city["station_lead"])
