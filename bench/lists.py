"""Benchmark: the assignment lists people open all day (``manage.py bench_lists``).

Builds the synthetic province (``bench.province``: ≈1,650 units, a 77-item plan published to
≈114,000 assignments) in a scratch PostgreSQL database, spreads the statuses with one set-based
UPDATE, creates a station lead, a sub-bureau lead and an HQ user, and times the API pages in
``TARGETS`` in-process (Django's test ``Client`` with a real session login): median, p95 and max
over ``--requests`` requests each after a few warm-up ones, with the number of SQL queries per
request, which must not depend on the number of rows.

"Today" is moved inside the campaign with ``time_machine`` (``--today``, default 2026-09-01) for
the whole measuring phase, so ``overdue`` means what it would mean mid-campaign; the due dates are
the plan's own (7月15日前 → 07-15, 8月底前 → 08-31, weekly and ongoing items → the campaign end).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.sessions.models import Session
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.db.models import Count

from accounts.models import Role, Unit, User
from bench.province import (
    END,
    HQ_CODE,
    NOT_YET_DUE,
    PAST_DUE,
    PROVINCE,
    SOURCES,
    START,
    Scratch,
    claim_scratch,
    create_personas,
    delete_province,
    import_province,
    local_time,
    province_rows,
    session_clients,
    status_case,
    vacuum_analyze,
)
from bench.timing import (
    Explained,
    ScaledBenchCommand,
    Target,
    Timed,
    explain_lines,
    explain_page,
    explain_summary,
    load_summary,
    run_lines,
    target_lines,
    target_summary,
    time_page,
)
from tasks.models import Assignment, AssignmentStatus, Campaign
from tasks.queries import overdue_q

CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（列表基准测试）"
CODE = "BENCH-LISTS"
TODAY = date(2026, 9, 1)  # day 63 of 100: the 07-15 and 08-31 items are past due
USER_PREFIX = "bench_lists_"
SCRATCH = Scratch(
    command="bench_lists",
    database="tracker_bench_lists",
    table=Assignment._meta.db_table,
    wipe=(Session, *PROVINCE),
    wiped="every assignment, campaign, role grant, audit event, unit and bench user",
    user_prefix=USER_PREFIX,
    also=", or --reuse to measure a --keep run's data",
)
# The first sub-bureau of the first city and its first station (codes from province_rows).
SUBBUREAU_CODE = f"{HQ_CODE}01001"
STATION_CODE = f"{SUBBUREAU_CODE}001"
PERSONAS: dict[str, tuple[str, str, str]] = {
    # persona: (role, unit code the user belongs to and is granted the role on, display name)
    "station_lead": (Role.UNIT_LEAD, STATION_CODE, "所长（基准）"),
    "subbureau_lead": (Role.UNIT_LEAD, SUBBUREAU_CODE, "分局负责人（基准）"),
    "hq": (Role.HQ, HQ_CODE, "省厅指挥部（基准）"),
}


# Add a page with one line. Goals from the issue: a lead's page p95 < 50 ms, the HQ list < 100 ms.
TARGETS: tuple[Target, ...] = (
    Target("station lead: my tasks", "station_lead", "/api/v1/assignments/?mine=true", 50),
    Target(
        "sub-bureau lead: subtree, overdue", "subbureau_lead", "/api/v1/assignments/?unit={subbureau}&overdue=true", 50
    ),
    Target(
        "HQ: in progress+returned, overdue",
        "hq",
        "/api/v1/assignments/?status=in_progress&status=returned&overdue=true",
        100,
    ),
    Target("HQ: submitted", "hq", "/api/v1/assignments/?status=submitted", 100),
    Target("HQ: assignment detail", "hq", "/api/v1/assignments/{assignment}/"),
)
EXPLAIN_DEFAULT = 3  # --explain without numbers: the HQ filtered list


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


def _spread_sql() -> tuple[str, list[Any]]:
    """One UPDATE giving every assignment of the campaign a status from ``PAST_DUE`` / ``NOT_YET_DUE``."""
    table = connection.ops.quote_name(Assignment._meta.db_table)
    params: list[Any] = []
    past, future = status_case(PAST_DUE, "s.h", params), status_case(NOT_YET_DUE, "s.h", params)
    # Only the table name (from the model) and placeholders are interpolated; values are parameters.
    hashed = f"SELECT id, (id * 7919) %% 100 AS h FROM {table} WHERE campaign_id = %s"  # noqa: S608
    sql = f"UPDATE {table} a SET status = CASE WHEN a.due_date < %s THEN {past} ELSE {future} END, version = a.version + 1 FROM ({hashed}) s WHERE a.id = s.id"  # noqa: S608
    return sql, params


class Command(ScaledBenchCommand):
    scratch = SCRATCH
    curve_what = "each page"
    help = (
        "Benchmark the assignment API pages a station lead, a sub-bureau lead and HQ open all day, "
        "on the synthetic province of bench_plan_import (≈114,000 assignments) in a scratch PostgreSQL "
        "database: p50/p95/max over in-process requests and SQL queries per request. It builds its own "
        "units and users, so it refuses a database that already holds units or campaigns (--reset "
        "deletes them, scratch databases only). 'Today' is moved to --today with time_machine. "
        + SCRATCH.example("[--scale 0.5 1 2] [--explain] [--json]")
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page (default 200)")
        parser.add_argument("--today", type=date.fromisoformat, default=TODAY, help=f"Default {TODAY}")
        self.province_arguments(parser)
        parser.add_argument(
            "--explain",
            type=int,
            nargs="*",
            metavar="N",
            help=f"EXPLAIN (ANALYZE, BUFFERS) the list queries of target N (1-based; default {EXPLAIN_DEFAULT})",
        )
        parser.add_argument("--keep", action="store_true", help="Leave the data in place (for --reuse)")
        parser.add_argument("--reuse", action="store_true", help="Measure the data a --keep run left, no rebuild")
        self.scale_arguments(parser)
        self.output_arguments(parser)

    def scaled_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """A size of the curve keeps its data and measures it again next time (unless --reset)."""
        return {"keep": True, "reuse": options["reuse"] or ("found" if not options["reset"] else False)}

    def curve_point(self, summary: dict[str, Any]) -> tuple[int, list[tuple[str, float, int]]]:
        return summary["assignments"], [(t["name"], t["p95_ms"], t["queries"]) for t in summary["targets"]]

    def handle_scale(self, **options: Any) -> None:
        self.time_machine()  # needed to measure: missing, say so before building
        self.at_least_one(options, ("requests", "stations", "cities", "subbureaus", "items"))
        if not START <= options["today"] <= END:
            raise CommandError(f"--today must be inside the campaign, {START}..{END}")
        explain = self.explained(options["explain"], [EXPLAIN_DEFAULT], len(TARGETS), "target")
        if options["reuse"] and options["reset"]:
            raise CommandError("--reuse measures the data in place; it cannot be combined with --reset")
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])
        report = Report()
        reuse = None
        if options["reuse"] == "found":  # a size of the curve: its earlier run's data, if there is any
            reuse = self._found
        elif options["reuse"]:
            reuse = self._reused
        build = claim_scratch(SCRATCH, reset=options["reset"], progress=self.progress, reuse=reuse)
        try:
            if build:
                self._build(rows, options, report)
            self._describe(report, options["today"])
            moment = local_time(options["today"], 9)
            # (CaptureQueriesContext switches the query log on for the one request it wraps)
            with self.measuring(moment, report.load):
                self._measure(report, options["requests"], explain)
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

    def _reused(self) -> bool:
        """--reuse: the data of an earlier --keep run must be here."""
        if not Campaign.objects.filter(code=CODE).exists() or self._users().count() != len(PERSONAS):
            raise CommandError(f"--reuse: no data from an earlier `bench_lists --keep` run here. {SCRATCH.hint}")
        return True

    def _found(self) -> bool:
        """An earlier run's data here (checked as --reuse checks it), or nothing: build."""
        return Campaign.objects.filter(code=CODE).exists() and self._reused()

    def _users(self):
        return User.objects.filter(username__in=[USER_PREFIX + p for p in PERSONAS])

    def _build(self, rows: list, options: dict[str, Any], report: Report) -> None:
        started = time.perf_counter()
        import_province(
            rows,
            items=options["items"],
            cities=options["cities"],
            name=CAMPAIGN_NAME,
            code=CODE,
            progress=self.progress,
        )
        create_personas(PERSONAS, USER_PREFIX, "bench_lists")
        campaign = Campaign.objects.get(code=CODE)
        sql, params = _spread_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [options["today"], *params, campaign.pk])
            self.progress(f"statuses spread over {cursor.rowcount} assignments (one UPDATE)")
        vacuum_analyze(Assignment)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # … and the statistics of every other table
        report.build_s = time.perf_counter() - started

    def _describe(self, report: Report, today: date) -> None:
        campaign = Campaign.objects.get(code=CODE)
        report.units = Unit.objects.count()
        report.items = campaign.items.count()
        assignments = Assignment.objects.filter(campaign=campaign)
        report.assignments = assignments.count()
        report.statuses = dict(assignments.values_list("status").annotate(n=Count("id")).order_by("status"))
        report.overdue = assignments.filter(overdue_q(today)).count()

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
                self.progress(
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
        delete_province([CODE], self._users(), unit_codes, [*SOURCES, "bench_lists"])
        self.progress("cleaned up (pass --keep to leave the data in place)")

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
            "loadavg_before_after": load_summary(r.load),
            "targets": target_summary(r.timed),
            "explain": explain_summary(r.explained),
        }

    def _print(self, r: Report, today: date) -> None:
        s = self._summary(r, today)
        if self.printed_json(s):
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
