"""Reading supervision records in a user's scope (the pages and the API share these)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts import scope
from accounts.scope import Action

from .models import UNFIXED, Finding, Hotspot, Inspection
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
