"""Read queries shared by the API and the pages; every one starts from ``accounts.scope``."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts import scope
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus


def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns that concern the user: owned inside, or above, the user's scope
    (``Campaign.scope_seen_from_below``); a draft only for HQ managing its owner — a plan being written is
    nobody else's business until it is published (its items, units and leaders included)."""
    seen = Campaign.objects.visible_to(user)
    manage = scope.scope_for(user, scope.Action.MANAGE)
    return seen if manage.everything else seen.filter(~Q(status=CampaignStatus.DRAFT) | manage.q("owner"))


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


def checklist_progress(campaign: Campaign, user, today=None) -> tuple[dict[int, dict], dict[int, list[str]]]:
    """Per item, over the assignments in ``user``'s scope: the counts of ``progress_counts`` (one query)
    and the names of the units with overdue work, in the tree's order (one query)."""
    scoped = scope.restrict(campaign.assignments.all(), user)
    counts = progress_counts(scoped, by="item_id")
    overdue: dict[int, list[str]] = defaultdict(list)
    rows = scoped.filter(overdue_q(today)).order_by("item_id", "unit__path")
    for item_id, short_name, name in rows.values_list("item_id", "unit__short_name", "unit__name"):
        overdue[item_id].append(short_name or name)
    return counts, dict(overdue)
