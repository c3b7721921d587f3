"""Benchmark: the HQ boards (``manage.py bench_boards``), issue 6.

On the synthetic province of ``bench_plan_import`` (≈1,650 units, the 77-item plan published) with a
status mix and submission dates (one UPDATE), ``bench_supervision``'s 20,000 findings, 10 indicators,
3 rounds, last year's closed campaign (``compare_to``) and a figure per unit × day × indicator for
both years (≈3.3 million, COPY on PostgreSQL), it times, as HQ at the province and as a city's leader,
the battle board, the ranking and the statistics totals with 同比/环比 (see ``bench.boards.PROBES``)
through the whole Django stack (test ``Client``, session login): p50/p95 over ``--repeat`` requests
and the SQL queries per request; and, in the same run on the same connection, the hand-written SQL
aggregate that computes the same numbers (checked equal to the API's), as many times. The queries
per request must be the same under the province, a city and a county.

"Today" is the campaign's last day (``time_machine``): every day has been reported, and the default
window of the totals is the whole campaign. The data is kept: the next run reuses it; ``--reset``
builds it again.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import RoleGrant, Unit, User
from audit.models import AuditEvent
from bench import boards as bench
from bench.lists import create_personas, import_province, session_clients
from bench.plan_import import END, START, province_rows
from boards.models import Export, Weights
from inspections.models import (
    Answer,
    Finding,
    Hotspot,
    HotspotCriterion,
    Inspection,
    Notice,
    NoticeSequence,
    Photo,
    Verdict,
)
from stats.models import Figure, Indicator, Round
from tasks.models import Action, Assignment, Campaign, Item, Responsibility


@dataclass
class Report:
    units: int = 0
    items: int = 0
    assignments: int = 0
    province_s: float = 0.0  # 0: reused
    work_s: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    measured: list[bench.Measured] = field(default_factory=list)
    levels: dict[str, dict[str, int]] = field(default_factory=dict)
    explained: list[dict[str, Any]] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Benchmark the HQ boards — battle board, ranking, statistics totals with 同比/环比 — as HQ (the "
        "province) and a city's leader, on the synthetic province of bench_plan_import with findings and "
        "≈3.3 million figures (this year and last), in a scratch PostgreSQL database: p50/p95 over in-process "
        "requests, SQL queries per request (the same under a province, a city and a county), and beside each "
        "the bare SQL aggregate computing the same numbers, timed as often in the same run. The data is kept "
        "and reused; --reset deletes every unit, campaign and record first (scratch databases only). "
        f"Example: createdb -h 127.0.0.1 -U postgres tracker_bench_boards; DATABASE_URL={bench.SCRATCH_URL} "
        "manage.py migrate; DATABASE_URL=… manage.py bench_boards [--repeat 30] [--explain] [--json]."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests per board (default 30)")
        for name, default in asdict(bench.Size()).items():
            parser.add_argument(f"--{name}", type=int, default=default, help=f"Default {default:,} (a build only)")
        parser.add_argument(
            "--explain",
            type=int,
            nargs="*",
            metavar="N",
            help="EXPLAIN (ANALYZE, BUFFERS) the statements of request N (1-based; default all) and its bare SQL",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every unit, campaign, figure and supervision record first and build again (scratch "
            "databases only)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        try:
            import time_machine
        except ImportError:
            raise CommandError("bench_boards needs time_machine: pip install -r requirements-dev.txt") from None
        size = bench.Size(**{name: options[name] for name in asdict(bench.Size())})
        for name in ("repeat", *asdict(size)):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        if size.indicators > len(bench.CATALOGUE):
            raise CommandError(f"--indicators: at most {len(bench.CATALOGUE)}")
        explain = options["explain"]
        if explain is not None:
            explain = explain or list(range(1, len(bench.PROBES) + 1))
            if bad := [n for n in explain if not 1 <= n <= len(bench.PROBES)]:
                raise CommandError(f"--explain: no request {bad}; there are {len(bench.PROBES)}")
            if connection.vendor != "postgresql":
                raise CommandError("--explain needs PostgreSQL")
        report = Report()
        today = bench.TODAY
        if self._check_database(size, reset=options["reset"]):
            self._build(report, size, today)
        campaign = Campaign.objects.select_related("compare_to").get(code=bench.CODE)
        self._describe(report, campaign)
        moment = datetime.combine(today, dtime(9, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))
        # DEBUG off: Django would otherwise log every query of every request.
        with override_settings(DEBUG=False), time_machine.travel(moment, tick=True):
            report.load.append(os.getloadavg())
            self._measure(report, campaign, options["repeat"], explain or [], today)
            report.load.append(os.getloadavg())
        self._print(report, today)
        if problems := self._problems(report):
            raise CommandError("; ".join(problems))

    # --- steps ---

    def _progress(self, text: str) -> None:
        (self.stderr if self.as_json else self.stdout).write(text)

    def _users(self):
        return User.objects.filter(username__startswith=bench.USER_PREFIX)

    def _check_database(self, size: bench.Size, *, reset: bool) -> bool:
        """Whether to build: not when an earlier run's data of this size is here (unless --reset)."""
        hint = f"Point it at a scratch database: DATABASE_URL={bench.SCRATCH_URL} (createdb, then manage.py migrate)."
        if Figure._meta.db_table not in connection.introspection.table_names():
            raise CommandError(f"The database is not migrated. Run manage.py migrate first. {hint}")
        ours = Campaign.objects.filter(code=bench.CODE)
        if not reset:
            if ours.exists():
                units = len(province_rows(size.cities, size.subbureaus, size.stations))
                days = (END - START).days + 1
                expected = units * days * size.indicators
                figures = Figure.objects.filter(campaign__in=ours).count()
                if figures == expected and Unit.objects.count() == units and Finding.objects.count() == size.findings:
                    return False
                raise CommandError(
                    f"The benchmark's data here has another size ({figures:,} figures this year, {expected:,} asked) "
                    "or its build did not finish; pass --reset."
                )
            if not (Unit.objects.exists() or Campaign.objects.exists()):
                return True
            raise CommandError(
                f"The database already holds units or campaigns; the benchmark builds its own. {hint} "
                "Or pass --reset to delete them (scratch databases only)."
            )
        others = User.objects.filter(unit__isnull=False).exclude(username__startswith=bench.USER_PREFIX)
        if others.exists():
            raise CommandError(f"--reset refused: users belong to units, this is not a scratch database. {hint}")
        started = time.perf_counter()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"TRUNCATE {connection.ops.quote_name(Figure._meta.db_table)}")
            Session.objects.all().delete()
            for model in (
                Figure, Indicator, Round, Weights, Export, Photo, Answer, Verdict, Finding, Notice, NoticeSequence,
                Inspection, HotspotCriterion, Hotspot, Assignment, Responsibility, Item, Action, Campaign, RoleGrant,
                AuditEvent,
            ):  # fmt: skip
                model.objects.all().delete()
            self._users().delete()
            Unit.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Hand back the deleted rows' pages: a rebuilt province must scan like a fresh one.
                cursor.execute("VACUUM FULL")
        self._progress(
            f"--reset: deleted every unit, campaign, figure and record ({time.perf_counter() - started:.1f} s)"
        )
        return True

    def _build(self, report: Report, size: bench.Size, today: date) -> None:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bench-boards-") as tmp:
            rows = province_rows(size.cities, size.subbureaus, size.stations)
            import_province(
                Path(tmp), rows, items=size.items, cities=size.cities, name=bench.CAMPAIGN_NAME, code=bench.CODE,
                progress=self._progress,
            )  # fmt: skip
        users = create_personas(bench.personas(size.cities), bench.USER_PREFIX, bench.SOURCE)
        report.province_s = time.perf_counter() - started
        started = time.perf_counter()
        campaign = Campaign.objects.get(code=bench.CODE)
        spread = bench.spread_work(campaign, today)
        self._progress(f"statuses and submission dates spread over {spread:,} assignments (one UPDATE)")
        created = bench.seed_findings(campaign, users, size, today)
        self._progress("supervision seeded (bulk_create): " + ", ".join(f"{n:,} {m}" for m, n in created.items()))
        report.work_s = time.perf_counter() - started
        report.data["build"] = bench.build_statistics(campaign, size, users["hq"], self._progress)
        started = time.perf_counter()
        bench.analyze()
        self._progress(f"VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")

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
        users = self._users().filter(username__in=[bench.USER_PREFIX + p for p in bench.MEASURED])
        clients = session_clients(users, bench.USER_PREFIX)
        try:
            for number, probe in enumerate(bench.PROBES, start=1):
                m = bench.measure(probe, campaign, clients[probe.persona], n, today)
                report.measured.append(m)
                self._progress(
                    f"{number}. {probe.name}: p50 {m.timed.p50:.1f} ms, p95 {m.timed.pct(95):.1f} ms, "
                    f"{m.timed.queries} queries; bare SQL p50 {m.bare.p50:.1f} ms, p95 {m.bare.p95:.1f} ms; "
                    f"HTTP {m.timed.status}{'' if m.same else '; NUMBERS DIFFER'}"
                )
                if number in explain:
                    report.explained += self._explain(number, m, clients[probe.persona])
            for board in bench.PATHS:
                report.levels[board] = bench.queries_by_level(board, campaign, clients["hq"], today)
        finally:
            for client in clients.values():
                client.logout()

    @staticmethod
    def _explain(number: int, m: bench.Measured, client) -> list[dict[str, Any]]:
        """The plans of the request's statements that read the big tables, then of its bare SQL."""
        with CaptureQueriesContext(connection) as ctx:
            client.get(m.url)
        big = [f'FROM "{model._meta.db_table}"' for model in (Assignment, Finding, Figure)]
        out = []
        for q in ctx.captured_queries:
            if any(b in q["sql"] for b in big):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                    out.append({"n": number, "what": "request", "sql": q["sql"], "plan": [r[0] for r in cursor]})
        sql, params = bench.BARE[m.probe.board](
            bench.ask_for(m.probe, Campaign.objects.get(code=bench.CODE), bench.TODAY)
        )
        out.append({"n": number, "what": "bare SQL", "sql": sql, "plan": bench.explain(sql, params)})
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
            "loadavg_before_after": [[round(x, 2) for x in load] for load in r.load],
            "requests": bench.measured_summary(r.measured),
            "queries_by_level": r.levels,
            "explain": r.explained,
            "problems": self._problems(r),
        }

    def _print(self, r: Report, today: date) -> None:
        s = self._summary(r, today)
        if self.as_json:
            self.stdout.write(json.dumps(s, ensure_ascii=False, default=str))
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
            f"{n} requests per board after {bench.WARMUP} warm-up, in-process (test Client, session login, DEBUG off); "
            "in SQL = ms inside cursor.execute per request (p50); bare = the hand-written aggregate, as many runs, "
            "same connection; × bare = p95 ÷ bare p95; same = the API's numbers (and the bare SQL's) are those of an "
            "aggregate over the source rows (the totals: the figures alone, no rollup)",
            f"load average (1/5/15 min) before {s['loadavg_before_after'][0]}, after {s['loadavg_before_after'][-1]} "
            f"on {os.cpu_count()} CPUs: other work on the machine shows in the figures",
            "",
            *bench.table_lines(s["requests"]),
            "",
            *bench.level_lines(s["queries_by_level"]),
            "",
            "for README:",
            *bench.readme_lines(s["requests"]),
        ]
        for e in s["explain"]:
            lines += ["", f"EXPLAIN (ANALYZE, BUFFERS), request {e['n']}, {e['what']}:", *(f"  {x}" for x in e["plan"])]
        if s["problems"]:
            lines += ["", *(f"PROBLEM: {p}" for p in s["problems"])]
        self.stdout.write("\n".join(lines))
