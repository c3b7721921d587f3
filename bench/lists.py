"""Benchmark: the assignment lists people open all day (``manage.py bench_lists``).

Builds the synthetic province of ``bench_plan_import`` (≈1,650 units, a 77-item plan published to
≈114,000 assignments) in a scratch PostgreSQL database, spreads the statuses with one set-based
UPDATE, creates a station lead, a sub-bureau lead and an HQ user, and times the API pages in
``TARGETS`` in-process (Django's test ``Client`` with a real session login): median, p95 and max
over ``--requests`` requests each after a few warm-up ones, with the number of SQL queries per
request, which must not depend on the number of rows.

"Today" is moved inside the campaign with ``time_machine`` (``--today``, default 2026-09-01) for
the whole measuring phase, so ``overdue`` means what it would mean mid-campaign; the due dates are
the plan's own (7月15日前 → 07-15, 8月底前 → 08-31, weekly and ongoing items → the campaign end).

The building and timing steps are module functions (``import_province``, ``create_personas``,
``session_clients``, ``time_page``, ``explain_page`` and the table printers) so that other list
benchmarks (``inspections``' ``bench_supervision``) measure and print the same way.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import Role, RoleGrant, Unit, User
from accounts.services import grant_role
from accounts.unitfile import import_units
from audit.models import AuditEvent, SecurityEvent
from bench.plan_import import (
    END,
    HQ_CODE,
    PLAN_FILE,
    SOURCES,
    START,
    UNITS_FILE,
    province_rows,
    statement_shape,
    write_plan_xlsx,
    write_units_csv,
)
from tasks.models import Action, Assignment, AssignmentStatus, Campaign, Item, Responsibility
from tasks.services.plans import PlanImportResult, import_plan

SCRATCH_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench_lists"
CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（列表基准测试）"
CODE = "BENCH-LISTS"
TODAY = date(2026, 9, 1)  # day 63 of 100: the 07-15 and 08-31 items are past due
USER_PREFIX = "bench_lists_"
# The first sub-bureau of the first city and its first station (codes from province_rows).
SUBBUREAU_CODE = f"{HQ_CODE}01001"
STATION_CODE = f"{SUBBUREAU_CODE}001"
PERSONAS: dict[str, tuple[str, str, str]] = {
    # persona: (role, unit code the user belongs to and is granted the role on, display name)
    "station_lead": (Role.UNIT_LEAD, STATION_CODE, "所长（基准）"),
    "subbureau_lead": (Role.UNIT_LEAD, SUBBUREAU_CODE, "分局负责人（基准）"),
    "hq": (Role.HQ, HQ_CODE, "省厅指挥部（基准）"),
}
WARMUP = 5


@dataclass(frozen=True)
class Target:
    """One page to time: who opens it, its URL and the p95 goal of the issue (None: no goal set).

    The URL may name ``{station}``, ``{subbureau}`` (unit codes) and ``{assignment}`` (the id of a
    submitted assignment of the station), filled in from the data built.
    """

    name: str
    persona: str
    url: str
    goal_ms: float | None = None


# Add a page with one line. Goals from the issue: a lead's page p95 < 50 ms, the HQ list < 100 ms.
TARGETS: tuple[Target, ...] = (
    Target("station lead: my tasks", "station_lead", "/api/v1/assignments/?mine=true", 50),
    Target("sub-bureau lead: subtree, overdue", "subbureau_lead", "/api/v1/assignments/?unit={subbureau}&overdue=true", 50),
    Target("HQ: in progress+returned, overdue", "hq", "/api/v1/assignments/?status=in_progress&status=returned&overdue=true", 100),
    Target("HQ: submitted", "hq", "/api/v1/assignments/?status=submitted", 100),
    Target("HQ: assignment detail", "hq", "/api/v1/assignments/{assignment}/"),
)  # fmt: skip
EXPLAIN_DEFAULT = 3  # --explain without numbers: the HQ filtered list

# Set-based status spread, by a fixed hash of the id so every run gives the same rows. Past-due
# work is mostly done; the rest is mostly under way. Shares are percentages, cumulative in order.
STATUS_SPREAD = {
    "past_due": (
        (AssignmentStatus.ACCEPTED, 50),
        (AssignmentStatus.SUBMITTED, 15),
        (AssignmentStatus.RETURNED, 10),
        (AssignmentStatus.IN_PROGRESS, 15),
        (AssignmentStatus.PENDING, 10),
    ),
    "not_yet_due": (
        (AssignmentStatus.ACCEPTED, 10),
        (AssignmentStatus.SUBMITTED, 15),
        (AssignmentStatus.RETURNED, 5),
        (AssignmentStatus.IN_PROGRESS, 40),
        (AssignmentStatus.PENDING, 30),
    ),
}


@dataclass
class Timed:
    target: Target
    url: str
    status: int
    rows: int | None  # the JSON "count" (1 without one); None for a page that is not JSON
    times_ms: list[float]
    queries: int  # CaptureQueriesContext on one more request
    queries_seen: list[int]  # distinct counts over the timed requests (an execute wrapper)
    sql_ms: list[float]  # per timed request: time inside cursor.execute (server + transfer)
    statements: list[str]
    response_kb: float

    def pct(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def met(self) -> bool | None:
        return None if self.target.goal_ms is None else self.pct(95) < self.target.goal_ms


@dataclass
class Explained:
    target: int
    statement: str
    plan: list[str]

    @property
    def top(self) -> str:
        return self.plan[0].strip() if self.plan else ""

    @property
    def scans(self) -> list[str]:
        return [line.strip().removeprefix("->  ") for line in self.plan if "Scan" in line]

    def timing(self, label: str) -> str:
        return next((line.split(":", 1)[1].strip() for line in self.plan if line.startswith(label)), "")


@dataclass
class Report:
    units: int = 0
    items: int = 0
    assignments: int = 0
    build_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    timed: list[Timed] = field(default_factory=list)
    explained: list[Explained] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)  # os.getloadavg() before and after


def _ms(seconds: float) -> float:
    return seconds * 1000


def _spread_sql() -> tuple[str, list[Any]]:
    """One UPDATE giving every assignment of the campaign a status from ``STATUS_SPREAD``."""
    table = connection.ops.quote_name(Assignment._meta.db_table)
    params: list[Any] = []

    def case(spread: tuple[tuple[str, int], ...]) -> str:
        whens, upto = [], 0
        for status, share in spread:
            upto += share
            whens.append("WHEN s.h < %s THEN %s")
            params.extend([upto, str(status)])
        return "CASE " + " ".join(whens) + " END"

    past, future = case(STATUS_SPREAD["past_due"]), case(STATUS_SPREAD["not_yet_due"])
    # Only the table name (from the model) and placeholders are interpolated; values are parameters.
    hashed = f"SELECT id, (id * 7919) %% 100 AS h FROM {table} WHERE campaign_id = %s"  # noqa: S608
    sql = f"UPDATE {table} a SET status = CASE WHEN a.due_date < %s THEN {past} ELSE {future} END, version = a.version + 1 FROM ({hashed}) s WHERE a.id = s.id"  # noqa: S608
    return sql, params


# --- Shared steps: building the province, personas, timing a page, printing the table ----------


def delete_province(code: str, users, unit_codes: list[str], sources: list[str], before=()) -> None:
    """Delete what a benchmark run created, children before parents (Item.action and Unit FKs
    PROTECT): first the querysets in ``before`` (rows of other apps pointing at these), then the
    campaign, its audit events, the users and the province's units."""
    campaigns = Campaign.objects.filter(code=code)
    with transaction.atomic():
        for qs in before:
            qs.delete()
        Assignment.objects.filter(campaign__in=campaigns).delete()
        Responsibility.objects.filter(item__campaign__in=campaigns).delete()
        Item.objects.filter(campaign__in=campaigns).delete()
        Action.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()
        AuditEvent.objects.filter(Q(source__in=sources) | Q(unit__code__in=unit_codes) | Q(actor__in=users)).delete()
        SecurityEvent.objects.filter(user__in=users).delete()  # the benchmark's own sign-ins
        RoleGrant.objects.filter(user__in=users).delete()
        users.delete()
        Unit.objects.filter(code=HQ_CODE).delete()  # treebeard deletes the whole subtree


def import_province(
    tmp: Path, rows: list, *, items: int, cities: int, name: str, code: str, progress: Callable[[str], None]
) -> PlanImportResult:
    """The units of ``rows`` and a published ``items``-item plan for them, through the real importers."""
    started = time.perf_counter()
    units_csv, plan_xlsx = tmp / UNITS_FILE, tmp / PLAN_FILE
    write_units_csv(units_csv, rows)
    import_units(units_csv)
    progress(f"units imported ({time.perf_counter() - started:.1f} s)")
    write_plan_xlsx(plan_xlsx, items, cities)
    result = import_plan(plan_xlsx, name=name, code=code, start=START, end=END, owner=HQ_CODE, publish=True)
    progress(f"plan imported and published: {result.assignments} assignments")
    return result


def create_personas(personas: dict[str, tuple[str, str, str]], prefix: str, source: str) -> dict[str, User]:
    """One user per persona (no password), belonging to its unit and granted its role there."""
    units = {u.code: u for u in Unit.objects.filter(code__in=[code for _, code, _ in personas.values()])}
    made = {}
    for persona, (role, code, name) in personas.items():
        made[persona] = user = User.objects.create_user(prefix + persona, name=name, unit=units[code])
        grant_role(user=user, role=role, unit=units[code], source=source)
    return made


def session_clients(users: Iterable[User], prefix: str) -> dict[str, Client]:
    """A logged-in test client per user, keyed by persona (the username without ``prefix``)."""
    clients: dict[str, Client] = {}
    for user in users:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)  # a real session: each request reads it and the user, as in production
        clients[user.username.removeprefix(prefix)] = client
    return clients


def time_page(target: Target, url: str, client: Client, n: int) -> Timed:
    """``n`` timed GETs of ``url`` after ``WARMUP`` untimed ones, then one with its queries captured."""
    for _ in range(WARMUP):
        client.get(url)
    seen: Counter[int] = Counter()
    executed, in_sql = 0, 0.0

    def count(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        nonlocal executed, in_sql
        executed += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql += time.perf_counter() - started

    statuses: set[int] = set()
    times: list[float] = []
    sql_ms: list[float] = []
    gc.collect()
    with connection.execute_wrapper(count):
        for _ in range(n):
            executed, in_sql = 0, 0.0
            started = time.perf_counter()
            response = client.get(url)
            times.append(_ms(time.perf_counter() - started))
            statuses.add(response.status_code)
            seen[executed] += 1
            sql_ms.append(_ms(in_sql))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    statuses.add(response.status_code)
    rows: int | None = 0
    if response.status_code == 200:
        is_json = response.get("Content-Type", "").startswith("application/json")
        rows = response.json().get("count", 1) if is_json else None
    return Timed(
        target=target,
        url=url,
        status=next((s for s in sorted(statuses) if s != 200), 200),  # any failure shows
        rows=rows,
        times_ms=times,
        queries=len(ctx.captured_queries),
        queries_seen=sorted(set(seen) | {len(ctx.captured_queries)}),
        sql_ms=sql_ms,
        statements=[statement_shape(q["sql"]) for q in ctx.captured_queries],
        response_kb=len(response.content) / 1024,
    )


def explain_page(number: int, url: str, client: Client, tables: Iterable[str]) -> list[Explained]:
    """The plans of the statements the page ran that read one of ``tables`` (count, page, prefetch)."""
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    wanted = [f'FROM "{table}"' for table in tables]
    done = []
    for query in ctx.captured_queries:
        if not any(w in query["sql"] for w in wanted):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = [row[0] for row in cursor.fetchall()]
        done.append(Explained(number, query["sql"], plan))
    return done


def target_summary(timed: list[Timed]) -> list[dict[str, Any]]:
    return [
        {
            "n": n,
            "name": t.target.name,
            "persona": t.target.persona,
            "url": t.url,
            "status": t.status,
            "rows": t.rows,
            "requests": len(t.times_ms),
            "p50_ms": round(t.p50, 2),
            "p95_ms": round(t.pct(95), 2),
            "max_ms": round(max(t.times_ms), 2),
            "queries": t.queries,
            "queries_seen": t.queries_seen,
            "sql_p50_ms": round(statistics.median(t.sql_ms), 2),
            "response_kb": round(t.response_kb, 1),
            "goal_p95_ms": t.target.goal_ms,
            "goal_met": t.met,
            "statements": t.statements,
        }
        for n, t in enumerate(timed, start=1)
    ]


def explain_summary(explained: list[Explained]) -> list[dict[str, Any]]:
    return [
        {
            "target": e.target,
            "sql": e.statement,
            "top": e.top,
            "planning": e.timing("Planning Time"),
            "execution": e.timing("Execution Time"),
            "plan": e.plan,
        }
        for e in explained
    ]


def run_lines(requests: int, load: list[list[float]]) -> list[str]:
    """How the pages were requested, and the load on the machine around it."""
    return [
        f"{requests} requests per page after {WARMUP} warm-up, in-process "
        "(test Client, session login, DEBUG off); SQL p50 = ms inside cursor.execute per request",
        f"load average (1/5/15 min) before {load[0]}, after {load[-1]} "
        f"on {os.cpu_count()} CPUs: other work on the machine shows in the figures",
    ]


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    """The figures table, the URLs behind its numbers and a warning for any varying query count."""
    lines = [
        f"{'#':>2} {'page':36}{'rows':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}{'SQL p50':>9}"
        f"{'HTTP':>6}{'KB':>7}  goal p95",
    ]
    for t in targets:
        goal = "—" if t["goal_p95_ms"] is None else f"< {t['goal_p95_ms']:g} {'ok' if t['goal_met'] else 'MISSED'}"
        rows = "—" if t["rows"] is None else f"{t['rows']:,}"
        lines.append(
            f"{t['n']:>2} {t['name'][:35]:36}{rows:>8}{t['p50_ms']:>9.1f}{t['p95_ms']:>9.1f}"
            f"{t['max_ms']:>9.1f}{t['queries']:>9}{t['sql_p50_ms']:>9.1f}{t['status']:>6}{t['response_kb']:>7.1f}"
            f"  {goal}"
        )
    lines.append("")
    for t in targets:
        lines.append(f"{t['n']:>2} GET {t['url']}  ({t['persona']})")
    for t in targets:
        if len(t["queries_seen"]) != 1:
            lines.append(f"WARNING {t['n']}: query count varied between requests: {t['queries_seen']}")
    return lines


def explain_lines(explained: list[dict[str, Any]]) -> list[str]:
    lines = []
    for e in explained:
        kind = "count" if "COUNT(" in e["sql"] else "page"
        lines += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS), target {e['target']}, {kind} query: "
            f"planning {e['planning']}, execution {e['execution']}",
            f"  top: {e['top']}",
            *(f"  scan: {line}" for line in Explained(e["target"], e["sql"], e["plan"]).scans),
        ]
    return lines


class Command(BaseCommand):
    help = (
        "Benchmark the assignment API pages a station lead, a sub-bureau lead and HQ open all day, "
        "on the synthetic province of bench_plan_import (≈114,000 assignments) in a scratch PostgreSQL "
        "database: p50/p95/max over in-process requests and SQL queries per request. It builds its own "
        "units and users, so it refuses a database that already holds units or campaigns (--reset "
        "deletes them, scratch databases only). 'Today' is moved to --today with time_machine. "
        f"Example: createdb -h 127.0.0.1 -U postgres tracker_bench_lists; DATABASE_URL={SCRATCH_URL} "
        "manage.py migrate; DATABASE_URL=… manage.py bench_lists [--explain] [--json]."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page (default 200)")
        parser.add_argument("--today", type=date.fromisoformat, default=TODAY, help=f"Default {TODAY}")
        parser.add_argument("--stations", type=int, default=1500)
        parser.add_argument("--cities", type=int, default=11)
        parser.add_argument("--subbureaus", type=int, default=120)
        parser.add_argument("--items", type=int, default=77)
        parser.add_argument(
            "--explain",
            type=int,
            nargs="*",
            metavar="N",
            help=f"EXPLAIN (ANALYZE, BUFFERS) the list queries of target N (1-based; default {EXPLAIN_DEFAULT})",
        )
        parser.add_argument("--keep", action="store_true", help="Leave the data in place (for --reuse)")
        parser.add_argument("--reuse", action="store_true", help="Measure the data a --keep run left, no rebuild")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every assignment, campaign, role grant, audit event and unit first (scratch databases only)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        try:
            import time_machine
        except ImportError:
            raise CommandError("bench_lists needs time_machine: pip install -r requirements-dev.txt") from None
        for name in ("requests", "stations", "cities", "subbureaus", "items"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        if not START <= options["today"] <= END:
            raise CommandError(f"--today must be inside the campaign, {START}..{END}")
        explain = options["explain"]
        if explain is not None:
            explain = explain or [EXPLAIN_DEFAULT]
            if bad := [n for n in explain if not 1 <= n <= len(TARGETS)]:
                raise CommandError(f"--explain: no target {bad}; there are {len(TARGETS)}")
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])
        report = Report()
        reuse = options["reuse"]
        self._check_database(reset=options["reset"], reuse=reuse)
        try:
            if not reuse:
                with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
                    self._build(Path(tmp), rows, options, report)
            self._describe(report, options["today"])
            moment = datetime.combine(options["today"], dtime(9, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))
            # DEBUG off: Django would otherwise log every query of every request (CaptureQueriesContext
            # switches the log on for the one request it wraps).
            with override_settings(DEBUG=False), time_machine.travel(moment, tick=True):
                report.load.append(os.getloadavg())
                self._measure(report, options["requests"], explain or [])
                report.load.append(os.getloadavg())
        finally:
            if not options["keep"]:
                self._cleanup([r[0] for r in rows])
        self._print(report, options["today"])
        failed = [t for t in report.timed if t.status != 200 or len(t.queries_seen) != 1]
        if failed:
            raise CommandError(
                "; ".join(f"{t.target.name}: HTTP {t.status}, query counts {t.queries_seen}" for t in failed)
            )

    # --- steps ---

    def _progress(self, text: str) -> None:
        (self.stderr if self.as_json else self.stdout).write(text)

    def _check_database(self, *, reset: bool, reuse: bool) -> None:
        hint = f"Point it at a scratch database: DATABASE_URL={SCRATCH_URL} (createdb, then manage.py migrate)."
        if connection.vendor != "postgresql":
            raise CommandError(f"bench_lists measures PostgreSQL; this database is {connection.vendor}. {hint}")
        if "tasks_assignment" not in connection.introspection.table_names():
            raise CommandError(f"The database is not migrated. Run manage.py migrate first. {hint}")
        if reuse:
            if reset:
                raise CommandError("--reuse measures the data in place; it cannot be combined with --reset")
            if not Campaign.objects.filter(code=CODE).exists() or self._users().count() != len(PERSONAS):
                raise CommandError(f"--reuse: no data from an earlier `bench_lists --keep` run here. {hint}")
            return
        if not (Unit.objects.exists() or Campaign.objects.exists()):
            return
        if not reset:
            raise CommandError(
                f"The database already holds units or campaigns; the benchmark builds its own. {hint} "
                "Or pass --reset to delete them (scratch databases only), or --reuse to measure a --keep run's data."
            )
        others = User.objects.filter(unit__isnull=False).exclude(username__startswith=USER_PREFIX)
        if others.exists():
            raise CommandError(f"--reset refused: users belong to units, this is not a scratch database. {hint}")
        with transaction.atomic():
            Session.objects.all().delete()
            for model in (Assignment, Responsibility, Item, Action, Campaign, RoleGrant, AuditEvent):
                model.objects.all().delete()
            self._users().delete()
            Unit.objects.all().delete()
        self._progress("--reset: deleted every assignment, campaign, role grant, audit event, unit and bench user.")

    def _users(self):
        return User.objects.filter(username__in=[USER_PREFIX + p for p in PERSONAS])

    def _build(self, tmp: Path, rows: list, options: dict[str, Any], report: Report) -> None:
        started = time.perf_counter()
        import_province(
            tmp, rows, items=options["items"], cities=options["cities"], name=CAMPAIGN_NAME, code=CODE,
            progress=self._progress,
        )  # fmt: skip
        create_personas(PERSONAS, USER_PREFIX, "bench_lists")
        campaign = Campaign.objects.get(code=CODE)
        sql, params = _spread_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [options["today"], *params, campaign.pk])
            self._progress(f"statuses spread over {cursor.rowcount} assignments (one UPDATE)")
            # What a live database's autovacuum would have done: statistics and the visibility map.
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Assignment._meta.db_table)}")
            cursor.execute("ANALYZE")
        report.build_s = time.perf_counter() - started

    def _describe(self, report: Report, today: date) -> None:
        campaign = Campaign.objects.get(code=CODE)
        report.units = Unit.objects.count()
        report.items = campaign.items.count()
        assignments = Assignment.objects.filter(campaign=campaign)
        report.assignments = assignments.count()
        report.statuses = dict(assignments.values_list("status").annotate(n=Count("id")).order_by("status"))
        late = Q(is_active=True, due_date__lt=today) & ~Q(status=AssignmentStatus.ACCEPTED)
        report.overdue = assignments.filter(late).count()

    def _placeholders(self) -> dict[str, Any]:
        detail = (
            Assignment.objects.filter(campaign__code=CODE, unit__code=STATION_CODE, status=AssignmentStatus.SUBMITTED)
            .order_by("id")
            .first()
        ) or Assignment.objects.filter(campaign__code=CODE, unit__code=STATION_CODE).order_by("id").first()
        if detail is None:
            raise CommandError(f"no assignment for station {STATION_CODE}: was the plan published?")
        return {"station": STATION_CODE, "subbureau": SUBBUREAU_CODE, "assignment": detail.pk}

    def _measure(self, report: Report, n: int, explain: list[int]) -> None:
        fill = self._placeholders()
        clients = session_clients(self._users(), USER_PREFIX)
        try:
            for number, target in enumerate(TARGETS, start=1):
                url = target.url.format(**fill)
                timed = time_page(target, url, clients[target.persona], n)
                report.timed.append(timed)
                self._progress(
                    f"{number}. {target.name}: p50 {timed.p50:.1f} ms, p95 {timed.pct(95):.1f} ms, "
                    f"{timed.queries} queries, HTTP {timed.status}"
                )
                if number in explain:
                    tables = [Assignment._meta.db_table]
                    report.explained.extend(explain_page(number, url, clients[target.persona], tables))
        finally:
            for client in clients.values():
                client.logout()

    def _cleanup(self, unit_codes: list[str]) -> None:
        delete_province(CODE, self._users(), unit_codes, [*SOURCES, "bench_lists"])
        self._progress("cleaned up (pass --keep to leave the data in place)")

    # --- output ---

    def _summary(self, r: Report, today: date) -> dict[str, Any]:
        return {
            "database": connection.settings_dict["NAME"],
            "units": r.units,
            "items": r.items,
            "assignments": r.assignments,
            "build_s": round(r.build_s, 1),
            "today": today.isoformat(),
            "today_by": "time_machine",
            "statuses": r.statuses,
            "overdue": r.overdue,
            "loadavg_before_after": [[round(x, 2) for x in load] for load in r.load],
            "targets": target_summary(r.timed),
            "explain": explain_summary(r.explained),
        }

    def _print(self, r: Report, today: date) -> None:
        s = self._summary(r, today)
        if self.as_json:
            self.stdout.write(json.dumps(s, ensure_ascii=False))
            return
        statuses = ", ".join(f"{k} {v:,}" for k, v in s["statuses"].items())
        lines = [
            f"database {s['database']}: {s['units']:,} units, {s['items']} items, {s['assignments']:,} assignments"
            + (f" (built in {s['build_s']} s)" if r.build_s else " (reused)"),
            f"today = {s['today']} (time_machine); statuses: {statuses}; overdue {s['overdue']:,}",
            *run_lines(len(r.timed[0].times_ms) if r.timed else 0, s["loadavg_before_after"]),
            "",
            *target_lines(s["targets"]),
            *explain_lines(s["explain"]),
        ]
        self.stdout.write("\n".join(lines))
