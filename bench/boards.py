"""Benchmark: the HQ boards (``manage.py bench_boards``), issue 6: building the data and measuring the requests.

On the synthetic province (``bench.province``: ≈1,650 units, the 77-item plan published through the
real importers), its assignments given a status mix and submission dates by one UPDATE, the findings
(with inspections, notices and hotspots) of ``bench_supervision``'s ``Seeder``, a catalogue of 10
indicators and three rounds, last year's closed campaign with the same indicator codes
(``compare_to``), and a figure per unit × day × indicator for both years (≈3.3 million, COPY on
PostgreSQL, ``utilities.db.fast_paths()``, with ``bulk_create`` elsewhere), it times, as HQ at the province
and as a city's leader, the battle board, the ranking and the statistics totals with 同比/环比
(``PROBES``) through the whole Django stack (``bench.timing.time_page``: test ``Client``, a real
session, DRF, scope, serialisation): p50/p95 over ``--repeat`` requests and the SQL queries per
request; and, in the same run on the same connection, the hand-written SQL aggregate that computes
the same numbers (``bench.aggregates``), as many times. The API's numbers are checked against an
aggregate over the source rows. The queries per request must be the same under the province, a city
and a county.

"Today" is the campaign's last day (``time_machine``): every day has been reported, and the default
window of the totals is the whole campaign. The data is kept: the next run reuses it; ``--reset``
builds it again.
"""

from __future__ import annotations

import io
import math
import os
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, Unit, User
from bench import clients as concurrent
from bench import receipts
from bench.aggregates import (
    BARE,
    PATHS,
    Ask,
    Bare,
    api_numbers,
    bare_numbers,
    time_bare,
    time_floor,
    totals_figures_sql,
)
from bench.province import (
    END,
    HQ_CODE,
    NOT_YET_DUE,
    PAST_DUE,
    PROVINCE,
    START,
    Scratch,
    city_name,
    claim_scratch,
    create_personas,
    import_province,
    local_time,
    province_rows,
    session_clients,
    status_case,
    vacuum_analyze,
)
from bench.supervision import SUPERVISION, Seeder
from bench.supervision import Size as SupervisionSize
from bench.supervision import people as supervision_people
from bench.timing import (
    WARMUP,
    ScaledBenchCommand,
    Target,
    Timed,
    explain,
    explain_page,
    load_line,
    load_summary,
    time_page,
)
from boards.models import Export, Weights
from inspections.models import Finding
from stats.demo import CATALOGUE as DEMO_CATALOGUE
from stats.models import Figure, Indicator, Kind, Round
from stats.queries import SERIAL
from tasks.models import Assignment, Campaign, CampaignStatus, Item
from utilities.db import fast_paths

CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（看板基准测试）"
CODE = "BENCH-BOARDS"
LAST_YEAR_CODE = "BENCH-BOARDS-2025"
USER_PREFIX = "bench_boards_"
SOURCE = "bench_boards"
SCRATCH = Scratch(
    command="bench_boards",
    database="tracker_bench_boards",
    table=Figure._meta.db_table,
    wipe=(Session, Figure, Indicator, Round, Weights, Export, *SUPERVISION, *PROVINCE),
    wiped="every unit, campaign, figure and record",
    user_prefix=USER_PREFIX,
    postgresql=False,  # it runs on SQLite too (the smoke tests), without the rollup
    truncate=(Figure,),
    vacuum_full=True,
)
TODAY = END  # the campaign's last day: all 100 days reported, the "campaign so far" is the whole campaign
SEED = 2026
CITY_CODE = f"{HQ_CODE}01"  # the city leader's city (江城)
COUNTY_CODE = f"{CITY_CODE}001"  # its first sub-bureau (区县级)
GOAL_MS = 300.0  # the issue: p95 under 300 ms …
GOAL_RATIO = 2.0  # … and no more than twice the bare SQL
FIGURES_RUNS = 10  # totals on PostgreSQL: runs of the figures-only aggregate (≈0.5 s each for the province)
COPY_CHUNK = 200_000  # figure rows per COPY (each its own transaction: the deferred FK checks stay small)

# code, name, measure, a unit's daily mean this year, last year's level relative to this year's
CATALOGUE = (  # the demo's indicators (one catalogue), then four more a province reports
    *DEMO_CATALOGUE,
    ("cases", "破获刑事案件", "起", 0.6, 0.9),
    ("suspects", "抓获犯罪嫌疑人", "名", 0.9, 0.92),
    ("disputes", "化解矛盾纠纷", "起", 2, 1.05),
    ("checks", "盘查可疑人员", "人次", 15, 0.97),
    # issue 20: money (stored in 元, shown in 万元) and the denominator of a computed rate
    ("funds", "涉案资金", "万元", 2400, 0.9),
    ("filed", "刑事立案", "起", 0.8, 1.0),
)
MONEY = {"funds"}
# a computed rate (破案率 = 破获刑事案件 ÷ 刑事立案): no figures of its own, the ratio of its parts' sums
RATES = (("solve_rate", "破案率", "cases", "filed"),)
ROUNDS = (
    ("第一轮集中统一行动", (7, 7), (7, 9)),
    ("第二轮集中统一行动", (8, 4), (8, 6)),
    ("第三轮集中统一行动", (9, 8), (9, 10)),
)
ROUND_INTENSITY = 2.5  # a round's days see this much more work than an ordinary day

# Assignments: statuses spread as bench_lists spreads them (``PAST_DUE`` / ``NOT_YET_DUE``); those that
# went for acceptance got a submission date, most by the due date.
IN_TIME_PCT = 75  # of the past-due work that was submitted, the share submitted by its due date


@dataclass(frozen=True)
class Size:
    """What to build: the province of bench_plan_import, 20,000 findings (bench_supervision's size),
    12 indicators reported daily by every unit (a money one among them), and a computed rate."""

    cities: int = 11
    subbureaus: int = 120
    stations: int = 1500
    items: int = 77
    findings: int = 20_000
    indicators: int = 12

    @property
    def supervision(self) -> SupervisionSize:
        return SupervisionSize(
            cities=self.cities,
            subbureaus=self.subbureaus,
            stations=self.stations,
            items=self.items,
            findings=self.findings,
            notices=max(1, self.findings * 3 // 20),
        )


def personas(cities: int) -> dict[str, tuple[str, str, str]]:
    """bench_supervision's people (HQ, an inspector and a liaison per city: the findings need them)
    and the city's leader, who is measured beside HQ."""
    return supervision_people(cities) | {"city_leader": (Role.LEADER, CITY_CODE, f"{city_name(0)}市局领导（基准）")}


MEASURED = ("hq", "city_leader")


# --- Building ---------------------------------------------------------------------------------------


def _plus_days(day_sql: str, days_sql: str) -> str:
    """SQL for a date plus a number of days (either may be an expression)."""
    if connection.vendor == "postgresql":
        return f"({day_sql} + CAST({days_sql} AS integer))"
    return f"date({day_sql}, ({days_sql}) || ' days')"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if connection.vendor == "postgresql" else f"MIN({a}, {b})"


def _morning(day_sql: str, params: list[Any]) -> str:
    """SQL for 10:00 local time (``TIME_ZONE``) on a day, as a stored moment."""
    if connection.vendor == "postgresql":
        params.append(settings.TIME_ZONE)
        return f"((CAST({day_sql} AS timestamp) + interval '10 hours') AT TIME ZONE %s)"
    offset = datetime.now(ZoneInfo(settings.TIME_ZONE)).utcoffset().total_seconds() // 60
    return f"datetime({day_sql}, '{10 * 60 - offset:+.0f} minutes')"


def spread_work(campaign: Campaign, today: date) -> int:
    """One UPDATE: every assignment's status (``PAST_DUE`` / ``NOT_YET_DUE`` by a fixed hash of its id)
    and, for work that went for acceptance, the day it did: past-due work mostly by its due date
    (``IN_TIME_PCT``), else up to 9 days late (never after today); other work in the last 20 days. The row's
    ``updated_at`` is that day's morning (work not sent in: a day of the last 20), so the board's ledger
    (``boards.BoardDelta``) dates each change as a campaign would have."""
    table = connection.ops.quote_name(Assignment._meta.db_table)
    h = "((id * 7919) %% 100)"
    params: list[Any] = []
    past, future = status_case(PAST_DUE, h, params), status_case(NOT_YET_DUE, h, params)
    went = {spread: sum(s for v, s in spread[:3]) for spread in (PAST_DUE, NOT_YET_DUE)}  # accepted … returned
    in_time = _plus_days("due_date", "-(id %% 10)")
    late = _least(_plus_days("due_date", "1 + id %% 9"), "%s")
    recent = _plus_days("%s", "-(id %% 20)")
    submitted = f"""CASE
                WHEN due_date < %s AND {h} < %s THEN
                    CASE WHEN ((id * 104729) %% 100) < %s THEN {in_time} ELSE {late} END
                WHEN due_date >= %s AND {h} < %s THEN {recent}
                ELSE NULL END"""
    submitted_args = [today, went[PAST_DUE], IN_TIME_PCT, today, today, went[NOT_YET_DUE], today]
    moment_args: list[Any] = []
    moment = _morning(f"COALESCE({submitted}, {recent})", moment_args)
    # Only the table name (from the model) and fixed SQL fragments are interpolated; values are parameters.
    sql = f"""
        UPDATE {table} SET
            status = CASE WHEN due_date < %s THEN {past} ELSE {future} END,
            submitted_on = {submitted},
            updated_at = CASE WHEN (CASE WHEN due_date < %s THEN {past} ELSE {future} END) = 'pending'
                THEN updated_at ELSE {moment} END,
            version = version + 1
        WHERE campaign_id = %s"""  # noqa: S608
    args = [
        today,
        *params,
        *submitted_args,
        today,
        *params,
        *submitted_args,
        today,
        *moment_args,
        campaign.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.rowcount


def seed_findings(campaign: Campaign, users: dict[str, User], size: Size, today: date) -> dict[str, int]:
    """bench_supervision's findings, notices, inspections and hotspots (bulk_create, fixed seed)."""
    return dict(Seeder(campaign, users, size.supervision, today).run())


def catalogue(campaign: Campaign, n: int) -> list[Indicator]:
    """The first ``n`` of ``CATALOGUE`` (money as money), then each rate of ``RATES`` whose parts are in."""
    made = Indicator.objects.bulk_create(
        [
            Indicator(
                campaign=campaign,
                code=code,
                name=name,
                measure=measure,
                seq=seq,
                kind=Kind.MONEY if code in MONEY else Kind.COUNT,
            )
            for seq, (code, name, measure, _mean, _ly) in enumerate(CATALOGUE[:n], start=1)
        ]
    )
    codes = {i.code: i for i in made}
    rates = [
        Indicator(
            campaign=campaign,
            code=code,
            name=name,
            measure="%",
            seq=len(made) + k,
            kind=Kind.RATE,
            numerator=codes[num],
            denominator=codes[den],
        )
        for k, (code, name, num, den) in enumerate(RATES, start=1)
        if num in codes and den in codes
    ]
    return made + Indicator.objects.bulk_create(rates)


def last_year(campaign: Campaign) -> Campaign:
    """Last year's campaign, closed, the same days a year before; this year's compares with it (同比)."""
    before = Campaign.objects.create(
        code=LAST_YEAR_CODE,
        name=f"{campaign.name}（{campaign.start.year - 1}年）",
        owner=campaign.owner,
        start=campaign.start.replace(year=campaign.start.year - 1),
        end=campaign.end.replace(year=campaign.end.year - 1),
        status=CampaignStatus.CLOSED,
    )
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
    means = {i.pk: daily[i.code] * level[i.code] for i in indicators if i.code in daily}  # a rate: none
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
    """Insert figure rows: on PostgreSQL (``utilities.db.fast_paths()``) COPY from an in-memory buffer of
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
    bare, rows = time_floor(sql, params, n)
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


# --- Output -----------------------------------------------------------------------------------------------


BULLETIN = (  # issue 23.2: the bulletin of the last whole week, as HQ (the province)
    ("bulletin · province", "/board/bulletin/", 150),
    ("bulletin PDF · province", "/board/bulletin/pdf/", 500),
)


def time_bulletin(campaign: Campaign, client: Client, n: int) -> list[dict[str, Any]]:
    """The bulletin's print page and PDF (issue 23.2's goals), ``n`` // 3 times each (at least 5). The PDF's
    two charts are drawn by the first (untimed) request and kept in the cache, as when it is asked again."""
    out = []
    for name, path, goal in BULLETIN:
        url = f"{path}?campaign={campaign.pk}"
        t = time_page(Target(name, "hq", url, goal), url, client, max(n // 3, 5))
        out.append(
            {
                "name": name,
                "p50_ms": round(t.p50, 1),
                "p95_ms": round(t.pct(95), 1),
                "queries": t.queries,
                "goal_ms": goal,
                "status": t.status,
            }
        )
    return out


def bulletin_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['name']}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, {r['queries']} queries "
        f"(goal p95 ≤ {r['goal_ms']} ms)" + ("" if r["status"] == 200 else f"; HTTP {r['status']}")
        for r in rows
    ]


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
            "bare_serial": m.bare.sql.startswith(SERIAL),  # the floor was the plan without parallel workers
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
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            r["queries"],
            f"{r['sql_in_request_p50_ms']:.1f}",
            f"{r['bare_p50_ms']:.1f}",
            f"{r['bare_p95_ms']:.1f}{'s' if r.get('bare_serial') else ''}",
            f"{r['ratio_p95']:.2f}×",
            "yes" if r["same_numbers"] else "NO",
            f"{r['response_kb']:.1f}",
            no_rollup,
        )
        lines.append(f"{r['n']:>2} {r['name'][:35]:35} {cells(values)}  {'ok' if r['goal_met'] else 'MISSED'}")
    lines.append("")
    lines += [f"{r['n']:>2} GET {r['url']}  ({r['persona']})" for r in rows]
    lines.append(
        "bare = the hand-written SQL at its best: on PostgreSQL as planned and without parallel workers, the "
        "faster kept (s: serial)"
    )
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


@dataclass
class Report:
    units: int = 0
    items: int = 0
    assignments: int = 0
    province_s: float = 0.0  # 0: reused
    work_s: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    measured: list[Measured] = field(default_factory=list)
    levels: dict[str, dict[str, int]] = field(default_factory=dict)
    explained: list[dict[str, Any]] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)


class Command(ScaledBenchCommand):
    scratch = SCRATCH
    curve_what = "each request"
    help = (
        "Benchmark the HQ boards — battle board, ranking, statistics totals with 同比/环比 — as HQ (the "
        "province) and a city's leader, on the synthetic province of bench_plan_import with findings and "
        "≈3.3 million figures (this year and last), in a scratch PostgreSQL database: p50/p95 over in-process "
        "requests, SQL queries per request (the same under a province, a city and a county), and beside each "
        "the bare SQL aggregate computing the same numbers, timed as often in the same run. The data is kept "
        "and reused; --reset deletes every unit, campaign and record first (scratch databases only). "
        + SCRATCH.example("[--repeat 30] [--scale 0.5 1 2] [--explain] [--json]")
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests per board (default 30)")
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            metavar="N",
            help="Also N clients at once (processes, each its own connection) on the province's battle board and "
            "ranking, --repeat requests each per board: p95 over all (issue 19: ≤ 150 ms with 4)",
        )
        for name, default in asdict(Size()).items():
            parser.add_argument(f"--{name}", type=int, default=default, help=f"Default {default:,} (a build only)")
        parser.add_argument(
            "--explain",
            type=int,
            nargs="*",
            metavar="N",
            help="EXPLAIN (ANALYZE, BUFFERS) the statements of request N (1-based; default all) and its bare SQL",
        )
        self.scale_arguments(parser)
        self.output_arguments(parser, rebuild=True)

    def curve_point(self, summary: dict[str, Any]) -> tuple[int, list[tuple[str, float, int]]]:
        queries = {r["name"]: r["queries"] for r in summary["requests"]}
        rows = [(r["name"], r["p95_ms"], r["queries"]) for r in summary["requests"]]
        rows += [
            (f"{c['name']}, {c['clients']} clients", c["p95_ms"], queries.get(c["name"], 0))
            for c in summary.get("clients", [])
        ]
        return summary["assignments"], rows

    def handle_scale(self, **options: Any) -> None:
        self.time_machine()  # needed to measure: missing, say so before building
        size = Size(**{name: options[name] for name in asdict(Size())})
        self.at_least_one(options, ("repeat", *asdict(size)))
        if options["clients"] < 0:
            raise CommandError("--clients must be at least 1 (or 0: one client only)")
        if options["clients"] and connection.vendor != "postgresql":
            raise CommandError("--clients needs PostgreSQL: each client is a process with its own connection")
        if size.indicators > len(CATALOGUE):
            raise CommandError(f"--indicators: at most {len(CATALOGUE)}")
        explain = self.explained(options["explain"], range(1, len(PROBES) + 1), len(PROBES), "request")
        if explain and connection.vendor != "postgresql":
            raise CommandError("--explain needs PostgreSQL")
        report = Report()
        today = TODAY
        if claim_scratch(
            self.scratch, reset=options["reset"], progress=self.progress, reuse=lambda: self._reused(size)
        ):
            self._build(report, size, today)
        campaign = Campaign.objects.select_related("compare_to").get(code=CODE)
        self._describe(report, campaign)
        moment = local_time(today, 9)
        with self.measuring(moment, report.load):
            self._measure(report, campaign, options["repeat"], explain, today)
            if options["clients"]:
                self._measure_clients(report, campaign, options["clients"], options["repeat"], today)
        self._print(report, today)
        if problems := self._problems(report):
            raise CommandError("; ".join(problems))

    # --- steps ---

    @staticmethod
    def _reused(size: Size) -> bool:
        """An earlier run's data is measured again if it has this size; other data of ours is refused."""
        ours = Campaign.objects.filter(code=CODE)
        if not ours.exists():
            return False
        units = len(province_rows(size.cities, size.subbureaus, size.stations))
        days = (END - START).days + 1
        expected = units * days * size.indicators
        figures = Figure.objects.filter(campaign__in=ours).count()
        items = Item.objects.filter(campaign__in=ours).count()
        if (
            figures == expected
            and Unit.objects.count() == units
            and Finding.objects.count() == size.findings
            and items == size.items
        ):
            return True
        raise CommandError(
            f"The benchmark's data here has another size ({figures:,} figures this year, {expected:,} asked; "
            f"{items} items, {size.items} asked) "
            "or its build did not finish; pass --reset."
        )

    def _build(self, report: Report, size: Size, today: date) -> None:
        started = time.perf_counter()
        rows = province_rows(size.cities, size.subbureaus, size.stations)
        # published the day before the campaign starts: the ledger dates the plan's work then
        with self.time_machine().travel(local_time(START - timedelta(days=1), 9), tick=True):
            import_province(
                rows, items=size.items, cities=size.cities, name=CAMPAIGN_NAME, code=CODE, progress=self.progress
            )
            users = create_personas(personas(size.cities), USER_PREFIX, SOURCE)
        report.province_s = time.perf_counter() - started
        started = time.perf_counter()
        campaign = Campaign.objects.get(code=CODE)
        spread = spread_work(campaign, today)
        self.progress(f"statuses and submission dates spread over {spread:,} assignments (one UPDATE)")
        created = seed_findings(campaign, users, size, today)
        self.progress("supervision seeded (bulk_create): " + ", ".join(f"{n:,} {m}" for m, n in created.items()))
        report.work_s = time.perf_counter() - started
        report.data["build"] = build_statistics(campaign, size, users["hq"], self.progress)
        started = time.perf_counter()
        vacuum_analyze()
        self.progress(f"VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")

    def _describe(self, report: Report, campaign: Campaign) -> None:
        report.units = Unit.objects.count()
        report.items = campaign.items.count()
        work = Assignment.objects.filter(campaign=campaign)
        report.assignments = work.count()
        report.data |= {
            "statuses": dict(work.values_list("status").annotate(n=Count("id")).order_by("status")),
            "submitted_on": work.filter(submitted_on__isnull=False).count(),
            "findings": dict(
                Finding.objects.filter(campaign=campaign)
                .values_list("status")
                .annotate(n=Count("id"))
                .order_by("status")
            ),
            "indicators": campaign.indicators.count(),
            "rounds": [f"{r.name} {r.start:%m-%d}..{r.end:%m-%d}" for r in campaign.rounds.order_by("start")],
            "figures_this_year": Figure.objects.filter(campaign=campaign).count(),
            "figures_last_year": Figure.objects.filter(campaign=campaign.compare_to).count(),
            "compare_to": campaign.compare_to and campaign.compare_to.code,
        }

    def _measure(self, report: Report, campaign: Campaign, n: int, explain: list[int], today: date) -> None:
        users = SCRATCH.users().filter(username__in=[USER_PREFIX + p for p in MEASURED])
        clients = session_clients(users, USER_PREFIX)
        try:
            for number, probe in enumerate(PROBES, start=1):
                m = measure(probe, campaign, clients[probe.persona], n, today)
                report.measured.append(m)
                self.progress(
                    f"{number}. {probe.name}: p50 {m.timed.p50:.1f} ms, p95 {m.timed.pct(95):.1f} ms, "
                    f"{m.timed.queries} queries; bare SQL p50 {m.bare.p50:.1f} ms, p95 {m.bare.p95:.1f} ms; "
                    f"HTTP {m.timed.status}{'' if m.same else '; NUMBERS DIFFER'}"
                )
                if number in explain:
                    report.explained += self._explain(number, m, clients[probe.persona])
            for board in PATHS:
                report.levels[board] = queries_by_level(board, campaign, clients["hq"], today)
            hq, province = users.get(username=USER_PREFIX + "hq"), Unit.objects.get(code=HQ_CODE)
            pair = receipts.time_board_pair(hq, campaign, province, today, max(n, 3))
            report.data["receipts_board"] = pair.summary()
            report.data["chase"] = receipts.time_chase(hq, campaign, province, today, USER_PREFIX)
            self.progress("\n".join(receipts.lines(report.data["receipts_board"], report.data["chase"])))
            report.data["bulletin"] = time_bulletin(campaign, clients["hq"], n)
            self.progress("\n".join(bulletin_lines(report.data["bulletin"])))
        finally:
            for client in clients.values():
                client.logout()

    def _measure_clients(self, report: Report, campaign: Campaign, n: int, repeat: int, today: date) -> None:
        """The province's battle board and ranking (HQ) under ``n`` clients at once (``bench.clients``)."""
        hq = SCRATCH.users().get(username=USER_PREFIX + "hq")
        probes = [p for p in PROBES if p.persona == "hq" and p.board in ("battle", "ranking")]
        pages = [(p.name, f"{PATHS[p.board]}?{ask_for(p, campaign, today).query()}") for p in probes]
        self.progress(f"{n} clients at once on {', '.join(name for name, _ in pages)}: {repeat} requests each")
        report.load.append(os.getloadavg())
        rows, wall = concurrent.run_clients(hq, pages, n, repeat)
        report.load.append(os.getloadavg())
        report.data["clients"] = [r.summary(wall) for r in rows]

    @staticmethod
    def _explain(number: int, m: Measured, client) -> list[dict[str, Any]]:
        """The plans of the request's statements that read the big tables, then of its bare SQL."""
        big = [model._meta.db_table for model in (Assignment, Finding, Figure)]
        out = [
            {"n": number, "what": "request", "sql": e.statement, "plan": e.plan}
            for e in explain_page(number, m.url, client, big)
        ]
        sql, params = BARE[m.probe.board](ask_for(m.probe, Campaign.objects.get(code=CODE), TODAY))
        out.append({"n": number, "what": "bare SQL", "sql": sql, "plan": explain(sql, params)})
        return out

    # --- output ---

    @staticmethod
    def _problems(r: Report) -> list[str]:
        problems = [
            f"{m.probe.name}: HTTP {m.timed.status}, query counts {m.timed.queries_seen}"
            for m in r.measured
            if m.timed.status != 200 or len(m.timed.queries_seen) != 1
        ]
        problems += [
            f"{m.probe.name}: numbers differ from the bare SQL: {m.differences}" for m in r.measured if not m.same
        ]
        problems += [f"{b}: queries differ by level {q}" for b, q in r.levels.items() if len(set(q.values())) != 1]
        problems += [
            f"{c['name']}, {c['clients']} clients: HTTP {c['statuses']}"
            for c in r.data.get("clients", [])
            if c["statuses"] != [200]
        ]
        return problems

    def _summary(self, r: Report, today: date) -> dict[str, Any]:
        return {
            "database": connection.settings_dict["NAME"],
            "vendor": connection.vendor,
            "units": r.units,
            "items": r.items,
            "assignments": r.assignments,
            "province_s": round(r.province_s, 1),
            "work_s": round(r.work_s, 1),
            "today": today.isoformat(),
            "today_by": "time_machine",
            **r.data,
            "loadavg_before_after": load_summary(r.load),
            "requests": measured_summary(r.measured),
            "queries_by_level": r.levels,
            "explain": r.explained,
            "problems": self._problems(r),
        }

    def _print(self, r: Report, today: date) -> None:
        s = self._summary(r, today)
        if self.printed_json(s, default=str):
            return

        def spread(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in counts.items())

        build = s.get("build")
        built = (
            f"province built in {s['province_s']} s, work and findings in {s['work_s']} s, figures in "
            f"{build['figures_s']} s ({'COPY' if build['copy'] else 'bulk_create'})"
            if build
            else "reused"
        )
        n = len(r.measured[0].timed.times_ms) if r.measured else 0
        lines = [
            f"database {s['database']} ({s['vendor']}): {s['units']:,} units, {s['items']} items, "
            f"{s['assignments']:,} assignments ({built})",
            f"today = {s['today']}, the campaign's last day (time_machine); statuses: {spread(s['statuses'])}; "
            f"with a submission date {s['submitted_on']:,}",
            f"findings: {spread(s['findings'])}",
            f"statistics: {s['indicators']} indicators, rounds {'; '.join(s['rounds'])}; figures this year "
            f"{s['figures_this_year']:,}, last year ({s['compare_to']}) {s['figures_last_year']:,}",
            f"{n} requests per board after {WARMUP} warm-up, in-process (test Client, session login, DEBUG off); "
            "in SQL = ms inside cursor.execute per request (p50); bare = the hand-written aggregate, as many runs, "
            "same connection; × bare = p95 ÷ bare p95; same = the API's numbers (and the bare SQL's) are those of an "
            "aggregate over the source rows (the totals: the figures alone, no rollup)",
            load_line(s["loadavg_before_after"]),
            "",
            *table_lines(s["requests"]),
            "",
            *level_lines(s["queries_by_level"]),
            "",
            *receipts.lines(s["receipts_board"], s["chase"]),
            *bulletin_lines(s.get("bulletin", [])),
            "",
            *concurrent.lines(s.get("clients", []), {m["name"]: m["p95_ms"] for m in s["requests"]}),
            "",
            "for README:",
            *readme_lines(s["requests"]),
        ]
        for e in s["explain"]:
            lines += ["", f"EXPLAIN (ANALYZE, BUFFERS), request {e['n']}, {e['what']}:", *(f"  {x}" for x in e["plan"])]
        if s["problems"]:
            lines += ["", *(f"PROBLEM: {p}" for p in s["problems"])]
        self.stdout.write("\n".join(lines))
