"""Benchmark: web CPU per request (``manage.py bench_cpu``, issue 19 item 2, issue 23 item 1), on the
data a ``bench_lists --keep`` run left in a scratch database (its province, campaign and personas).

The pages a station lead and HQ open all day, each through the whole Django stack in-process (the
test ``Client`` with a session login, as ``bench_lists``): this process's CPU time per request
(``time.process_time``: the machine's load shows in it much less than in the wall time), the wall
time and the SQL queries. ``--loop NAME`` requests one page over and over for ``--seconds`` so that a
sampling profiler can watch it (``py-spy record --pid …``; ``docs/cpu.md``).

The progress report is a real POST: every request adds a report of 1 to the station's last open
assignment with a numeric target (the detail pages read the first one, which it leaves alone).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bench.lists import CODE, SCRATCH, STATION_CODE, TODAY, USER_PREFIX
from bench.province import local_time, session_clients
from bench.timing import WARMUP, BenchCommand, load_line, load_summary, ms, nearest_rank
from tasks.models import Assignment, AssignmentStatus

S = AssignmentStatus
PAGES = ("lead_list", "lead_page", "detail_api", "detail_page", "report", "board")
WHAT = {
    "lead_list": "station lead GET /api/v1/assignments/?mine=true",
    "lead_page": "station lead GET /my/",
    "detail_api": "station lead GET /api/v1/assignments/{id}/",
    "detail_page": "station lead GET /assignments/{id}/",
    "report": "station lead POST /api/v1/assignments/{id}/reports/",
    "board": "HQ GET /board/ (the battle board page)",
}


def _requests(clients: dict[str, Client]) -> dict[str, Callable[[], Any]]:
    lead, hq = clients["station_lead"], clients["hq"]
    station = Assignment.objects.filter(campaign__code=CODE, unit__code=STATION_CODE)
    shown = station.order_by("id").first()
    open_work = station.filter(status__in=[S.PENDING, S.IN_PROGRESS, S.RETURNED], item__target_value__isnull=False)
    reported = open_work.exclude(pk=getattr(shown, "pk", None)).order_by("-id").first()
    if shown is None or reported is None:
        raise CommandError(f"No open assignment of station {STATION_CODE} here. {SCRATCH.hint}")

    def report():
        version = Assignment.objects.values_list("version", flat=True).get(pk=reported.pk)
        body = {"value": "1", "text": "bench_cpu", "version": version}
        return lead.post(f"/api/v1/assignments/{reported.pk}/reports/", body, content_type="application/json")

    return {
        "lead_list": lambda: lead.get("/api/v1/assignments/?mine=true"),
        "lead_page": lambda: lead.get("/my/"),
        "detail_api": lambda: lead.get(f"/api/v1/assignments/{shown.pk}/"),
        "detail_page": lambda: lead.get(f"/assignments/{shown.pk}/"),
        "report": report,
        "board": lambda: hq.get("/board/"),
    }


def measure_page(call: Callable[[], Any], n: int) -> dict[str, Any]:
    """``n`` timed requests after ``WARMUP`` untimed ones, then one with its queries captured."""
    statuses = set()
    for _ in range(WARMUP):
        statuses.add(call().status_code)
    cpu, wall = [], []
    for _ in range(n):
        started, used = time.perf_counter(), time.process_time()
        statuses.add(call().status_code)
        cpu.append(ms(time.process_time() - used))
        wall.append(ms(time.perf_counter() - started))
    with CaptureQueriesContext(connection) as ctx:
        statuses.add(call().status_code)
    return {
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": round(nearest_rank(cpu, 95), 1),
        "wall_p50_ms": round(statistics.median(wall), 1),
        "wall_p95_ms": round(nearest_rank(wall, 95), 1),
        "queries": len(ctx.captured_queries),
        "statuses": sorted(statuses),
    }


class Command(BenchCommand):
    scratch = SCRATCH
    help = (
        "Web CPU per request of the pages a station lead and HQ open all day (the lead's list and page, an "
        "assignment's API and page, a progress report, the battle board) on the data of `bench_lists --keep` "
        "(run that first, same DATABASE_URL); --loop NAME keeps requesting one page for a profiler."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=100, help="Timed requests per page (default 100)")
        parser.add_argument("--only", nargs="+", choices=PAGES, help="These pages only")
        parser.add_argument("--loop", choices=PAGES, help="Request this page until --seconds have passed")
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        self.at_least_one(options, ("requests",))
        users = User.objects.filter(username__in=[f"{USER_PREFIX}station_lead", f"{USER_PREFIX}hq"])
        if users.count() != 2:
            raise CommandError(f"No `bench_lists --keep` data here. {SCRATCH.hint}")
        load: list[tuple[float, float, float]] = []
        with self.measuring(local_time(TODAY, 9), load):
            calls = _requests(session_clients(users, USER_PREFIX))
            if options["loop"]:
                self._loop(calls[options["loop"]], options["seconds"])
                return
            out = {name: measure_page(calls[name], options["requests"]) for name in options["only"] or PAGES}
        summary = {"requests": options["requests"], "loadavg_before_after": load_summary(load), "pages": out}
        if self.printed_json(summary):
            return
        lines = [
            f"{options['requests']} requests per page after {WARMUP} warm-up, in-process (test Client, session "
            "login, DEBUG off); CPU = this process's time.process_time per request",
            load_line(summary["loadavg_before_after"]),
            "",
            f"{'page':54}{'CPU p50':>9}{'CPU p95':>9}{'wall p50':>10}{'wall p95':>10}{'queries':>9}",
        ]
        for name, r in out.items():
            lines.append(
                f"{WHAT[name]:54}{r['cpu_p50_ms']:>9.1f}{r['cpu_p95_ms']:>9.1f}{r['wall_p50_ms']:>10.1f}"
                f"{r['wall_p95_ms']:>10.1f}{r['queries']:>9}"
                + ("" if r["statuses"] in ([200], [201]) else f"  HTTP {r['statuses']}")
            )
        self.stdout.write("\n".join(lines))

    def _loop(self, call: Callable[[], Any], seconds: float) -> None:
        for _ in range(WARMUP):
            call()
        self.progress(f"looping in pid {os.getpid()} for {seconds:g} s")
        done, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            call()
            done += 1
        self.progress(f"{done} requests")
