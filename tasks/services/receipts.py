"""签收: a unit acknowledges that it has received its work.

One tap by anyone who may report for the unit, recorded with who and when and audited; a second tap
changes nothing. The unit's first report or its start (any move it makes itself) acknowledges too, in
that service's own transaction (``stamp``), so HQ can tell "not started" from "never seen".
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts import scope
from accounts.models import User
from accounts.scope import Action
from audit import services as audit
from tasks.models import Assignment
from utilities.errors import Forbidden

from .errors import ReportError, refuse_closed

FIELDS = ["acknowledged_at", "acknowledged_by"]


def stamp(row, by: User, now: datetime) -> bool:
    """Mark ``row`` (an assignment or a notice, locked by the caller) acknowledged by ``by`` unless it
    already is; True when it was set now (the caller saves ``FIELDS`` with its own write)."""
    if row.acknowledged_at is not None:
        return False
    row.acknowledged_at, row.acknowledged_by = now, by
    return True


def acknowledge_assignment(*, assignment: Assignment, by: User) -> Assignment:
    """签收 the assignment for its unit; already acknowledged, it is returned as it is (who, when)."""
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("unit", "campaign", "acknowledged_by")
            .get(pk=assignment.pk)
        )
        if not scope.can(by, Action.REPORT, locked.unit):
            raise Forbidden("无权为该单位签收任务")
        refuse_closed(locked.campaign)
        if not locked.is_active:
            raise ReportError("该任务已从方案中撤销，无需签收")
        now = timezone.now()
        if stamp(locked, by, now):
            locked.version += 1
            locked.updated_at = now
            locked.save(update_fields=[*FIELDS, "version", "updated_at"])
            audit.record(
                [
                    audit.event(
                        locked, "assignment.acknowledged", actor=by, changes={"acknowledged_at": now}, unit=locked.unit
                    )
                ]
            )
    return locked
