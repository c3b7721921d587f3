"""The board rollup (``BoardCount``): a campaign's assignments counted per unit × line of action × due
date, each status and flag a column, so a board reads a few ten thousand counts instead of every
assignment (docs/boards.md, "The rollup").

Database triggers keep it exact in the writing transaction (migration ``boards/0004``: statement-level
with transition tables on PostgreSQL, row-level on SQLite), whoever writes: the services, the admin
through them, COPY, the benchmarks' and demos' raw UPDATEs, tests. This module reads it (the sums
below: the ONE overdue rule of ``tasks.queries`` over the rollup's columns), recomputes it from the rows
(``recomputed``, ``differences``) and rewrites it (``refresh``), for ``manage.py check_rollup``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Unit
from tasks.models import Assignment, Campaign, Item

from .models import BoardCount, BoardDelta

KEY = ("campaign_id", "unit_id", "action_id", "due_date")
COUNTS = BoardCount.COUNTS

# --- Reading: ``tasks.queries``' rules as sums of the rollup's columns -----------------------------


def count(expression="total", condition: Q | None = None):
    """The sum of ``expression`` over the rollup's rows (matching ``condition``): 0, not None, when none."""
    return Coalesce(Sum(expression, filter=condition), 0)


def overdue(today: date):
    """``tasks.queries.overdue_q`` as of ``today``: past due, neither accepted nor waiting after going in on
    time (every counted assignment is active and planned)."""
    return count(F("total") - F("accepted") - F("submitted_on_time"), Q(due_date__lt=today))


def due(today: date):
    """Work due before ``today``."""
    return count("total", Q(due_date__lt=today))


def in_time(today: date):
    """Of the work due before ``today``, ``tasks.queries.submitted_on_time_q``: went in by its due date and
    is waiting or accepted."""
    return count(F("submitted_on_time") + F("accepted_on_time"), Q(due_date__lt=today))


def sums_as_of(
    counts: QuerySet[BoardCount], changes: QuerySet[BoardDelta] | None, group: Any, measures: Mapping[str, Any]
) -> dict[Any, dict[str, int]]:
    """``measures`` (sums over the rollup's columns, e.g. ``overdue(day)``) per ``group`` (a field name or an
    expression) as of the end of some day X: the rollup's rows (the present) minus ``changes``, the ledger's
    rows of the same work dated after X (None: X is today, nothing to take back). Two grouped queries,
    bounded by the rollup and by the changes since X, whatever the number of assignments."""
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(measures, 0))
    named = {f"m_{name}": m for name, m in measures.items()}  # apart from the columns the sums read
    for sign, rows in ((1, counts), (-1, changes)):
        if rows is None:
            continue
        for row in rows.order_by().annotate(g=group).values("g").annotate(**named):
            sums = out[row["g"]]
            for name in measures:
                sums[name] += sign * row[f"m_{name}"]
    return dict(out)


def branch_sums_as_of(
    counts: QuerySet[BoardCount], changes: QuerySet[BoardDelta] | None, prefix: int, measures: Mapping[str, Any]
) -> dict[str, dict[str, int]]:
    """``sums_as_of`` grouped by branch — the first ``prefix`` characters of the unit's path: a child of the
    unit asked for, or that unit itself for its own work — with ``units``, how many units have work (a
    ``total`` above 0) in each. One statement: per unit the rollup's rows minus the changes, then per branch,
    so a province's 1,600 units come back as a dozen rows rather than each one to Python. ``measures`` must
    hold ``total``."""
    names = list(measures)
    named = {f"m_{name}": m for name, m in measures.items()}
    parts, params = [], []
    for sign, rows in (("", counts), ("-", changes)):
        if rows is None:
            continue
        sql, p = rows.order_by().values("unit_id").annotate(**named).query.sql_with_params()
        columns = ", ".join(f"{sign}s.m_{name} AS m_{name}" for name in names)
        parts.append(f"SELECT s.unit_id, {columns} FROM ({sql}) s")  # noqa: S608 (Django's statement)
        params += p
    per_unit = ", ".join(f"SUM(x.m_{name}) AS m_{name}" for name in names)
    per_branch = ", ".join(f"SUM(p.m_{name})" for name in names)
    sql = f"""
        SELECT SUBSTR(u.path, 1, %s) AS branch, {per_branch}, SUM(CASE WHEN p.m_total > 0 THEN 1 ELSE 0 END)
        FROM (SELECT x.unit_id, {per_unit} FROM ({" UNION ALL ".join(parts)}) x GROUP BY x.unit_id) p
        JOIN {_q(Unit._meta.db_table)} u ON u.id = p.unit_id
        GROUP BY SUBSTR(u.path, 1, %s)
    """  # noqa: S608 (the inner statements are Django's, the names this function's)
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, *params, prefix])
        return {
            branch: {**{name: int(v) for name, v in zip(names, values, strict=True)}, "units": int(units)}
            for branch, *values, units in cursor.fetchall()
        }


# --- Recomputing from the rows ---------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


_COUNTED = {
    "total": None,
    "pending": "a.status = 'pending'",
    "in_progress": "a.status = 'in_progress'",
    "submitted": "a.status = 'submitted'",
    "returned": "a.status = 'returned'",
    "accepted": "a.status = 'accepted'",
    "submitted_on_time": "a.status = 'submitted' AND a.submitted_on <= a.due_date",
    "accepted_on_time": "a.status = 'accepted' AND a.submitted_on <= a.due_date",
    "unacknowledged": "a.acknowledged_at IS NULL",
}


def _grouped_sql(where: str) -> str:
    """The rollup's rows recomputed from the assignments matching ``where`` (over ``a``), KEY then COUNTS."""
    a, i = _q(Assignment._meta.db_table), _q(Item._meta.db_table)
    true = "true" if connection.vendor == "postgresql" else "1"
    sums = ", ".join(
        "COUNT(*)" if _COUNTED[c] is None else f"SUM(CASE WHEN {_COUNTED[c]} THEN 1 ELSE 0 END)" for c in COUNTS
    )
    return f"""
        SELECT a.campaign_id, a.unit_id, i.action_id, a.due_date, {sums}
        FROM {a} a JOIN {i} i ON i.id = a.item_id
        WHERE a.is_active = {true} AND a.parent_id IS NULL AND ({where})
        GROUP BY a.campaign_id, a.unit_id, i.action_id, a.due_date
    """  # noqa: S608 (table names from the models, ``where`` from this module)


def _where(campaign: Campaign | int | None) -> tuple[str, list]:
    if campaign is None:
        return "1 = 1", []
    return "a.campaign_id = %s", [getattr(campaign, "pk", campaign)]


def _split(row: Iterable) -> tuple[tuple, dict[str, int]]:
    c, u, ac, due, *counts = row
    if isinstance(due, str):  # SQLite's raw rows
        due = date.fromisoformat(due)
    return (c, u, ac, due), {name: int(n) for name, n in zip(COUNTS, counts, strict=True) if n}


def recomputed(campaign: Campaign | int | None = None) -> dict[tuple, dict[str, int]]:
    """KEY → the counts that are not 0, from the assignments (one grouped query)."""
    where, params = _where(campaign)
    with connection.cursor() as cursor:
        cursor.execute(_grouped_sql(where), params)
        return dict(map(_split, cursor.fetchall()))


def stored(campaign: Campaign | int | None = None) -> dict[tuple, dict[str, int]]:
    """KEY → the counts that are not 0, as the rollup holds them."""
    rows = BoardCount.objects.all() if campaign is None else BoardCount.objects.filter(campaign=campaign)
    return dict(map(_split, rows.values_list(*KEY, *COUNTS)))


def differences(campaign: Campaign | int | None = None) -> list[tuple[tuple, dict, dict]]:
    """(key, stored, recomputed) for every key where the rollup is not what the rows say."""
    have, want = stored(campaign), recomputed(campaign)
    return sorted(
        ((k, have.get(k, {}), want.get(k, {})) for k in have.keys() | want.keys() if have.get(k) != want.get(k)),
        key=lambda d: tuple(str(x) for x in d[0]),
    )


def refresh(*, campaign: Campaign | int | None = None, assignment_ids: Iterable[int] | None = None) -> int:
    """Rewrite the rollup of ``campaign`` (or every campaign), or of the (campaign, unit) pairs holding
    ``assignment_ids``, from the rows, set-based: one DELETE and one INSERT … SELECT … GROUP BY. The
    triggers keep it exact; this repairs it (``check_rollup --fix``). Returns the rows written."""
    with transaction.atomic():
        if connection.vendor == "postgresql":  # no trigger writes the rollup meanwhile
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {_q(BoardCount._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
        if assignment_ids is not None:
            pairs = set(
                Assignment.objects.filter(pk__in=list(assignment_ids)).values_list("campaign_id", "unit_id").distinct()
            )
            where = " OR ".join(["(a.campaign_id = %s AND a.unit_id = %s)"] * len(pairs)) or "1 = 0"
            params = [x for pair in sorted(pairs) for x in pair]
            gone = Q(pk__in=[])
            for c, u in pairs:
                gone |= Q(campaign_id=c, unit_id=u)
            BoardCount.objects.filter(gone).delete()
        else:
            where, params = _where(campaign)
            (BoardCount.objects.all() if campaign is None else BoardCount.objects.filter(campaign=campaign)).delete()
        columns = ", ".join(_q(c) for c in (*KEY, *COUNTS))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {_q(BoardCount._meta.db_table)} ({columns}) {_grouped_sql(where)}", params)
            return cursor.rowcount


# --- The ledger (``BoardDelta``): summed over every day, it is the rollup ------------------------


def ledger_sums(campaign: Campaign | int | None = None) -> dict[tuple, dict[str, int]]:
    """KEY → the ledger's changes summed over every day, the counts that are not 0."""
    rows = BoardDelta.objects.all() if campaign is None else BoardDelta.objects.filter(campaign=campaign)
    summed = rows.order_by().values_list(*KEY).annotate(*(Sum(c) for c in COUNTS))
    return {key: counts for key, counts in map(_split, summed) if counts}


def ledger_differences(campaign: Campaign | int | None = None) -> list[tuple[tuple, dict, dict]]:
    """(key, the ledger's sum, recomputed from the rows) for every key where they differ."""
    have, want = ledger_sums(campaign), recomputed(campaign)
    return sorted(
        ((k, have.get(k, {}), want.get(k, {})) for k in have.keys() | want.keys() if have.get(k) != want.get(k)),
        key=lambda d: tuple(str(x) for x in d[0]),
    )


def settle_ledger(campaign: Campaign | int | None = None) -> int:
    """Add today's change that brings the ledger's sums back to the rows (``check_rollup --fix``): the past
    it lost is not invented, the present is right again. Returns the keys settled."""
    today = timezone.localdate()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {_q(BoardDelta._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
        found = ledger_differences(campaign)
        for (c, u, a, due), have, want in found:
            change = {name: want.get(name, 0) - have.get(name, 0) for name in COUNTS}
            key = {"campaign_id": c, "unit_id": u, "action_id": a, "due_date": due, "day": today}
            if not BoardDelta.objects.filter(**key).update(**{n: F(n) + v for n, v in change.items()}):
                BoardDelta.objects.create(**key, **change)
        return len(found)
