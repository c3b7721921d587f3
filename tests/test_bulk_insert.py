"""``utilities.db.bulk_insert``: COPY on PostgreSQL (rows formatted as they are read), prepared INSERTs
elsewhere, the same rows either way."""

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from accounts.models import Unit
from audit.models import AuditEvent
from utilities import db

ODD = "tab\there, a new\nline, a back\\slash \\N, 中文"


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [True, False])
def test_rows_and_constants_arrive_as_given(city, settings, monkeypatch, fast):
    if fast and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    settings.DB_FAST_PATHS = fast
    monkeypatch.setattr(db, "COPY_READ", 100)  # many reads, each ending inside a row
    kind = ContentType.objects.get_for_model(Unit)
    at = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    unit = city.units["3303"].pk
    rows = [(n, f"{ODD} {n}", None if n % 2 else unit) for n in range(250)]
    same = {"at": at, "verb": "unit.tested", "content_type": kind.pk, "source": "bulk\tinsert", "changes": {}}
    assert db.bulk_insert(AuditEvent, ("object_id", "object_repr", "unit"), rows, batch_size=7, constants=same) == 250
    written = AuditEvent.objects.filter(verb="unit.tested").order_by("object_id")
    assert [(e.object_id, e.object_repr, e.unit_id) for e in written] == rows
    assert {(e.at, e.content_type_id, e.source, e.actor_id, e.changes == {}) for e in written} == {
        (at, kind.pk, "bulk\tinsert", None, True)
    }
