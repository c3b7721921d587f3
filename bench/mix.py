"""Benchmark: the capacity run's mix in-process (``manage.py bench_mix``, issue 19 item 2 and 5).

``scripts/loadtest --capacity`` measures the mix's throughput against a trivial view's on gunicorn; this
sends the same requests — the same URLs, bodies and token authentication, weighted as
``loadtest/closedloop.py`` weighs them — through the whole Django stack in this process (the test
``Client``, ``DEBUG`` off, the heap frozen after a warm-up as a gunicorn worker's is) and prints this
process's CPU time per request (``time.process_time``), the queries, the weighted mix's CPU and the
trivial view's CPU ÷ the mix's: the share of the trivial view's throughput the mix could reach if the
web process's CPU were all that mattered. It reads the seed's users file (``seed_load --out``,
``var/loadtest/seeds/*.json``); run it on a COPY of the seed's database (the reports and figures it
sends are written)::

    createdb -T tracker_capacity_load_seed_1500x77_<day> tracker_mix
    DATABASE_URL=postgres://…/tracker_mix manage.py bench_mix --users var/loadtest/seeds/….json
"""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import pstats
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.authtoken.models import Token

from accounts.models import User
from bench.timing import WARMUP, BenchCommand, load_line, load_summary, ms, nearest_rank, server_heap
from tasks.models import Assignment

# loadtest/closedloop.py's Mix: of every 294 requests
WEIGHTS = {
    "list": 100,
    "detail": 80,
    "report": 60,
    "figure": 20,
    "inbox": 20,
    "battle": 6,
    "ranking": 4,
    "totals": 4,
}
LIST_QUERIES = ("", "&overdue=true", "&status=in_progress&status=pending", "&ordering=-updated_at")
OPEN = ("pending", "in_progress", "returned")
TRIVIAL = "/api/v1/auth/tokens/"


class Mix:
    """The requests, each a call of a rotating lead (its token, its unit, its work) or of one HQ user."""

    def __init__(self, seed: dict[str, Any], leads: int, rng: random.Random) -> None:
        self.seed, self.rng = seed, rng
        people = seed["leads"][:leads]
        if not people:
            raise CommandError("The users file names no leads")
        hq = User.objects.filter(username=seed["hq"][0]["username"]).first()
        if hq is None:
            raise CommandError("The users file's HQ user is not in this database: run on a copy of its seed")
        self.hq = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=hq)[0].key}")
        units = [p["unit"] for p in people]
        work: dict[str, list[tuple[int, str]]] = {u: [] for u in units}
        for pk, code, status in Assignment.objects.filter(
            campaign_id=seed["campaign"], unit__code__in=units, is_active=True
        ).values_list("pk", "unit__code", "status"):
            work[code].append((pk, status))
        self.leads = [(Client(HTTP_AUTHORIZATION=f"Token {p['token']}"), p["unit"], work[p["unit"]]) for p in people]
        self.turn = itertools.cycle(range(len(self.leads)))
        self.figures = itertools.count(1_000_000_001)

    def lead(self) -> tuple[Client, str, list[tuple[int, str]]]:
        return self.leads[next(self.turn)]

    def calls(self) -> dict[str, Callable[[], Any]]:
        campaign = self.seed["campaign"]

        def listing():
            client, _, _ = self.lead()
            return client.get(f"/api/v1/assignments/?mine=true{self.rng.choice(LIST_QUERIES)}")

        def detail():
            client, _, work = self.lead()
            return client.get(f"/api/v1/assignments/{self.rng.choice(work)[0]}/")

        def report():
            client, _, work = self.lead()
            pk = self.rng.choice([pk for pk, status in work if status in OPEN])
            body = {"value": self.rng.randint(1, 5), "text": "bench_mix 本周检查重点场所家次"}
            return client.post(f"/api/v1/assignments/{pk}/reports/", body, content_type="application/json")

        def figure():
            client, unit, _ = self.lead()
            body = {
                "campaign": campaign,
                "unit": unit,
                "day": self.seed["day"],
                "values": {self.seed["indicator"]: next(self.figures)},
            }
            return client.post("/api/v1/stats/figures/", body, content_type="application/json")

        def trivial():
            client, _, _ = self.lead()
            return client.get(TRIVIAL)

        return {
            "list": listing,
            "detail": detail,
            "report": report,
            "figure": figure,
            "inbox": lambda: self.lead()[0].get("/api/v1/inbox/?unread=true"),
            "battle": lambda: self.hq.get(f"/api/v1/boards/battle/?campaign={campaign}"),
            "ranking": lambda: self.hq.get(f"/api/v1/boards/ranking/?campaign={campaign}"),
            "totals": lambda: self.hq.get(f"/api/v1/stats/totals/?campaign={campaign}"),
            "trivial": trivial,
        }


def database_cpu() -> tuple[int, float] | None:
    """The database server's process serving this connection and the CPU time (s) it has used, where it
    runs on this host and says (PostgreSQL, Linux's ``/proc/<pid>/schedstat``); else None."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
            return pid, int(stat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def measure(call: Callable[[], Any], n: int, count_calls: bool = False) -> dict[str, Any]:
    """``n`` timed calls (after ``WARMUP``), then one with its queries captured; with ``count_calls``, ``n``
    more under ``cProfile``: the Python function calls a request makes (the same every run, where the CPU
    time moves with the host). The database's CPU a request, where it can be read (``database_cpu``)."""
    statuses: set[int] = set()
    for _ in range(WARMUP):
        statuses.add(call().status_code)
    cpu: list[float] = []
    with server_heap():
        db_before = database_cpu()
        for _ in range(n):
            used = time.process_time()
            statuses.add(call().status_code)
            cpu.append(ms(time.process_time() - used))
        db_after = database_cpu()
    with CaptureQueriesContext(connection) as ctx:
        statuses.add(call().status_code)
    found = {
        "cpu_mean_ms": round(statistics.fmean(cpu), 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(nearest_rank(cpu, 95), 2),
        "queries": len(ctx.captured_queries),
        "statuses": sorted(statuses),
    }
    if db_before is not None and db_after is not None and db_before[0] == db_after[0]:  # one server process
        found["db_cpu_mean_ms"] = round(ms(db_after[1] - db_before[1]) / n, 2)
    if count_calls:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            statuses.add(call().status_code)
        profile.disable()
        found["calls"] = round(pstats.Stats(profile).total_calls / n)
        found["statuses"] = sorted(statuses)
    return found


def weighted(out: dict[str, dict[str, Any]], key: str = "cpu_mean_ms") -> float:
    """The mix's CPU per request (or the database's, ``key``): each request's mean, weighted as the capacity
    run sends them."""
    return sum(out[name][key] * w for name, w in WEIGHTS.items()) / sum(WEIGHTS.values())


class Command(BenchCommand):
    help = (
        "The capacity run's mix in-process: CPU per request of each request of the mix and of the trivial "
        "view, the weighted mix and the ratio (run on a copy of the capacity seed's database)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=Path, required=True, help="The seed's users file (seed_load --out)")
        parser.add_argument("--requests", type=int, default=100, help="Timed requests per kind (default 100)")
        parser.add_argument("--leads", type=int, default=50, help="Leads the requests rotate over (default 50)")
        parser.add_argument("--only", nargs="+", choices=[*WEIGHTS, "trivial"])
        parser.add_argument("--loop", choices=[*WEIGHTS, "trivial"], help="Request this kind for --seconds")
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument(
            "--calls",
            action="store_true",
            help="Also count Python function calls per request (cProfile; deterministic)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        self.at_least_one(options, ("requests", "leads"))
        if not options["users"].is_file():
            raise CommandError(f"No users file {options['users']}")
        seed = json.loads(options["users"].read_text(encoding="utf-8"))
        load: list[tuple[float, float, float]] = []
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
            load.append(os.getloadavg())
            calls = Mix(seed, options["leads"], random.Random(19)).calls()
            if options["loop"]:
                self._loop(calls[options["loop"]], options["seconds"])
                return
            names = options["only"] or ["trivial", *WEIGHTS, "trivial"]
            out: dict[str, dict[str, Any]] = {}
            for name in names:  # the trivial view first and last: the drift of the run shows
                found = measure(calls[name], options["requests"], options["calls"])
                if name in out:
                    for key in ("cpu_mean_ms", "db_cpu_mean_ms"):
                        if key in found and key in out[name]:
                            found[key] = round((out[name][key] + found[key]) / 2, 2)
                out[name] = found
            load.append(os.getloadavg())
        if failed := {name: r["statuses"] for name, r in out.items() if not set(r["statuses"]) <= {200, 201}}:
            raise CommandError(f"Requests failed (HTTP status by kind): {failed}")
        summary: dict[str, Any] = {"requests": options["requests"], "loadavg_before_after": load_summary(load)}
        summary["kinds"] = out
        if set(WEIGHTS) <= set(out) and "trivial" in out:
            summary["mix_cpu_ms"] = round(weighted(out), 2)
            summary["trivial_over_mix"] = round(out["trivial"]["cpu_mean_ms"] / summary["mix_cpu_ms"], 3)
            if all("db_cpu_mean_ms" in r for r in out.values()):
                summary["mix_db_cpu_ms"] = round(weighted(out, "db_cpu_mean_ms"), 2)
                both = out["trivial"]["cpu_mean_ms"] + out["trivial"]["db_cpu_mean_ms"]
                summary["trivial_over_mix_with_db"] = round(
                    both / (summary["mix_cpu_ms"] + summary["mix_db_cpu_ms"]), 3
                )
            if options["calls"]:
                summary["mix_calls"] = round(
                    sum(out[k]["calls"] * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())
                )
                summary["trivial_over_mix_calls"] = round(out["trivial"]["calls"] / summary["mix_calls"], 3)
        if self.printed_json(summary):
            return
        lines = [
            f"{options['requests']} requests per kind after {WARMUP} warm-up, in-process (test Client, token "
            f"authentication, DEBUG off, heap frozen), {options['leads']} leads in turn; CPU = time.process_time",
            load_line(summary["loadavg_before_after"]),
            "",
            f"{'request':10}{'weight':>8}{'CPU mean':>10}{'CPU p50':>9}{'CPU p95':>9}{'DB CPU':>8}{'queries':>9}"
            + (f"{'calls':>9}" if options["calls"] else ""),
        ]
        for name, r in out.items():
            db = f"{r['db_cpu_mean_ms']:>8.2f}" if "db_cpu_mean_ms" in r else f"{'–':>8}"
            lines.append(
                f"{name:10}{WEIGHTS.get(name, 0):>8}{r['cpu_mean_ms']:>10.2f}{r['cpu_p50_ms']:>9.2f}"
                f"{r['cpu_p95_ms']:>9.2f}{db}{r['queries']:>9}" + (f"{r['calls']:>9,}" if "calls" in r else "")
            )
        if "mix_cpu_ms" in summary:
            lines += [
                "",
                f"weighted mix {summary['mix_cpu_ms']:.2f} ms of CPU a request; trivial ÷ mix "
                f"{summary['trivial_over_mix']:.3f} (goal of the capacity run: ≥ 0.5 of the trivial view's rps)",
            ]
            if "mix_db_cpu_ms" in summary:
                lines.append(
                    f"the database's CPU: {summary['mix_db_cpu_ms']:.2f} ms a mix request; with it, trivial ÷ mix "
                    f"{summary['trivial_over_mix_with_db']:.3f} (the database on this host: its CPU counts)"
                )
            if "mix_calls" in summary:
                lines.append(
                    f"weighted mix {summary['mix_calls']:,} function calls a request; trivial ÷ mix "
                    f"{summary['trivial_over_mix_calls']:.3f}"
                )
        self.stdout.write("\n".join(lines))

    def _loop(self, call: Callable[[], Any], seconds: float) -> None:
        for _ in range(WARMUP):
            call()
        self.progress(f"looping in pid {os.getpid()} for {seconds:g} s")
        done, end = 0, time.monotonic() + seconds
        with server_heap():
            while time.monotonic() < end:
                call()
                done += 1
        self.progress(f"{done} requests")
