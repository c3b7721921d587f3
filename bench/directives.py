"""``manage.py bench_directives``: 5,000 directives (督办事项) across the bench province — HQ's desk list and
the battle board with the directives' row against the board without it (issue 21's done-when: the desk's
p95 under 50 ms, the board with the row within 1.2× of the board without it).

The province is bench_plan_import's (1,654 units, a published 77-item plan, ≈114,000 assignments, their
statuses spread as bench_boards spreads them), built once in a scratch PostgreSQL database and kept. Each
run deletes the directives of an earlier run, times the board without any, then creates ``--directives``
directives set-based (``bulk_create`` of their items, directives, responsibilities and assignments, as
registered and handed down: the board's rollup counts them through its triggers), and times the desk
(page and API, first page) and the board again. In-process requests (test Client, a session login, DEBUG
off), ``WARMUP`` untimed first; p50/p95 by nearest rank; queries per request; the load average and
``uptime`` beside each figure (the machine may be shared).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.db.models import Count

from accounts.models import Role, Unit
from audit.models import AuditEvent
from bench.boards import spread_work
from bench.province import (
    END,
    HQ_CODE,
    PROVINCE,
    START,
    Scratch,
    claim_scratch,
    create_personas,
    import_province,
    local_time,
    province_rows,
    session_clients,
    vacuum_analyze,
)
from bench.timing import WARMUP, BenchCommand, Target, Timed, time_page
from directives.models import Directive, Level, Source, Status
from directives.services import CODE_PREFIX, _line
from tasks.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Campaign,
    DeadlineKind,
    Item,
    ItemKind,
    Responsibility,
    ResponsibilityScope,
)

CODE = "BENCH-DIRECTIVES"
USER_PREFIX = "bench_directives_"
SOURCE = "bench_directives"
SCRATCH = Scratch(
    command="bench_directives",
    database="tracker_bench_directives",
    table=Directive._meta.db_table,
    wipe=(Directive, *PROVINCE),
    wiped="every unit, campaign, directive and record",
    user_prefix=USER_PREFIX,
)
TODAY = date(2026, 9, 1)  # two months into the campaign: part of the directives' work is due, part late
HANDED_DOWN = date(2026, 8, 1)  # when they were registered and handed down
DESK_GOAL_MS = 50.0  # the issue: the desk's p95 under 50 ms …
BOARD_RATIO = 1.2  # … and the board with the row within 1.2× of the board without it
BATCH = 1000


def uptime() -> str:
    """What ``uptime`` says of the load: the 1/5/15-minute load averages, on this many CPUs."""
    return f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


def remove_directives(campaign: Campaign) -> int:
    """An earlier run's directives, their items and work, set-based."""
    items = Item.objects.filter(campaign=campaign, kind=ItemKind.DIRECTIVE)
    with transaction.atomic():
        Assignment.objects.filter(item__in=items).delete()
        Responsibility.objects.filter(item__in=items).delete()
        gone, _ = Directive.objects.filter(item__in=items).delete()
        items.delete()
    return gone


def create_directives(campaign: Campaign, n: int, hq, units: list[Unit]) -> dict[str, int]:
    """``n`` directives, registered and handed down: each an item of kind directive under the line
    "督办事项", a lead unit (and every third a cooperating one) named, the work written as ``hand_down``
    writes it; statuses, receipts and submissions spread by a fixed hash. ``bulk_create`` in batches."""
    line = _line(campaign)
    first_seq = (Item.objects.filter(campaign=campaign).order_by("-seq").values_list("seq", flat=True).first()) or 0
    sources, levels = list(Source.values), list(Level.values)
    made = {"directives": 0, "assignments": 0}
    span = (END + timedelta(days=60) - (HANDED_DOWN + timedelta(days=10))).days
    for start in range(0, n, BATCH):
        ks = range(start + 1, min(n, start + BATCH) + 1)
        plan = []
        for k in ks:
            at = (k * 7919) % len(units)
            lead = units[at]
            # every third names a cooperating unit, another than the lead
            coop = (
                units[(at + 1 + (k * 104729) % (len(units) - 1)) % len(units)]
                if k % 3 == 0 and len(units) > 1
                else None
            )
            due = HANDED_DOWN + timedelta(days=10 + (k * 37) % span)
            plan.append((k, lead, coop, due))
        with transaction.atomic():
            items = Item.objects.bulk_create(
                [
                    Item(
                        campaign=campaign,
                        action=line,
                        code=f"{CODE_PREFIX}{k}",
                        seq=first_seq + k,
                        kind=ItemKind.DIRECTIVE,
                        is_active=True,
                        title=f"督办事项{k}：落实省厅领导批示，整治重点地区治安突出问题",
                        measures="限期办结，每周反馈进展",
                        lead_text=lead.name[:500],
                        cooperating_text=coop.name[:500] if coop else "",
                        deadline_text=f"{due.month}月{due.day}日前",
                        deadline_kind=DeadlineKind.WEEKLY if k % 4 == 0 else DeadlineKind.DATE,
                        cadence_weekday=5 if k % 4 == 0 else None,
                        due_date=due,
                    )
                    for k, lead, coop, due in plan
                ]
            )
            Directive.objects.bulk_create(
                [
                    Directive(
                        item=item,
                        source=sources[k % len(sources)],
                        text="限期办结，每周反馈进展",
                        level=levels[k % len(levels)],
                        status=Status.HANDED_DOWN,
                        is_case=k % 5 == 0,
                        case_no=f"A33{k:010d}" if k % 5 == 0 else "",
                        created_by=hq,
                    )
                    for item, (k, _lead, _coop, _due) in zip(items, plan, strict=True)
                ]
            )
            named = [
                (item, role, unit, due)
                for item, (_k, lead, coop, due) in zip(items, plan, strict=True)
                for role, unit in ((AssignmentRole.LEAD, lead), (AssignmentRole.COOPERATING, coop))
                if unit is not None
            ]
            Responsibility.objects.bulk_create(
                Responsibility(item=item, role=role, scope=ResponsibilityScope.UNIT, unit=unit, text=unit.name[:100])
                for item, role, unit, _due in named
            )
            work = []
            for item, role, unit, due in named:
                h = (item.pk * 7919) % 100
                status = (
                    AssignmentStatus.ACCEPTED
                    if h < 15
                    else AssignmentStatus.SUBMITTED
                    if h < 30
                    else AssignmentStatus.PENDING
                    if h < 40
                    else AssignmentStatus.IN_PROGRESS
                )
                went = status in (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)
                work.append(
                    Assignment(
                        campaign=campaign,
                        item=item,
                        unit=unit,
                        role=role,
                        due_date=due,
                        status=status,
                        submitted_on=min(due, TODAY - timedelta(days=h % 7)) if went else None,
                        acknowledged_at=local_time(HANDED_DOWN, 15) if h % 10 else None,
                    )
                )
            Assignment.objects.bulk_create(work)
        made["directives"] += len(items)
        made["assignments"] += len(work)
    return made


class Command(BenchCommand):
    scratch = SCRATCH
    help = (
        "Benchmark HQ's desk of directives and the battle board with the directives' row on the bench "
        "province with --directives directives (default 5,000), in a scratch PostgreSQL database (the "
        "province is built once and kept; each run replaces the directives). " + SCRATCH.example("[--repeat 30]")
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directives", type=int, default=5000, help="Directives to create (default 5,000)")
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests per page (default 30)")
        parser.add_argument("--cities", type=int, default=11, help="Cities of the province (a build only)")
        parser.add_argument("--subbureaus", type=int, default=120, help="Sub-bureaus of the province (a build only)")
        parser.add_argument("--stations", type=int, default=1500, help="Stations of the province (a build only)")
        parser.add_argument("--items", type=int, default=77, help="The plan's items (a build only)")
        self.output_arguments(parser, rebuild=True)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        self.at_least_one(options, ("directives", "repeat", "cities", "subbureaus", "stations", "items"))
        tm = self.time_machine()
        rows = province_rows(options["cities"], options["subbureaus"], options["stations"])

        def reuse() -> bool:
            ours = Campaign.objects.filter(code=CODE).first()
            if ours is None:
                return False
            if Unit.objects.count() != len(rows) or ours.items.filter(kind=ItemKind.PLAN).count() != options["items"]:
                raise CommandError("The benchmark's data here has another size; pass --reset.")
            return True

        if claim_scratch(self.scratch, reset=options["reset"], progress=self.progress, reuse=reuse):
            started = time.perf_counter()
            with tm.travel(local_time(START - timedelta(days=1), 9), tick=True):
                import_province(
                    rows, items=options["items"], cities=11, name="督办基准行动", code=CODE, progress=self.progress
                )
                create_personas({"hq": (Role.HQ, HQ_CODE, "省厅督办（基准）")}, USER_PREFIX, SOURCE)
            spread_work(Campaign.objects.get(code=CODE), TODAY)
            vacuum_analyze()
            self.progress(f"province built in {time.perf_counter() - started:.0f} s")
        campaign = Campaign.objects.get(code=CODE)
        hq = self.scratch.users().get(username=USER_PREFIX + "hq")
        removed = remove_directives(campaign)
        if removed:
            self.progress(f"{removed:,} directives of an earlier run removed")
        AuditEvent.objects.filter(source=SOURCE).delete()
        vacuum_analyze(Assignment, Item, Directive)
        client = session_clients([hq], USER_PREFIX)["hq"]
        board = f"/api/v1/boards/battle/?campaign={campaign.pk}&unit={HQ_CODE}"
        n = options["repeat"]
        report: dict[str, Any] = {"assignments_plan": Assignment.objects.filter(campaign=campaign).count()}
        with self.measuring(local_time(TODAY, 9), report.setdefault("load", [])):
            report["board_without"] = self._timed("battle board · province, no directives", board, client, n)
        with tm.travel(local_time(HANDED_DOWN, 10), tick=True):
            units = list(Unit.objects.filter(path__startswith=campaign.owner.path).exclude(pk=campaign.owner_id))
            started = time.perf_counter()
            made = create_directives(campaign, options["directives"], hq, units)
            report["create_s"] = round(time.perf_counter() - started, 1)
        vacuum_analyze(Assignment, Item, Directive, Responsibility)
        report["made"] = made
        self.progress(
            f"{made['directives']:,} directives, {made['assignments']:,} assignments in {report['create_s']} s"
        )
        with self.measuring(local_time(TODAY, 9), report["load"]):
            report["board_with"] = self._timed("battle board · province, with the directives' row", board, client, n)
            report["desk"] = self._timed("HQ's desk /directives/ (page 1)", "/directives/", client, n)
            report["desk_api"] = self._timed("/api/v1/directives/ (page 1)", "/api/v1/directives/", client, n)
            report["desk_overdue"] = self._timed(
                "HQ's desk, overdue only", f"/directives/?campaign={campaign.pk}&overdue=1", client, n
            )
        client.logout()
        ratio = report["board_with"]["p95_ms"] / report["board_without"]["p95_ms"]
        report["board_ratio_p95"] = round(ratio, 2)
        report["statuses"] = dict(
            Assignment.objects.filter(item__kind=ItemKind.DIRECTIVE, campaign=campaign)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by("status")
        )
        if self.printed_json(report):
            return
        self.stdout.write(
            f"{made['directives']:,} directives ({made['assignments']:,} assignments) beside the plan's "
            f"{report['assignments_plan']:,} assignments; {n} requests per page after {WARMUP} warm-up, in-process"
        )
        for key in ("board_without", "board_with", "desk", "desk_api", "desk_overdue"):
            r = report[key]
            self.stdout.write(
                f"{r['name']}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {r['queries']} queries (SQL p50 "
                f"{r['sql_p50_ms']} ms, CPU p50 {r['cpu_p50_ms']} ms), HTTP {r['status']} [{r['uptime']}]"
            )
        self.stdout.write(
            f"board with ÷ without (p95): {ratio:.2f} (goal ≤ {BOARD_RATIO}); desk p95 goal < {DESK_GOAL_MS:g} ms"
        )

    def _timed(self, name: str, url: str, client, n: int) -> dict[str, Any]:
        load = uptime()
        t: Timed = time_page(Target(name, "hq", url), url, client, n)
        out = {
            "name": name,
            "url": url,
            "status": t.status,
            "p50_ms": round(t.p50, 1),
            "p95_ms": round(t.pct(95), 1),
            "queries": t.queries,
            "sql_p50_ms": round(statistics.median(t.sql_ms), 1),
            "cpu_p50_ms": round(statistics.median(t.cpu_ms), 1),
            "uptime": load,
        }
        self.progress(f"{name}: p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, {out['queries']} queries [{load}]")
        return out
