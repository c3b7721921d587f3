"""The boards benchmark's bare SQL: for each request of ``bench_boards`` (``Ask``), the one hand-written
aggregate that computes the same numbers as the API (the battle board, the ranking, the statistics
totals with 同比 and 环比), timed on the same connection (``time_bare``), and both answers as comparable
numbers (``bare_numbers``, ``api_numbers``). The totals read ``stats_rollup`` on PostgreSQL, as the
app does; ``totals_figures_sql`` computes them from the figures alone, the truth both are checked
against.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from accounts.models import Unit
from bench.timing import WARMUP, ms, nearest_rank
from inspections.models import Finding, FindingStatus
from stats.models import Figure, Indicator, Kind, Round
from stats.queries import SERIAL, ratio
from tasks.models import Assignment, AssignmentStatus, Campaign, Item
from tasks.queries import overdue_sql, planned_sql
from utilities.db import fast_paths


@dataclass(frozen=True)
class Ask:
    """What one request asks: a board (battle, ranking, totals) under a unit, for a window (totals)."""

    board: str
    unit: Unit
    campaign: Campaign
    today: date
    start: date | None = None  # totals: the window (None: the campaign so far)
    end: date | None = None
    round: Round | None = None

    @property
    def window(self) -> tuple[date, date]:
        if self.round is not None:
            return self.round.start, self.round.end
        return self.start or self.campaign.start, self.end or min(self.campaign.end, self.today)

    def query(self) -> str:
        q = f"campaign={self.campaign.pk}&unit={self.unit.code}"
        if self.round is not None:
            q += f"&round={self.round.pk}"
        if self.start:
            q += f"&start={self.start}"
        if self.end:
            q += f"&end={self.end}"
        return q


PATHS = {"battle": "/api/v1/boards/battle/", "ranking": "/api/v1/boards/ranking/", "totals": "/api/v1/stats/totals/"}


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {"a": Assignment, "i": Item, "u": Unit, "f": Figure, "ind": Indicator, "fd": Finding}
    return {k: quote(m._meta.db_table) for k, m in models.items()}


def _local_date(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date"
    return f"django_datetime_cast_date({column}, %s, 'UTC')"


def battle_sql(ask: Ask) -> tuple[str, list[Any]]:
    """Per line of action × column unit (the prefix of the path): total, accepted, overdue."""
    t, width = _tables(), len(ask.unit.path) + Unit.steplen
    sql = f"""
        SELECT i.action_id, SUBSTR(u.path, 1, %s) AS branch, COUNT(*),
               COUNT(CASE WHEN a.status = %s THEN 1 END),
               COUNT(CASE WHEN {overdue_sql("a")} THEN 1 END)
        FROM {t["a"]} a JOIN {t["i"]} i ON i.id = a.item_id JOIN {t["u"]} u ON u.id = a.unit_id
        WHERE a.campaign_id = %s AND a.is_active = %s AND {planned_sql("a")} AND u.path LIKE %s
        GROUP BY i.action_id, SUBSTR(u.path, 1, %s)"""  # noqa: S608
    accepted = AssignmentStatus.ACCEPTED.value
    return sql, [width, accepted, ask.today, ask.campaign.pk, True, ask.unit.path + "%", width]


def ranking_sql(ask: Ask) -> tuple[str, list[Any]]:
    """Per column unit: the assignments' total, accepted, due, submitted in time, overdue; then the
    findings' count, due for rectification, rectified in time, open — one statement (UNION ALL)."""
    t, width = _tables(), len(ask.unit.path) + Unit.steplen
    S, F_ = AssignmentStatus, FindingStatus
    sql = f"""
        SELECT 'a', SUBSTR(u.path, 1, %s), COUNT(*),
               COUNT(CASE WHEN a.status = %s THEN 1 END),
               COUNT(CASE WHEN a.due_date < %s THEN 1 END),
               COUNT(CASE WHEN a.due_date < %s AND a.status IN (%s, %s) AND a.submitted_on <= a.due_date THEN 1 END),
               COUNT(CASE WHEN {overdue_sql("a")} THEN 1 END)
        FROM {t["a"]} a JOIN {t["u"]} u ON u.id = a.unit_id
        WHERE a.campaign_id = %s AND a.is_active = %s AND {planned_sql("a")} AND u.path LIKE %s
        GROUP BY SUBSTR(u.path, 1, %s)
        UNION ALL
        SELECT 'f', SUBSTR(u.path, 1, %s), COUNT(*),
               COUNT(CASE WHEN f.deadline IS NOT NULL AND (f.status = %s OR f.deadline < %s) THEN 1 END),
               COUNT(CASE WHEN f.status = %s AND f.deadline IS NOT NULL
                          AND {_local_date("f.closed_at")} <= f.deadline THEN 1 END),
               COUNT(CASE WHEN f.status <> %s THEN 1 END),
               0
        FROM {t["fd"]} f JOIN {t["u"]} u ON u.id = f.unit_id
        WHERE f.campaign_id = %s AND u.path LIKE %s
        GROUP BY SUBSTR(u.path, 1, %s)"""  # noqa: S608
    like, today = ask.unit.path + "%", ask.today
    params = [
        width,
        S.ACCEPTED.value,
        today,
        today,
        S.SUBMITTED.value,
        S.ACCEPTED.value,
        today,
        ask.campaign.pk,
        True,
        like,
        width,
        width,
        F_.CLOSED.value,
        today,
        F_.CLOSED.value,
        settings.TIME_ZONE,
        F_.CLOSED.value,
        ask.campaign.pk,
        like,
        width,
    ]
    return sql, params


def totals_windows(ask: Ask) -> tuple[tuple[date, date], Campaign | None, tuple[date, date], tuple[date, date] | None]:
    """By hand, as docs/boards.md states them: the window; 同比 the compared campaign's same days of
    the campaign; 环比 the round before a round, else the window of equal length just before (none when
    that starts before the campaign)."""
    start, end = ask.window
    c = ask.campaign
    other = c.compare_to
    shift = (other.start - c.start) if other else None
    last = (
        (start + shift, end + shift) if other else (start.replace(year=start.year - 1), end.replace(year=end.year - 1))
    )
    previous = None
    if ask.round is not None:
        earlier = Round.objects.filter(campaign=c, end__lt=ask.round.start).order_by("-start").first()
        previous = (earlier.start, earlier.end) if earlier else None
    else:
        days = (end - start).days + 1
        if start - timedelta(days=days) >= c.start:
            previous = (start - timedelta(days=days), start - timedelta(days=1))
    return (start, end), other, last, previous


def totals_figures_sql(ask: Ask) -> tuple[str, list[Any]]:
    """From the figures alone: per indicator, the window's sums per column unit, last year's (by
    indicator code, keyed by this year's indicator) and the previous window's — one statement (UNION
    ALL). The truth the API's numbers are checked against; on PostgreSQL also timed, to show what the
    rollup saves."""
    t, width = _tables(), len(ask.unit.path) + Unit.steplen
    (start, end), other, (ly_start, ly_end), previous = totals_windows(ask)
    like = ask.unit.path + "%"
    parts = [
        f"""SELECT 'now', f.indicator_id, SUBSTR(u.path, 1, %s), SUM(f.value)
        FROM {t["f"]} f JOIN {t["u"]} u ON u.id = f.unit_id
        WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s
        GROUP BY f.indicator_id, SUBSTR(u.path, 1, %s)""",  # noqa: S608
        f"""SELECT 'last_year', mine.id, '', SUM(f.value)
        FROM {t["f"]} f JOIN {t["u"]} u ON u.id = f.unit_id JOIN {t["ind"]} theirs ON theirs.id = f.indicator_id
        JOIN {t["ind"]} mine ON mine.code = theirs.code AND mine.campaign_id = %s
        WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s
        GROUP BY mine.id""",  # noqa: S608
    ]
    params: list[Any] = [width, ask.campaign.pk, start, end, like, width]
    params += [ask.campaign.pk, other.pk if other else None, ly_start, ly_end, like]
    if previous:
        parts.append(
            f"""SELECT 'previous', f.indicator_id, '', SUM(f.value)
            FROM {t["f"]} f JOIN {t["u"]} u ON u.id = f.unit_id
            WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s
            GROUP BY f.indicator_id"""  # noqa: S608
        )
        params += [ask.campaign.pk, *previous, like]
    return "\nUNION ALL\n".join(parts), params


def totals_rollup_sql(ask: Ask) -> tuple[str, list[Any]]:
    """The same numbers from ``stats_rollup`` (PostgreSQL, stats migration 0002): a column's subtree is
    the column unit's rollup rows plus its own figures; the whole subtree, the chosen unit's."""
    t, depth = _tables(), ask.unit.depth + 1
    (start, end), other, (ly_start, ly_end), previous = totals_windows(ask)
    like, unit, rollup = ask.unit.path + "%", ask.unit.pk, connection.ops.quote_name("stats_rollup")

    def subtree(campaign_id: int | None, first: date, last: date) -> tuple[str, list[Any]]:
        sql = f"""(SELECT r.indicator_id, r.total FROM {rollup} r
            WHERE r.campaign_id = %s AND r.ancestor_id = %s AND r.day BETWEEN %s AND %s
            UNION ALL
            SELECT f.indicator_id, f.value FROM {t["f"]} f
            WHERE f.campaign_id = %s AND f.unit_id = %s AND f.day BETWEEN %s AND %s)"""  # noqa: S608
        return sql, [campaign_id, unit, first, last, campaign_id, unit, first, last]

    now = f"""SELECT 'now', x.indicator_id, x.branch, SUM(x.total) FROM (
            SELECT r.indicator_id, c.path AS branch, r.total FROM {rollup} r JOIN {t["u"]} c ON c.id = r.ancestor_id
            WHERE r.campaign_id = %s AND r.day BETWEEN %s AND %s AND c.path LIKE %s AND c.depth = %s
            UNION ALL
            SELECT f.indicator_id, u.path, f.value FROM {t["f"]} f JOIN {t["u"]} u ON u.id = f.unit_id
            WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s AND u.depth <= %s
        ) x GROUP BY x.indicator_id, x.branch"""  # noqa: S608
    params: list[Any] = [ask.campaign.pk, start, end, like, depth, ask.campaign.pk, start, end, like, depth]
    below, more = subtree(other.pk if other else None, ly_start, ly_end)
    last_year = f"""SELECT 'last_year', mine.id, '', SUM(x.total) FROM {below} x
        JOIN {t["ind"]} theirs ON theirs.id = x.indicator_id
        JOIN {t["ind"]} mine ON mine.code = theirs.code AND mine.campaign_id = %s
        GROUP BY mine.id"""  # noqa: S608
    parts, params = [now, last_year], [*params, *more, ask.campaign.pk]
    if previous:
        below, more = subtree(ask.campaign.pk, *previous)
        parts.append(f"SELECT 'previous', x.indicator_id, '', SUM(x.total) FROM {below} x GROUP BY x.indicator_id")  # noqa: S608
        params += more
    return "\nUNION ALL\n".join(parts), params


def totals_sql(ask: Ask) -> tuple[str, list[Any]]:
    """The bare SQL of the totals as the app computes them: from the rollup on PostgreSQL's fast path,
    from the figures elsewhere."""
    return totals_rollup_sql(ask) if fast_paths() else totals_figures_sql(ask)


BARE = {"battle": battle_sql, "ranking": ranking_sql, "totals": totals_sql}


def bare_numbers(ask: Ask, rows: list[tuple], columns: dict[str, int]) -> dict:
    """The bare SQL's rows as the numbers the API answers (column paths → unit ids via ``columns``)."""
    out: dict = {}
    if ask.board == "battle":
        for action, branch, total, done, overdue in rows:
            if branch in columns:
                out[(action, columns[branch])] = (total, done, overdue)
    elif ask.board == "ranking":
        for part, branch, *counts in rows:
            if branch in columns and branch != ask.unit.path:
                known = out.setdefault(columns[branch], {"a": (0, 0, 0, 0, 0), "f": (0, 0, 0, 0)})
                known[part] = tuple(counts[:5] if part == "a" else counts[:4])
        out = {unit: (*v["a"], v["f"][0], v["f"][3]) for unit, v in out.items()}
    else:
        for part, indicator, branch, total in rows:
            line = out.setdefault(indicator, {"total": 0, "last_year": None, "previous": None, "by_unit": {}})
            if part == "now" and branch in columns:
                line["by_unit"][columns[branch]] = Decimal(total)
                line["total"] += Decimal(total)
            elif part != "now":
                line[part] = Decimal(total)
        _, _, _, previous = totals_windows(ask)
        if previous:
            for line in out.values():
                line["previous"] = line["previous"] or 0
        _rates(ask, out)
    return out


def _exact(value) -> Decimal | None:
    """A number of either side as a Decimal (a count's int, money's "950.00", a rate's long decimal), a
    rate to 6 places: the same numbers compare equal."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def _rates(ask: Ask, out: dict) -> None:
    """The campaign's computed rates from their parts' sums, as ``stats.queries.ratio`` takes them: the
    bare SQL sums the parts (the same aggregate), the division is the rate's (100 × Σ numerator ÷ Σ
    denominator per column and window, none without a denominator)."""
    empty = {"total": 0, "last_year": None, "previous": None, "by_unit": {}}
    for rate in Indicator.objects.filter(campaign=ask.campaign, kind=Kind.RATE, numerator__isnull=False):
        num, den = out.get(rate.numerator_id, empty), out.get(rate.denominator_id, empty)
        line = {
            key: ratio(num[key], den[key]) if den[key] is not None else None
            for key in ("total", "last_year", "previous")
        }
        line["by_unit"] = {u: ratio(num["by_unit"].get(u, 0), d) for u, d in den["by_unit"].items()}
        if line["total"] or line["last_year"] or line["previous"]:
            out[rate.pk] = line
    for line in out.values():
        for key in ("total", "last_year", "previous"):
            line[key] = _exact(line[key])
        line["by_unit"] = {u: _exact(v) for u, v in line["by_unit"].items()}


def api_numbers(ask: Ask, body: dict) -> dict:
    """The same numbers from the API's JSON."""
    if ask.board == "battle":
        return {(c["action"], c["unit"]): (c["total"], c["done"], c["overdue"]) for c in body["cells"]}
    if ask.board == "ranking":
        keys = ("total", "done", "due", "in_time", "overdue", "findings", "open_findings")
        return {s["unit"]["id"]: tuple(s[k] for k in keys) for s in body["standings"] if any(s[k] for k in keys)}
    return {
        line["indicator"]["id"]: {
            "total": _exact(line["total"]),
            "last_year": _exact(line["last_year"]),
            "previous": _exact(line["previous"]),
            "by_unit": {int(k): _exact(v) for k, v in line["by_unit"].items()},
        }
        for line in body["lines"]
        if _exact(line["total"]) or _exact(line["last_year"]) or _exact(line["previous"])
    }


@dataclass
class Bare:
    sql: str
    times_ms: list[float]
    rows: int

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return nearest_rank(self.times_ms, 95)


def time_floor(sql: str, params: list[Any], n: int) -> tuple[Bare, list[tuple]]:
    """The bare SQL at its best: on PostgreSQL timed both as planned (parallel workers where the planner
    chooses them) and without parallel workers (``stats.queries.SERIAL``, as the totals run theirs), and
    the faster by p95 kept — a request that runs its statement serially is compared with the serial bare
    statement too, not with a slower plan (issue 20's "× bare")."""
    planned, rows = time_bare(sql, params, n)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return planned, rows
    serial, serial_rows = time_bare(SERIAL + sql, params, n)
    return (serial, serial_rows) if serial.p95 < planned.p95 else (planned, rows)


def time_bare(sql: str, params: list[Any], n: int) -> tuple[Bare, list[tuple]]:
    """``n`` timed runs (execute + fetch) after ``WARMUP`` untimed ones, on the same connection."""
    times, rows = [], []
    with connection.cursor() as cursor:
        for k in range(WARMUP + n):
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if k >= WARMUP:
                times.append(ms(time.perf_counter() - started))
    return Bare(sql, times, len(rows)), rows
