"""Measuring, shared by the benchmarks: a call (wall time, queries, memory), a page through the whole
Django stack (``time_page``), percentiles, statement shapes, EXPLAIN, and the lines every benchmark
prints about how it measured; and ``BenchCommand``, what their commands do alike."""

from __future__ import annotations

import gc
import json
import math
import os
import re
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

if TYPE_CHECKING:
    from bench.province import Scratch

WARMUP = 5  # untimed requests before the timed ones


def ms(seconds: float) -> float:
    return seconds * 1000


def nearest_rank(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` by nearest rank (one of the values, never interpolated)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Executed:
    """An execute wrapper (``connection.execute_wrapper``): statements run, and the time inside them
    (server and transfer), since the last ``reset``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


# --- A call: time, queries, memory ----------------------------------------------------------------


@dataclass
class Measured:
    """One measured call: wall time, queries as Django saw them, and the process RSS high-water mark."""

    seconds: float
    queries: int
    logged: int  # what CaptureQueriesContext kept; less than ``queries`` past its 9,000-entry limit
    shapes: list[tuple[int, str]]
    maxrss_before_mb: float
    maxrss_after_mb: float
    value: Any = None


@dataclass
class Traced:
    peak_mb: float
    seconds: float


def _maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


_LITERALS = (
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"ARRAY\[[^\]]*\]"), "ARRAY[…]"),  # bulk_create's UNNEST(ARRAY[…]::bigint[], …)
    (re.compile(r"(?<!IS )(?<!NOT )\b(?:NULL|true|false)\b"), "?"),
    (re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?\b"), "?"),
    (re.compile(r"\(\s*\?(?:\s*(?:::\w+(?: \w+)*)?\s*,\s*\?)*(?:::\w+(?: \w+)*)?\s*\)"), "(?)"),
    (re.compile(r"\(\?\)(?:\s*,\s*\(\?\))+"), "(?), …"),
)


def statement_shape(sql: str) -> str:
    """SQL with literals collapsed, so the same statement with other values counts once."""
    for pattern, repl in _LITERALS:
        sql = pattern.sub(repl, sql)
    return sql


def top_shapes(queries: list[dict[str, str]], n: int = 5) -> list[tuple[int, str]]:
    counts = Counter(statement_shape(q["sql"]) for q in queries)
    return [(count, shape) for shape, count in counts.most_common(n)]


def measure(call: Callable[[], Any]) -> Measured:
    """Wall time, SQL queries and RSS high-water mark of ``call``; no tracing, so the time is honest."""
    gc.collect()
    reset_queries()  # the query log is a bounded deque shared by every capture on this connection
    before = _maxrss_mb()
    executed = Executed()
    # The log keeps the last 9,000 queries only (the unit import makes more): the wrapper counts all.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Limit for query logging exceeded")
        with connection.execute_wrapper(executed), CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            value = call()
            seconds = time.perf_counter() - started
        logged, shapes = len(ctx), top_shapes(ctx.captured_queries)
    return Measured(
        seconds=seconds,
        queries=executed.count,
        logged=logged,
        shapes=shapes,
        maxrss_before_mb=before,
        maxrss_after_mb=_maxrss_mb(),
        value=value,
    )


def traced_peak(call: Callable[[], Any]) -> Traced:
    """Peak Python allocation of ``call``. Its own run: tracemalloc slows Python down several times."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Traced(peak / (1024 * 1024), seconds)


# --- A page: through the whole stack --------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One page to time: who opens it, its URL and the p95 goal of the issue (None: no goal set).

    The URL may name placeholders a benchmark fills in from the data it built (``{station}`` …).
    """

    name: str
    persona: str
    url: str
    goal_ms: float | None = None


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
        return nearest_rank(self.times_ms, p)

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def met(self) -> bool | None:
        return None if self.target.goal_ms is None else self.pct(95) < self.target.goal_ms


def time_page(target: Target, url: str, client: Client, n: int) -> Timed:
    """``n`` timed GETs of ``url`` after ``WARMUP`` untimed ones, then one with its queries captured."""
    for _ in range(WARMUP):
        client.get(url)
    seen: Counter[int] = Counter()
    executed = Executed()
    statuses: set[int] = set()
    times: list[float] = []
    sql_ms: list[float] = []
    gc.collect()
    with connection.execute_wrapper(executed):
        for _ in range(n):
            executed.reset()
            started = time.perf_counter()
            response = client.get(url)
            times.append(ms(time.perf_counter() - started))
            statuses.add(response.status_code)
            seen[executed.count] += 1
            sql_ms.append(ms(executed.seconds))
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


# --- EXPLAIN ------------------------------------------------------------------------------------------


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


def explain(sql: str, params: list[Any] | None = None) -> list[str]:
    """The plan of ``sql`` as run (EXPLAIN ANALYZE, BUFFERS); without ``params``, SQL as a capture logged it."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def explain_page(number: int, url: str, client: Client, tables: Iterable[str]) -> list[Explained]:
    """The plans of the statements the page ran that read one of ``tables`` (count, page, prefetch)."""
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    wanted = [f'FROM "{table}"' for table in tables]
    return [
        Explained(number, query["sql"], explain(query["sql"]))
        for query in ctx.captured_queries
        if any(w in query["sql"] for w in wanted)
    ]


# --- What every benchmark prints ----------------------------------------------------------------------


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


def load_summary(load: list[tuple[float, float, float]]) -> list[list[float]]:
    """``os.getloadavg()`` before and after, rounded."""
    return [[round(x, 2) for x in one] for one in load]


def load_line(load: list[list[float]]) -> str:
    return (
        f"load average (1/5/15 min) before {load[0]}, after {load[-1]} "
        f"on {os.cpu_count()} CPUs: other work on the machine shows in the figures"
    )


def run_lines(requests: int, load: list[list[float]]) -> list[str]:
    """How the pages were requested, and the load on the machine around it."""
    return [
        f"{requests} requests per page after {WARMUP} warm-up, in-process "
        "(test Client, session login, DEBUG off); SQL p50 = ms inside cursor.execute per request",
        load_line(load),
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


class BenchCommand(BaseCommand):
    """What the benchmark commands do alike: their scratch database (``scratch``), the province's size
    options, --reset and --json; with --json the one JSON object on stdout and the progress on stderr;
    whole-number options of at least 1; time_machine (the development requirements) to move "today"
    into the campaign while measuring."""

    scratch: Scratch
    as_json = False

    def province_arguments(self, parser: CommandParser) -> None:
        """The size of the synthetic province (the default is the benchmarks' 1,654 units)."""
        parser.add_argument("--stations", type=int, default=1500)
        parser.add_argument("--cities", type=int, default=11)
        parser.add_argument("--subbureaus", type=int, default=120)
        parser.add_argument("--items", type=int, default=77)

    def output_arguments(self, parser: CommandParser, *, rebuild: bool = False) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=f"Delete {self.scratch.wiped} first{' and build again' if rebuild else ''} (scratch databases only)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def progress(self, text: str) -> None:
        (self.stderr if self.as_json else self.stdout).write(text)

    def printed_json(self, summary: dict[str, Any], **dumps: Any) -> bool:
        """With --json, the summary printed as one JSON object (True); else nothing printed (False)."""
        if self.as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, **dumps))
        return self.as_json

    @staticmethod
    def at_least_one(options: dict[str, Any], names: Iterable[str]) -> None:
        for name in names:
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")

    @staticmethod
    def explained(chosen: list[int] | None, default: Iterable[int], count: int, what: str) -> list[int]:
        """The 1-based numbers given to --explain (none: ``default``; not given: nothing), checked."""
        if chosen is None:
            return []
        chosen = chosen or list(default)
        if bad := [n for n in chosen if not 1 <= n <= count]:
            raise CommandError(f"--explain: no {what} {bad}; there are {count}")
        return chosen

    def time_machine(self):
        try:
            import time_machine
        except ImportError:
            raise CommandError(
                f"{self.scratch.command} needs time_machine: pip install -r requirements-dev.txt"
            ) from None
        return time_machine

    @contextmanager
    def measuring(self, moment: datetime, load: list[tuple[float, float, float]]) -> Iterator[None]:
        """ "Today" moved to ``moment`` (ticking), DEBUG off (Django would otherwise log every query of
        every request), and the load average noted before and after."""
        with override_settings(DEBUG=False), self.time_machine().travel(moment, tick=True):
            load.append(os.getloadavg())
            yield
            load.append(os.getloadavg())
