"""HQ's view of the outbox: what was sent to whom and when, what failed, what is queued — over the
units HQ manages (``Message.unit``: what a reminder is about, or a digest's recipient's unit) — and
the retry of dead letters, audited. Users' own channel and digest choices."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from accounts import scope
from accounts.models import User
from accounts.scope import OVERSEERS, Action
from audit.services import diff, event, record

from . import delivery
from .models import Message, MessageStatus, Preference


def messages_for(user) -> QuerySet[Message]:
    """Every message about a unit ``user`` manages (HQ), newest first."""
    return (
        scope.restrict(Message.objects.all(), user, Action.MANAGE)
        .select_related("recipient", "unit", "reminder", "digest", "event")
        .order_by("-created_at", "-id")
    )


def status_counts(messages: QuerySet[Message]) -> dict[str, int]:
    """Messages per status, in one query."""
    found = messages.aggregate(**{s.value: Count("pk", filter=Q(status=s.value)) for s in MessageStatus})
    return {s.value: found[s.value] for s in MessageStatus}


def retry_messages(*, messages: QuerySet[Message], by: User) -> int:
    """Queue the dead letters among ``messages`` again, with a history entry each."""
    with transaction.atomic():
        dead = list(messages.filter(status=MessageStatus.DEAD).select_for_update(of=("self",)))
        n = delivery.retry(Message.objects.filter(pk__in=[m.pk for m in dead]))
        record(
            event(m, "message.retried", actor=by, unit=m.unit, changes={"status": [MessageStatus.DEAD, "pending"]})
            for m in dead
        )
    return n


def preference(user) -> Preference:
    """The user's settings (unsaved defaults when it never chose)."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def takes_weekly(user) -> bool:
    """Whether the weekly summary is offered: HQ and leaders get one for their scope."""
    return user.grants.filter(role__in=sorted(OVERSEERS)).exists()


def save_preference(*, by: User, **choices) -> Preference:
    """``by``'s own channel and digest choices (the fields of ``Preference``), audited when they change."""
    pref = preference(by)
    before = {k: getattr(pref, k) for k in choices}
    for k, v in choices.items():
        setattr(pref, k, v)
    with transaction.atomic():
        pref.save()
        changes = diff(before, choices)
        if changes:
            record([event(pref, "preference.changed", actor=by, unit=by.unit, changes=changes)])
    return pref
