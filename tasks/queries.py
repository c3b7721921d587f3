"""Read queries shared by the API and the pages; every one starts from ``accounts.scope``."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts import scope
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus


def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns that concern the user: owned inside, or above, the user's scope
    (``Campaign.scope_seen_from_below``); a draft only for HQ managing its owner — a plan being written is
    nobody else's business until it is published (its items, units and leaders included)."""
    return scope.by_grants(_campaigns_for, user)  # built once per set of grants


def _campaigns_for(user) -> QuerySet[Campaign]:
    seen = Campaign.objects.visible_to(user)
    manage = scope.scope_for(user, scope.Action.MANAGE)
    return seen if manage.everything else seen.filter(~Q(status=CampaignStatus.DRAFT) | manage.q("owner"))


# --- Overdue and the work planned: the one rule of every view (docs/boards.md) ---------------------
#
# Overdue: in the plan, past its due date, not accepted, and not waiting for acceptance after going in
# ON TIME. "On time" compares the day it was submitted (``submitted_on``, a local date) with the due
# date in force, so an extension granted before submitting counts; returning the work ends the wait (its
# status leaves SUBMITTED), so returned work past due is overdue again, and so is work submitted late.
# Raw SQL (boards' bench, the sweep) uses ``overdue_sql``, the same rule written out.
#
# Planned: a share passed down to a unit below (``Assignment.parent``, ``tasks.services.cascade``) is
# part of its parent's work, not more work: totals count ``planned_q`` rows only, so a plan's 350
# assignments show as 350 however far they were passed down. A unit's own list still shows its shares.


def submitted_on_time_q() -> Q:
    """Went for acceptance on or before its due date and has not been returned since (accepted or waiting)."""
    S = AssignmentStatus
    return Q(status__in=[S.SUBMITTED, S.ACCEPTED], submitted_on__isnull=False, submitted_on__lte=F("due_date"))


def overdue_q(today=None) -> Q:
    """Overdue, derived: in the plan, past the due date, not accepted, not waiting after an on-time submission."""
    today = today or timezone.localdate()
    return Q(is_active=True, due_date__lt=today) & ~Q(status=AssignmentStatus.ACCEPTED) & ~submitted_on_time_q()


def is_overdue(a: Assignment, today=None) -> bool:
    """``overdue_q`` for one row already loaded."""
    today = today or timezone.localdate()
    S = AssignmentStatus
    on_time = a.status == S.SUBMITTED and a.submitted_on is not None and a.submitted_on <= a.due_date
    return a.is_active and a.due_date < today and a.status != S.ACCEPTED and not on_time


def overdue_sql(alias: str = "a", today: str = "%s") -> str:
    """``overdue_q`` in SQL over the assignment row ``alias``; ``today`` is the placeholder of the date."""
    S = AssignmentStatus
    return (
        f"({alias}.is_active AND {alias}.due_date < {today} AND {alias}.status <> '{S.ACCEPTED.value}'"
        f" AND NOT ({alias}.status = '{S.SUBMITTED.value}' AND {alias}.submitted_on IS NOT NULL"
        f" AND {alias}.submitted_on <= {alias}.due_date))"
    )


def planned_q() -> Q:
    """The work planned: not a share passed down from a superior's assignment (counted once, in the parent)."""
    return Q(parent__isnull=True)


def planned_sql(alias: str = "a") -> str:
    """``planned_q`` in SQL."""
    return f"{alias}.parent_id IS NULL"


def once(qs: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """``qs`` with each piece of work once: a share counts only when its parent is not in ``qs`` itself.
    Over a whole campaign or HQ's subtree that is ``planned_q`` (every parent is there); a station lead,
    who sees its share and not the sub-bureau's assignment it came from, still counts its share."""
    return qs.filter(planned_q() | ~Q(parent__in=qs.values("pk")))


def progress_counts(qs: QuerySet[Assignment], *, by: str | None = None):
    """Totals of the work (``once``: a share not again beside its parent) by state, in one query: over
    ``qs``, or per value of ``by``."""
    S = AssignmentStatus
    counts = {
        "total": Count("id"),
        "accepted": Count("id", filter=Q(status=S.ACCEPTED)),
        "submitted": Count("id", filter=Q(status=S.SUBMITTED)),
        "returned": Count("id", filter=Q(status=S.RETURNED)),
        "overdue": Count("id", filter=overdue_q()),
        "acknowledged": Count("id", filter=Q(acknowledged_at__isnull=False)),  # 签收
    }
    qs = once(qs.filter(is_active=True).order_by())
    if by is None:
        return qs.aggregate(**counts)
    return {row[by]: row for row in qs.values(by).annotate(**counts)}


def checklist_progress(campaign: Campaign, user, today=None) -> tuple[dict[int, dict], dict[int, list[str]]]:
    """Per item, over the assignments in ``user``'s scope: the counts of ``progress_counts`` (one query)
    and the names of the units with overdue work, in the tree's order (one query)."""
    scoped = scope.restrict(campaign.assignments.all(), user)
    counts = progress_counts(scoped, by="item_id")
    overdue: dict[int, list[str]] = defaultdict(list)
    rows = once(scoped.filter(is_active=True)).filter(overdue_q(today)).order_by("item_id", "unit__path")
    for item_id, short_name, name in rows.values_list("item_id", "unit__short_name", "unit__name"):
        overdue[item_id].append(short_name or name)
    return counts, dict(overdue)
