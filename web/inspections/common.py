"""What the inspections pages share (private to this package): the rights check, the open
campaigns, an object's recorded history, the unit picker, an inspection list's rows."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import Http404

from accounts import scope
from accounts.scope import Action
from audit.services import history
from inspections.models import FindingStatus
from tasks.queries import campaigns_for

from .. import labels

FS = FindingStatus
LIST_LIMIT = 300
# A scope with more units than this picks the unit by typing (a datalist), not from a long select.
SELECT_MAX_UNITS = 30


def _require(user, action: Action) -> None:
    if not scope.scope_for(user, action):
        raise PermissionDenied


def _open_campaigns(user) -> list:
    return list(campaigns_for(user).filter(status="published").order_by("-start", "-id"))


def _events(obj) -> list[labels.Event]:
    return [labels.event(e) for e in history(obj)]


def _unit_picker(units) -> tuple[bool, list]:
    """Whether to type the unit (datalist), and the options to list."""
    options = list(units.only("code", "name", "path").order_by("path"))
    return len(options) > SELECT_MAX_UNITS, options


def _inspection_rows(qs, user):
    """An inspection list's rows: of the units each visited, those the user may see (``units_seen``), and
    the count of their findings only — a tour of two branches shows a station lead its own station."""
    reach = scope.scope_for(user, Action.VIEW)
    seen = Prefetch("units", queryset=scope.units(user).order_by("path"), to_attr="units_seen")
    counted = Count("findings", filter=reach.q("findings__unit") or None)
    return qs.select_related("issuing_unit", "hotspot").prefetch_related(seen).annotate(n_findings=counted)


def _one(qs, pk: int):
    """The row ``pk`` of an already scoped queryset, or 404."""
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
