"""A big batch of audit events (a 催办 of 5,000 rows) goes by COPY on PostgreSQL: the same rows, the
changes as JSON, read back like any; a small one, or SQLite, by bulk_create."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import override_settings

from audit import services as audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fast", [True, False])
def test_a_big_batch_is_recorded_whole_with_its_changes(city, fast):
    unit = city.units["33031001"]
    with override_settings(DB_FAST_PATHS=fast):
        n = audit.record(
            audit.event(unit, "unit.checked", actor=city["hq"], changes={"note": f"第{i}次\t检查", "n": i}, unit=unit)
            for i in range(audit.COPY_FROM)
        )
    assert n == audit.COPY_FROM
    rows = AuditEvent.objects.filter(verb="unit.checked").order_by("id")
    assert rows.count() == n
    last = rows.filter(changes__n=n - 1).get()
    assert last.changes == {"note": f"第{n - 1}次\t检查", "n": n - 1} and last.actor == city["hq"]
    assert (last.object_id, last.object_repr, last.unit_id) == (unit.pk, str(unit), unit.pk)
    assert connection.vendor != "postgresql" or rows.filter(changes__note__startswith="第1次").exists()
