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
    cpu_ms: list[float]  # per timed request: this process's CPU time (``time.process_time``), the whole
    # stack and the test client; other work on the machine shows in it much less than in the wall time
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


@contextmanager
def server_heap() -> Iterator[None]:
    """The heap as a production worker holds it after its warm-up (``ops/gunicorn.conf.py``: what was built
    while starting and on the first requests is frozen, ``gc.freeze``), so a timed request pays the
    collector's passes over its own garbage, not over the whole process: a full pass over this process's
    ≈200,000 objects is ≈100 ms, and one falls into every 30–60 requests."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def time_page(target: Target, url: str, client: Client, n: int) -> Timed:
    """``n`` timed GETs of ``url`` after ``WARMUP`` untimed ones, then one with its queries captured."""
    for _ in range(WARMUP):
        client.get(url)
    seen: Counter[int] = Counter()
    executed = Executed()
    statuses: set[int] = set()
    times: list[float] = []
    sql_ms: list[float] = []
    cpu_ms: list[float] = []
    with server_heap(), connection.execute_wrapper(executed):
        for _ in range(n):
            executed.reset()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append(ms(time.perf_counter() - started))
            cpu_ms.append(ms(time.process_time() - cpu))
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
        cpu_ms=cpu_ms,
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
    """The plan of ``sql`` as run (EXPLAIN ANALYZE, BUFFERS); without ``params``, SQL as a capture logged it.
    Settings the statement starts with (``SET LOCAL …;``, as the totals' serial read) are kept before it."""
    settings, statement = "", sql
    while statement.lstrip().upper().startswith("SET "):
        setting, statement = statement.split(";", 1)
        settings += setting + ";\n"
    with connection.cursor() as cursor:
        cursor.execute(settings + "EXPLAIN (ANALYZE, BUFFERS) " + statement.lstrip(), params)
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
            "cpu_p50_ms": round(statistics.median(t.cpu_ms), 2),
            "cpu_p95_ms": round(nearest_rank(t.cpu_ms, 95), 2),
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
        "(test Client, session login, DEBUG off); SQL p50 = ms inside cursor.execute per request, "
        "CPU p50 = this process's CPU ms per request (time.process_time: the whole stack and the client)",
        load_line(load),
    ]


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    """The figures table, the URLs behind its numbers and a warning for any varying query count."""
    lines = [
        f"{'#':>2} {'page':36}{'rows':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}{'SQL p50':>9}{'CPU p50':>9}"
        f"{'HTTP':>6}{'KB':>7}  goal p95",
    ]
    for t in targets:
        goal = "—" if t["goal_p95_ms"] is None else f"< {t['goal_p95_ms']:g} {'ok' if t['goal_met'] else 'MISSED'}"
        rows = "—" if t["rows"] is None else f"{t['rows']:,}"
        lines.append(
            f"{t['n']:>2} {t['name'][:35]:36}{rows:>8}{t['p50_ms']:>9.1f}{t['p95_ms']:>9.1f}"
            f"{t['max_ms']:>9.1f}{t['queries']:>9}{t['sql_p50_ms']:>9.1f}{t['cpu_p50_ms']:>9.1f}{t['status']:>6}{t['response_kb']:>7.1f}"
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


# --- The scale curve (issue 19, item 4) ---------------------------------------------------------------

SCALES = (0.5, 1.0, 2.0)  # ≈57k / 114k / 228k assignments on the default province


def scale_suffix(scale: float) -> str:
    """The scratch database of a scale is the given one's name plus this ("" at 1: the database itself)."""
    return "" if scale == 1 else "_x" + f"{scale:g}".replace(".", "_")


def scaled_items(items: int, scale: float) -> int:
    """A bigger plan is more items for the same units: ``items`` × ``scale`` (at least 1)."""
    return max(1, round(items * scale))


@contextmanager
def scale_database(scale: float, progress: Callable[[str], None]) -> Iterator[str]:
    """The default connection on the scratch database of ``scale`` (``scale_suffix``), created and
    migrated the first time, then kept: each size is built once and reused. Back on the given database
    afterwards. Scale 1 is the given database itself."""
    settings_dict = connection.settings_dict
    base = settings_dict["NAME"]
    suffix = scale_suffix(scale)
    if not suffix:
        yield base
        return
    if connection.vendor != "postgresql":
        raise CommandError(f"--scale {scale:g} needs PostgreSQL: each size is built in a database of its own")
    name = base + suffix
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if not exists:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    connection.close()
    settings_dict["NAME"] = name
    _forget_ids()
    try:
        if not exists:
            from django.core.management import call_command

            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            progress(f"--scale {scale:g}: created and migrated {name} ({time.perf_counter() - started:.1f} s)")
        yield name
    finally:
        connection.close()
        settings_dict["NAME"] = base
        _forget_ids()


def _forget_ids() -> None:
    """Ids Django caches per connection alias, which another database numbers otherwise."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@dataclass
class CurvePoint:
    """One size of the curve: its database, assignments and, per measured thing, p95 (ms) and queries."""

    scale: float
    database: str
    items: int
    assignments: int
    rows: list[tuple[str, float, int]]  # name, p95 ms, queries

    def summary(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "database": self.database,
            "items": self.items,
            "assignments": self.assignments,
            "measured": [{"name": n, "p95_ms": p95, "queries": q} for n, p95, q in self.rows],
        }


def curve_lines(points: list[CurvePoint], what: str) -> list[str]:
    """The sizes side by side: p95 and queries of each measured thing per size, and the growth of the
    p95 from the smallest size to the largest (× growth); a query count that changes is flagged."""
    width = 22
    lines = [
        "",
        f"scale curve: {what} at each size (p95 ms / queries); × = p95 at the largest size ÷ at the smallest",
        f"  {'scale':38}" + "".join(f"{p.scale:>{width}g}" for p in points) + f"{'×':>8}",
        f"  {'assignments':38}" + "".join(f"{p.assignments:>{width},}" for p in points),
        f"  {'items':38}" + "".join(f"{p.items:>{width}}" for p in points),
    ]
    for i, (name, _p95, _q) in enumerate(points[0].rows):
        cells = [p.rows[i] if i < len(p.rows) else (name, 0.0, 0) for p in points]
        growth = cells[-1][1] / cells[0][1] if cells[0][1] else 0.0
        flag = "" if len({q for _, _, q in cells}) == 1 else "  queries GROW"
        lines.append(
            f"  {name[:37]:38}"
            + "".join(f"{f'{p95:.1f} ms / {q}':>{width}}" for _, p95, q in cells)
            + f"{growth:>7.2f}×{flag}"
        )
    lines.append("  databases: " + ", ".join(f"{p.scale:g} {p.database}" for p in points))
    return lines


class ScaledBenchCommand(BenchCommand):
    """A benchmark with a scale curve: ``--scale 0.5 1 2`` runs it once per size, each in its own scratch
    database (``scale_database``), the plan's items scaled (``scaled_items``), and prints, after each
    size's own report, the sizes side by side (``curve_lines``). With --json: one object, ``runs`` (each
    size's report) and ``curve``. Without --scale it runs once, as before. A subclass measures one size
    in ``handle_scale`` (its report through ``printed_json``) and says what to compare in ``curve_point``."""

    curve_what = "what was measured"
    collecting = False
    last_summary: dict[str, Any] | None = None

    def scale_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            nargs="+",
            choices=SCALES,
            metavar="S",
            help="Sizes to measure, of 0.5 1 2 (≈57k / 114k / 228k assignments: the items × S), each in its own "
            "scratch database (the name plus _x0_5, –, _x2; created and migrated when missing), built once and "
            "reused; the figures printed side by side",
        )

    def handle_scale(self, **options: Any) -> None:
        raise NotImplementedError

    def curve_point(self, summary: dict[str, Any]) -> tuple[int, list[tuple[str, float, int]]]:
        """(assignments, [(name, p95 ms, queries)]) of one size's report."""
        raise NotImplementedError

    def scaled_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """What a run of the curve changes besides the items (e.g. keep the data to reuse it)."""
        return {}

    def printed_json(self, summary: dict[str, Any], **dumps: Any) -> bool:
        self.last_summary = summary
        if self.collecting:
            return self.as_json  # the one object comes at the end; the text report of each size now
        return super().printed_json(summary, **dumps)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        if not options.get("scale"):
            self.handle_scale(**options)
            return
        self.collecting = True
        points, runs = [], []
        for scale in sorted(set(options["scale"])):
            items = scaled_items(options["items"], scale)
            with scale_database(scale, self.progress) as database:
                self.progress(f"--scale {scale:g}: {items} items, database {database}")
                self.last_summary = None
                self.handle_scale(**{**options, "items": items, **self.scaled_options(options)})
            summary = self.last_summary or {}
            assignments, rows = self.curve_point(summary)
            points.append(CurvePoint(scale, database, items, assignments, rows))
            runs.append({"scale": scale, **summary})
        if self.as_json:
            self.stdout.write(
                json.dumps({"runs": runs, "curve": [p.summary() for p in points]}, ensure_ascii=False, default=str)
            )
        else:
            self.stdout.write("\n".join(curve_lines(points, self.curve_what)))
