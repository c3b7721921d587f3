"""An assignment's targets (issue 20): what the unit must reach for each target of its item, how far
it is, and whether it is short or behind the planned pace (序时进度).

The first target is the one the item's ``target_*`` fields hold: a share passed down splits it
(``Assignment.target_share``) and its progress is ``Assignment.progress``. A share's amount of a later
target is its ``TargetShare`` row, else the item's value. Another target's progress is its running total
(``TargetProgress``): the reports naming it (``ProgressReport.target``) on the assignment and on its
shares at every level below, rolled up as the first target's progress is. A target linked to an indicator of the results
statistics (``Target.indicator``) takes its progress from the figures the unit and its subtree
reported over the campaign (``stats.queries.subtree_totals``) and is not reported twice
(``tasks.services.progress.report_progress`` refuses it). ``lines`` reads all of it for many
assignments in a fixed number of queries; ``judged`` reads what the lists show of it (progress, pace,
shortfall by every target) for a page of rows in one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.db import connection
from django.utils import timezone

from tasks.models import RATES, Assignment, Comparator, DeadlineKind, Target, TargetProgress, TargetShare

CADENCES = (DeadlineKind.DAILY, DeadlineKind.WEEKLY, DeadlineKind.MONTHLY)


def _plain(name: str) -> str:
    return re.sub(r"[\s“”\"'‘’《》]", "", name or "")


def indicator_for(target, indicators: Iterable) -> object | None:
    """The indicator a target names: the same words (检查场所 for 检查场所不少于3000家次) and, where the
    target writes a unit, the same unit of measure. None when no indicator or more than one fits."""
    metric = _plain(target.metric)
    if not metric or target.basis or target.value is None:
        return None
    found = [
        i
        for i in indicators
        if _plain(i.name) == metric and (not target.unit or target.unit == i.measure) and i.summed and i.is_active
    ]
    return found[0] if len(found) == 1 else None


def label(target: Target) -> str:
    """A target in a few words, as a column head or a refusal names it: its metric and unit (整改隐患（处）),
    else the words of the plan."""
    name = target.metric or target.text
    return f"{name}（{target.unit}）" if target.unit and target.metric else name


def amount_words(metric: str, amount_: Decimal, unit: str) -> str:
    """A target's amount as a message writes it: its metric, the number exact without trailing zeros, its
    unit (检查场所30家次; 30家次 without a metric)."""
    number = f"{Decimal(amount_).normalize():f}" if amount_ else "0"
    return f"{metric}{number}{unit}"


def share_words(item, later_targets: Iterable[Target], first: Decimal | None, later: dict[int, Decimal]) -> str:
    """A share's amounts of every target of its item that it names, in order (检查场所30家次；整改隐患5处):
    ``first`` the first target's (``Assignment.target_share``, in the item's ``target_*`` words), ``later``
    a later one's by target id (``TargetShare``). Empty when it names none (it carries the item's whole
    targets)."""
    parts = [amount_words(item.target_metric, first, item.target_unit)] if first is not None else []
    for t in later_targets:
        if t.seq > 1 and (share := later.get(t.pk)) is not None:
            parts.append(amount_words(t.metric, share, t.unit))
    return "；".join(parts)


@dataclass
class Line:
    """One target as one unit's work."""

    target: Target
    amount: Decimal | None  # what the unit must reach (its share, or the value times the periods)
    progress: Decimal
    linked: bool  # from the results statistics (来自战果统计)
    short: bool  # an amount to reach, not reached (as submitting reads it)
    behind: bool  # behind the planned pace today

    @property
    def percent(self) -> int | None:
        if not self.amount:
            return None
        return min(int(self.progress * 100 / self.amount), 999)


_UNREAD = object()


def amount(assignment: Assignment, target: Target, share: Decimal | object | None = _UNREAD) -> Decimal | None:
    """What ``assignment``'s unit must reach for ``target``: the first as ``Assignment.target`` reads it
    (a share, or per period × periods); another one's share passed down to it (``TargetShare``), else its
    value, times the periods when per period. ``share``: that row's amount (None: no row) where the caller
    read it for many rows; unread, one query here."""
    if target.seq == 1:
        return assignment.target
    if share is _UNREAD:
        share = (
            TargetShare.objects.filter(assignment_id=assignment.pk, target_id=target.pk)
            .values_list("amount", flat=True)
            .first()
        )
    if share is not None:
        return share
    if target.value is None or not target.per:
        return target.value
    from tasks.models import Item
    from tasks.services.checkins import target_periods

    return target.value * target_periods(
        Item(deadline_kind=target.per, target_per=target.per), assignment.campaign.start, assignment.due_date
    )


# units an amount is measured in, with decimals (27.3公斤, 66.5万元); any other unit counts whole things (处, 家次, 名)
MEASURED = frozenset(
    {"克", "千克", "公斤", "吨", "公里", "米", "平方米", "小时", "个月", "工作日", "元", "万元", "亿元"}
)


def paced(amount: Decimal, share: Decimal, unit: str) -> Decimal:
    """What the planned pace asks of ``amount`` by now (``share``: ``Assignment.expected_share``), as the
    judgement reads it (to the cent) — and, for an amount of whole things, the next whole number, as an
    office says it: 20处 by 54% of the time is 10.82, and 11处 is what meets it (10 does not)."""
    due = (amount * share).quantize(Decimal("0.01"))
    if unit in MEASURED or unit in RATES or amount != amount.to_integral_value():
        return due
    return due.to_integral_value(rounding=ROUND_CEILING)


def _short(target: Target, amount_: Decimal | None, progress: Decimal, assignment: Assignment) -> bool:
    if not amount_ or not target.at_least or target.per or assignment.item.deadline_kind in CADENCES:
        return False
    return progress <= amount_ if target.comparator == Comparator.GT else progress < amount_


def _behind(target: Target, amount_: Decimal | None, progress: Decimal, assignment: Assignment, today: date) -> bool:
    if not amount_ or not target.at_least or target.per or target.unit in RATES:
        return False
    if assignment.status == "accepted" or not assignment.is_active:
        return False
    return progress < (amount_ * assignment.expected_share(today)).quantize(Decimal("0.01"))


def targets_of(assignments: Sequence[Assignment]) -> dict[int, list[Target]]:
    """Each item's targets, in order: one query (or none when the rows came with ``item__targets``)."""
    items = {a.item_id: a.item for a in assignments}
    if all("targets" in getattr(i, "_prefetched_objects_cache", {}) for i in items.values()):
        return {pk: list(i.targets.all()) for pk, i in items.items()}
    found: dict[int, list[Target]] = defaultdict(list)
    for t in Target.objects.filter(item_id__in=list(items)).select_related("indicator").order_by("item_id", "seq"):
        found[t.item_id].append(t)
    return found


def _read_apart(target: Target) -> bool:
    """Whether a target's progress is read apart from the assignment row: any but the first, and a first
    linked to an indicator (the row's ``progress`` answers for a plain first target)."""
    return target.seq > 1 or bool(target.indicator_id)


def read_apart_sql(alias: str) -> str:
    """``_read_apart`` in SQL over the target row ``alias`` (the condition of the targets' partial index
    ``target_apart``, which serves it)."""
    return f"({alias}.seq > 1 OR {alias}.indicator_id IS NOT NULL)"


def lines(
    assignments: Sequence[Assignment], today: date | None = None, by_item: dict[int, list[Target]] | None = None
) -> dict[int, list[Line]]:
    """Every target of every assignment with its amount, progress and flags: the targets (unless given,
    ``targets_of``), the later targets' running totals, the shares of the later targets and the linked
    figures, one query each, however many rows — and none for what no target needs (the totals
    and the shares when every target of the rows' items is a first)."""
    from stats.queries import subtree_totals  # stats imports the tasks models

    today = today or timezone.localdate()
    by_item = targets_of(assignments) if by_item is None else by_item
    ids = [a.pk for a in assignments if any(t.seq > 1 for t in by_item.get(a.item_id, []))]
    reported: dict[tuple[int, int], Decimal] = {}
    shares: dict[tuple[int, int], Decimal] = {}
    if ids:
        reported = {
            (a, t): value
            for a, t, value in TargetProgress.objects.filter(assignment_id__in=ids).values_list(
                "assignment_id", "target_id", "progress"
            )
        }
        shares = {
            (a, t): value
            for a, t, value in TargetShare.objects.filter(assignment_id__in=ids).values_list(
                "assignment_id", "target_id", "amount"
            )
        }
    wanted: dict[int, set[tuple[int, int]]] = defaultdict(set)  # campaign → (unit, indicator)
    for a in assignments:
        for t in by_item.get(a.item_id, []):
            if t.indicator_id:
                wanted[a.campaign_id].add((a.unit_id, t.indicator_id))
    figures: dict[tuple[int, int, int], Decimal] = {}
    for campaign_id, pairs in wanted.items():
        for (unit_id, indicator_id), total in subtree_totals(campaign_id, pairs).items():
            figures[campaign_id, unit_id, indicator_id] = total
    out: dict[int, list[Line]] = {}
    for a in assignments:
        rows = []
        for t in by_item.get(a.item_id, []):
            if t.indicator_id:
                progress = figures.get((a.campaign_id, a.unit_id, t.indicator_id), Decimal(0))
            elif t.seq == 1:
                progress = a.progress
            else:
                progress = reported.get((a.pk, t.pk), Decimal(0))
            need = amount(a, t, shares.get((a.pk, t.pk)))
            rows.append(
                Line(
                    t,
                    need,
                    progress,
                    bool(t.indicator_id),
                    _short(t, need, progress, a),
                    _behind(t, need, progress, a, today),
                )
            )
        out[a.pk] = rows
    return out


def shortfall(assignment: Assignment) -> tuple[Decimal, Decimal] | None:
    """``(progress, amount)`` of the first "at least" target the work falls short of, else None: what
    submitting asks to confirm (an assignment is short if any of its targets is)."""
    found = lines([assignment]).get(assignment.pk, [])
    if not found:  # an item without target rows: the item's own fields
        return assignment.shortfall()
    for line in found:
        if line.short:
            return line.progress, line.amount
    return None


# --- the lists: every target judged, one read per page -------------------------------------------


@dataclass
class Judged:
    """What a list row shows of an assignment, judged by every target of its item as its page does."""

    progress: Decimal  # the first target's: a linked one's from the results statistics
    behind: bool  # behind the planned pace on any target
    short: tuple[Decimal, Decimal] | None  # (progress, amount) of the first target short, as submitting asks


def amount_sql(*, target: str = "t", assignment: str = "a", item: str = "i") -> str:
    """SQL for ``amount``: what the unit of the assignment row ``assignment`` (its item row ``item``) must
    reach for the target row ``target``, for a target not per period (the only ones with a pace). The ONE
    place the statements read it: the first target's passed-down share or the item's value, another
    target's own share passed down (``TargetShare``), else its value."""
    share = connection.ops.quote_name(TargetShare._meta.db_table)
    return f"""(CASE WHEN {target}.seq = 1 THEN COALESCE({assignment}.target_share, {item}.target_value)
        ELSE COALESCE((SELECT ts.amount FROM {share} ts WHERE ts.assignment_id = {assignment}.id
            AND ts.target_id = {target}.id), {target}.value) END)"""  # noqa: S608


def paced_sql(target: str = "t") -> str:
    """SQL for ``_behind``'s rules on the target row ``target``: an amount to reach ("at least", no
    basis), not per period, not a rate. For a statement run with parameters (``%`` doubled)."""
    rates = ", ".join("'" + r.replace("%", "%%") + "'" for r in RATES)
    at_least = ", ".join(f"'{c}'" for c in (Comparator.GE, Comparator.GT))
    t = target
    return f"""({t}.value IS NOT NULL AND {t}.comparator IN ({at_least}) AND {t}.basis = '' AND {t}.per = ''
        AND {t}.unit NOT IN ({rates}))"""


def progress_sql(*, target: str = "t", assignment: str = "a", unit: str = "au") -> tuple[str, str]:
    """SQL for the progress of the target row ``target`` for the assignment row ``assignment``, as
    ``lines`` reads it for any target but a plain first one: its running total (``TargetProgress``: the
    reports naming it on the assignment and on its shares at every level below), or —
    linked to an indicator — the figures of the assignment's unit and its subtree over the campaign (on
    PostgreSQL the rollup rows of the unit plus its own figures, else one join on the path prefix).
    With it, the join the expression needs after the target's table (``unit``: the assignment's unit
    row, on the portable path; empty on PostgreSQL's). Only table names and the aliases given are
    interpolated."""
    from accounts.models import Unit
    from stats.models import Figure
    from stats.queries import ROLLUP
    from utilities.db import fast_paths

    q = connection.ops.quote_name
    totals, figure = q(TargetProgress._meta.db_table), q(Figure._meta.db_table)
    t, a = target, assignment
    if fast_paths():
        figures = f"""
            (SELECT COALESCE(SUM(r.total), 0) FROM {q(ROLLUP)} r WHERE r.campaign_id = {a}.campaign_id
                AND r.ancestor_id = {a}.unit_id AND r.indicator_id = {t}.indicator_id)
            + (SELECT COALESCE(SUM(f.value), 0) FROM {figure} f WHERE f.campaign_id = {a}.campaign_id
                AND f.unit_id = {a}.unit_id AND f.indicator_id = {t}.indicator_id)"""  # noqa: S608
        join = ""
    else:
        units = q(Unit._meta.db_table)
        figures = f"""
            (SELECT COALESCE(SUM(f.value), 0) FROM {figure} f JOIN {units} u ON u.id = f.unit_id
                WHERE f.campaign_id = {a}.campaign_id AND f.indicator_id = {t}.indicator_id
                AND u.path LIKE {unit}.path || '%%')"""  # noqa: S608
        join = f"JOIN {units} {unit} ON {unit}.id = {a}.unit_id"
    done = f"""CASE WHEN {t}.indicator_id IS NULL
            THEN COALESCE((SELECT p.progress FROM {totals} p WHERE p.assignment_id = {a}.id AND p.target_id = {t}.id), 0)
            ELSE {figures} END"""  # noqa: S608
    return done, join


_FIELDS = Target._meta.concrete_fields


def _others_sql() -> str:
    """Every target of the rows' items that the assignment row alone does not read — any but the first,
    and a first linked to an indicator — with its progress for that assignment (``progress_sql``) and the
    assignment's share of it (``shared``: its ``TargetShare`` row, a LEFT JOIN; null without one), in one
    statement."""
    q = connection.ops.quote_name
    target, assignment, share = (q(m._meta.db_table) for m in (Target, Assignment, TargetShare))
    done, join = progress_sql(target="t", assignment="a", unit="au")
    # Only table names (from the models and the migration) are interpolated; the ids are parameters.
    # the target's columns in its fields' order (``_others``)
    columns = ", ".join(f"t.{q(f.column)}" for f in _FIELDS)
    return f"""
        SELECT {columns}, a.id AS row_id, {done} AS done, ts.amount AS shared
        FROM {target} t JOIN {assignment} a ON a.item_id = t.item_id {join}
        LEFT JOIN {share} ts ON ts.assignment_id = a.id AND ts.target_id = t.id
        WHERE a.id IN ({{marks}}) AND {read_apart_sql("t")}
        ORDER BY a.id, t.seq"""  # noqa: S608


def judged(
    assignments: Sequence[Assignment], today: date | None = None, by_item: dict[int, list[Target]] | None = None
) -> dict[int, Judged]:
    """Each row's progress, pace and shortfall by every target of its item, as ``lines`` reads them (the
    item and assignment pages), in ONE query for the page however many rows and targets: the rows'
    own fields answer for a plain first target, the statement reads the rest (``_others_sql``) — and
    where the items' targets are known already (``by_item``, from ``targets_of``), only for the rows
    whose item has another, so none for an assignment page of a one-target item. The rows come with
    their item and campaign (``select_related``)."""
    today = today or timezone.localdate()
    ids = [
        a.id
        for a in assignments
        # a list's row says whether its item has such a target (``tasks.rows``); a model instance does not
        if getattr(a, "targets_apart", True)
        and (by_item is None or any(_read_apart(t) for t in by_item.get(a.item_id, [])))
    ]
    others = _others(ids) if ids else {}
    out: dict[int, Judged] = {}
    for a in assignments:
        rows = others.get(a.id, [])
        first_linked = bool(rows) and rows[0].seq == 1
        progress = a.progress
        behind = False if first_linked else a.is_behind_pace(today)
        short = None if first_linked else a.shortfall()
        for t in rows:
            done = t.done if isinstance(t.done, Decimal) else Decimal(str(t.done))
            need = amount(a, t, _decimal(t.shared))
            if t.seq == 1:
                progress = done
            behind = behind or _behind(t, need, done, a, today)
            if short is None and _short(t, need, done, a):
                short = (done, need)
        out[a.id] = Judged(progress, behind, short)
    return out


def _others(ids: list[int]) -> dict[int, list[Target]]:
    """The targets ``_others_sql`` reads for the assignments ``ids``, by assignment, each with its ``done`` and
    ``shared``. On a cursor, not ``Target.objects.raw``: most pages have no such target (one-target items), and
    the raw query set's setting up cost a lead's list more than its statement (≈ 630 function calls of a
    ≈ 11,000-call request); the rows there are converted as the ORM converts a target's columns."""
    sql = _others_sql().replace("{marks}", ", ".join(["%s"] * len(ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        fetched = cursor.fetchall()
    out: dict[int, list[Target]] = defaultdict(list)
    if not fetched:
        return out
    compiler = Target.objects.all().query.get_compiler(connection=connection)
    converters = compiler.get_converters([f.get_col("t") for f in _FIELDS])
    names, n = [f.attname for f in _FIELDS], len(_FIELDS)
    for values in compiler.apply_converters(fetched, converters) if converters else fetched:
        t = Target.from_db(connection.alias, names, values[:n])
        t.row_id, t.done, t.shared = values[n:]
        out[t.row_id].append(t)
    return out


def _decimal(value) -> Decimal | None:
    """An amount from a raw column: a ``Decimal`` on PostgreSQL, a number SQLite gives back as it stored it."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))
