"""Changing one checklist item by hand (the admin), and the rule its assignments' deadlines follow."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from audit import services as audit
from tasks.models import Assignment, Item

# What HQ may change on an item; its campaign, where it came from and the timestamps are not its to set.
EDITABLE = frozenset(
    f.name
    for f in Item._meta.concrete_fields
    if f.name not in {"id", "campaign", "source_location", "created_at", "updated_at"}
)


@transaction.atomic
def update_item(*, item: Item, by: User, source: str = "", **changes) -> Item:
    """Change ``item``'s fields. When its deadline moves (due date, deadline kind or text), the assignments
    still on the old date follow it (``follow_deadline``); one an approved extension moved keeps its date."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not an editable field of an item: {', '.join(sorted(unknown))}")
    locked = Item.objects.select_for_update(of=("self",)).select_related("campaign__owner").get(pk=item.pk)
    diff = audit.diff({name: getattr(locked, name) for name in changes}, changes)
    if not diff:
        return locked
    old_due = locked.assignment_due()
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changes, "updated_at"])
    owner = locked.campaign.owner
    audit.record([audit.event(locked, "item.updated", actor=by, changes=diff, unit=owner, source=source)])
    follow_deadline(item_id=locked.pk, before=old_due, after=locked.assignment_due(), by=by, source=source)
    return locked


def follow_deadline(*, item_id: int, before: date, after: date, by: User | None = None, source: str = "") -> int:
    """Move an item's assignments from its old deadline to the new one, audited; returns how many moved.

    Only those still on the old date and never extended move: a date an approved extension set, or one a
    unit gave a share it passed down, is the unit's own. Withdrawn assignments move too, so one that comes
    back with a later plan has the item's date. Call inside the transaction that changed the item."""
    if before == after:
        return 0
    rows = Assignment.objects.filter(item_id=item_id, due_date=before, extensions=0)
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    Assignment.objects.filter(pk__in=pks).update(due_date=after, version=F("version") + 1, updated_at=timezone.now())
    moved = Assignment.objects.filter(pk__in=pks).select_related("unit")
    audit.record(
        audit.event(
            a, "assignment.due_changed", actor=by, changes={"due_date": [before, after]}, unit=a.unit, source=source
        )
        for a in moved
    )
    return len(pks)
