"""boards/0010: the rollup's update trigger returns at once when no counted column changed (PostgreSQL).
A report's update (progress, version, time) leaves the rollup and its ledger as they were; every change of a
counted column still counts, exactly; the migration goes back to 0006's function and forward again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from boards import rollup
from boards.models import BoardCount, BoardDelta
from tasks.models import Assignment
from tests.migrating import migrate

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's row triggers are unchanged")


def _updated_function() -> tuple[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'boards_rollup_updated'")
        return cursor.fetchone()


def _tables() -> tuple[list, list]:
    return (
        sorted(BoardCount.objects.values_list()),
        sorted(BoardDelta.objects.values_list()),
    )


def _exact(campaign) -> None:
    assert rollup.differences(campaign) == []
    assert rollup.ledger_differences(campaign) == []


@pytest.mark.django_db
def test_the_update_trigger_checks_the_counted_columns_first_and_keeps_its_settings():
    source, config = _updated_function()
    assert (
        source.split("BEGIN", 1)[1]
        .lstrip()
        .startswith("IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id")
    )
    for column in ("status", "due_date", "unit_id", "item_id", "submitted_on", "is_active"):
        assert f"o.{column}" in source and f"n.{column}" in source
    assert config == ["jit=off", "work_mem=32MB"]


@pytest.mark.django_db
def test_a_report_leaves_the_rollup_as_it_was_and_every_counted_change_still_counts(city, published):
    work = list(Assignment.objects.filter(campaign=published, parent__isnull=True, is_active=True).order_by("pk"))
    first, second, third = work[0], work[1], work[2]
    _exact(published)
    before = _tables()

    # what a report changes: nothing counted
    Assignment.objects.filter(pk=first.pk).update(progress=40, version=F("version") + 1, updated_at=timezone.now())
    Assignment.objects.filter(campaign=published).update(progress=10)  # many rows at once, nothing counted
    assert _tables() == before
    _exact(published)

    # every counted column, one at a time
    today = timezone.localdate()
    holding = set(Assignment.objects.filter(item_id=third.item_id).values_list("unit_id", flat=True))
    elsewhere = next(u.pk for u in city.units.values() if u.pk not in holding)
    changes = [
        (first.pk, {"status": "in_progress"}),
        (first.pk, {"status": "submitted", "submitted_on": today}),
        (first.pk, {"submitted_on": today - dt.timedelta(days=400)}),
        (second.pk, {"due_date": first.due_date + dt.timedelta(days=3)}),
        (second.pk, {"acknowledged_at": timezone.now()}),
        (third.pk, {"unit_id": elsewhere}),
        (third.pk, {"is_active": False}),
        (third.pk, {"is_active": True}),
    ]
    for pk, values in changes:
        counted = _tables()
        Assignment.objects.filter(pk=pk).update(**values)
        assert _tables() != counted, values
        _exact(published)


@pytest.mark.django_db(transaction=True)
def test_the_guard_goes_back_and_forward(published):
    guarded = _updated_function()
    try:
        migrate([("boards", "0009_rollup_insert_hashed")])
        source, config = _updated_function()
        assert "IF NOT EXISTS" not in source and config == ["jit=off", "work_mem=32MB"]
        Assignment.objects.filter(campaign=published).update(status="in_progress")
        _exact(published)
    finally:
        migrate(None)
    assert _updated_function() == guarded
    Assignment.objects.filter(campaign=published).update(status="submitted", submitted_on=timezone.localdate())
    _exact(published)
