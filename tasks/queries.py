"""Read queries shared by the API and the pages; every one starts from ``accounts.scope``."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tasks.models import Assignment, AssignmentStatus, Campaign


def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns that concern the user: owned inside, or above, the user's scope (``Campaign.scope_seen_from_below``)."""
    return Campaign.objects.visible_to(user)


def overdue_q(today=None) -> Q:
    """Overdue, derived: in the plan, not accepted, and past the due date."""
    today = today or timezone.localdate()
    return Q(is_active=True, due_date__lt=today) & ~Q(status=AssignmentStatus.ACCEPTED)


def progress_counts(qs: QuerySet[Assignment], *, by: str | None = None):
    """Totals of assignments by state, in one query: over ``qs``, or per value of ``by``."""
    S = AssignmentStatus
    counts = {
        "total": Count("id"),
        "accepted": Count("id", filter=Q(status=S.ACCEPTED)),
        "submitted": Count("id", filter=Q(status=S.SUBMITTED)),
        "returned": Count("id", filter=Q(status=S.RETURNED)),
        "overdue": Count("id", filter=overdue_q()),
    }
    qs = qs.filter(is_active=True).order_by()
    if by is None:
        return qs.aggregate(**counts)
    return {row[by]: row for row in qs.values(by).annotate(**counts)}
