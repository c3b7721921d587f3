"""The board rollup (``BoardCount``): the assignments counted per campaign × unit × line of action ×
status × due date × on time × acknowledged, so a board reads a few thousand counts instead of every
assignment (docs/boards.md, "The rollup").

Database triggers keep it exact in the writing transaction (migration ``boards/0004``: statement-level
with transition tables on PostgreSQL, row-level on SQLite), whoever writes: the services, the admin
through them, COPY, the benchmarks' and demos' raw UPDATEs, tests. This module reads it (the filters
below: the ONE overdue rule of ``tasks.queries`` over the rollup's columns), recomputes it from the rows
(``recomputed``, ``differences``) and rewrites what differs (``refresh``), for ``manage.py check_rollup``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.db.models import Q

from tasks.models import Assignment, AssignmentStatus, Campaign, Item

from .models import BoardCount

S = AssignmentStatus
KEY = ("campaign_id", "unit_id", "action_id", "status", "due_date", "on_time", "acknowledged")

# --- Reading: ``tasks.queries``' rules over the rollup's columns ------------------------------------


def submitted_on_time_q() -> Q:
    """``tasks.queries.submitted_on_time_q``: went in by its due date, still waiting or accepted."""
    return Q(status__in=[S.SUBMITTED, S.ACCEPTED], on_time=True)


def overdue_q(today: date) -> Q:
    """``tasks.queries.overdue_q`` as of ``today`` (every counted row is active and planned)."""
    return Q(due_date__lt=today) & ~Q(status=S.ACCEPTED) & ~Q(status=S.SUBMITTED, on_time=True)


# --- Recomputing from the rows ---------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _grouped_sql(where: str) -> str:
    """The rollup's rows recomputed from the assignments matching ``where`` (over ``a``), in KEY order."""
    a, i = _q(Assignment._meta.db_table), _q(Item._meta.db_table)
    true = "true" if connection.vendor == "postgresql" else "1"
    return f"""
        SELECT a.campaign_id, a.unit_id, i.action_id, a.status, a.due_date,
               (a.submitted_on IS NOT NULL AND a.submitted_on <= a.due_date) AS on_time,
               (a.acknowledged_at IS NOT NULL) AS acknowledged, COUNT(*) AS n
        FROM {a} a JOIN {i} i ON i.id = a.item_id
        WHERE a.is_active = {true} AND a.parent_id IS NULL AND ({where})
        GROUP BY a.campaign_id, a.unit_id, i.action_id, a.status, a.due_date,
                 (a.submitted_on IS NOT NULL AND a.submitted_on <= a.due_date), (a.acknowledged_at IS NOT NULL)
    """  # noqa: S608 (table names from the models, ``where`` from this module)


def _where(campaign: Campaign | int | None) -> tuple[str, list]:
    if campaign is None:
        return "1 = 1", []
    return "a.campaign_id = %s", [getattr(campaign, "pk", campaign)]


def _normal(row: Iterable) -> tuple:
    c, u, ac, status, due, on_time, ack, *rest = row
    if isinstance(due, str):  # SQLite's raw rows
        due = date.fromisoformat(due)
    return (c, u, ac, status, due, bool(on_time), bool(ack), *rest)


def recomputed(campaign: Campaign | int | None = None) -> dict[tuple, int]:
    """KEY → count, from the assignments (one grouped query)."""
    where, params = _where(campaign)
    with connection.cursor() as cursor:
        cursor.execute(_grouped_sql(where), params)
        return {row[:-1]: row[-1] for row in map(_normal, cursor.fetchall())}


def stored(campaign: Campaign | int | None = None) -> dict[tuple, int]:
    """KEY → count, as the rollup holds it."""
    rows = BoardCount.objects.all() if campaign is None else BoardCount.objects.filter(campaign=campaign)
    return {_normal(r[:-1]): r[-1] for r in rows.values_list(*KEY, "n")}


def differences(campaign: Campaign | int | None = None) -> list[tuple[tuple, int, int]]:
    """(key, stored, recomputed) for every key where the rollup is not what the rows say."""
    have, want = stored(campaign), recomputed(campaign)
    return sorted(
        ((k, have.get(k, 0), want.get(k, 0)) for k in have.keys() | want.keys() if have.get(k, 0) != want.get(k, 0)),
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
        columns = ", ".join(_q(c) for c in (*KEY, "n"))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {_q(BoardCount._meta.db_table)} ({columns}) {_grouped_sql(where)}", params)
            return cursor.rowcount
