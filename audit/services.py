"""Recording the history of changes. Call inside the transaction that makes the change."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from utilities.db import bulk_insert, fast_paths

from . import origin
from .models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return str(value)


def _same(old: Any, new: Any) -> bool:
    """Equal as values: 60 and 60.00 are one amount (a form gives ``Decimal("60")``, the row holds
    ``Decimal("60.00")``), so a save that changes nothing records nothing."""
    if isinstance(old, Decimal | int) and isinstance(new, Decimal | int):
        return Decimal(old) == Decimal(new)
    return _plain(old) == _plain(new)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in after
        if not _same(before.get(key), after.get(key))
    }


def event(
    obj: models.Model,
    verb: str,
    *,
    actor=None,
    changes: dict | None = None,
    unit=None,
    source: str = "",
) -> AuditEvent:
    """An unsaved event; pass a batch of them to ``record``. Made during a request, its source also
    names the client's address (``audit.origin``)."""
    source = " ".join(part for part in (source, origin.current()) if part)
    return AuditEvent(
        actor=actor,
        verb=verb,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        unit=unit,
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        source=source[:200],
    )


# A batch this big goes by COPY on PostgreSQL (``utilities.db.bulk_insert``): building 5,000 INSERT rows
# in Django (a 催办 of a city's open work) took longer than the rest of the chase.
COPY_FROM = 1000
COLUMNS = ("at", "actor", "verb", "content_type", "object_id", "object_repr", "unit", "changes", "source")


def _columns(e: AuditEvent) -> tuple:
    changes = json.dumps(e.changes, ensure_ascii=False)
    return (e.at, e.actor_id, e.verb, e.content_type_id, e.object_id, e.object_repr, e.unit_id, changes, e.source)


def record(events: Iterable[AuditEvent]) -> int:
    rows = list(events)
    if len(rows) >= COPY_FROM and fast_paths():
        bulk_insert(
            AuditEvent,
            COLUMNS,
            [_columns(e) for e in rows],
        )
    else:
        AuditEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def history(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Everything recorded about ``obj``, oldest first, with the actors."""
    return (
        AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
        .select_related("actor")
        .order_by("at", "id")
    )
