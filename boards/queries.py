"""The battle board (挂图作战): lines of action × the units under a chosen one, in one query.

See docs/boards.md. A cell rolls up the column unit's whole subtree: the rollup's counts
(``boards.rollup``: one row per unit × action × due date, a column per status and flag, kept by
triggers) are summed by the prefix of their unit's path that names the column
(``SUBSTR(path, 1, len(chosen) + STEP)``). The assignments themselves are read only for a cell's work
(``cell_work``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from accounts import scope
from accounts.models import Unit
from accounts.scope import Action
from tasks.models import Assignment, Campaign, LineOfAction
from tasks.queries import overdue_q, planned_q

from . import rollup
from .models import BoardCount, BoardDelta

STEP = Unit.steplen
RED_SHARE = 0.2  # a fifth or more of the work overdue


@dataclass
class Cell:
    total: int = 0
    done: int = 0
    overdue: int = 0
    unacknowledged: int = 0  # 签收 still awaited from the unit

    def add(self, other: Cell) -> None:
        self.total += other.total
        self.done += other.done
        self.overdue += other.overdue
        self.unacknowledged += other.unacknowledged

    @property
    def percent(self) -> float | None:
        return round(self.done * 100 / self.total, 1) if self.total else None

    @property
    def colour(self) -> str:
        if not self.total:
            return "grey"
        if not self.overdue:
            return "green"
        return "red" if self.overdue >= RED_SHARE * self.total else "yellow"


@dataclass
class Board:
    campaign: Campaign
    unit: Unit
    columns: list[Unit]  # the chosen unit first when it has work of its own (本级), then its children
    rows: list[LineOfAction]
    cells: dict[tuple[int, int], Cell]
    row_totals: dict[int, Cell] = field(default_factory=dict)
    column_totals: dict[int, Cell] = field(default_factory=dict)
    total: Cell = field(default_factory=Cell)

    def cell(self, action_id: int, unit_id: int) -> Cell:
        return self.cells.get((action_id, unit_id)) or Cell()


def default_unit(user, campaign: Campaign) -> Unit | None:
    """The campaign owner when the user sees it, else the top of the user's own scope."""
    reach = scope.scope_for(user, Action.VIEW)
    if reach.contains(campaign.owner):
        return campaign.owner
    return Unit.objects.filter(path__in=reach.paths).order_by("path").first()


def trail(user, unit: Unit) -> list[Unit]:
    """``unit`` and the units above it the user may open a board on (its scope's roots and below)."""
    reach = scope.scope_for(user, Action.VIEW)
    above = [unit.path[:end] for end in range(STEP, len(unit.path), STEP)]
    seen = [p for p in above if reach.covers(p)]
    return list(Unit.objects.filter(path__in=[*seen, unit.path]).order_by("path"))


def board_work(
    user, campaign: Campaign, unit: Unit, *, action: LineOfAction | None = None, due_by: date | None = None
) -> QuerySet[Assignment]:
    """The work a board under ``unit`` counts: planned, active, in ``unit``'s subtree, seen by ``user``."""
    work = scope.restrict(
        Assignment.objects.filter(planned_q(), campaign=campaign, is_active=True, unit__path__startswith=unit.path),
        user,
    )
    if action is not None:
        work = work.filter(item__action=action)
    if due_by is not None:
        work = work.filter(due_date__lte=due_by)
    return work


def cell_work(
    user,
    campaign: Campaign,
    unit: Unit,
    *,
    own: bool = False,
    action: LineOfAction | None = None,
    due_by: date | None = None,
    overdue: bool | None = None,
    status: Iterable[str] = (),
    today=None,
) -> QuerySet[Assignment]:
    """The assignments behind one cell of the board (``web:boards-work``, the 催办 of a cell): a column's
    unit and everything under it, or with ``own`` the chosen unit's own work (its 本级 column); narrowed
    to the overdue (or not) and to statuses."""
    work = board_work(user, campaign, unit, action=action, due_by=due_by)
    if own:
        work = work.filter(unit=unit)
    if overdue is not None:
        rule = overdue_q(today or timezone.localdate())
        work = work.filter(rule) if overdue else work.exclude(rule)
    status = list(status)
    if status:
        work = work.filter(status__in=status)
    return work


def board_counts(
    user,
    campaign: Campaign,
    unit: Unit,
    *,
    action: LineOfAction | None = None,
    due_by: date | None = None,
    model: type[BoardCount] | type[BoardDelta] = BoardCount,
) -> QuerySet:
    """``board_work`` as the rollup's counts: the same work, counted per unit × action × due date (``model``
    ``BoardDelta``: the ledger's changes of that work, per day)."""
    counts = scope.restrict(model.objects.filter(campaign=campaign, unit__path__startswith=unit.path), user)
    if action is not None:
        counts = counts.filter(action=action)
    if due_by is not None:
        counts = counts.filter(due_date__lte=due_by)
    return counts


def board_changes(user, campaign: Campaign, unit: Unit, *, after: date | None) -> QuerySet[BoardDelta] | None:
    """The ledger's changes of ``board_counts``' work dated after ``after`` (``rollup.sums_as_of``); None
    when ``after`` is today or later: the rollup is then the answer."""
    if after is None or after >= timezone.localdate():
        return None
    return board_counts(user, campaign, unit, model=BoardDelta).filter(day__gt=after)


def battle_board(
    user,
    campaign: Campaign,
    unit: Unit,
    *,
    action: LineOfAction | None = None,
    due_by: date | None = None,
    today=None,
    receipts: bool = True,
) -> Board:
    """The board under ``unit`` (which the caller has checked is in the user's scope); ``receipts=False``
    leaves the 签收 count out (``bench_boards`` times the board both ways: issue 18's 1.2× goal)."""
    today = today or timezone.localdate()
    counts = {
        # named apart from the rollup's columns, which the sums read
        "cell_total": rollup.count("total"),
        "cell_done": rollup.count("accepted"),
        "cell_overdue": rollup.overdue(today),
    }
    if receipts:
        counts["cell_unacknowledged"] = rollup.count("unacknowledged")
    grouped = (
        board_counts(user, campaign, unit, action=action, due_by=due_by)
        .order_by()
        .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
        .values("action_id", "branch")
        .annotate(**counts)
    )
    by_path = {u.path: u for u in scope.children(user, unit)}
    by_path.setdefault(unit.path, unit)
    cells: dict[tuple[int, int], Cell] = {}
    for row in grouped:
        column = by_path.get(row["branch"])
        if column is None:  # a child outside the user's scope cannot hold work the user sees
            continue
        cells[(row["action_id"], column.pk)] = Cell(
            row["cell_total"], row["cell_done"], row["cell_overdue"], row.get("cell_unacknowledged", 0)
        )
    rows = list(campaign.actions.order_by("seq", "id") if action is None else [action])
    own = any(key[1] == unit.pk for key in cells)
    columns = ([unit] if own else []) + [u for p, u in sorted(by_path.items()) if p != unit.path]
    board = Board(campaign, unit, columns, rows, cells)
    for (action_id, unit_id), c in cells.items():
        board.row_totals.setdefault(action_id, Cell()).add(c)
        board.column_totals.setdefault(unit_id, Cell()).add(c)
        board.total.add(c)
    return board
