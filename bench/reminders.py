"""Benchmark: the reminder sweep and the delivery of its messages (``manage.py bench_reminders``), issue 5.

On the synthetic province (``bench.province``: ≈1,650 units, the 77-item plan published to
≈114,000 assignments) every unit gets a unit lead, every line of action a responsible leader and the
province a few HQ users. The leads are written with ``bulk_create`` (1,650 service calls would take
minutes and measure nothing here); the leaders and HQ users go through ``create_personas``. One
set-based UPDATE spreads due dates and statuses by a fixed hash of the id, so that ≈5% of the
assignments are open and due on a step of the default rules around "today" (3 days ahead, 1 day
ahead, today, overdue by 1, 3 and 7+ days); the others are due later, or past due and done.

1. Sweep (decide): ``notifications.sweep.run(now)`` at "today" 09:00 (``time_machine``; outside the
   default quiet hours), timed with its SQL queries: first on a quarter, half and all of the units,
   each inside a transaction that is rolled back (the other units' assignments made inactive in it),
   then on all of them, committed, then again at the same moment, which must decide nothing. The
   number of queries must be the same at every size (transaction control left out of the count). The benchmark knows the sweep only by ``run(now)`` and its
   ``Outcome`` (``total``, ``reminders``, ``messages``): subjects the sweep gains (check-ins, findings,
   hotspots) show in its figures.
2. Delivery (send): a local HTTP server answers the webhook (200); ONE real Celery worker process
   (prefork, concurrency 1) on a Redis database of its own and this PostgreSQL database, with mail on
   Django's locmem backend (rendered and built, kept in the worker's memory, sent nowhere). The task
   ``notifications.deliver`` is queued, again whenever a drain ends with messages left, and the wall
   time is taken from queueing to the last ``sent_at``: first every queued message at once (the
   end-to-end figure), then each channel's messages queued again on their own, the others staying
   sent as an outbox keeps them (the cost of each channel).
   Every message must be sent exactly once, each webhook message reach the server exactly once.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.management.base import CommandError, CommandParser
from django.db import connection, reset_queries, transaction
from django.db.models import Count, Max, Q
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import Role, RoleGrant, Unit, User
from bench.province import (
    HQ_CODE,
    PROVINCE,
    SECTIONS,
    SOURCES,
    Scratch,
    claim_scratch,
    create_personas,
    delete_province,
    import_province,
    local_time,
    province_rows,
    vacuum_analyze,
)
from bench.timing import ScaledBenchCommand, load_line, load_summary, statement_shape
from bench.worker import CpuMeter, Receiver, Worker, database_url, postgres_pids
from notifications import sweep
from notifications.models import Channel, DeliveryAttempt, Message, MessageStatus, Preference, Reminder
from stats.models import Figure, Indicator
from tasks.models import Assignment, AssignmentStatus, Campaign, Item, LineOfAction, ProgressReport, Target

REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own: emptied before and after the run
CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（提醒基准测试）"
CODE = "BENCH-REMINDERS"
TODAY = date(2026, 9, 1)  # day 63 of 100, as the other benchmarks
AT = dtime(9, 0)  # the sweep's hour: outside the default quiet hours, so push messages may go at once
USER_PREFIX = "bench_rem_"
SCRATCH = Scratch(
    command="bench_reminders",
    database="tracker_bench_reminders",
    table=Message._meta.db_table,
    wipe=(Session, DeliveryAttempt, Message, Reminder, Preference, *PROVINCE),
    wiped="every reminder, message, assignment, campaign, unit and bench user",
    user_prefix=USER_PREFIX,
    held=(Unit, Campaign, Reminder),
)
SOURCE = "bench_reminders"
GOAL_S = 5.0  # the target for the sweep's decision step
DELIVER = "notifications.deliver"
OPEN = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)
# The default rules' steps around today, as (label, due date minus today); the last is a floor.
STEPS = (
    ("3 days ahead", 3),
    ("1 day ahead", 1),
    ("today", 0),
    ("1 day overdue", -1),
    ("3 days overdue", -3),
    ("7+ days overdue", -7),
)
LATE_SPAN = 14  # "7+ days overdue" spreads over 7 … 20 days
DONE_PERMILLE = 250  # past due but submitted or accepted: nothing to remind
POLL_S = 0.2
# Transaction control is left out of the query counts: a committed sweep logs BEGIN and COMMIT, one
# nested in the rolled-back probe SAVEPOINT and RELEASE SAVEPOINT instead.
TRANSACTION_CONTROL = re.compile(
    r"^\s*(?:BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE
)


# --- Building -------------------------------------------------------------------------------------


# Multipliers coprime to 1000 that spread even a short list over 0 … 999 (n * step mod 1000).
EMAIL_STEP, WEBHOOK_STEP, PROBE_STEP, SPREAD_STEP = 379, 613, 827, 7919


def _picked(n: int, step: int, pct: float) -> bool:
    """Whether the ``n``-th of a list is in a ``pct`` % share, spread evenly (``step`` coprime to 1000)."""
    return (n * step) % 1000 < round(pct * 10)


def people(hq: int) -> dict[str, tuple[str, str, str]]:
    """persona: (role, unit code, display name): a responsible leader per line of action, HQ users."""
    made = {f"leader_{n + 1}": (Role.LEADER, HQ_CODE, f"{SECTIONS[n][2]}（基准）") for n in range(len(SECTIONS))}
    made |= {f"hq_{n + 1}": (Role.HQ, HQ_CODE, f"省厅指挥部{n + 1}（基准）") for n in range(hq)}
    return made


def create_leads(prefix: str, email_pct: float, webhook_pct: float) -> dict[str, int]:
    """One active unit lead per unit, in bulk: ``email_pct`` % with an email address, ``webhook_pct`` %
    taking the webhook channel (``Preference``). No admin group (grant_role's admin access): the
    reminders do not look at it."""
    units = list(Unit.objects.order_by("path").values_list("pk", "code", "name"))
    password = make_password(None)  # unusable, as create_user(password=None) leaves it
    leads = User.objects.bulk_create(
        [
            User(
                username=f"{prefix}lead_{code}",
                name=f"{name}负责人"[:50],
                unit_id=pk,
                is_staff=True,
                password=password,
                email=f"lead-{code.lower()}@bench.invalid" if _picked(n, EMAIL_STEP, email_pct) else "",
            )
            for n, (pk, code, name) in enumerate(units)
        ],
        batch_size=1000,
    )
    RoleGrant.objects.bulk_create(
        [RoleGrant(user=u, role=Role.UNIT_LEAD, unit_id=u.unit_id) for u in leads], batch_size=1000
    )
    webhook = [Preference(user=u, webhook=True) for n, u in enumerate(leads) if _picked(n, WEBHOOK_STEP, webhook_pct)]
    Preference.objects.bulk_create(webhook, batch_size=1000)
    return {"unit_leads": len(leads), "with_email": sum(bool(u.email) for u in leads), "by_webhook": len(webhook)}


def _spread_sql(table: str) -> str:
    """One UPDATE of the campaign's assignments, by a fixed hash ``h`` (0 … 999) of each one's rank
    ``n`` in id order (the same rows on every run, whatever the ids): below ``due`` open and due on a
    step (``h`` mod 6 picks it); below ``done`` past due and submitted or accepted; the rest due 4 to
    43 days ahead, mostly open."""
    offsets = " ".join(f"WHEN {n} THEN {days}" for n, (_, days) in enumerate(STEPS[:-1]))
    late = f"{STEPS[-1][1]} - s.n %% {LATE_SPAN}"
    # Only the table name (from the model) and constants of this module are interpolated.
    return f"""
        UPDATE {table} a SET
            due_date = CASE
                WHEN s.h < %(due)s THEN %(today)s + CAST(CASE s.h %% {len(STEPS)} {offsets} ELSE {late} END AS integer)
                WHEN s.h < %(done)s THEN %(today)s - CAST(1 + s.n %% 30 AS integer)
                ELSE %(today)s + CAST(4 + s.n %% 40 AS integer) END,
            status = CASE
                WHEN s.h < %(due)s THEN CASE WHEN s.n %% 10 = 0 THEN %(returned)s
                    WHEN s.n %% 10 < 6 THEN %(in_progress)s ELSE %(pending)s END
                WHEN s.h < %(done)s THEN CASE WHEN s.n %% 10 < 7 THEN %(accepted)s ELSE %(submitted)s END
                ELSE CASE WHEN s.n %% 20 < 7 THEN %(pending)s WHEN s.n %% 20 < 16 THEN %(in_progress)s
                    WHEN s.n %% 20 < 18 THEN %(submitted)s ELSE %(accepted)s END END,
            version = a.version + 1
        FROM (
            SELECT id, n, (n * {SPREAD_STEP}) %% 1000 AS h
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM {table} WHERE campaign_id = %(campaign)s) r
        ) s
        WHERE a.id = s.id"""  # noqa: S608


def _spread_params(campaign: Campaign, today: date, due_pct: float) -> dict[str, Any]:
    due = round(due_pct * 10)
    statuses = {s.value: s.value for s in AssignmentStatus}
    return {"campaign": campaign.pk, "today": today, "due": due, "done": min(1000, due + DONE_PERMILLE), **statuses}


def _count_due(campaign: Campaign, today: date) -> dict[str, Any]:
    """Active and open assignments, and the open ones on each step of the rules (one query)."""
    active = Assignment.objects.filter(campaign=campaign, is_active=True)
    is_open = Q(status__in=OPEN)
    steps = {}
    for n, (_, days) in enumerate(STEPS):
        day = today + timedelta(days=days)
        steps[f"step{n}"] = Count("id", filter=is_open & (Q(due_date__lte=day) if days <= -7 else Q(due_date=day)))
    on_steps = [today + timedelta(days=d) for _, d in STEPS if d < 0 and d > -7]
    other = is_open & Q(due_date__lt=today, due_date__gt=today + timedelta(days=-7)) & ~Q(due_date__in=on_steps)
    got = active.aggregate(
        active=Count("id"), open=Count("id", filter=is_open), other_overdue=Count("id", filter=other), **steps
    )
    return {
        "active": got.pop("active"),
        "open": got.pop("open"),
        "other_overdue": got.pop("other_overdue"),
        "by_step": {label: got[f"step{n}"] for n, (label, _) in enumerate(STEPS)},
        "due": sum(got.values()),
    }


def add_later_targets(campaign: Campaign, reporter: User) -> dict[str, int]:
    """The behind-pace statement's every-target part at province scale (``--later-targets``, issue 20):
    every item a second target (整改隐患不少于20处), the first target of each 家次 item linked to an
    indicator (检查场所), a report on the second target of every tenth assignment and two figures of the
    indicator per unit (the rollup kept by the figures' triggers). Set-based, a few statements."""
    items = list(Item.objects.filter(campaign=campaign).order_by("pk"))
    Target.objects.bulk_create(
        [
            Target(item=i, seq=2, text="整改隐患不少于20处", metric="整改隐患", comparator="ge", value=20, unit="处")
            for i in items
        ]
    )
    places = Indicator.objects.create(campaign=campaign, code="places", name="检查场所", measure="家次", seq=1)
    linked = Target.objects.filter(item__campaign=campaign, seq=1, item__target_unit="家次").update(indicator=places)
    q = connection.ops.quote_name
    report, assignment, target = (q(m._meta.db_table) for m in (ProgressReport, Assignment, Target))
    figure, unit = q(Figure._meta.db_table), q(Unit._meta.db_table)
    with connection.cursor() as cursor:
        # Only table names (from the models) are interpolated; the values are parameters.
        cursor.execute(
            f"""INSERT INTO {report} (assignment_id, target_id, value, text, reported_by_id, reported_at, period)
            SELECT a.id, t.id, 1 + a.id %% 10, '', %s, %s, NULL FROM {assignment} a
            JOIN {target} t ON t.item_id = a.item_id AND t.seq = 2
            WHERE a.campaign_id = %s AND a.id %% 10 = 0""",  # noqa: S608
            [reporter.pk, campaign.published_at, campaign.pk],
        )
        reports = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {figure} (campaign_id, indicator_id, unit_id, day, value, reported_by_id, reported_at,
                on_behalf)
            SELECT %s, %s, u.id, CAST(%s AS date) + d.n * 10, 1 + u.id %% 7, %s, %s, FALSE
            FROM {unit} u CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) d""",  # noqa: S608
            [campaign.pk, places.pk, campaign.start, reporter.pk, campaign.published_at],
        )
        figures = cursor.rowcount
    return {"targets": len(items), "linked": linked, "reports": reports, "figures": figures}


# --- Sweeping ---------------------------------------------------------------------------------------


def _probe_sql(table: str, units: str) -> str:
    """Deactivate the assignments of the units outside a share (by a hash of each unit's rank in
    tree order): the sweep then sees that share of the province."""
    return f"""
        UPDATE {table} a SET is_active = false
        FROM (SELECT id, row_number() OVER (ORDER BY path) - 1 AS n FROM {units}) u
        WHERE a.unit_id = u.id AND a.campaign_id = %s AND a.is_active AND (u.n * {PROBE_STEP}) %% 1000 >= %s"""  # noqa: S608


@dataclass
class SweepRun:
    label: str
    fraction: float  # of the units whose assignments are active
    committed: bool
    active: int
    open: int
    due: int
    reminders: int
    messages: dict[str, int]
    decided: dict[str, int]  # Outcome.reminders, its keys joined with "/"
    wall_s: float
    queries: int  # SQL statements, without transaction control (BEGIN, COMMIT, SAVEPOINT …)
    statements: list[dict[str, Any]]  # {"ms": …, "sql": its shape}, in the order run


def _key(key: Any) -> str:
    return "/".join(map(str, key)) if isinstance(key, tuple) else str(key)


def timed_sweep(now: datetime) -> tuple[Any, float, list[dict[str, Any]]]:
    """``sweep.run(now)`` with its wall time (commit included) and its SQL statements (with their time)."""
    gc.collect()
    reset_queries()  # a full query log (9,000 entries) would make the capture below empty
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        outcome = sweep.run(now=now)
        wall = time.perf_counter() - started
    statements = [q for q in ctx.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]
    return outcome, wall, statements


@contextmanager
def tasks_queued_to(broker: str) -> Iterator[None]:
    """Whatever the sweep may queue on commit (today it queues nothing itself; docs/reminders.md
    says a delivery task follows a sweep) must neither run eagerly in this process, inside the
    timing, nor reach the worker before the delivery is timed: it goes to the benchmark's own Redis
    database, which is emptied before the worker starts."""
    from ops.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, broker
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved


class _Rollback(Exception):
    pass


# --- Delivering -------------------------------------------------------------------------------------


@dataclass
class Pass:
    """One delivery run: the messages of ``channels`` queued at its start, until the last is sent."""

    name: str
    channels: dict[str, int]  # messages per channel
    wall_s: float  # from queueing the first drain to the last sent_at
    last_sent_s: dict[str, float]  # per channel: the last sent_at, from the start
    drains: list[dict]  # what each notifications.deliver returned
    worker_cpu_s: float
    postgres_cpu_s: float | None  # every process of the local server (backends, WAL writer, autovacuum …)
    receiver_cpu_s: float  # this process: the webhook server and the polling
    not_sent: int
    attempts: int
    repeated: int  # messages with more than one attempt
    failed_attempts: int
    webhook_messages: int
    webhook_hits: int
    webhook_keys_once: bool  # every webhook message's key reached the server exactly once, no other key
    unsigned: int

    @property
    def messages(self) -> int:
        return sum(self.channels.values())

    @property
    def per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def sent_once(self) -> bool:
        return not self.not_sent and not self.repeated and not self.failed_attempts and self.attempts == self.messages

    @property
    def webhooks_ok(self) -> bool:
        return self.webhook_hits == self.webhook_messages and self.webhook_keys_once and not self.unsigned

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "messages": self.messages,
            "per_s": round(self.per_s, 1),
            "wall_s": round(self.wall_s, 3),
            "last_sent_s": {k: round(v, 3) for k, v in self.last_sent_s.items()},
            "worker_cpu_s": round(self.worker_cpu_s, 2),
            "postgres_cpu_s": None if self.postgres_cpu_s is None else round(self.postgres_cpu_s, 2),
            "receiver_cpu_s": round(self.receiver_cpu_s, 2),
            "sent_once": self.sent_once,
            "webhooks_ok": self.webhooks_ok,
        }


class Delivery:
    """The worker, the webhook receiver and the queue, for the passes of one run."""

    def __init__(self, directory: Path, broker: str, timeout: float):
        from celery import Celery

        self.broker, self.timeout = broker, timeout
        secret = secrets.token_hex(16)
        self.receiver = Receiver(secret)
        self.sender = Celery("bench-reminders", broker=broker, set_as_current=False)
        self.worker: Worker | None = None
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ops.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CONN_MAX_AGE": "60",  # the production default: one connection across drains
            "DEBUG": "0",  # as in production (DEBUG on keeps every query in memory)
            "SECRET_KEY": secrets.token_urlsafe(32),
            "TIME_ZONE": settings.TIME_ZONE,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "NOTIFY_WEBHOOK_URL": self.receiver.url,
            "NOTIFY_WEBHOOK_SECRET": secret,
        }
        try:
            self.worker = Worker(directory, env, DELIVER)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.sender.close()
        self.receiver.close()

    def run(self, name: str, channels: list[str]) -> Pass:
        worker = self.worker
        assert worker is not None
        queued_ids = dict(_ours(channel__in=channels, status=MessageStatus.PENDING).values_list("pk", "channel"))
        self.receiver.reset()
        done_before = len(worker.results())
        postgres, cpu = CpuMeter(postgres_pids), CpuMeter(worker.pids)
        own = time.process_time()
        left = _ours(channel__in=channels, status__in=[MessageStatus.PENDING, MessageStatus.SENDING])
        started_at, started = time.time(), time.perf_counter()
        self.sender.send_task(DELIVER)
        queued = 1
        while left.exists():
            drains = worker.results()[done_before:]
            if worker.proc.poll() is not None or worker.failures():
                raise CommandError(f"the worker failed:\n{worker.tail()}")
            if len(drains) >= queued:  # every drain queued has ended, and messages are left
                if not drains[-1].get("sent"):
                    raise CommandError(f"{name}: a drain sent nothing with messages left: {self._stuck(channels)}")
                self.sender.send_task(DELIVER)
                queued += 1
            if time.perf_counter() - started > self.timeout:
                raise CommandError(f"{name}: not delivered after {self.timeout:g} s: {self._stuck(channels)}")
            postgres.sample()
            cpu.sample()
            time.sleep(POLL_S)
        # the last drain ends when it finds nothing more: the next pass starts on an idle worker
        deadline = time.monotonic() + 60
        while len(drains := worker.results()[done_before:]) < queued and time.monotonic() < deadline:
            time.sleep(POLL_S)
        pg_cpu = postgres.total() if postgres.seen else None
        cpu_s = (cpu.total(), pg_cpu, time.process_time() - own)
        return self._checked(name, channels, queued_ids, started_at, drains, cpu_s)

    def _checked(self, name, channels, queued_ids, started_at, drains, cpu_s) -> Pass:
        """Every message queued at the start sent, with exactly one attempt, a successful one; each
        webhook message's key received once."""
        last = dict(
            _ours(channel__in=channels, status=MessageStatus.SENT)
            .values_list("channel")
            .annotate(last=Max("sent_at"))
            .order_by("channel")
        )
        last_sent_s = {channel: at.timestamp() - started_at for channel, at in last.items() if at}
        statuses = dict(_ours(channel__in=channels).values_list("pk", "status"))
        not_sent = sum(statuses.get(pk) != MessageStatus.SENT for pk in queued_ids)
        attempts = Counter()
        failed = 0
        for message_id, ok in DeliveryAttempt.objects.filter(
            message__recipient__username__startswith=USER_PREFIX, message__channel__in=channels
        ).values_list("message_id", "ok"):
            attempts[message_id] += 1
            failed += not ok
        webhooks = [m for m in _ours(channel=Channel.WEBHOOK, channel__in=channels) if m.pk in queued_ids]
        expected = Counter(m.idempotency_key for m in webhooks)
        with self.receiver.lock:
            keys, unsigned = Counter(self.receiver.keys), self.receiver.unsigned
        return Pass(
            name=name,
            channels=dict(sorted(Counter(queued_ids.values()).items())),
            wall_s=max(last_sent_s.values(), default=0.0),
            last_sent_s=dict(sorted(last_sent_s.items())),
            drains=drains,
            worker_cpu_s=cpu_s[0],
            postgres_cpu_s=cpu_s[1],
            receiver_cpu_s=cpu_s[2],
            not_sent=not_sent,
            attempts=sum(attempts[pk] for pk in queued_ids),
            repeated=sum(attempts[pk] > 1 for pk in queued_ids),
            failed_attempts=failed,
            webhook_messages=len(webhooks),
            webhook_hits=sum(keys.values()),
            webhook_keys_once=keys == expected,
            unsigned=unsigned,
        )

    @staticmethod
    def _stuck(channels: list[str]) -> str:
        statuses = dict(_ours(channel__in=channels).values_list("status").annotate(n=Count("id")).order_by("status"))
        errors = list(_ours(channel__in=channels).exclude(last_error="").values_list("last_error", flat=True)[:3])
        return f"messages by status {statuses}; errors {errors}"


def _ours(**lookups: Any):
    return Message.objects.filter(recipient__username__startswith=USER_PREFIX, **lookups)


def requeue(channel: str, now: datetime) -> int:
    """A channel's messages, sent in the first pass, pending again (due at the sweep's moment) with
    their attempts deleted; the other channels' stay sent, as an outbox keeps them."""
    DeliveryAttempt.objects.filter(
        message__recipient__username__startswith=USER_PREFIX, message__channel=channel
    ).delete()
    return _ours(channel=channel, status=MessageStatus.SENT).update(
        status=MessageStatus.PENDING, sent_at=None, lease_until=None, attempts=0, not_before=now
    )


# --- Report -----------------------------------------------------------------------------------------


@dataclass
class Report:
    units: int = 0
    items: int = 0
    assignments: int = 0
    build_s: float = 0.0
    due: dict[str, Any] = field(default_factory=dict)
    recipients: dict[str, int] = field(default_factory=dict)
    sizes: list[SweepRun] = field(default_factory=list)  # the probes and the first full sweep
    second: SweepRun | None = None
    by_subject: dict[str, int] = field(default_factory=dict)
    without_message: int = 0  # reminders of the first sweep with no message of their own (e.g. for a digest)
    passes: list[Pass] = field(default_factory=list)
    webhook_url: str = ""
    load: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def first(self) -> SweepRun | None:
        return self.sizes[-1] if self.sizes else None


def _fraction_label(fraction: float) -> str:
    known = {0.25: "1/4", 0.5: "1/2", 0.75: "3/4", 1.0: "all"}
    return known.get(fraction, f"{fraction:.0%}")


class Command(ScaledBenchCommand):
    scratch = SCRATCH
    curve_what = "each sweep (one run each: its wall time in the p95 column)"
    help = (
        "Benchmark the reminders on the synthetic province of bench_plan_import (≈114,000 assignments, "
        "≈5% open and due on a step of the default rules around --today) in a scratch PostgreSQL "
        "database: the sweep's wall time and SQL queries (on 1/4, 1/2 and all of the units; then again, "
        "deciding nothing), then the delivery of every message it queued through one real Celery worker "
        "(concurrency 1, a Redis database of its own, emptied before and after) to the in-app inbox, "
        "Django's locmem mail backend and a local webhook server, in messages per second overall and per "
        "channel. It builds its own units and users, so it refuses a database that already holds units or "
        "campaigns (--reset deletes them, scratch databases only). "
        + SCRATCH.example("[--scale 0.5 1 2] [--no-delivery] [--json]")
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=date.fromisoformat, default=TODAY, help=f"Default {TODAY} (swept at 09:00)")
        self.province_arguments(parser)
        parser.add_argument("--hq", type=int, default=3, help="HQ users over the whole province (default 3)")
        parser.add_argument(
            "--due-pct", type=float, default=5.0, help="%% of the assignments open and due on a step (default 5)"
        )
        parser.add_argument("--email-pct", type=float, default=30.0, help="%% of unit leads with email (default 30)")
        parser.add_argument(
            "--webhook-pct", type=float, default=50.0, help="%% of unit leads taking the webhook (default 50)"
        )
        parser.add_argument(
            "--fractions",
            default="0.25,0.5,1",
            help="Shares of the units to sweep first, each in a transaction rolled back, to compare queries and "
            "times (default 0.25,0.5,1)",
        )
        parser.add_argument("--redis-url", default=REDIS_URL, help=f"A Redis database of its own (default {REDIS_URL})")
        parser.add_argument(
            "--by-channel",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="After the delivery of everything at once, deliver the same messages again one channel at a time",
        )
        parser.add_argument(
            "--delivery",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Deliver what the sweep queued through a Celery worker (--no-delivery: the sweeps alone)",
        )
        parser.add_argument("--timeout", type=float, default=900, help="Seconds a delivery pass may take (default 900)")
        parser.add_argument("--keep", action="store_true", help="Leave the data in place")
        parser.add_argument(
            "--later-targets",
            action="store_true",
            help="Every item a second target, the 家次 items' first linked to an indicator, reports and figures: "
            "the behind-pace step's every-target part (a Monday: --today 2026-08-31)",
        )
        self.scale_arguments(parser)
        self.output_arguments(parser)

    def curve_point(self, summary: dict[str, Any]) -> tuple[int, list[tuple[str, float, int]]]:
        """Each sweep is one run: its wall time stands in the p95 column."""
        sweep = summary["sweep"]
        runs = [*sweep["sizes"], *([sweep["second"]] if sweep["second"] else [])]
        return summary["assignments"], [
            (f"sweep, {r['label']}", round(r["wall_s"] * 1000, 1), r["queries"]) for r in runs
        ]

    def handle_scale(self, **options: Any) -> None:
        time_machine = self.time_machine()
        import redis

        self.at_least_one(options, ("stations", "cities", "subbureaus", "items"))
        for name in ("due_pct", "email_pct", "webhook_pct"):
            if not 0 <= options[name] <= 100:
                raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 100")
        if options["due_pct"] + DONE_PERMILLE / 10 > 100:
            raise CommandError(f"--due-pct must be at most {100 - DONE_PERMILLE / 10:g}")
        try:
            fractions = sorted({float(f) for f in options["fractions"].split(",") if f.strip()})
        except ValueError:
            raise CommandError("--fractions: numbers between 0 and 1, e.g. 0.25,0.5") from None
        if any(not 0 < f <= 1 for f in fractions):
            raise CommandError("--fractions: numbers above 0, at most 1 (all the units)")
        self.now = local_time(options["today"], AT.hour, AT.minute)
        if self.now.timestamp() > time.time():
            # the worker runs on the real clock: messages due at a later moment would not be claimed yet
            raise CommandError(
                f"--today must be in the past: the worker delivers at the real time ({self.now} is later)"
            )
        self.today = options["today"]
        self.redis_url = options["redis_url"]
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])
        store = redis.Redis.from_url(options["redis_url"])
        try:
            store.ping()
        except redis.RedisError as exc:
            raise CommandError(f"Redis at {options['redis_url']}: {exc}") from None
        claim_scratch(self.scratch, reset=options["reset"], progress=self.progress)
        report = Report()
        try:
            # DEBUG off throughout: Django would keep every query of the build and the sweeps in memory
            with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp, override_settings(DEBUG=False):
                self._build(rows, options, report)
                report.load.append(os.getloadavg())
                with tasks_queued_to(options["redis_url"]):
                    with time_machine.travel(self.now, tick=True):
                        self._sweeps(report, fractions)
                    store.flushdb()  # anything the sweeps queued: the drains are timed from now on
                    if options["delivery"]:
                        self._deliver(Path(tmp), report, options)
                report.load.append(os.getloadavg())
        finally:
            store.flushdb()
            if not options["keep"]:
                self._cleanup([r[0] for r in rows])
        self._print(report)
        if problems := self._problems(report):
            raise CommandError("; ".join(problems))

    # --- steps ---

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
        campaign = Campaign.objects.get(code=CODE)
        made = create_personas(people(options["hq"]), USER_PREFIX, SOURCE)
        for user in made.values():
            user.email = f"{user.username.removeprefix(USER_PREFIX).replace('_', '-')}@bench.invalid"
        User.objects.bulk_update(made.values(), ["email"])
        leaders = [made[p] for p in made if p.startswith("leader_")]
        actions = list(LineOfAction.objects.filter(campaign=campaign).order_by("seq", "id"))
        for n, action in enumerate(actions):
            action.leader = leaders[n % len(leaders)]
        LineOfAction.objects.bulk_update(actions, ["leader"])
        leads = create_leads(USER_PREFIX, options["email_pct"], options["webhook_pct"])
        report.recipients = {**leads, "leaders": len(leaders), "hq": options["hq"]}
        self.progress(
            f"{leads['unit_leads']:,} unit leads ({leads['with_email']:,} with email, {leads['by_webhook']:,} by "
            f"webhook), {len(leaders)} leaders over {len(actions)} lines of action, {options['hq']} HQ users"
        )
        table = connection.ops.quote_name(Assignment._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(_spread_sql(table), _spread_params(campaign, self.today, options["due_pct"]))
            self.progress(f"due dates and statuses spread over {cursor.rowcount:,} assignments (one UPDATE)")
        if options["later_targets"]:
            added = add_later_targets(campaign, leaders[0])
            self.progress(
                f"later targets: {added['targets']} second targets, {added['linked']} first targets linked, "
                f"{added['reports']:,} reports, {added['figures']:,} figures"
            )
        vacuum_analyze()
        report.build_s = time.perf_counter() - started
        report.units = Unit.objects.count()
        report.items = campaign.items.count()
        report.assignments = Assignment.objects.filter(campaign=campaign).count()
        report.due = _count_due(campaign, self.today)
        self.progress(
            f"{report.assignments:,} assignments, {report.due['active']:,} active, {report.due['open']:,} open; "
            f"due on a step of the rules: {report.due['due']:,}"
        )

    def _sweeps(self, report: Report, fractions: list[float]) -> None:
        campaign = Campaign.objects.get(code=CODE)
        table = connection.ops.quote_name(Assignment._meta.db_table)
        units = connection.ops.quote_name(Unit._meta.db_table)
        for fraction in fractions:
            try:
                with transaction.atomic():
                    if fraction < 1:
                        with connection.cursor() as cursor:
                            cursor.execute(_probe_sql(table, units), [campaign.pk, round(fraction * 1000)])
                    due = _count_due(campaign, self.today)
                    outcome, wall, statements = timed_sweep(self.now)
                    run = self._run(
                        f"{_fraction_label(fraction)} of the units (rolled back)",
                        fraction,
                        False,
                        due,
                        outcome,
                        wall,
                        statements,
                    )
                    raise _Rollback
            except _Rollback:
                pass
            report.sizes.append(run)
            self.progress(
                f"sweep, {run.label}: {run.reminders:,} reminders in {run.wall_s:.2f} s, {run.queries} queries"
            )
        # the rolled-back rows are dead tuples now: vacuum them as autovacuum would
        vacuum_analyze(Assignment, Reminder, Message)
        due = report.due
        outcome, wall, statements = timed_sweep(self.now)
        report.sizes.append(self._run("all units: first sweep", 1.0, True, due, outcome, wall, statements))
        report.by_subject = dict(
            Reminder.objects.filter(batch=outcome.batch)
            .values_list("subject_type")
            .annotate(n=Count("id"))
            .order_by("subject_type")
        )
        report.without_message = Reminder.objects.filter(batch=outcome.batch, messages__isnull=True).count()
        self.progress(
            f"sweep, all units: {outcome.total:,} reminders, {sum(outcome.messages.values()):,} messages in "
            f"{wall:.2f} s, {len(statements)} queries"
        )
        outcome, wall, statements = timed_sweep(self.now)
        report.second = self._run("all units: second sweep, same now", 1.0, True, due, outcome, wall, statements)
        self.progress(f"sweep again: {outcome.total:,} reminders in {wall:.2f} s, {len(statements)} queries")

    @staticmethod
    def _run(label, fraction, committed, due, outcome, wall, statements) -> SweepRun:
        return SweepRun(
            label=label,
            fraction=fraction,
            committed=committed,
            active=due["active"],
            open=due["open"],
            due=due["due"],
            reminders=outcome.total,
            messages={str(k): v for k, v in sorted(outcome.messages.items())},
            decided={_key(k): v for k, v in sorted(outcome.reminders.items(), key=lambda kv: _key(kv[0])) if v},
            wall_s=wall,
            queries=len(statements),
            statements=[
                {"ms": round(float(q["time"]) * 1000, 1), "sql": statement_shape(q["sql"])} for q in statements
            ],
        )

    def _deliver(self, tmp: Path, report: Report, options: dict[str, Any]) -> None:
        vacuum_analyze(Reminder, Message)
        queued = dict(
            _ours(status=MessageStatus.PENDING).values_list("channel").annotate(n=Count("id")).order_by("channel")
        )
        if not queued:
            self.progress("delivery: nothing queued")
            return
        self.progress(f"delivery: starting one Celery worker on {options['redis_url']} …")
        delivery = Delivery(tmp, options["redis_url"], options["timeout"])
        report.webhook_url = delivery.receiver.url
        try:
            done = delivery.run("all at once", list(queued))
            report.passes.append(done)
            self.progress(f"delivered {done.messages:,} messages in {done.wall_s:.1f} s: {done.per_s:.0f}/s")
            if options["by_channel"]:
                for channel in queued:
                    requeue(channel, self.now)
                    vacuum_analyze(Message, DeliveryAttempt)
                    done = delivery.run(channel, [channel])
                    report.passes.append(done)
                    self.progress(f"{channel}: {done.messages:,} messages in {done.wall_s:.1f} s: {done.per_s:.0f}/s")
        finally:
            delivery.close()
            self._sessions_gone()

    def _sessions_gone(self) -> None:
        """Wait (a few seconds at most) for the stopped worker's database sessions to end."""
        deadline = time.monotonic() + 5
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
                if not cursor.fetchone()[0]:
                    return
                time.sleep(0.1)

    def _cleanup(self, unit_codes: list[str]) -> None:
        users = SCRATCH.users()
        mine = [
            DeliveryAttempt.objects.filter(message__recipient__in=users),
            Message.objects.filter(recipient__in=users),
            Reminder.objects.filter(recipient__in=users),
        ]
        delete_province([CODE], users, unit_codes, [*SOURCES, SOURCE], before=mine)
        self.progress("cleaned up (pass --keep to leave the data in place)")

    # --- output ---

    @staticmethod
    def _problems(r: Report) -> list[str]:
        problems = []
        if r.second is not None and (r.second.reminders or sum(r.second.messages.values())):
            problems.append(f"the second sweep decided {r.second.reminders} reminders: not idempotent")
        if any(not s.reminders for s in r.sizes):
            problems.append("a sweep of the size comparison decided nothing: its query count shows nothing")
        if any(not s.queries for s in [*r.sizes, *([r.second] if r.second else [])]):
            problems.append("a sweep ran no query that could be counted: the count shows nothing")
        if len({s.queries for s in r.sizes}) > 1:
            problems.append(f"query count grows with the assignments: {[s.queries for s in r.sizes]}")
        for p in r.passes:
            if not p.sent_once:
                problems.append(
                    f"delivery {p.name}: {p.not_sent} not sent, {p.repeated} sent more than once, "
                    f"{p.failed_attempts} failed attempts"
                )
            if not p.webhooks_ok:
                problems.append(
                    f"delivery {p.name}: webhook requests {p.webhook_hits} for {p.webhook_messages} messages "
                    f"(each key once: {p.webhook_keys_once}, unsigned {p.unsigned})"
                )
        return problems

    def _summary(self, r: Report) -> dict[str, Any]:
        first = r.first
        mixed = r.passes[0] if r.passes else None
        by_channel = r.passes[1:]

        def sweep_run(s: SweepRun | None) -> dict[str, Any] | None:
            return None if s is None else {**asdict(s), "wall_s": round(s.wall_s, 3)}

        per_s = {"all": round(mixed.per_s, 1)} if mixed else {}
        per_s |= {p.name: round(p.per_s, 1) for p in by_channel}
        active = r.due.get("active") or 0
        return {
            "database": connection.settings_dict["NAME"],
            "units": r.units,
            "items": r.items,
            "assignments": r.assignments,
            "build_s": round(r.build_s, 1),
            "today": self.today.isoformat(),
            "weekday": self.today.strftime("%A"),
            "now": self.now.isoformat(),
            "today_by": "time_machine",
            "assignments_active": active,
            "assignments_open": r.due.get("open"),
            "due": r.due.get("due"),
            "due_share": round(r.due["due"] / active, 4) if active else None,
            "due_by_step": r.due.get("by_step"),
            "overdue_other_days": r.due.get("other_overdue"),
            "recipients": r.recipients,
            "sweep": {
                "goal_s": GOAL_S,
                "goal_met": first is not None and first.wall_s < GOAL_S,
                "sizes": [sweep_run(s) for s in r.sizes],
                "first": sweep_run(first),
                "second": sweep_run(r.second),
                "queries_by_size": [s.queries for s in r.sizes],
                "queries_constant": len({s.queries for s in r.sizes}) == 1
                and all(s.reminders and s.queries for s in r.sizes),
                "idempotent": r.second is not None and r.second.reminders == 0,
                "by_subject": r.by_subject,
                "without_message": r.without_message,
            },
            "delivery": {
                "worker": "celery -A ops worker --pool=prefork -c 1 (one process, DEBUG=0, CONN_MAX_AGE=60)",
                "redis": self.redis_url,
                "email": "django.core.mail.backends.locmem.EmailBackend in the worker (built, sent nowhere)",
                "webhook_url": r.webhook_url,
                "mixed": mixed.summary() if mixed else None,
                "by_channel": [p.summary() for p in by_channel],
                "per_s": per_s,
                "sent_once": bool(r.passes) and all(p.sent_once for p in r.passes),
                "webhooks_ok": bool(r.passes) and all(p.webhooks_ok for p in r.passes),
            },
            "loadavg_before_after": load_summary(r.load),
            "problems": self._problems(r),
        }

    def _print(self, r: Report) -> None:
        s = self._summary(r)
        if self.printed_json(s):
            return
        n = "{:,}".format
        steps = ", ".join(f"{k} {n(v)}" for k, v in (s["due_by_step"] or {}).items())
        rec = s["recipients"]
        lines = [
            f"database {s['database']}: {n(s['units'])} units, {s['items']} items, {n(s['assignments'])} assignments "
            f"(built in {s['build_s']} s)",
            f"today = {s['today']} ({s['weekday']}), swept at {AT:%H:%M} {settings.TIME_ZONE} (time_machine; outside "
            "the default quiet hours); rules: the default policy",
            f"assignments active {n(s['assignments_active'])}, open {n(s['assignments_open'])}; open and due on a step "
            f"of the rules {n(s['due'])} ({(s['due_share'] or 0):.1%} of the active):",
            f"  {steps} (overdue on other days {n(s['overdue_other_days'])})",
            f"recipients: {n(rec['unit_leads'])} unit leads ({n(rec['with_email'])} with email, {n(rec['by_webhook'])} "
            f"by webhook), {rec['leaders']} responsible leaders and {rec['hq']} HQ users (with email, no webhook)",
            "",
            f"sweep: notifications.sweep.run(now); wall time (commit included) and SQL queries (without BEGIN, COMMIT, "
            f"SAVEPOINT); goal < {GOAL_S:g} s",
            f"  {'run':38}{'active':>9}{'due':>8}{'reminders':>11}{'inbox':>9}{'email':>8}{'webhook':>9}"
            f"{'wall s':>9}{'queries':>9}",
        ]
        for run in [*r.sizes, *([r.second] if r.second else [])]:
            m = run.messages
            lines.append(
                f"  {run.label[:37]:38}{n(run.active):>9}{n(run.due):>8}{n(run.reminders):>11}"
                f"{n(m.get('inbox', 0)):>9}{n(m.get('email', 0)):>8}{n(m.get('webhook', 0)):>9}"
                f"{run.wall_s:>9.2f}{run.queries:>9}"
            )
        sw = s["sweep"]
        counts = ", ".join(
            f"{q} ({_fraction_label(x.fraction)}{'' if x.committed else ', rolled back'})"
            for q, x in zip(sw["queries_by_size"], r.sizes, strict=True)
        )
        lines.append(
            f"  queries at each size: {counts}: "
            + ("the same, whatever the number of assignments" if sw["queries_constant"] else "NOT THE SAME")
        )
        if r.second:
            lines.append(
                f"  second sweep at the same now: {r.second.reminders} reminders, {sum(r.second.messages.values())} "
                f"messages in {r.second.wall_s:.2f} s, {r.second.queries} queries"
                + (" (idempotent)" if sw["idempotent"] else " NOT IDEMPOTENT")
            )
        if r.first:
            lines.append(
                f"  first sweep of all units {r.first.wall_s:.2f} s: goal < {GOAL_S:g} s "
                + ("met" if sw["goal_met"] else "MISSED")
            )
            lines.append(
                "  reminders by subject: "
                + ", ".join(f"{k} {n(v)}" for k, v in sw["by_subject"].items())
                + f"; with no message of their own (kept for a digest): {n(r.without_message)}"
            )
            lines.append("  by subject/kind/audience: " + ", ".join(f"{k} {n(v)}" for k, v in r.first.decided.items()))
        d = s["delivery"]
        if r.passes:
            lines += [
                "",
                f"delivery: one Celery worker ({d['worker']}) on {d['redis']} and this database;",
                f"  webhook: a local HTTP server answering 200 at {d['webhook_url']}; email: {d['email']}",
                f"  {'pass':16}{'channel':9}{'messages':>10}{'wall s':>9}{'msg/s':>9}{'drains':>8}"
                f"{'worker CPU s':>14}{'PostgreSQL CPU s':>18}  (the whole local server)",
            ]
            for p in r.passes:
                pg = "—" if p.postgres_cpu_s is None else f"{p.postgres_cpu_s:.1f}"
                label = "all at once" if p is r.passes[0] else "one channel"
                lines.append(
                    f"  {label:16}{('all' if p is r.passes[0] else p.name):9}{n(p.messages):>10}{p.wall_s:>9.1f}"
                    f"{p.per_s:>9.1f}{len(p.drains):>8}{p.worker_cpu_s:>14.1f}{pg:>18}"
                )
                if p is r.passes[0]:
                    for channel, count in p.channels.items():
                        lines.append(
                            f"  {'':16}{channel:9}{n(count):>10}   (its last sent after "
                            f"{p.last_sent_s.get(channel, 0):.1f} s)"
                        )
            if len(r.passes) > 1:
                total = sum(p.messages for p in r.passes[1:])
                wall = sum(p.wall_s for p in r.passes[1:])
                lines.append(
                    f"  {'one channel':16}{'sum':9}{n(total):>10}{wall:>9.1f}{total / wall if wall else 0:>9.1f}"
                )
            for p in r.passes:
                if p.webhook_messages:
                    lines.append(
                        f"  webhook requests received ({p.name}): {n(p.webhook_hits)} for {n(p.webhook_messages)} "
                        f"webhook messages; each key once: {'yes' if p.webhook_keys_once else 'NO'}; "
                        f"unsigned {p.unsigned}"
                    )
            lines.append(
                "  every queued message sent, exactly once (one successful attempt each): "
                + ("yes, in every pass" if d["sent_once"] else "NO")
            )
        lines += [
            "",
            load_line(s["loadavg_before_after"]),
        ]
        if s["problems"]:
            lines += ["", *(f"PROBLEM: {p}" for p in s["problems"])]
        self.stdout.write("\n".join(lines))
