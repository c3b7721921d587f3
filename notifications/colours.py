"""三色督办单: the colour of an assignment's supervision slip, the same rule the reminders use.

Red when overdue; yellow when returned for quality or behind the planned pace (序时进度); blue when
the due date is near (within the first "days before" step of the rules). Finished, submitted and
withdrawn work has no slip.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tasks import targets
from tasks.models import Assignment, AssignmentStatus
from tasks.queries import is_overdue

from .models import Colour

NEAR_DAYS = 3


def slip(
    a: Assignment, today: date | None = None, near_days: int = NEAR_DAYS, behind: bool | None = None
) -> str | None:
    """``behind``: the pace judged by every target of the item (``tasks.targets``) as the caller has read
    it (a list: ``targets.judged`` for its page, one statement); else read here for this row alone (one
    statement: the rule the sweep's yellow reminder follows, never the first target's only)."""
    today = today or timezone.localdate()
    if not a.is_active or a.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED):
        return None
    if is_overdue(a, today):
        return Colour.RED
    if behind is None:
        behind = targets.judged([a], today)[a.pk].behind
    if a.status == AssignmentStatus.RETURNED or behind:
        return Colour.YELLOW
    if (a.due_date - today).days <= near_days:
        return Colour.BLUE
    return None
