"""催办: HQ or a leader chases up units' open work, from the battle board's cell or a list.

Who: HQ over the unit (``manage``) or a leader over it (a ``leader`` grant: the view it has is over the
units it leads). What: the open work (pending, in progress, returned: submitted work waits for HQ, not
the unit) of campaigns still running. Each chase tells the units' leads once per unit ("等N项", one
event per unit, ``notifications.events.chased``) and is recorded on each assignment's history (an
``assignment.chased`` audit event, the note with it), in one transaction.

At most once a day per assignment. A batch is *skip and report*: the rows already chased today are left
out and counted (``already``, with the time of the first chase among them); when every open row has
been chased today already the whole request is refused (``AlreadyChased``, 409) naming the time of the
first. So a single assignment chased twice is refused, and "chase all of this cell" again on the same
day after a few rows were chased one by one chases the rest.

Set-based: one locking read of the rows, one read of today's chases, the audit rows in bulk, then a
fixed number of statements per unit told: 5,000 assignments of one cell are not 5,000 round trips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from accounts import scope
from accounts.models import Role, User
from accounts.scope import Action
from audit import services as audit
from audit.models import AuditEvent
from notifications import events as tell
from tasks.models import Assignment, AssignmentStatus, Campaign
from utilities.errors import Forbidden, Missing, Refused

from .errors import refuse_closed

VERB = "assignment.chased"
OPEN = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)
LOADED = ("unit_id", "campaign_id", "item_id", "status", "is_active", "item__code", "unit__path", "unit__name")
NOTE_MAX = 500


class AlreadyChased(Refused):
    """Every assignment asked for was chased today already: the time of the first chase (409)."""

    status_code = 409

    def __init__(self, first_at: datetime):
        local = timezone.localtime(first_at)
        super().__init__(f"今日已于{local:%H:%M}催办，每项任务每天至多催办一次")
        self.first_at = first_at

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "chased_at": self.first_at.isoformat()}


class MissingRows(Missing):
    """Ids asked for that are missing or out of the caller's view (the same answer for both): 404, ``ids``."""

    def __init__(self, ids: list[int]):
        super().__init__("任务不存在或不在您的范围内")
        self.ids = ids

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "ids": self.ids}


class NothingToChase(Refused):
    """None of the assignments asked for is open work (submitted, accepted or withdrawn)."""


@dataclass(frozen=True)
class Chased:
    """What a chase did: the assignments chased and the units told; those left out because they were
    chased today already (and the time of the first such chase), or are not open work."""

    chased: int
    units: int
    already: int = 0
    first_at: datetime | None = None
    not_open: int = 0


def chase_scope(user: User) -> scope.Scope:
    """The subtrees ``user`` may chase: HQ's (manage) and a leader's (its ``leader`` grants)."""
    manage = scope.scope_for(user, Action.MANAGE)
    if manage.everything:
        return manage
    leads, _first = scope.scopes_of_roles([user], [Role.LEADER])[user.pk]
    return scope.Scope(False, scope._minimal_roots(set(manage.paths) | set(leads.paths)))


def may_chase(user: User) -> bool:
    return bool(user is not None and user.is_authenticated and chase_scope(user))


def start_of_today() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def chase_assignments(
    *, assignments: QuerySet[Assignment] | Iterable[int], by: User, note: str = "", source: str = ""
) -> Chased:
    """催办 ``assignments`` (a queryset, e.g. a board cell's filters, or ids). Rows out of the caller's
    view are missing (404, like ids that do not exist), checked first; rows it sees but may not chase
    are a 403 (a unit lead, an inspector: all of them)."""
    reach = chase_scope(by) if by is not None and by.is_authenticated else scope.NOTHING
    note = (note or "").strip()[:NOTE_MAX]
    asked: set[int] | None = None
    if isinstance(assignments, QuerySet):
        qs = assignments
    else:
        asked = {int(pk) for pk in assignments}
        qs = Assignment.objects.filter(pk__in=asked)
    with transaction.atomic():
        rows = list(
            scope.restrict(qs.order_by(), by)
            .select_related("item", "unit")
            # what the chase reads of 5,000 rows: building whole items (30 fields) took a third of it
            .only(*LOADED)
            .select_for_update(of=("self",))
            .order_by("id")
        )
        if asked is not None and len(rows) < len(asked):
            raise MissingRows(sorted(asked - {r.pk for r in rows}))
        if not reach:  # after the 404: a row out of view is missing whoever asks
            raise Forbidden("只有领导小组办公室和分管领导可以催办")
        if not rows:
            raise NothingToChase("没有可催办的任务")
        foreign = [r for r in rows if not reach.covers(r.unit.path)]
        if foreign:
            raise Forbidden(f"无权催办{foreign[0].unit.name}等{len(foreign)}项任务")
        for campaign in Campaign.objects.in_bulk({r.campaign_id for r in rows}).values():
            refuse_closed(campaign)
        open_rows = [r for r in rows if r.is_active and r.status in OPEN]
        if not open_rows:
            raise NothingToChase("所选任务均已提交、验收或撤销，无需催办")
        earlier = dict(
            AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(Assignment),
                verb=VERB,
                at__gte=start_of_today(),
                object_id__in=[r.pk for r in open_rows],
            )
            .values("object_id")
            .annotate(first=Min("at"))
            .values_list("object_id", "first")
        )
        first_at = min(earlier.values()) if earlier else None
        todo = [r for r in open_rows if r.pk not in earlier]
        if not todo:
            raise AlreadyChased(first_at)
        audit.record(audit.event(r, VERB, actor=by, changes={"note": note}, unit=r.unit, source=source) for r in todo)
        counts: dict[int, int] = {}
        firsts: dict[int, Assignment] = {}
        for r in todo:
            counts[r.unit_id] = counts.get(r.unit_id, 0) + 1
            firsts.setdefault(r.unit_id, r)
        with tell.together():
            tell.chased(firsts.values(), counts, by=by, note=note)
    return Chased(
        chased=len(todo),
        units=len(firsts),
        already=len(open_rows) - len(todo),
        first_at=first_at,
        not_open=len(rows) - len(open_rows),
    )
