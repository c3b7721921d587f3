"""Benchmark: import and publish a province-sized plan (``manage.py bench_plan_import``).

Builds a synthetic province (≈1,650 units), writes a 77-item plan in the office XLSX layout where
most items name "各派出所", and measures ``import_plan(..., publish=True)`` on both write paths
(COPY and bulk_create), against the floor of PostgreSQL COPYing the same rows, plus an unchanged
re-import. Needs a scratch PostgreSQL database of its own; see ``help``.
"""

from __future__ import annotations

import csv
import gc
import json
import re
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext, override_settings
from openpyxl import Workbook

from accounts.models import RoleGrant, Unit, User
from accounts.unitfile import import_units
from audit.models import AuditEvent
from ops.db import _copy_value, fast_paths
from tasks.models import Action, Assignment, Campaign, Item, Responsibility
from tasks.services.plans import PlanImportResult, import_plan

SCRATCH_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench"
START, END = date(2026, 7, 1), date(2026, 10, 8)
CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（基准测试）"
CODE, CODE_BULK = "BENCH", "BENCH2"
# Dry-run codes for the traced runs: rolled back, so they never exist after the run.
CODE_MEM, CODE_BULK_MEM = "BENCH-MEM", "BENCH2-MEM"
HQ_CODE = "33"
UNITS_FILE, PLAN_FILE = "bench-units.csv", "bench-plan.xlsx"
SOURCES = (f"import_units {UNITS_FILE}", f"import_plan {PLAN_FILE}")

CITY_NAMES = ("江城", "临川", "安平", "青州", "云阳", "北海", "南岭", "东川", "西渡", "宁远", "长乐")
DETACHMENTS = ("治安支队", "刑侦支队", "巡特警支队", "网安支队")
SECTIONS = (
    ("一", "“清患”行动", "王建国"),
    ("二", "“攻坚”行动", "李振华"),
    ("三", "“净网”行动", "张卫东"),
    ("四", "“护航”行动", "刘志强"),
    ("五", "“强基”行动", "陈海涛"),
    ("六", "“暖心”行动", "赵立新"),
)
HEADER = ("序号", "工作任务", "工作措施", "量化指标", "牵头单位", "配合单位", "责任领导", "完成时限", "验收标准")
DEADLINES = ("7月15日前", "8月底前", "每周五前", "行动期间")
TARGETS = ("检查重点场所不少于300家次", "破获案件≥20起", "隐患整改率100%", "同比下降20%", "")
TOPICS = ("重点场所清查", "涉危物品管控", "电诈窝点打击", "夜间巡逻防控", "矛盾纠纷排查", "校园周边整治")
ASSIGNMENT_FIELDS = (
    "campaign_id",
    "item_id",
    "unit_id",
    "role",
    "due_date",
    "status",
    "is_active",
    "progress",
    "version",
    "created_at",
    "updated_at",
)

UnitRow = tuple[str, str, str, str]  # code, name, parent code, kind as offices write it


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


@dataclass
class Floor:
    rows: int
    temp_seconds: float  # COPY into a TEMP twin: indexes and checks, no WAL, no foreign keys
    fk_seconds: float  # COPY + COMMIT into a logged twin with the real deferred foreign keys


@dataclass
class Report:
    units: int = 0
    copy_path: bool = True  # whether the first run wrote through COPY (settings.DB_FAST_PATHS)
    units_import: Measured | None = None
    items: int = 0
    assignments: int = 0
    copy_run: Measured | None = None
    copy_traced: Traced | None = None
    bulk_run: Measured | None = None
    bulk_traced: Traced | None = None
    floor: Floor | None = None
    reimport: Measured | None = None
    notes: list[str] = field(default_factory=list)


# --- Synthetic data ----------------------------------------------------------------------------


def _city_name(index: int) -> str:
    return CITY_NAMES[index] if index < len(CITY_NAMES) else f"第{index + 1}"


def province_rows(cities: int, subbureaus: int, stations: int, detachments: int = 2) -> list[UnitRow]:
    """HQ → cities (each with detachments) → sub-bureaus → stations, spread round-robin."""
    rows: list[UnitRow] = [(HQ_CODE, "某省公安厅", "", "省厅")]
    city_codes = [f"{HQ_CODE}{c + 1:02d}" for c in range(cities)]
    for c, code in enumerate(city_codes):
        rows.append((code, f"{_city_name(c)}市公安局", HQ_CODE, "市局"))
        for d in range(detachments):
            name = f"{_city_name(c)}市公安局{DETACHMENTS[d % len(DETACHMENTS)]}"
            rows.append((f"{code}D{d + 1}", name, code, "支队"))
    subs: list[tuple[str, str]] = []
    for s in range(subbureaus):
        city, number = s % cities, s // cities + 1
        code, name = f"{city_codes[city]}{number:03d}", f"{_city_name(city)}第{number}分局"
        rows.append((code, name, city_codes[city], "分局"))
        subs.append((code, name))
    for n in range(stations):
        (sub_code, sub_name), number = subs[n % subbureaus], n // subbureaus + 1
        rows.append((f"{sub_code}{number:03d}", f"{sub_name}第{number}派出所", sub_code, "派出所"))
    return rows


def write_units_csv(path: Path, rows: list[UnitRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("单位编码", "单位名称", "上级单位编码", "单位类型"))
        writer.writerows(rows)


def _units_for(index: int, special: dict[int, int], cities: int) -> tuple[str, str]:
    """(lead, cooperating) for item ``index``: mostly every station; a few sub-bureau or city items."""
    k = special.get(index)
    if k is None:
        return "各派出所", "各分局" if index % 4 == 0 else ""
    if k % 2 == 0:
        return "各分局", "各派出所"
    return f"{_city_name(k // 2 % cities)}市公安局", "各分局"


def plan_rows(items: int, cities: int) -> list[tuple[int, tuple[str, ...]]]:
    """(section index, row cells) for every item; 7 of 77 items do not name 各派出所 as lead."""
    n_special = max(1, round(items * 7 / 77))
    special = {int((k + 0.5) * items / n_special): k for k in range(n_special)}
    sizes = [items // len(SECTIONS) + (1 if s < items % len(SECTIONS) else 0) for s in range(len(SECTIONS))]
    rows: list[tuple[int, tuple[str, ...]]] = []
    index = 0
    for s, size in enumerate(sizes):
        _, action, leader = SECTIONS[s]
        for n in range(size):
            topic = TOPICS[index % len(TOPICS)]
            lead, coop = _units_for(index, special, cities)
            cells = (
                f"{s + 1}.{n + 1}",
                f"{action.strip('“”')}：开展{topic}（第{n + 1}项）",
                f"围绕{topic}逐单位建立台账，每周汇总进展，发现问题当场交办、限期整改。",
                TARGETS[index % len(TARGETS)],
                lead,
                coop,
                leader,
                DEADLINES[index % len(DEADLINES)],
                "台账完整，按期完成，问题整改销号",
            )
            rows.append((s, cells))
            index += 1
    return rows


def write_plan_xlsx(path: Path, items: int, cities: int) -> None:
    """Office layout: title row, header row, merged section rows, dotted item codes stored as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "责任清单"
    width = len(HEADER)
    sheet.append([f"{CAMPAIGN_NAME}量化责任清单"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append(list(HEADER))
    current = -1
    for section, cells in plan_rows(items, cities):
        if section != current:
            number, action, leader = SECTIONS[section]
            sheet.append([f"{number}、{action}（分管领导：{leader}）"])
            row = sheet.max_row
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            current = section
        sheet.append(list(cells))
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"  # "1.10" must not become 1.1
    book.save(path)


# --- Measuring ---------------------------------------------------------------------------------


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


def _top_shapes(queries: list[dict[str, str]], n: int = 5) -> list[tuple[int, str]]:
    counts = Counter(statement_shape(q["sql"]) for q in queries)
    return [(count, shape) for shape, count in counts.most_common(n)]


def measure(call: Callable[[], Any]) -> Measured:
    """Wall time, SQL queries and RSS high-water mark of ``call``; no tracing, so the time is honest."""
    gc.collect()
    reset_queries()  # the query log is a bounded deque shared by every capture on this connection
    before = _maxrss_mb()
    executed = 0

    def count(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    # The log keeps the last 9,000 queries only (the unit import makes more): the wrapper counts all.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Limit for query logging exceeded")
        with connection.execute_wrapper(count), CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            value = call()
            seconds = time.perf_counter() - started
        logged, shapes = len(ctx), _top_shapes(ctx.captured_queries)
    return Measured(
        seconds=seconds,
        queries=executed,
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


def _foreign_keys(table: str) -> list[str]:
    """``ADD FOREIGN KEY`` clauses like Django's for the assignment columns that reference a table."""
    quote = connection.ops.quote_name
    clauses = []
    for f in Assignment._meta.concrete_fields:
        if f.attname in ASSIGNMENT_FIELDS and f.is_relation:
            target = f.related_model._meta
            clauses.append(
                f"ALTER TABLE {table} ADD FOREIGN KEY ({quote(f.column)}) "
                f"REFERENCES {quote(target.db_table)} ({quote(target.pk.column)}) DEFERRABLE INITIALLY DEFERRED"
            )
    return clauses


def _timed_copy(table: str, text: str, *, temp: bool) -> float:
    """Seconds to COPY ``text`` into a fresh twin of the assignment table (and commit it, for a logged one)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ASSIGNMENT_FIELDS)
    with connection.cursor() as cursor:
        # LIKE … INCLUDING ALL copies defaults, identity, indexes and checks, but no foreign keys.
        cursor.execute(
            f"CREATE {'TEMP ' if temp else ''}TABLE {table} (LIKE {quote(Assignment._meta.db_table)} INCLUDING ALL)"
        )
        try:
            for clause in [] if temp else _foreign_keys(table):
                cursor.execute(clause)
            started = time.perf_counter()
            # Deferred foreign keys are checked at COMMIT, as in the import's own transaction.
            with transaction.atomic(), connection.cursor() as inner:
                inner.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", StringIO(text))
            return time.perf_counter() - started
        finally:
            cursor.execute(f"DROP TABLE {table}")


def copy_floor(code: str) -> Floor:
    """What PostgreSQL alone takes to store the campaign's assignment rows."""
    rows = list(Assignment.objects.filter(campaign__code=code).order_by("id").values_list(*ASSIGNMENT_FIELDS))
    # Built before the clock starts, in the import's own format: only the server's share is measured.
    text = "".join("\t".join(_copy_value(v) for v in row) + "\n" for row in rows)
    return Floor(
        rows=len(rows),
        temp_seconds=_timed_copy("bench_copy_floor", text, temp=True),
        fk_seconds=_timed_copy("bench_copy_floor_fk", text, temp=False),
    )


# --- The command -------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Benchmark importing and publishing a 77-item plan for a synthetic province of ≈1,650 units "
        "(≈110,000 assignments) on PostgreSQL: COPY path, bulk_create path, the COPY floor, and an "
        "unchanged re-import. It builds its own units, so it needs an empty, migrated scratch "
        "database and refuses any database that already holds units or campaigns; --reset deletes "
        "them first (only where no user belongs to a unit). "
        f"Example: createdb -h 127.0.0.1 -U postgres tracker_bench; DATABASE_URL={SCRATCH_URL} "
        "manage.py migrate; DATABASE_URL=… manage.py bench_plan_import. "
        "Peak Python memory comes from a separate traced dry run of the same import."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stations", type=int, default=1500)
        parser.add_argument("--cities", type=int, default=11)
        parser.add_argument("--subbureaus", type=int, default=120)
        parser.add_argument("--items", type=int, default=77)
        parser.add_argument("--keep", action="store_true", help="Leave the units and campaigns in the database")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every assignment, campaign, role grant, audit event and unit first (scratch databases only)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        for name in ("stations", "cities", "subbureaus", "items"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        self._check_database(reset=options["reset"])
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])
        report = Report()
        try:
            with override_settings(DEBUG=False), tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
                # DEBUG off: otherwise Django keeps every SQL string (the bulk_create path's are MBs).
                self._run(Path(tmp), rows, options, report)
        finally:
            if not options["keep"]:
                self._cleanup([r[0] for r in rows])
        self._print(report)

    # --- steps ---

    def _progress(self, text: str) -> None:
        (self.stderr if self.as_json else self.stdout).write(text)

    def _check_database(self, *, reset: bool) -> None:
        hint = f"Point it at a scratch database: DATABASE_URL={SCRATCH_URL} (createdb, then manage.py migrate)."
        if connection.vendor != "postgresql":
            raise CommandError(
                f"bench_plan_import measures PostgreSQL (COPY); this database is {connection.vendor}. {hint}"
            )
        if "tasks_assignment" not in connection.introspection.table_names():
            raise CommandError(f"The database is not migrated. Run manage.py migrate first. {hint}")
        if not (Unit.objects.exists() or Campaign.objects.exists()):
            return
        if not reset:
            raise CommandError(
                f"The database already holds units or campaigns; the benchmark builds its own. {hint} "
                "Or pass --reset to delete them (scratch databases only)."
            )
        if User.objects.filter(unit__isnull=False).exists():
            raise CommandError(f"--reset refused: users belong to units, this is not a scratch database. {hint}")
        with transaction.atomic():
            for model in (Assignment, Responsibility, Item, Action, Campaign, RoleGrant, AuditEvent, Unit):
                model.objects.all().delete()
        self._progress("--reset: deleted every assignment, campaign, role grant, audit event and unit.")

    def _run(self, tmp: Path, rows: list[UnitRow], options: dict[str, Any], report: Report) -> None:
        units_csv, plan_xlsx = tmp / UNITS_FILE, tmp / PLAN_FILE
        write_units_csv(units_csv, rows)
        report.units_import = measure(lambda: import_units(units_csv))
        if report.units_import.logged < report.units_import.queries:
            report.notes.append(
                f"unit import: CaptureQueriesContext kept {report.units_import.logged} of "
                f"{report.units_import.queries} queries (its 9,000 limit); the count comes from an execute wrapper"
            )
        report.units = Unit.objects.filter(path__startswith=Unit.objects.get(code=HQ_CODE).path).count()
        self._progress(f"units: {report.units} imported in {report.units_import.seconds:.2f} s")
        write_plan_xlsx(plan_xlsx, options["items"], options["cities"])

        def run(code: str, *, dry_run: bool = False) -> PlanImportResult:
            return import_plan(
                plan_xlsx,
                name=CAMPAIGN_NAME,
                code=code,
                start=START,
                end=END,
                owner=HQ_CODE,
                publish=True,
                dry_run=dry_run,
            )

        report.copy_path = fast_paths()
        if not report.copy_path:
            report.notes.append("DB_FAST_PATHS is off in settings: the first run used bulk_create too")
        report.copy_run = measure(lambda: run(CODE))
        result: PlanImportResult = report.copy_run.value
        report.items, report.assignments = result.items, result.assignments
        self._progress(f"import+publish (COPY): {report.assignments} assignments in {report.copy_run.seconds:.2f} s")
        with override_settings(DB_FAST_PATHS=False):
            report.bulk_run = measure(lambda: run(CODE_BULK))
        self._progress(f"import+publish (bulk_create): {report.bulk_run.seconds:.2f} s")
        report.floor = floor = copy_floor(CODE)
        self._progress(
            f"COPY floor: {floor.rows} rows in {floor.temp_seconds:.3f} s (with FKs {floor.fk_seconds:.3f} s)"
        )
        report.reimport = measure(lambda: run(CODE))
        self._progress(f"re-import: {report.reimport.seconds:.2f} s")
        # Traced runs last: their rolled-back rows must not slow the timed runs down.
        report.copy_traced = traced_peak(lambda: run(CODE_MEM, dry_run=True))
        with override_settings(DB_FAST_PATHS=False):
            report.bulk_traced = traced_peak(lambda: run(CODE_BULK_MEM, dry_run=True))
        self._progress("traced dry runs done")

    def _cleanup(self, unit_codes: list[str]) -> None:
        """Delete what the run created, children before parents (Item.action and Unit FKs PROTECT)."""
        campaigns = Campaign.objects.filter(code__in=[CODE, CODE_BULK])
        with transaction.atomic():
            Assignment.objects.filter(campaign__in=campaigns).delete()
            Responsibility.objects.filter(item__campaign__in=campaigns).delete()
            Item.objects.filter(campaign__in=campaigns).delete()
            Action.objects.filter(campaign__in=campaigns).delete()
            campaigns.delete()
            AuditEvent.objects.filter(Q(source__in=SOURCES) | Q(unit__code__in=unit_codes)).delete()
            Unit.objects.filter(code=HQ_CODE).delete()  # treebeard deletes the whole subtree
        self._progress("cleaned up (pass --keep to leave the data in place)")

    # --- output ---

    def _summary(self, r: Report) -> dict[str, Any]:
        assert (
            r.units_import and r.copy_run and r.bulk_run and r.reimport and r.copy_traced and r.bulk_traced and r.floor
        )
        reimported: PlanImportResult = r.reimport.value
        return {
            "database": connection.settings_dict["NAME"],
            "units": r.units,
            "units_import_s": round(r.units_import.seconds, 3),
            "units_import_queries": r.units_import.queries,
            "items": r.items,
            "assignments": r.assignments,
            "import_publish_s": round(r.copy_run.seconds, 3),
            "import_publish_queries": r.copy_run.queries,
            "import_publish_copy_path": r.copy_path,
            "peak_mb_tracemalloc": round(r.copy_traced.peak_mb, 1),
            "traced_run_s": round(r.copy_traced.seconds, 3),
            "maxrss_mb_before": round(r.copy_run.maxrss_before_mb, 1),
            "maxrss_mb_after": round(r.copy_run.maxrss_after_mb, 1),
            "bulk_create_s": round(r.bulk_run.seconds, 3),
            "bulk_create_queries": r.bulk_run.queries,
            "bulk_create_peak_mb_tracemalloc": round(r.bulk_traced.peak_mb, 1),
            "bulk_create_maxrss_mb_after": round(r.bulk_run.maxrss_after_mb, 1),
            "copy_floor_s": round(r.floor.temp_seconds, 3),
            "copy_floor_rows": r.floor.rows,
            "ratio_import_to_copy": round(r.copy_run.seconds / r.floor.temp_seconds, 2),
            "copy_floor_with_fks_s": round(r.floor.fk_seconds, 3),
            "ratio_import_to_copy_with_fks": round(r.copy_run.seconds / r.floor.fk_seconds, 2),
            "reimport_s": round(r.reimport.seconds, 3),
            "reimport_queries": r.reimport.queries,
            "reimport_created_assignments": reimported.created.get("assignments", 0),
            "reimport_changes": reimported.changes,
            "top_statements": [{"count": c, "sql": s} for c, s in r.copy_run.shapes],
            "bulk_create_top_statements": [{"count": c, "sql": s} for c, s in r.bulk_run.shapes],
            "reimport_top_statements": [{"count": c, "sql": s} for c, s in r.reimport.shapes],
            "notes": r.notes,
        }

    def _print(self, r: Report) -> None:
        s = self._summary(r)
        if self.as_json:
            self.stdout.write(json.dumps(s, ensure_ascii=False))
            return
        lines = [
            f"database {s['database']}: {s['units']} units, {s['items']} items, {s['assignments']:,} assignments",
            f"{'units import (import_units)':34}{s['units_import_s']:9.2f} s  {s['units_import_queries']:>6} queries",
            f"{'import+publish, COPY':34}{s['import_publish_s']:9.2f} s  {s['import_publish_queries']:>6} queries"
            + (" (+1 COPY, which bypasses Django's cursor)" if r.copy_path else ""),
            f"{'  peak Python (tracemalloc)':34}{s['peak_mb_tracemalloc']:9.1f} MB (traced dry run: {s['traced_run_s']:.2f} s)",
            f"{'  maxrss before → after':34}{s['maxrss_mb_before']:9.1f} → {s['maxrss_mb_after']:.1f} MB",
            f"{'import+publish, bulk_create':34}{s['bulk_create_s']:9.2f} s  {s['bulk_create_queries']:>6} queries",
            f"{'  peak Python (tracemalloc)':34}{s['bulk_create_peak_mb_tracemalloc']:9.1f} MB",
            f"{'  maxrss after':34}{s['bulk_create_maxrss_mb_after']:9.1f} MB (process high-water mark)",
            f"{'COPY floor (temp table, no FKs)':34}{s['copy_floor_s']:9.3f} s  {s['copy_floor_rows']:,} rows",
            f"{'ratio import / COPY floor':34}{s['ratio_import_to_copy']:9.2f} ×",
            f"{'COPY+COMMIT, logged twin with FKs':34}{s['copy_floor_with_fks_s']:9.3f} s",
            f"{'ratio import / that':34}{s['ratio_import_to_copy_with_fks']:9.2f} ×",
            f"{'re-import, unchanged':34}{s['reimport_s']:9.2f} s  {s['reimport_queries']:>6} queries, "
            f"{s['reimport_created_assignments']} assignments created",
            "most frequent statements (COPY run):",
            *(f"  {c:>5} × {sql[:150]}" for c, sql in r.copy_run.shapes),
            *(f"note: {n}" for n in r.notes),
        ]
        self.stdout.write("\n".join(lines))
