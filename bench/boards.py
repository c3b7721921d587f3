"""The boards benchmark (``manage.py bench_boards``): building the data and measuring the requests.

Data: the synthetic province of ``bench_plan_import`` (≈1,650 units, the 77-item plan published
through the real importers), its assignments given a status mix and submission dates by one UPDATE,
the findings (with inspections, notices and hotspots) of ``bench_supervision``'s ``Seeder``, a
catalogue of indicators and three rounds, last year's closed campaign with the same indicator codes
(``compare_to``), and a figure per unit × day × indicator for both campaigns, written with COPY on
PostgreSQL (``ops.db.fast_paths()``), with ``bulk_create`` elsewhere.

Measuring: each request goes through the whole Django stack in-process (``bench_lists.time_page``:
test ``Client``, a real session, DRF, scope, serialisation), and beside it the one hand-written SQL
aggregate that computes the same numbers, timed as many times on the same connection (the totals'
reads ``stats_rollup`` on PostgreSQL, as the app does; the same totals from the figures alone are
timed too, to show what the rollup saves); the API's numbers are checked against an aggregate over
the source rows.
"""

from __future__ import annotations

import io
import math
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, Unit, User
from bench.lists import WARMUP, Target, Timed, time_page
from bench.plan_import import END, HQ_CODE, _city_name
from bench.supervision import Seeder
from bench.supervision import Size as SupervisionSize
from bench.supervision import people as supervision_people
from inspections.models import Finding, FindingStatus
from ops.db import fast_paths
from stats.models import Figure, Indicator, Round
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus, Item

SCRATCH_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench_boards"
CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（看板基准测试）"
CODE = "BENCH-BOARDS"
LAST_YEAR_CODE = "BENCH-BOARDS-2025"
USER_PREFIX = "bench_boards_"
SOURCE = "bench_boards"
TODAY = END  # the campaign's last day: all 100 days reported, the "campaign so far" is the whole campaign
SEED = 2026
CITY_CODE = f"{HQ_CODE}01"  # the city leader's city (江城)
COUNTY_CODE = f"{CITY_CODE}001"  # its first sub-bureau (区县级)
GOAL_MS = 300.0  # the issue: p95 under 300 ms …
GOAL_RATIO = 2.0  # … and no more than twice the bare SQL
FIGURES_RUNS = 10  # totals on PostgreSQL: runs of the figures-only aggregate (≈0.5 s each for the province)
COPY_CHUNK = 200_000  # figure rows per COPY (each its own transaction: the deferred FK checks stay small)

# code, name, measure, a unit's daily mean this year, last year's level relative to this year's
CATALOGUE = (
    ("police", "出动警力", "人次", 24, 0.93),
    ("places", "检查场所", "家次", 11, 0.88),
    ("violations", "查处违法行为", "起", 3, 0.87),
    ("fugitives", "抓获逃犯", "名", 0.15, 1.1),
    ("hazards", "整改隐患", "处", 4, 0.95),
    ("leaflets", "发放宣传资料", "份", 70, 1.2),
    ("cases", "破获刑事案件", "起", 0.6, 0.9),
    ("suspects", "抓获犯罪嫌疑人", "名", 0.9, 0.92),
    ("disputes", "化解矛盾纠纷", "起", 2, 1.05),
    ("checks", "盘查可疑人员", "人次", 15, 0.97),
)
ROUNDS = (
    ("第一轮集中统一行动", (7, 7), (7, 9)),
    ("第二轮集中统一行动", (8, 4), (8, 6)),
    ("第三轮集中统一行动", (9, 8), (9, 10)),
)
ROUND_INTENSITY = 2.5  # a round's days see this much more work than an ordinary day

# Assignments: statuses by a fixed hash of the id (percentages, cumulative in this order), as
# bench_lists spreads them; those that went for acceptance got a submission date, most by the due date.
PAST_DUE = ((AssignmentStatus.ACCEPTED, 50), (AssignmentStatus.SUBMITTED, 15), (AssignmentStatus.RETURNED, 10),
            (AssignmentStatus.IN_PROGRESS, 15), (AssignmentStatus.PENDING, 10))  # fmt: skip
NOT_YET_DUE = ((AssignmentStatus.ACCEPTED, 10), (AssignmentStatus.SUBMITTED, 15), (AssignmentStatus.RETURNED, 5),
               (AssignmentStatus.IN_PROGRESS, 40), (AssignmentStatus.PENDING, 30))  # fmt: skip
IN_TIME_PCT = 75  # of the past-due work that was submitted, the share submitted by its due date


@dataclass(frozen=True)
class Size:
    """What to build: the province of bench_plan_import, 20,000 findings (bench_supervision's size),
    10 indicators reported daily by every unit."""

    cities: int = 11
    subbureaus: int = 120
    stations: int = 1500
    items: int = 77
    findings: int = 20_000
    indicators: int = 10

    @property
    def supervision(self) -> SupervisionSize:
        return SupervisionSize(
            cities=self.cities, subbureaus=self.subbureaus, stations=self.stations, items=self.items,
            findings=self.findings, notices=max(1, self.findings * 3 // 20),
        )  # fmt: skip


def personas(cities: int) -> dict[str, tuple[str, str, str]]:
    """bench_supervision's people (HQ, an inspector and a liaison per city: the findings need them)
    and the city's leader, who is measured beside HQ."""
    return supervision_people(cities) | {"city_leader": (Role.LEADER, CITY_CODE, f"{_city_name(0)}市局领导（基准）")}


MEASURED = ("hq", "city_leader")


def _ms(seconds: float) -> float:
    return seconds * 1000


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- Building ---------------------------------------------------------------------------------------


def _plus_days(day_sql: str, days_sql: str) -> str:
    """SQL for a date plus a number of days (either may be an expression)."""
    if connection.vendor == "postgresql":
        return f"({day_sql} + CAST({days_sql} AS integer))"
    return f"date({day_sql}, ({days_sql}) || ' days')"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if connection.vendor == "postgresql" else f"MIN({a}, {b})"


def spread_work(campaign: Campaign, today: date) -> int:
    """One UPDATE: every assignment's status (``PAST_DUE`` / ``NOT_YET_DUE`` by a fixed hash of its id)
    and, for work that went for acceptance, the day it did: past-due work mostly by its due date
    (``IN_TIME_PCT``), else up to 9 days late (never after today); other work in the last 20 days."""
    table = connection.ops.quote_name(Assignment._meta.db_table)
    h = "((id * 7919) %% 100)"
    params: list[Any] = []

    def status(spread) -> str:
        whens, upto = [], 0
        for value, share in spread:
            upto += share
            whens.append(f"WHEN {h} < %s THEN %s")
            params.extend([upto, str(value)])
        return "CASE " + " ".join(whens) + " END"

    past, future = status(PAST_DUE), status(NOT_YET_DUE)
    went = {spread: sum(s for v, s in spread[:3]) for spread in (PAST_DUE, NOT_YET_DUE)}  # accepted … returned
    in_time = _plus_days("due_date", "-(id %% 10)")
    late = _least(_plus_days("due_date", "1 + id %% 9"), "%s")
    recent = _plus_days("%s", "-(id %% 20)")
    # Only the table name (from the model) and fixed SQL fragments are interpolated; values are parameters.
    sql = f"""
        UPDATE {table} SET
            status = CASE WHEN due_date < %s THEN {past} ELSE {future} END,
            submitted_on = CASE
                WHEN due_date < %s AND {h} < %s THEN
                    CASE WHEN ((id * 104729) %% 100) < %s THEN {in_time} ELSE {late} END
                WHEN due_date >= %s AND {h} < %s THEN {recent}
                ELSE NULL END,
            version = version + 1
        WHERE campaign_id = %s"""  # noqa: S608
    args = [today, *params, today, went[PAST_DUE], IN_TIME_PCT, today, today, went[NOT_YET_DUE], today, campaign.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.rowcount


def seed_findings(campaign: Campaign, users: dict[str, User], size: Size, today: date) -> dict[str, int]:
    """bench_supervision's findings, notices, inspections and hotspots (bulk_create, fixed seed)."""
    return dict(Seeder(campaign, users, size.supervision, today).run())


def catalogue(campaign: Campaign, n: int) -> list[Indicator]:
    return Indicator.objects.bulk_create(
        [
            Indicator(campaign=campaign, code=code, name=name, measure=measure, seq=seq)
            for seq, (code, name, measure, _mean, _ly) in enumerate(CATALOGUE[:n], start=1)
        ]
    )


def last_year(campaign: Campaign) -> Campaign:
    """Last year's campaign, closed, the same days a year before; this year's compares with it (同比)."""
    before = Campaign.objects.create(
        code=LAST_YEAR_CODE, name=f"{campaign.name}（{campaign.start.year - 1}年）", owner=campaign.owner,
        start=campaign.start.replace(year=campaign.start.year - 1), end=campaign.end.replace(year=campaign.end.year - 1),
        status=CampaignStatus.CLOSED,
    )  # fmt: skip
    campaign.compare_to = before
    campaign.save(update_fields=["compare_to"])
    return before


def rounds(campaign: Campaign) -> list[Round]:
    year = campaign.start.year
    return Round.objects.bulk_create(
        [Round(campaign=campaign, name=name, start=date(year, *a), end=date(year, *b)) for name, a, b in ROUNDS]
    )


FIGURE_FIELDS = ("campaign_id", "indicator_id", "unit_id", "day", "value", "reported_by_id", "reported_at")


def figure_rows(
    campaign: Campaign, indicators: list[Indicator], units: list[int], *, level: dict[str, float], by: int, seed: int
) -> Iterator[tuple]:
    """A figure per day of the campaign × unit × indicator, in ``FIGURE_FIELDS`` order and day by day, as
    units report (so the table's physical order is a live one's): a unit's daily mean scaled by its size
    (fixed per unit), the year's ``level`` and, on the days of ``ROUNDS`` (last year's too),
    ``ROUND_INTENSITY``; each ±40%. Every day is reported, the rounds' days included."""
    draw = random.Random(seed)
    daily = {code: mean for code, _n, _m, mean, _ly in CATALOGUE}
    means = {i.pk: daily[i.code] * level[i.code] for i in indicators}
    year = campaign.start.year
    in_round = {
        date(year, *a) + timedelta(days=k)
        for _name, a, b in ROUNDS
        for k in range((date(year, *b) - date(year, *a)).days + 1)
    }
    zone = ZoneInfo(settings.TIME_ZONE)
    days = [campaign.start + timedelta(days=k) for k in range((campaign.end - campaign.start).days + 1)]
    sizes = {unit: draw.uniform(0.5, 1.6) for unit in units}
    for day in days:
        at = datetime.combine(day, dtime(21, 0), tzinfo=zone)
        for unit, size in sizes.items():
            boost = size * (ROUND_INTENSITY if day in in_round else 1.0)
            for pk, mean in means.items():
                expected = mean * boost * draw.uniform(0.6, 1.4)
                value = int(expected) + (1 if draw.random() < expected - int(expected) else 0)
                yield campaign.pk, pk, unit, day, value, by, at


def _copy_lines(rows: Iterable[tuple]) -> Iterator[str]:
    days: dict[date, str] = {}
    stamps: dict[datetime, str] = {}
    for c, i, u, day, value, by, at in rows:
        if (d := days.get(day)) is None:
            d = days[day] = day.isoformat()
        if (a := stamps.get(at)) is None:
            a = stamps[at] = at.isoformat()
        yield f"{c}\t{i}\t{u}\t{d}\t{value}\t{by}\t{a}\n"


def write_figures(rows: Iterable[tuple], *, chunk: int = COPY_CHUNK) -> int:
    """Insert figure rows: on PostgreSQL (``ops.db.fast_paths()``) COPY from an in-memory buffer of
    ``chunk`` rows at a time, taken from the generator (each its own transaction, so the deferred
    foreign-key checks stay small); ``bulk_create`` elsewhere (or with ``DB_FAST_PATHS=0``)."""
    rows = iter(rows)
    written = 0
    if fast_paths():
        quote = connection.ops.quote_name
        columns = ", ".join(quote(Figure._meta.get_field(f).column) for f in FIGURE_FIELDS)
        sql = f"COPY {quote(Figure._meta.db_table)} ({columns}) FROM STDIN"
        while True:
            part = list(islice(rows, chunk))
            if not part:
                return written
            buffer = io.StringIO("".join(_copy_lines(part)))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.cursor.copy_expert(sql, buffer, size=1 << 16)
            written += len(part)
    while part := list(islice(rows, 5000)):
        Figure.objects.bulk_create([Figure(**dict(zip(FIGURE_FIELDS, row, strict=True))) for row in part])
        written += len(part)
    return written


def build_statistics(campaign: Campaign, size: Size, by: User, progress: Callable[[str], None]) -> dict[str, Any]:
    """The catalogue, the rounds, last year's campaign and both years' figures from every unit."""
    started = time.perf_counter()
    with transaction.atomic():
        before = last_year(campaign)
        now_indicators, old_indicators = catalogue(campaign, size.indicators), catalogue(before, size.indicators)
        rounds(campaign)
    units = list(Unit.objects.filter(path__startswith=Unit.objects.get(code=HQ_CODE).path).values_list("pk", flat=True))
    levels = {
        "this": {code: 1.0 for code, *_ in CATALOGUE},
        "last": {code: ly for code, _n, _m, _mean, ly in CATALOGUE},
    }
    written = write_figures(figure_rows(campaign, now_indicators, units, level=levels["this"], by=by.pk, seed=SEED))
    written += write_figures(figure_rows(before, old_indicators, units, level=levels["last"], by=by.pk, seed=SEED + 1))
    seconds = time.perf_counter() - started
    progress(
        f"{written:,} figures ({len(units):,} units × {(campaign.end - campaign.start).days + 1} days × "
        f"{size.indicators} indicators × 2 campaigns) in {seconds:.1f} s "
        f"({'COPY' if fast_paths() else 'bulk_create'})"
    )
    return {"figures": written, "figures_s": round(seconds, 1), "copy": fast_paths()}


def analyze() -> None:
    """What a live database's autovacuum would have done: planner statistics and the visibility map."""
    with connection.cursor() as cursor:
        # VACUUM cannot run in a transaction (a test's): ANALYZE then
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")


# --- The bare SQL ---------------------------------------------------------------------------------------


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
               COUNT(CASE WHEN a.due_date < %s AND a.status <> %s THEN 1 END)
        FROM {t["a"]} a JOIN {t["i"]} i ON i.id = a.item_id JOIN {t["u"]} u ON u.id = a.unit_id
        WHERE a.campaign_id = %s AND a.is_active = %s AND u.path LIKE %s
        GROUP BY i.action_id, SUBSTR(u.path, 1, %s)"""  # noqa: S608
    accepted = AssignmentStatus.ACCEPTED.value
    return sql, [width, accepted, ask.today, accepted, ask.campaign.pk, True, ask.unit.path + "%", width]


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
               COUNT(CASE WHEN a.due_date < %s AND a.status <> %s THEN 1 END)
        FROM {t["a"]} a JOIN {t["u"]} u ON u.id = a.unit_id
        WHERE a.campaign_id = %s AND a.is_active = %s AND u.path LIKE %s
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
        width, S.ACCEPTED.value, today, today, S.SUBMITTED.value, S.ACCEPTED.value, today, S.ACCEPTED.value,
        ask.campaign.pk, True, like, width,
        width, F_.CLOSED.value, today, F_.CLOSED.value, settings.TIME_ZONE, F_.CLOSED.value, ask.campaign.pk, like, width,
    ]  # fmt: skip
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
                line["by_unit"][columns[branch]] = int(total)
                line["total"] += int(total)
            elif part != "now":
                line[part] = int(total)
        _, _, _, previous = totals_windows(ask)
        if previous:
            for line in out.values():
                line["previous"] = line["previous"] or 0
    return out


def api_numbers(ask: Ask, body: dict) -> dict:
    """The same numbers from the API's JSON."""
    if ask.board == "battle":
        return {(c["action"], c["unit"]): (c["total"], c["done"], c["overdue"]) for c in body["cells"]}
    if ask.board == "ranking":
        keys = ("total", "done", "due", "in_time", "overdue", "findings", "open_findings")
        return {s["unit"]["id"]: tuple(s[k] for k in keys) for s in body["standings"] if any(s[k] for k in keys)}
    return {
        line["indicator"]["id"]: {
            "total": line["total"], "last_year": line["last_year"], "previous": line["previous"],
            "by_unit": {int(k): v for k, v in line["by_unit"].items()},
        }
        for line in body["lines"]
        if line["total"] or line["last_year"] or line["previous"]
    }  # fmt: skip


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


def time_bare(sql: str, params: list[Any], n: int) -> tuple[Bare, list[tuple]]:
    """``n`` timed runs (execute + fetch) after ``WARMUP`` untimed ones, on the same connection."""
    times, rows = [], []
    with connection.cursor() as cursor:
        for k in range(WARMUP + n):
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if k >= WARMUP:
                times.append(_ms(time.perf_counter() - started))
    return Bare(sql, times, len(rows)), rows


# --- Measuring ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One measured request: who asks, which board, under which unit (a code), for which window."""

    name: str
    persona: str
    board: str
    unit: str
    window: str = ""  # totals: "" the campaign so far, "last30", or "round2"


PROBES = (
    Probe("battle board · province", "hq", "battle", HQ_CODE),
    Probe("battle board · city", "city_leader", "battle", CITY_CODE),
    Probe("ranking · province", "hq", "ranking", HQ_CODE),
    Probe("ranking · city", "city_leader", "ranking", CITY_CODE),
    Probe("totals · province, whole campaign", "hq", "totals", HQ_CODE),
    Probe("totals · province, last 30 days", "hq", "totals", HQ_CODE, "last30"),
    Probe("totals · province, round 2", "hq", "totals", HQ_CODE, "round2"),
    Probe("totals · city, whole campaign", "city_leader", "totals", CITY_CODE),
)
LEVELS = (("province", HQ_CODE), ("city", CITY_CODE), ("county", COUNTY_CODE))


def ask_for(probe: Probe, campaign: Campaign, today: date) -> Ask:
    unit = Unit.objects.get(code=probe.unit)
    if probe.window == "last30":
        end = min(campaign.end, today)
        return Ask(probe.board, unit, campaign, today, start=end - timedelta(days=29), end=end)
    if probe.window.startswith("round"):
        chosen = list(Round.objects.filter(campaign=campaign).order_by("start"))[int(probe.window[5:]) - 1]
        return Ask(probe.board, unit, campaign, today, round=chosen)
    return Ask(probe.board, unit, campaign, today)


@dataclass
class Measured:
    probe: Probe
    url: str
    timed: Timed
    bare: Bare
    same: bool  # the API's numbers are those of the SQL over the source rows (the figures, the assignments …)
    differences: list[str] = field(default_factory=list)
    figures: Bare | None = None  # totals on PostgreSQL: the same numbers from the figures alone, no rollup

    @property
    def ratio(self) -> float:
        return self.timed.pct(95) / self.bare.p95 if self.bare.p95 else math.inf

    @property
    def met(self) -> bool:
        return self.timed.pct(95) < GOAL_MS and self.ratio <= GOAL_RATIO


def _columns(unit: Unit) -> dict[str, int]:
    """Path → id of the unit and its children (the columns a board may show)."""
    rows = Unit.objects.filter(path__startswith=unit.path, depth__lte=unit.depth + 1).values_list("path", "pk")
    return dict(rows)


def _diff(api: dict, bare: dict) -> list[str]:
    keys = sorted(set(api) | set(bare), key=str)
    return [f"{k}: API {api.get(k)} ≠ SQL {bare.get(k)}" for k in keys if api.get(k) != bare.get(k)][:5]


def measure(probe: Probe, campaign: Campaign, client: Client, n: int, today: date) -> Measured:
    """The request through the stack (``time_page``), then its bare SQL as many times, and the check that
    both give the same numbers."""
    ask = ask_for(probe, campaign, today)
    url = f"{PATHS[probe.board]}?{ask.query()}"
    timed = time_page(Target(probe.name, probe.persona, url, GOAL_MS), url, client, n)
    sql, params = BARE[probe.board](ask)
    bare, rows = time_bare(sql, params, n)
    columns = _columns(ask.unit)
    figures, truth = None, rows
    if probe.board == "totals" and fast_paths():
        figures, truth = time_bare(*totals_figures_sql(ask), min(n, FIGURES_RUNS))
    response = client.get(url)
    differences = [f"HTTP {response.status_code}"]
    if response.status_code == 200:
        expected = bare_numbers(ask, truth, columns)
        differences = _diff(api_numbers(ask, response.json()), expected)
        differences += [f"bare SQL: {d}" for d in _diff(bare_numbers(ask, rows, columns), expected)]
    return Measured(probe, url, timed, bare, not differences, differences, figures)


def queries_by_level(board: str, campaign: Campaign, client: Client, today: date) -> dict[str, int]:
    """Queries of one request of ``board`` under the province, a city and a county (after a warm-up)."""
    out = {}
    for level, code in LEVELS:
        ask = Ask(board, Unit.objects.get(code=code), campaign, today)
        url = f"{PATHS[board]}?{ask.query()}"
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        out[level] = len(ctx.captured_queries) if response.status_code == 200 else -response.status_code
    return out


def explain(sql: str, params: list[Any]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


# --- Output -----------------------------------------------------------------------------------------------


def measured_summary(measured: list[Measured]) -> list[dict[str, Any]]:
    return [
        {
            "n": n,
            "name": m.probe.name,
            "persona": m.probe.persona,
            "url": m.url,
            "status": m.timed.status,
            "requests": len(m.timed.times_ms),
            "p50_ms": round(m.timed.p50, 1),
            "p95_ms": round(m.timed.pct(95), 1),
            "max_ms": round(max(m.timed.times_ms), 1),
            "queries": m.timed.queries,
            "queries_seen": m.timed.queries_seen,
            "sql_in_request_p50_ms": round(statistics.median(m.timed.sql_ms), 1),
            "bare_p50_ms": round(m.bare.p50, 1),
            "bare_p95_ms": round(m.bare.p95, 1),
            "bare_rows": m.bare.rows,
            "ratio_p95": round(m.ratio, 2),
            "figures_sql_p50_ms": round(m.figures.p50, 1) if m.figures else None,
            "figures_sql_p95_ms": round(m.figures.p95, 1) if m.figures else None,
            "goal_met": m.met,
            "same_numbers": m.same,
            "differences": m.differences,
            "response_kb": round(m.timed.response_kb, 1),
            "statements": m.timed.statements,
        }
        for n, m in enumerate(measured, start=1)
    ]


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    head = ("p50 ms", "p95 ms", "queries", "in SQL", "bare p50", "bare p95", "× bare", "same", "KB", "no rollup")
    widths = (7, 7, 7, 7, 8, 8, 8, 4, 5, 9)

    def cells(values) -> str:
        return " ".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))

    lines = [f"{'#':>2} {'request':35} {cells(head)}  goal p95 < {GOAL_MS:g} ms, ≤ {GOAL_RATIO:g}× bare"]
    for r in rows:
        no_rollup = "—" if r["figures_sql_p50_ms"] is None else f"{r['figures_sql_p50_ms']:.0f}"
        values = (
            f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", r["queries"], f"{r['sql_in_request_p50_ms']:.1f}",
            f"{r['bare_p50_ms']:.1f}", f"{r['bare_p95_ms']:.1f}", f"{r['ratio_p95']:.2f}×",
            "yes" if r["same_numbers"] else "NO", f"{r['response_kb']:.1f}", no_rollup,
        )  # fmt: skip
        lines.append(f"{r['n']:>2} {r['name'][:35]:35} {cells(values)}  {'ok' if r['goal_met'] else 'MISSED'}")
    lines.append("")
    lines += [f"{r['n']:>2} GET {r['url']}  ({r['persona']})" for r in rows]
    if any(r["figures_sql_p50_ms"] is not None for r in rows):
        lines.append(
            f"no rollup = p50 ms of the same totals from the figures alone ({FIGURES_RUNS} runs), without "
            "stats_rollup: what the rollup saves"
        )
    for r in rows:
        if len(r["queries_seen"]) != 1:
            lines.append(f"WARNING {r['n']}: query count varied between requests: {r['queries_seen']}")
        if not r["same_numbers"]:
            lines.append(f"WARNING {r['n']}: the API's numbers differ from the bare SQL's: {r['differences']}")
    return lines


def readme_lines(rows: list[dict[str, Any]]) -> list[str]:
    """A markdown row per request, to paste into README."""
    lines = [
        "| request | p50 | p95 | queries | bare SQL p50 / p95 | p95 ÷ bare p95 |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} ({r['persona']}) | {r['p50_ms']:.1f} ms | **{r['p95_ms']:.1f} ms** | {r['queries']} | "
            f"{r['bare_p50_ms']:.1f} / {r['bare_p95_ms']:.1f} ms | {r['ratio_p95']:.2f}× |"
        )
    return lines


def level_lines(levels: dict[str, dict[str, int]]) -> list[str]:
    lines = ["queries per request under the province, a city and a county (HQ; must be the same):"]
    for board, counts in levels.items():
        same = len(set(counts.values())) == 1
        text = ", ".join(f"{level} {q}" for level, q in counts.items())
        lines.append(f"   {board:8} {text}{'' if same else '  DIFFER'}")
    return lines
