"""Scoped reads of directives, shared by the pages, the API and the ledger."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts import scope
from accounts.models import Unit
from audit.models import AuditEvent
from tasks.models import Assignment, AssignmentRole
from tasks.queries import campaigns_for, overdue_q

from .models import Directive


def directives_for(user, action: str = "view") -> QuerySet[Directive]:
    """The directives ``user`` sees (``Directive.objects.visible_to``), in the campaigns it sees (a draft's
    only by HQ over its owner), with what a row shows."""
    qs = Directive.objects.visible_to(user, action).filter(item__campaign__in=campaigns_for(user))
    return qs.select_related("item__campaign__owner", "leader")


def under_unit(qs: QuerySet[Directive], unit: Unit) -> QuerySet[Directive]:
    """The directives naming a unit in ``unit``'s subtree (an active assignment of theirs there)."""
    named = Assignment.objects.filter(item_id=OuterRef("item_id"), is_active=True, unit__path__startswith=unit.path)
    return qs.filter(Exists(named))


def overdue(qs: QuerySet[Directive], wanted: bool = True) -> QuerySet[Directive]:
    """The directives whose lead unit's work is overdue (``tasks.queries.overdue_q``), or (``wanted`` false) not."""
    late = Assignment.objects.filter(overdue_q(), item_id=OuterRef("item_id"), role=AssignmentRole.LEAD)
    return qs.filter(Exists(late)) if wanted else qs.exclude(Exists(late))


def led_by(user) -> QuerySet[Directive]:
    """A leader's 包案: the directives naming him as the leader in charge, that he sees."""
    return directives_for(user).filter(leader=user)


def work(directive: Directive, user) -> list[Assignment]:
    """The directive's assignments ``user`` sees, the lead units first."""
    rows = Assignment.objects.filter(item_id=directive.item_id, is_active=True).select_related(
        "unit", "acknowledged_by", "item", "campaign"
    )
    # the lead units first ("lead" sorts after "coop")
    return list(scope.restrict(rows, user).order_by("-role", "parent_id", "unit__path"))


def timeline(directive: Directive, assignments: list[Assignment]) -> QuerySet[AuditEvent]:
    """The directive's events, its item's and those of the assignments given (the ones the reader sees),
    oldest first."""
    from django.contrib.contenttypes.models import ContentType

    types = ContentType.objects.get_for_models(Directive, type(directive.item), Assignment)
    rows = (
        Q(content_type=types[Directive], object_id=directive.pk)
        | Q(content_type=types[type(directive.item)], object_id=directive.item_id)
        | Q(content_type=types[Assignment], object_id__in=[a.pk for a in assignments])
    )
    return AuditEvent.objects.filter(rows).select_related("actor").order_by("at", "id")
