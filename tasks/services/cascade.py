"""Pass-down (逐级分解): a unit splits its assignment among the units under it.

Each share becomes an assignment of its own (same item, a unit in the subtree, a share of the
target, a due date no later than the parent's); the parent's progress rolls up from its children.
The shares of a parent with an amount to reach come to its target, or more (offices over-assign on purpose), or
less with the lead's word that it keeps the remainder itself (``keep_remainder``; else
``RemainderUnconfirmed``, 409). A share without a number of its own carries the item's whole target.

Every target of the item is split the same way: the first one's share is ``Assignment.target_share``
(``Share.target``), a later one's a ``TargetShare`` row (``Share.targets``, seq → amount), each checked
against the parent's amount of that target (``tasks.targets.amount``) and each adding up on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import Action
from audit import services as audit
from notifications import events as tell
from tasks import targets as target_amounts
from tasks.models import (
    AMOUNT_TOO_LARGE,
    Assignment,
    AssignmentStatus,
    Comment,
    Comparator,
    Target,
    TargetProgress,
    TargetShare,
    amount_fits,
)
from utilities.errors import Forbidden, Refused

from .errors import AmountTooLarge, ReportError, refuse_closed

# the targets whose shares add up to them: an amount to reach (≥ 800 家, = 12 次), not a rate or a ceiling
ADDS_UP = frozenset({Comparator.GE, Comparator.GT, Comparator.EQ})


@dataclass(frozen=True)
class Share:
    unit: Unit
    target: Decimal | None
    due_date: date | None = None  # default: the parent's
    note: str = ""  # the lead's word to the unit, kept as a comment on the share
    # the later targets' shares: seq (2, 3, …) → amount; a target not named carries the item's whole value
    targets: Mapping[int, Decimal] = field(default_factory=dict)


class ShareRefused(ReportError):
    """One share is refused; ``row`` is its index among the shares given, so that a page shows it there,
    and ``field`` the part of it at fault where it is one amount (``target``, ``targets.2``)."""

    def __init__(self, message: str, *, row: int, field: str | None = None):
        super().__init__(message)
        self.row, self.field = row, field

    def payload(self) -> dict:
        return {"detail": str(self), "row": self.row} | ({"field": self.field} if self.field else {})


class TargetRefused(ReportError):
    """A share's amount of one target refused: ``field`` names it (``target``, ``targets.2``)."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


class RemainderUnconfirmed(Refused):
    """The shares come to less than the parent's target and the lead has not said it keeps the rest: 409
    saying how much remains, so the client asks and sends the split again with ``keep_remainder``."""

    status_code = 409

    def __init__(self, *, unit: str, target: Decimal, shared: Decimal, of: Target | None = None):
        self.target, self.shared, self.remainder = target, shared, target - shared
        self.seq = of.seq if of is not None else None
        words = {
            "shared": _amount(shared),
            "target": _amount(target),
            "remainder": _amount(self.remainder),
            "unit": unit,
        }
        if of is None:
            message = gettext(
                "The shares come to %(shared)s of the target %(target)s: %(remainder)s remains. "
                "Does %(unit)s keep the remainder itself?"
            )
        else:  # a later target: named, so that the lead knows which of the item's numbers falls short
            words["name"] = target_amounts.label(of)
            message = gettext(
                "The shares of “%(name)s” come to %(shared)s of %(target)s: %(remainder)s remains. "
                "Does %(unit)s keep the remainder itself?"
            )
        super().__init__(message % words)

    def payload(self) -> dict:
        return (
            {"detail": str(self)}
            | ({"seq": self.seq} if self.seq else {})  # a later target's; the first's has none, as before
            | {
                "target": str(self.target),
                "shared": str(self.shared),
                "remainder": str(self.remainder),
                "confirm": "keep_remainder",
            }
        )


def _amount(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pass_down(
    *, assignment: Assignment, by: User, shares: list[Share], keep_remainder: bool = False
) -> list[Assignment]:
    """Create (or adjust) the children of ``assignment``; all or nothing. A share refused for itself raises
    ``ShareRefused`` (its row); shares short of a parent's target need ``keep_remainder``."""
    if not shares:
        raise ReportError("请至少分解给一个下级单位")
    with transaction.atomic():
        parent = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("unit", "item", "campaign")
            .get(pk=assignment.pk)
        )
        if not scope.can(by, Action.REPORT, parent.unit):
            raise Forbidden("无权分解该单位的任务")
        refuse_closed(parent.campaign)
        if not parent.is_active:
            raise ReportError("该任务已从方案中撤销，不能再分解")
        if parent.item.secret:  # seen from the named units only: a share's unit would not see it
            raise ReportError("密级督办事项不能分解下发")
        if parent.status == AssignmentStatus.ACCEPTED:
            raise ReportError(gettext("Accepted work is not passed down any more; reopen it first"))
        units = [s.unit for s in shares]
        seen: set[int] = set()
        for row, unit in enumerate(units):
            if unit.pk in seen:  # the second row naming it is the one refused
                raise ShareRefused(f"{unit.name}已在前面的行中，同一单位不能重复分解", row=row)
            seen.add(unit.pk)
        later = _Later.of(parent)
        existing = {a.unit_id: a for a in Assignment.objects.filter(item_id=parent.item_id, unit__in=units)}
        before = later.shares_of([a.pk for a in existing.values() if a.parent_id == parent.pk])
        now = timezone.now()
        children, events, split = [], [], {}
        for row, share in enumerate(shares):
            unit = share.unit
            try:
                _check_share(parent, share, existing.get(unit.pk))
                wanted = later.check(parent, share)
            except TargetRefused as exc:
                raise ShareRefused(str(exc), row=row, field=exc.field) from exc
            except ReportError as exc:
                raise ShareRefused(str(exc), row=row) from exc
            due = share.due_date or parent.due_date
            child = existing.get(unit.pk)
            if child is None:
                child = Assignment.objects.create(
                    campaign_id=parent.campaign_id,
                    item_id=parent.item_id,
                    unit=unit,
                    role=parent.role,
                    due_date=due,
                    parent=parent,
                    target_share=share.target,
                    created_at=now,
                    updated_at=now,
                )
                events.append(
                    audit.event(
                        child,
                        "assignment.created_by_pass_down",
                        actor=by,
                        unit=unit,
                        changes={"parent": parent.pk, "target_share": share.target, "due_date": due}
                        | ({"target_shares": _words(wanted)} if wanted else {})
                        | ({"note": share.note.strip()} if share.note.strip() else {}),
                    )
                )
            else:
                was = before.get(child.pk, {})
                changes = audit.diff(
                    {"target_share": child.target_share, "due_date": child.due_date}
                    | ({"target_shares": _words(was)} if was or wanted else {}),
                    {"target_share": share.target, "due_date": due}
                    | ({"target_shares": _words(wanted)} if was or wanted else {}),
                )
                if changes:
                    Assignment.objects.filter(pk=child.pk).update(
                        target_share=share.target, due_date=due, version=F("version") + 1, updated_at=now
                    )
                    child.refresh_from_db()
                    events.append(audit.event(child, "assignment.share_changed", actor=by, unit=unit, changes=changes))
            split[child.pk] = wanted
            if note := share.note.strip():
                Comment.objects.create(assignment=child, author=by, text=note)
            children.append(child)
        later.write(split, before)
        changes = {"to": [c.unit.code for c in children]}
        if (remainder := _remainder(parent, children)) is not None:
            if not keep_remainder:
                raise RemainderUnconfirmed(
                    unit=parent.unit.name, target=parent.target, shared=parent.target - remainder
                )
            changes["remainder_kept"] = remainder
        if kept := later.remainders(parent, children, split):
            if not keep_remainder:
                target, limit, left = kept[0]
                raise RemainderUnconfirmed(unit=parent.unit.name, target=limit, shared=limit - left, of=target)
            changes["remainders_kept"] = {str(t.seq): str(left) for t, _limit, left in kept}
        events.append(audit.event(parent, "assignment.passed_down", actor=by, unit=parent.unit, changes=changes))
        audit.record(events)
        changed = {e.object_id for e in events}  # the new and the changed shares, not those left as they were
        tell.passed_down(
            [c for c in children if c.pk in changed],
            by=by,
            words={c.pk: later.words(parent, c, split[c.pk]) for c in children},
        )
    return children


def _words(amounts: Mapping[int, Decimal]) -> dict[str, str]:
    """Target shares as the audit keeps them: seq → the amount with its two places (30 and 30.00 alike)."""
    return {str(seq): f"{Decimal(v).quantize(Decimal('0.01')):f}" for seq, v in sorted(amounts.items())}


@dataclass
class _Later:
    """The item's later targets (seq 2, 3, …) during one pass-down, with the parent's own shares of them."""

    targets: dict[int, Target]  # seq → target
    parent_shares: dict[int, Decimal]  # target id → the parent's amount of it, where it is a share itself

    @classmethod
    def of(cls, parent: Assignment) -> _Later:
        found = {t.seq: t for t in Target.objects.filter(item_id=parent.item_id, seq__gt=1).order_by("seq")}
        shares = {}
        if found and parent.parent_id:
            shares = dict(TargetShare.objects.filter(assignment=parent).values_list("target_id", "amount"))
        return cls(found, shares)

    def words(self, parent: Assignment, child: Assignment, wanted: Mapping[int, Decimal]) -> str:
        """What the child is given of every target, as its message names it (检查场所30家次；整改隐患5处)."""
        later = {self.targets[seq].pk: value for seq, value in wanted.items()}
        return target_amounts.share_words(parent.item, self.targets.values(), child.target_share, later)

    def amount(self, parent: Assignment, target: Target) -> Decimal | None:
        """The parent's amount of ``target`` (its own share, else the item's value, times the periods)."""
        return target_amounts.amount(parent, target, self.parent_shares.get(target.pk))

    def shares_of(self, ids: list[int]) -> dict[int, dict[int, Decimal]]:
        """The later-target shares of the children ``ids`` as they are: assignment → seq → amount."""
        out: dict[int, dict[int, Decimal]] = {}
        if self.targets and ids:
            for pk, seq, value in TargetShare.objects.filter(assignment_id__in=ids).values_list(
                "assignment_id", "target__seq", "amount"
            ):
                out.setdefault(pk, {})[seq] = value
        return out

    def check(self, parent: Assignment, share: Share) -> dict[int, Decimal]:
        """``share.targets`` checked as the first target's share is: a target of the item, not negative, no
        more than the parent's amount of it, fitting an amount column. Returns them (seq → amount)."""
        wanted = {}
        for seq, value in sorted(share.targets.items()):
            where = f"targets.{seq}"
            if seq == 1:
                raise TargetRefused(gettext("The first target's share is the share of the target"), field=where)
            target = self.targets.get(seq)
            if target is None:
                raise TargetRefused(gettext("The item has no target %(seq)s") % {"seq": seq}, field=where)
            if value is None:
                continue
            try:
                _check_amount(parent, share.unit, value, self.amount(parent, target), target)
            except ReportError as exc:
                raise TargetRefused(str(exc), field=where) from exc
            wanted[seq] = value
        return wanted

    def write(self, split: dict[int, dict[int, Decimal]], before: dict[int, dict[int, Decimal]]) -> None:
        """The children's later-target shares as named now: the rows upserted (one statement), those no
        longer named deleted (one more, when there are)."""
        rows = [
            TargetShare(assignment_id=pk, target_id=self.targets[seq].pk, amount=value)
            for pk, wanted in split.items()
            for seq, value in wanted.items()
            if before.get(pk, {}).get(seq) != value
        ]
        if rows:
            TargetShare.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["assignment", "target"], update_fields=["amount"]
            )
        gone = [
            (pk, self.targets[seq].pk)
            for pk, was in before.items()
            if pk in split
            for seq in was
            if seq not in split[pk]
        ]
        if gone:
            drop = Q()
            for pk, target_id in gone:
                drop |= Q(assignment_id=pk, target_id=target_id)
            TargetShare.objects.filter(drop).delete()

    def remainders(
        self, parent: Assignment, children: list[Assignment], split: dict[int, dict[int, Decimal]]
    ) -> list[tuple[Target, Decimal, Decimal]]:
        """Each later target whose shares (those named now and those passed down before) leave part of the
        parent's amount, as ``_remainder`` reads the first: (target, the parent's amount, what remains)."""
        if not self._adding(parent):
            return []
        named = {c.pk for c in children}
        others = list(parent.children.filter(is_active=True).exclude(pk__in=named).values_list("pk", flat=True))
        before = self.shares_of(others)
        amounts = {c.pk: split.get(c.pk, {}) for c in children if c.is_active} | {
            pk: before.get(pk, {}) for pk in others
        }
        return self.left(parent, amounts)

    def _adding(self, parent: Assignment) -> list[tuple[Target, Decimal]]:
        return [
            (t, limit)
            for t in self.targets.values()
            if (limit := self.amount(parent, t)) is not None and adds_up_target(t)
        ]

    def left(self, parent: Assignment, amounts: dict[int, dict[int, Decimal]]) -> list[tuple[Target, Decimal, Decimal]]:
        """What the shares ``amounts`` (each active share: seq → amount) leave of each later target that
        adds up; nothing for a target one share carries whole (no amount of it)."""
        out = []
        for target, limit in self._adding(parent):
            numbers = [wanted.get(target.seq) for wanted in amounts.values()]
            if not numbers or None in numbers:
                continue
            left = limit - sum(numbers, Decimal(0))
            if left > 0:
                out.append((target, limit, left))
        return out


def _check_share(parent: Assignment, share: Share, child: Assignment | None) -> None:
    """One share on its own: a unit below the parent's, due no later, a number that fits, not already the
    unit's own work directly."""
    unit = share.unit
    if unit.pk == parent.unit_id or not unit.path.startswith(parent.unit.path):
        raise ReportError(f"“{unit.name}”不是{parent.unit.name}的下级单位")
    due = share.due_date or parent.due_date
    if due > parent.due_date:
        raise ReportError(f"“{unit.name}”的完成时限 {due} 晚于上级的 {parent.due_date}")
    if share.target is not None:
        try:
            _check_share_target(parent, unit, share.target)
        except ReportError as exc:
            raise TargetRefused(str(exc), field="target") from exc
    if child is not None and child.parent_id != parent.pk:
        raise ReportError(f"“{unit.name}”已直接承担此项任务，不能再由{parent.unit.name}分解")


def _remainder(parent: Assignment, children: list[Assignment]) -> Decimal | None:
    """What the parent's shares (those named now and those passed down before, still in the plan) leave of
    its target, or None when nothing remains: no amount to add up on the parent (no number, a rate such as
    同比下降20%, a ceiling), a share without a number (it carries the whole target), or shares that come to
    the target or more."""
    if not adds_up(parent):
        return None
    limit = parent.target
    named = {c.pk for c in children}
    others = parent.children.filter(is_active=True).exclude(pk__in=named).values_list("target_share", flat=True)
    numbers = [c.target_share for c in children if c.is_active] + list(others)
    if None in numbers:
        return None
    remainder = limit - sum(numbers, Decimal(0))
    return remainder if remainder > 0 else None


def adds_up(parent: Assignment) -> bool:
    """The parent's target is an amount its shares add up to (``ADDS_UP``, no 同比/环比 basis)."""
    item = parent.item
    return parent.target is not None and not item.target_basis and item.target_comparator in ADDS_UP


def remainder_of(parent: Assignment) -> Decimal | None:
    """What the unit keeps of its target after passing shares down (the parent's page shows it)."""
    return _remainder(parent, []) if parent.children.exists() else None


def remainders_of(parent: Assignment, later: list[Target], children: list[Assignment]) -> list[tuple[str, Decimal]]:
    """What the unit keeps of each later target after passing shares down (the parent's page shows it):
    (the target in words, the remainder). ``later`` and ``children`` as the page read them; one query for
    the shares (and one for the parent's own, when it is a share itself)."""
    active = [c.pk for c in children if c.is_active]
    if not later or not active:
        return []
    state = _Later({t.seq: t for t in later}, {})
    if parent.parent_id:
        state.parent_shares = dict(TargetShare.objects.filter(assignment=parent).values_list("target_id", "amount"))
    shares = state.shares_of(active)
    return [
        (target_amounts.label(t), left)
        for t, _limit, left in state.left(parent, {pk: shares.get(pk, {}) for pk in active})
    ]


def adds_up_target(target: Target) -> bool:
    """A later target is an amount its shares add up to, as ``adds_up`` reads the first."""
    return target.value is not None and not target.basis and target.comparator in ADDS_UP


def _check_share_target(parent: Assignment, unit: Unit, target: Decimal) -> None:
    """A share is part of its parent's number: no more than the parent's target (its own share, else the
    item's). The shares together may come to more (offices over-assign on purpose), but one unit's share
    above the whole is a typo. Without a number on the parent, the share must still fit an amount column."""
    _check_amount(parent, unit, target, parent.target)


def _check_amount(
    parent: Assignment, unit: Unit, share: Decimal, limit: Decimal | None, target: Target | None = None
) -> None:
    """One share's amount of one target (the first when ``target`` is None) against the parent's ``limit``."""
    if share < 0:
        raise ReportError("分解的指标不能为负数")
    if limit is not None and share > limit:
        words = {"unit": unit.name, "share": f"{share:,.2f}", "parent": parent.unit.name, "target": f"{limit:,.2f}"}
        if target is None:
            message = gettext(
                "The share of “%(unit)s” (%(share)s) may not exceed the target of %(parent)s (%(target)s)"
            )
        else:
            words["name"] = target_amounts.label(target)
            message = gettext(
                "The share of “%(unit)s” of “%(name)s” (%(share)s) may not exceed %(parent)s's (%(target)s)"
            )
        raise ReportError(message % words)
    if not amount_fits(share):
        raise ReportError(str(AMOUNT_TOO_LARGE))


def lock_from_the_top(assignment: Assignment) -> None:
    """Lock a share and the chain it rolls up into, parent first (ascending ids: a parent is always older
    than its shares), the order ``pass_down`` takes them in, so that a report on a share and a pass-down of
    its parent never wait on each other. An assignment that is no share takes no lock here: the caller
    locks its one row."""
    if assignment.parent_id is None:
        return
    ids, parent_id = [assignment.pk], assignment.parent_id
    while parent_id:  # a few levels at most; parent_id never changes once set
        ids.append(parent_id)
        parent_id = Assignment.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    list(Assignment.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))


def _locked_chain(assignment: Assignment) -> list[Assignment]:
    """``assignment`` and the assignments it rolls up into, nearest first, each parent locked (with its
    unit, for a refusal's words). ``assignment`` is already locked by the caller."""
    chain, parent_id = [assignment], assignment.parent_id
    while parent_id:
        parent = Assignment.objects.select_for_update(of=("self",)).select_related("unit").get(pk=parent_id)
        chain.append(parent)
        parent_id = parent.parent_id
    return chain


def lock_chain(assignment: Assignment, delta: Decimal | None) -> list[int]:
    """Lock the assignments ``assignment`` rolls up into (a few levels at most: bureau → sub-bureau →
    station) and check that adding ``delta`` keeps every running total — its own and theirs — within
    an amount column, before anything is written. Returns their ids, nearest first, for ``roll_up``.

    ``assignment`` is already locked by the caller; the chain is locked upwards, child before parent."""
    if not delta:
        return []
    chain = _locked_chain(assignment)
    for a in chain:
        if not amount_fits(a.progress + delta):
            raise AmountTooLarge(unit=a.unit.name, total=a.progress + delta)
    return [a.pk for a in chain[1:]]


def lock_target_chain(assignment: Assignment, target: Target, delta: Decimal | None) -> list[TargetProgress]:
    """``lock_chain`` for a later target: the chain locked the same way, and each running total of
    ``target`` — the assignment's own and its ancestors' (``TargetProgress``, one read) — checked with
    ``delta`` added. Returns the totals as they will be, nearest first, for ``roll_up_target``. The
    locks on the chain's rows make the read-then-write exact: a report on a sibling share waits on the
    common parent (``lock_from_the_top``)."""
    if not delta:
        return []
    chain = _locked_chain(assignment)
    have = dict(
        TargetProgress.objects.filter(assignment_id__in=[a.pk for a in chain], target_id=target.pk).values_list(
            "assignment_id", "progress"
        )
    )
    rows = []
    for a in chain:
        total = (have.get(a.pk, Decimal(0)) + delta).quantize(Decimal("0.01"))  # as the column keeps it
        if not amount_fits(total):
            raise AmountTooLarge(unit=a.unit.name, total=total)
        rows.append(TargetProgress(assignment_id=a.pk, target_id=target.pk, progress=total))
    return rows


def roll_up_target(totals: list[TargetProgress]) -> None:
    """Write the totals ``lock_target_chain`` returned (and checked): one statement, rows made or moved."""
    if totals:
        TargetProgress.objects.bulk_create(
            totals, update_conflicts=True, unique_fields=["assignment", "target"], update_fields=["progress"]
        )


# The running totals of the later targets rebuilt from the reports: each report's value counted on its
# assignment and every assignment above it (a recursive walk up ``parent_id``). The migration that made
# the table (tasks 0022) runs the same statement over every campaign.
RECOUNT = """
    WITH RECURSIVE chain(origin, ancestor) AS (
        SELECT DISTINCT p.assignment_id, p.assignment_id FROM tasks_progressreport p
            JOIN tasks_assignment a ON a.id = p.assignment_id
            WHERE p.target_id IS NOT NULL AND p.value IS NOT NULL {where}
        UNION ALL
        SELECT c.origin, a.parent_id FROM chain c JOIN tasks_assignment a ON a.id = c.ancestor
            WHERE a.parent_id IS NOT NULL
    )
    INSERT INTO tasks_targetprogress (assignment_id, target_id, progress)
    SELECT c.ancestor, p.target_id, SUM(p.value) FROM chain c JOIN tasks_progressreport p ON p.assignment_id = c.origin
        WHERE p.target_id IS NOT NULL AND p.value IS NOT NULL
        GROUP BY c.ancestor, p.target_id"""


def recount_targets(campaign_id: int | None = None) -> None:
    """Rebuild the later targets' running totals (``TargetProgress``) of a campaign (None: every one)
    from its reports: for what writes reports in bulk, not through ``report_progress`` (the demo)."""
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cursor:
        if campaign_id is None:
            cursor.execute("DELETE FROM tasks_targetprogress")
            cursor.execute(RECOUNT.format(where=""))
        else:
            cursor.execute(
                "DELETE FROM tasks_targetprogress WHERE assignment_id IN "
                "(SELECT id FROM tasks_assignment WHERE campaign_id = %s)",
                [campaign_id],
            )
            cursor.execute(RECOUNT.format(where="AND a.campaign_id = %s"), [campaign_id])


def roll_up(ancestors: list[int], delta: Decimal) -> None:
    """Add ``delta`` to the progress of every assignment ``lock_chain`` returned (and checked)."""
    if ancestors:
        Assignment.objects.filter(pk__in=ancestors).update(progress=F("progress") + delta)
