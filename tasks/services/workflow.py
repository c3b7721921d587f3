"""The assignment workflow: pending → in progress → submitted → accepted, or returned → in progress.

Every transition locks the row, checks who may make it, writes the new status with a bumped version
and records the audit event in the same transaction, so two people acting at once never lose an
update and the history always matches the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts import scope
from accounts.models import User
from accounts.scope import Action
from audit import services as audit
from audit.models import AuditEvent
from notifications import events as tell
from tasks import targets
from tasks.models import Assignment, AssignmentRole, AssignmentStatus, ItemKind
from utilities.errors import Forbidden, InRow, Missing, Refused, RowsRefused

from . import receipts
from .errors import refuse_closed

S = AssignmentStatus


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    reviewer: bool  # made by HQ (or the item's lead unit) rather than by the unit itself
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition("start", frozenset({S.PENDING}), S.IN_PROGRESS, reviewer=False),
        Transition("submit", frozenset({S.PENDING, S.IN_PROGRESS}), S.SUBMITTED, reviewer=False),
        Transition("resume", frozenset({S.RETURNED}), S.IN_PROGRESS, reviewer=False),
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, reviewer=True),
        Transition("return", frozenset({S.SUBMITTED}), S.RETURNED, reviewer=True, needs_reason=True),
        Transition("reopen", frozenset({S.ACCEPTED}), S.IN_PROGRESS, reviewer=True, needs_reason=True),
    ]
}


class TransitionError(Refused):
    """The transition is not possible from the assignment's state; says which ones are."""

    def __init__(self, message: str, allowed: list[str]):
        super().__init__(message)
        self.message = message
        self.allowed = allowed

    def payload(self) -> dict:
        return {"detail": self.message, "allowed": self.allowed}


class VersionConflict(Refused):
    """Someone else changed the assignment since the caller read it: 409 with the current version."""

    status_code = 409

    def __init__(self, current: int):
        super().__init__(f"该任务已被他人修改（当前版本 {current}），请刷新后重试")
        self.current = current

    def payload(self) -> dict:
        return {"detail": str(self), "version": self.current}


class ShortfallUnconfirmed(Refused):
    """Work submitted below its target without the unit's confirmation: 409 saying how far it got, so the
    client asks "进度 17%（85/500），确认提交验收？" and sends the submit again with ``confirm_shortfall``."""

    status_code = 409

    def __init__(self, progress: Decimal, target: Decimal):
        self.progress, self.target = progress, target
        self.percent = shortfall_percent(progress, target)
        super().__init__(f"进度 {self.percent}%（{amount(progress)}/{amount(target)}），确认提交验收？")

    def payload(self) -> dict:
        return {
            "detail": str(self),
            "progress": str(self.progress),
            "target": str(self.target),
            "percent": self.percent,
            "confirm": "confirm_shortfall",
        }


def amount(value: Decimal) -> str:
    """85.00 → "85", 12.50 → "12.5": an amount as an office writes it."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def shortfall_percent(progress: Decimal, target: Decimal) -> int:
    """How much of the target is done, in whole percent rounded down (85 of 500 is 17%, 499 of 500 is 99%)."""
    return int(Decimal(progress) * 100 // Decimal(target)) if target else 0


def may_review(user, assignment: Assignment) -> bool:
    """HQ over the unit, or — for a cooperating unit's work — a lead of one of the item's lead units.

    Never a unit's own lead: whoever may report for the unit cannot also accept its work, even when
    one of the item's lead units is under it, and even when another grant (HQ over a unit above) would
    allow it. This rule is checked first, so it wins whatever roles the user holds. (A superuser holds
    no grant: it reaches every unit for every action, and reviews as HQ does.) A share passed down is
    also reviewed by the unit that split the work (``split_reviewable``), which never reviews its own.
    """
    if scope.judges(user, Action.MANAGE, assignment.unit):
        return True
    if assignment.parent_id and split_reviewable(Assignment.objects.filter(pk=assignment.pk), user).exists():
        return True
    reach = scope.scope_for(user, Action.REPORT)
    if assignment.role != AssignmentRole.COOPERATING or not reach or reach.contains(assignment.unit):
        return False
    leads = Assignment.objects.filter(item_id=assignment.item_id, role=AssignmentRole.LEAD, is_active=True)
    return leads.visible_to(user, Action.REPORT).exists()


def split_reviewable(qs: QuerySet[Assignment], user) -> QuerySet[Assignment]:
    """The shares in ``qs`` that ``user`` reviews as the unit that passed them down: report rights over
    the parent's unit — yet never its own work. Own work is a share of a unit the user sits in itself (a
    grant on the share's unit, or on a unit between it and the parent's), or one the user submitted: the
    lead's reach covers the units under it, so it could report and submit for them, but then not accept."""
    reach = scope.scope_for(user, Action.REPORT)
    if not reach:
        return qs.none()
    rows = qs.filter(parent__isnull=False).filter(reach.q("parent__unit"))
    for path in scope.grant_paths(user, Action.REPORT):
        between = [path[:end] for end in range(scope.STEP, len(path), scope.STEP)]  # the units strictly above
        rows = rows.exclude(unit__path__startswith=path, parent__unit__path__in=between)
    submitter = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Assignment),
        object_id=OuterRef("pk"),
        verb="assignment.submit",
    ).order_by("-at", "-id")
    rows = rows.annotate(submitter=Subquery(submitter.values("actor_id")[:1]))
    return rows.filter(Q(submitter__isnull=True) | ~Q(submitter=user.pk))


def awaiting_review(qs: QuerySet, user) -> QuerySet:
    """``qs`` narrowed to the rows HQ's queue shows ``user``: its manage scope, without the units it
    reports for itself (the same rule as ``may_review``: no one reviews their own unit's work). The
    rows reach their unit through their model's ``scope_via``."""
    rows = scope.restrict(qs, user, Action.MANAGE)
    own = scope.scope_for(user, Action.REPORT)
    return rows.exclude(own.q(scope.path_to_unit(qs.model))) if own and not own.everything else rows


def may_act(user, assignment: Assignment, transition: Transition) -> bool:
    if transition.reviewer:
        return may_review(user, assignment)
    return scope.can(user, Action.REPORT, assignment.unit)


def allowed_transitions(user, assignment: Assignment) -> list[str]:
    """The transitions this user may make on this assignment now."""
    if not assignment.is_active:
        return []
    return [t.name for t in TRANSITIONS.values() if assignment.status in t.sources and may_act(user, assignment, t)]


def transition_assignment(
    *,
    assignment: Assignment,
    name: str,
    by: User,
    note: str = "",
    expected_version: int | None = None,
    confirm_shortfall: bool = False,
) -> Assignment:
    """Make transition ``name``; raises TransitionError, Forbidden or VersionConflict. Submitting work that
    falls short of its target (``Assignment.shortfall``) needs ``confirm_shortfall``, else
    ShortfallUnconfirmed (409) says how far it got."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise TransitionError(f"未知操作“{name}”", sorted(TRANSITIONS))
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("unit", "item", "campaign")
            .get(pk=assignment.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise VersionConflict(locked.version)
        if not may_act(by, locked, transition):
            raise Forbidden("无权对该任务执行此操作")
        refuse_closed(locked.campaign)
        if not locked.is_active:
            raise TransitionError("该任务已从方案中撤销，不能再办理", [])
        if locked.status not in transition.sources:
            allowed = allowed_transitions(by, locked)
            current = S(locked.status).label
            raise TransitionError(f"当前状态为“{current}”，不能执行“{name}”", allowed)
        if transition.needs_reason and not note.strip():
            raise TransitionError("退回或重新打开须写明理由", allowed_transitions(by, locked))
        # short of any "at least" target (each target read: a linked one from the results statistics)
        short = targets.shortfall(locked) if name == "submit" else None
        if short and not confirm_shortfall:
            raise ShortfallUnconfirmed(*short)
        before = locked.status
        locked.status = transition.target
        locked.version += 1
        locked.updated_at = timezone.now()
        fields = ["status", "version", "updated_at"]
        if transition.target == S.SUBMITTED:
            locked.submitted_on = timezone.localdate()
            fields.append("submitted_on")
        acknowledged = not transition.reviewer and receipts.stamp(locked, by, locked.updated_at)  # 签收 by acting
        if acknowledged:
            fields.extend(receipts.FIELDS)
        locked.save(update_fields=fields)
        changes = {"status": [before, locked.status]}
        if acknowledged:
            changes["acknowledged_at"] = locked.updated_at
        if note:
            changes["note"] = note
        if short:
            changes["shortfall"] = [str(short[0]), str(short[1])]  # submitted short of the target, confirmed
        audit.record([audit.event(locked, f"assignment.{name}", actor=by, changes=changes, unit=locked.unit)])
        if locked.item.kind == ItemKind.DIRECTIVE:
            # a directive closes with its lead's accepted work, in this transaction (docs/directives.md)
            from directives.services import follow_transition  # directives calls this module

            follow_transition(locked, name, by)
        tell.transitioned(locked, name, by=by, note=note)
    return locked


@dataclass(frozen=True)
class Step:
    """One row of a bulk transition: the assignment's id, the transition, and what a single one takes."""

    id: int
    name: str
    note: str = ""
    version: int | None = None
    confirm_shortfall: bool = False


def transition_assignments(*, steps: Sequence[Step], by: User) -> list[Assignment]:
    """Several transitions at once, all or none (HQ's review desk, ``POST /api/v1/assignments/bulk-transition/``).

    Each row goes through ``transition_assignment`` inside one transaction; a refused row is kept (``InRow``:
    its index and id) and the next rows are still tried, so that when any is refused nothing is written and
    ``RowsRefused`` names every refused row, not only the first. A row out of the caller's scope is refused
    as missing (404), like one that does not exist."""
    found = scope.restrict(Assignment.objects.select_related("unit", "item"), by).in_bulk({s.id for s in steps})
    done: list[Assignment] = []
    refused: list[InRow] = []
    # RowsRefused, raised in here, rolls back the rows made before it; a unit whose many items were
    # returned (or accepted) at once is told once, "等N项" (``tell.together``)
    with transaction.atomic(), tell.together():
        for index, step in enumerate(steps):
            try:
                assignment = found.get(step.id)
                if assignment is None:
                    raise Missing("任务不存在或不在您的范围内")
                done.append(
                    transition_assignment(
                        assignment=assignment,
                        name=step.name,
                        by=by,
                        note=step.note,
                        expected_version=step.version,
                        confirm_shortfall=step.confirm_shortfall,
                    )
                )
            except Refused as exc:
                refused.append(InRow(exc, index=index, id=step.id))
        if refused:
            raise RowsRefused(refused)
    return done
