"""Reading supervision records in a user's scope (the pages and the API share these)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts import scope
from accounts.scope import Action

from .models import UNANSWERED, UNFIXED, Finding, Hotspot, Inspection, LetterStatus, RiskLetter
from .services import COMPLETED_VISITS


def inspections_for(user) -> QuerySet[Inspection]:
    """Inspections that visited at least one unit the user may view (``Inspection.scope_via``: its units)."""
    return Inspection.objects.visible_to(user)


def findings_for(user, action: Action = Action.VIEW) -> QuerySet[Finding]:
    return scope.restrict(Finding.objects.select_related("unit", "notice"), user, action)


def hotspots_for(user) -> QuerySet[Hotspot]:
    """Hotspots in scope with what a board shows: criteria, completed visits, unfixed findings."""
    qs = Hotspot.objects.select_related("unit").prefetch_related("criteria", COMPLETED_VISITS)
    qs = qs.annotate(unfixed=Count("findings", filter=Q(findings__status__in=UNFIXED)))
    return scope.restrict(qs, user)


def letters_to_answer(user) -> QuerySet[RiskLetter]:
    """Risk letters the user's own units must acknowledge or answer (report rights over the addressee),
    the earliest reply-by first: the lead's /my/ page."""
    qs = RiskLetter.objects.select_related("unit", "issuing_unit", "acknowledged_by").filter(status__in=UNANSWERED)
    return scope.restrict(qs, user, Action.REPORT).order_by("reply_by", "id")


def letters_to_review(user) -> QuerySet[RiskLetter]:
    """Answered risk letters the user may close or return: inspecting over the addressee, never its own
    unit's (``scope.judges``), the oldest answer first: HQ's desk."""
    qs = RiskLetter.objects.select_related("unit", "answered_by").filter(status=LetterStatus.ANSWERED)
    qs = scope.restrict(qs, user, Action.INSPECT)
    own = scope.scope_for(user, Action.REPORT)
    if own and not own.everything:
        qs = qs.exclude(own.q("unit"))
    return qs.order_by("answered_at", "id")
