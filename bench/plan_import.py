"""Benchmark: import and publish a province-sized plan (``manage.py bench_plan_import``).

Builds the synthetic province (``bench.province``: ≈1,650 units), writes a 77-item plan in the office XLSX layout where
most items name "各派出所", and measures ``import_plan(..., publish=True)`` on both write paths
(COPY and bulk_create), against the floor of PostgreSQL COPYing the same rows, plus an unchanged
re-import; then the same plan uploaded as HQ does on ``/plans/``: the file kept and dry-run, then
confirmed with publishing, each through the page's background job (``tasks.jobs.run_plan_upload``, run
in this process as an eager Celery task: the claim, the lease, the progress reports and all). Needs a
scratch PostgreSQL database of its own; see ``help``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandParser
from django.db import connection, transaction
from django.test.utils import override_settings

from accounts.models import Role, Unit, User
from accounts.services import grant_role
from accounts.unitfile import import_units
from bench.province import (
    CAMPAIGN_NAME,
    END,
    HQ_CODE,
    PLAN_FILE,
    PROVINCE,
    SOURCES,
    START,
    UNITS_FILE,
    Scratch,
    UnitRow,
    claim_scratch,
    delete_province,
    province_rows,
    write_plan_xlsx,
    write_units_csv,
)
from bench.reminders import create_leads
from bench.timing import BenchCommand, Executed, Measured, Traced, measure, traced_peak
from notifications import events
from notifications.models import EventKind, Message
from ops.celery import app as celery_app
from tasks.models import Assignment, PlanUpload, PlanUploadStatus
from tasks.services.plan_uploads import confirm_plan, preview_plan
from tasks.services.plans import PlanImportResult, import_plan
from utilities.db import _copy_value, fast_paths

SCRATCH = Scratch(
    command="bench_plan_import",
    database="tracker_bench",
    table=Assignment._meta.db_table,
    wipe=(PlanUpload, *PROVINCE),
    wiped="every plan upload, assignment, campaign, role grant, audit event and unit",
    user_prefix="bench-plan-",
)
CODE, CODE_BULK, CODE_JOB = "BENCH", "BENCH2", "BENCH-JOB"
HQ_USER = "bench-plan-hq"
# Dry-run codes for the traced runs: rolled back, so they never exist after the run.
CODE_MEM, CODE_BULK_MEM = "BENCH-MEM", "BENCH2-MEM"
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


@dataclass
class Floor:
    rows: int
    temp_seconds: float  # COPY into a TEMP twin: indexes and checks, no WAL, no foreign keys
    # COPY + COMMIT into a logged twin with the table's own keys over those columns (none since tasks 0017)
    fk_seconds: float


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
    job_preview: Measured | None = None  # the upload kept and dry-run through the background job
    job_confirm: Measured | None = None  # the confirmation: import + publish through the background job
    job_assignments: int = 0
    leads: int = 0  # one unit lead per unit (30 % with email), so publishing writes its messages
    messages: Messages | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Messages:
    """The publish's event messages (``notifications.events.assigned``, inside the COPY run): one
    event per unit given work, one message per lead and channel."""

    seconds: float = 0.0
    queries: int = 0
    units: int = 0
    messages: int = 0


MESSAGES_GOAL_S = 2.0  # issue 18: publishing writes its assignment messages in under 2 s
LEAD_EMAIL_PCT = 30  # bench_reminders' default


@contextmanager
def no_delivery() -> Iterator[None]:
    """The messages are written, never sent: the eager Celery of the job's run would otherwise drain the
    outbox (thousands of messages to the leads) inside the timed confirmation. Sending is bench_reminders'."""
    original = events._deliver_after_commit
    events._deliver_after_commit = lambda: None
    try:
        yield
    finally:
        events._deliver_after_commit = original


@contextmanager
def timed_messages(into: Messages) -> Iterator[None]:
    """Time ``events.assigned`` (what ``plans.apply_assignments`` calls to tell the units) on its own."""
    original = events.assigned

    def assigned(**kwargs):
        executed = Executed()
        started = time.perf_counter()
        with connection.execute_wrapper(executed):
            told = original(**kwargs)
        into.seconds += time.perf_counter() - started
        into.queries += executed.count
        into.units += told
        return told

    events.assigned = assigned
    try:
        yield
    finally:
        events.assigned = original


# --- The COPY floor ---------------------------------------------------------------------------


def _foreign_keys(table: str) -> list[str]:
    """``ADD FOREIGN KEY`` clauses for ``table``: the assignment table's own keys over the columns the
    import writes, as PostgreSQL holds them (tasks 0017: one key for the item and its campaign)."""
    quote = connection.ops.quote_name
    columns = {Assignment._meta.get_field(f).column for f in ASSIGNMENT_FIELDS}
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Assignment._meta.db_table)
        keys = [c["columns"] for c in found.values() if c["foreign_key"] and set(c["columns"]) <= columns]
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [Assignment._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    # pg_get_constraintdef names the columns as "FOREIGN KEY (a, b) REFERENCES …": keep those of ``keys``
    wanted = {f"FOREIGN KEY ({', '.join(k)})" for k in keys}
    return [f"ALTER TABLE {quote(table)} ADD {d}" for d in definitions if d.split(" REFERENCES")[0] in wanted]


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


class Command(BenchCommand):
    scratch = SCRATCH
    help = (
        "Benchmark importing and publishing a 77-item plan for a synthetic province of ≈1,650 units "
        "(≈110,000 assignments) on PostgreSQL: COPY path, bulk_create path, the COPY floor, and an "
        "unchanged re-import. It builds its own units, so it needs an empty, migrated scratch "
        "database and refuses any database that already holds units or campaigns; --reset deletes "
        "them first (only where no user belongs to a unit). "
        f"{SCRATCH.example()} "
        "Peak Python memory comes from a separate traced dry run of the same import."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        self.province_arguments(parser)
        parser.add_argument("--keep", action="store_true", help="Leave the units and campaigns in the database")
        self.output_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        self.at_least_one(options, ("stations", "cities", "subbureaus", "items"))
        claim_scratch(self.scratch, reset=options["reset"], progress=self.progress)
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])
        report = Report()
        try:
            with (
                override_settings(DEBUG=False),
                tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp,
                no_delivery(),
            ):
                # DEBUG off: otherwise Django keeps every SQL string (the bulk_create path's are MBs).
                self._run(Path(tmp), rows, options, report)
        finally:
            if not options["keep"]:
                self._cleanup([r[0] for r in rows])
        self._print(report)

    # --- steps ---

    def _run(self, tmp: Path, rows: list[UnitRow], options: dict[str, Any], report: Report) -> None:
        units_csv, plan_xlsx = tmp / UNITS_FILE, tmp / PLAN_FILE
        write_units_csv(units_csv, rows)
        report.units_import = measure(lambda: import_units(path=units_csv))
        if report.units_import.logged < report.units_import.queries:
            report.notes.append(
                f"unit import: CaptureQueriesContext kept {report.units_import.logged} of "
                f"{report.units_import.queries} queries (its 9,000 limit); the count comes from an execute wrapper"
            )
        report.units = Unit.objects.filter(path__startswith=Unit.objects.get(code=HQ_CODE).path).count()
        self.progress(f"units: {report.units} imported in {report.units_import.seconds:.2f} s")
        write_plan_xlsx(plan_xlsx, options["items"], options["cities"])
        report.leads = create_leads(SCRATCH.user_prefix, LEAD_EMAIL_PCT, 0)["unit_leads"]

        def run(code: str, *, dry_run: bool = False) -> PlanImportResult:
            return import_plan(
                path=plan_xlsx,
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
        report.messages = told = Messages()
        with timed_messages(told):
            report.copy_run = measure(lambda: run(CODE))
        told.messages = Message.objects.filter(event__campaign__code=CODE, event__kind=EventKind.ASSIGNED).count()
        self.progress(f"  of which the assignment messages: {told.messages:,} in {told.seconds:.2f} s")
        result: PlanImportResult = report.copy_run.value
        report.items, report.assignments = result.items, result.assignments
        self.progress(f"import+publish (COPY): {report.assignments} assignments in {report.copy_run.seconds:.2f} s")
        with override_settings(DB_FAST_PATHS=False):
            report.bulk_run = measure(lambda: run(CODE_BULK))
        self.progress(f"import+publish (bulk_create): {report.bulk_run.seconds:.2f} s")
        report.floor = floor = copy_floor(CODE)
        self.progress(
            f"COPY floor: {floor.rows} rows in {floor.temp_seconds:.3f} s (logged, with its row keys {floor.fk_seconds:.3f} s)"
        )
        report.reimport = measure(lambda: run(CODE))
        self.progress(f"re-import: {report.reimport.seconds:.2f} s")
        self._through_the_job(tmp, plan_xlsx, report)
        # Traced runs last: their rolled-back rows must not slow the timed runs down.
        report.copy_traced = traced_peak(lambda: run(CODE_MEM, dry_run=True))
        with override_settings(DB_FAST_PATHS=False):
            report.bulk_traced = traced_peak(lambda: run(CODE_BULK_MEM, dry_run=True))
        self.progress("traced dry runs done")

    def _through_the_job(self, tmp: Path, plan_xlsx: Path, report: Report) -> None:
        """HQ's upload on the page, where a worker runs it: the preview and the confirmation with
        publishing each queued as the upload's job; the eager Celery runs the task when the queueing
        transaction commits, inside the measured call."""
        root = Unit.objects.get(code=HQ_CODE)
        hq = User.objects.create_user(HQ_USER, name="省厅领导小组办公室（基准）")
        grant_role(user=hq, role=Role.HQ, unit=root)
        hq.refresh_from_db()
        data = plan_xlsx.read_bytes()
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            with override_settings(MEDIA_ROOT=tmp / "media", PLAN_UPLOADS_IN_BACKGROUND=True):
                report.job_preview = measure(
                    lambda: preview_plan(
                        upload=SimpleUploadedFile(PLAN_FILE, data),
                        by=hq,
                        name=CAMPAIGN_NAME,
                        code=CODE_JOB,
                        start=START,
                        end=END,
                        owner=root,
                        background=True,
                    )
                )
                upload = PlanUpload.objects.get(pk=report.job_preview.value.pk)
                if upload.status != PlanUploadStatus.PREVIEWED:
                    raise RuntimeError(f"the job's dry run ended {upload.status}: {upload.message} {upload.result}")
                self.progress(f"upload + dry run (job): {report.job_preview.seconds:.2f} s")
                report.job_confirm = measure(lambda: confirm_plan(upload=upload, by=hq, publish=True, background=True))
                upload.refresh_from_db()
                if upload.status != PlanUploadStatus.IMPORTED:
                    raise RuntimeError(f"the job's import ended {upload.status}: {upload.message}")
                report.job_assignments = upload.result["assignments"]
                self.progress(f"confirm + publish (job): {report.job_confirm.seconds:.2f} s")
        finally:
            celery_app.conf.task_always_eager = eager

    def _cleanup(self, unit_codes: list[str]) -> None:
        users = SCRATCH.users()
        before = [PlanUpload.objects.filter(uploaded_by__in=users)]
        delete_province([CODE, CODE_BULK, CODE_JOB], users, unit_codes, SOURCES, before=before)
        self.progress("cleaned up (pass --keep to leave the data in place)")

    # --- output ---

    def _summary(self, r: Report) -> dict[str, Any]:
        assert (
            r.units_import and r.copy_run and r.bulk_run and r.reimport and r.copy_traced and r.bulk_traced and r.floor
        )
        assert r.job_preview and r.job_confirm and r.messages
        reimported: PlanImportResult = r.reimport.value
        job_total = r.job_preview.seconds + r.job_confirm.seconds
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
            "leads": r.leads,
            "messages_s": round(r.messages.seconds, 3),
            "messages_queries": r.messages.queries,
            "messages_units": r.messages.units,
            "messages": r.messages.messages,
            "messages_goal_s": MESSAGES_GOAL_S,
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
            "job_preview_s": round(r.job_preview.seconds, 3),
            "job_preview_queries": r.job_preview.queries,
            "job_confirm_s": round(r.job_confirm.seconds, 3),
            "job_confirm_queries": r.job_confirm.queries,
            "job_total_s": round(job_total, 3),
            "job_assignments": r.job_assignments,
            "ratio_job_confirm_to_import": round(r.job_confirm.seconds / r.copy_run.seconds, 2),
            "ratio_job_total_to_import": round(job_total / r.copy_run.seconds, 2),
            "top_statements": [{"count": c, "sql": s} for c, s in r.copy_run.shapes],
            "bulk_create_top_statements": [{"count": c, "sql": s} for c, s in r.bulk_run.shapes],
            "reimport_top_statements": [{"count": c, "sql": s} for c, s in r.reimport.shapes],
            "notes": r.notes,
        }

    def _print(self, r: Report) -> None:
        s = self._summary(r)
        if self.printed_json(s):
            return
        lines = [
            f"database {s['database']}: {s['units']} units, {s['items']} items, {s['assignments']:,} assignments",
            f"{'units import (import_units)':34}{s['units_import_s']:9.2f} s  {s['units_import_queries']:>6} queries",
            f"{'import+publish, COPY':34}{s['import_publish_s']:9.2f} s  {s['import_publish_queries']:>6} queries"
            + (" (+1 COPY, which bypasses Django's cursor)" if r.copy_path else ""),
            f"{'  of which assignment messages':34}{s['messages_s']:9.2f} s  {s['messages_queries']:>6} queries, "
            f"{s['messages']:,} messages to {s['leads']:,} leads of {s['messages_units']:,} units "
            f"(goal < {s['messages_goal_s']:.0f} s)",
            f"{'  peak Python (tracemalloc)':34}{s['peak_mb_tracemalloc']:9.1f} MB (traced dry run: {s['traced_run_s']:.2f} s)",
            f"{'  maxrss before → after':34}{s['maxrss_mb_before']:9.1f} → {s['maxrss_mb_after']:.1f} MB",
            f"{'import+publish, bulk_create':34}{s['bulk_create_s']:9.2f} s  {s['bulk_create_queries']:>6} queries",
            f"{'  peak Python (tracemalloc)':34}{s['bulk_create_peak_mb_tracemalloc']:9.1f} MB",
            f"{'  maxrss after':34}{s['bulk_create_maxrss_mb_after']:9.1f} MB (process high-water mark)",
            f"{'COPY floor (temp table, no FKs)':34}{s['copy_floor_s']:9.3f} s  {s['copy_floor_rows']:,} rows",
            f"{'ratio import / COPY floor':34}{s['ratio_import_to_copy']:9.2f} ×",
            f"{'COPY+COMMIT, logged, its row keys':34}{s['copy_floor_with_fks_s']:9.3f} s",
            f"{'ratio import / that':34}{s['ratio_import_to_copy_with_fks']:9.2f} ×",
            f"{'re-import, unchanged':34}{s['reimport_s']:9.2f} s  {s['reimport_queries']:>6} queries, "
            f"{s['reimport_created_assignments']} assignments created",
            "upload through the page's background job (tasks.run_plan_upload):",
            f"{'  upload + dry run (preview)':34}{s['job_preview_s']:9.2f} s  {s['job_preview_queries']:>6} queries",
            f"{'  confirm: import + publish':34}{s['job_confirm_s']:9.2f} s  {s['job_confirm_queries']:>6} queries, "
            f"{s['job_assignments']:,} assignments",
            f"{'  ratio confirm / import+publish':34}{s['ratio_job_confirm_to_import']:9.2f} ×",
            f"{'  ratio preview+confirm / that':34}{s['ratio_job_total_to_import']:9.2f} ×",
            "most frequent statements (COPY run):",
            *(f"  {c:>5} × {sql[:150]}" for c, sql in r.copy_run.shapes),
            *(f"note: {n}" for n in r.notes),
        ]
        self.stdout.write("\n".join(lines))
