"""Benchmark: the supervision lists and counts (``manage.py bench_supervision``), issue 4.

On the synthetic province (``bench.province``: ≈1,650 units, the 77-item plan published) it
seeds 20,000 findings and 3,000 rectification notices, with the inspections that found them and a
few hundred listed hotspots, then times as HQ (the whole province) and as a city's inspector: the
findings list by status and overdue, the notices, the counts and a finding, as ``bench_lists``
does (same timing, same table): p50/p95/max over ``--requests`` in-process requests, and the SQL
queries per request, which must not change with the page asked for or with the user's reach.
The HTML findings page (``web:inspections-findings``) is timed too when the project has it.

The supervision records are written set-based with ``bulk_create``, shaped like what the services
write (a notice's number from its issuing office's sequence, its findings' statuses and deadlines,
the answers of each round) but without the audit trail, from a fixed random seed around "today"
(2026-09-01, day 63 of 100; ``time_machine`` moves the clock there while measuring). The data is
kept: the next run reuses it; ``--reset`` builds it again.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from accounts.models import Role, Unit, UnitKind, User
from bench.province import (
    HQ_CODE,
    PROVINCE,
    START,
    Scratch,
    city_name,
    claim_scratch,
    create_personas,
    import_province,
    local_time,
    province_rows,
    session_clients,
    vacuum_analyze,
)
from bench.timing import (
    BenchCommand,
    Explained,
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
from inspections.models import (
    Answer,
    Category,
    Finding,
    FindingStatus,
    Hotspot,
    HotspotCriterion,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Notice,
    NoticeSequence,
    NoticeStatus,
    Photo,
    Severity,
    Verdict,
)
from inspections.services import notice_number
from tasks.models import Assignment, Campaign, Item

CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（督导基准测试）"
CODE = "BENCH-SUPERVISION"
TODAY = date(2026, 9, 1)  # day 63 of 100
USER_PREFIX = "bench_sup_"
# What its --reset deletes of the supervision, children first (bench_boards deletes it too).
SUPERVISION = (Photo, Answer, Verdict, Finding, Notice, NoticeSequence, Inspection, HotspotCriterion, Hotspot)
SCRATCH = Scratch(
    command="bench_supervision",
    database="tracker_bench_supervision",
    table=Finding._meta.db_table,
    wipe=(Session, *SUPERVISION, *PROVINCE),
    wiped="every unit, campaign and supervision record",
    user_prefix=USER_PREFIX,
    vacuum_full=True,  # the counts read every finding and join the units 8 times
)
SEED = 2026  # the same data on every build
CITY_CODE = f"{HQ_CODE}01"  # the measured inspector's city (江城)
PAGE = settings.REST_FRAMEWORK["PAGE_SIZE"]
WEB_FINDINGS = "web:inspections-findings"  # the HQ findings page, timed when the project has it


@dataclass(frozen=True)
class Size:
    """What to build: the province of bench_plan_import and the issue's 20,000 findings and 3,000
    notices; inspections and hotspots in proportion (2,400 and 300 for 20,000 findings)."""

    cities: int = 11
    subbureaus: int = 120
    stations: int = 1500
    items: int = 77
    findings: int = 20_000
    notices: int = 3_000

    @property
    def inspections(self) -> int:
        return max(1, self.findings * 3 // 25)

    @property
    def hotspots(self) -> int:
        return max(1, self.findings * 3 // 200)


def people(cities: int) -> dict[str, tuple[str, str, str]]:
    """persona: (role, unit code it belongs to and is granted the role on, display name).

    ``hq`` and ``city_inspector`` are measured; every city also has an inspector who logs and
    issues, and a rectification liaison who answers (the PROTECT foreign keys need real users).
    """
    made = {
        "hq": (Role.HQ, HQ_CODE, "省厅督察（基准）"),
        "city_inspector": (Role.INSPECTOR, CITY_CODE, f"{city_name(0)}督察（基准）"),
    }
    for c in range(1, cities):
        made[f"inspector_{c + 1:02d}"] = (Role.INSPECTOR, f"{HQ_CODE}{c + 1:02d}", f"{city_name(c)}督察（基准）")
    for c in range(cities):
        made[f"liaison_{c + 1:02d}"] = (Role.UNIT_LEAD, f"{HQ_CODE}{c + 1:02d}", f"{city_name(c)}整改联络员（基准）")
    return made


MEASURED = ("hq", "city_inspector")
GOAL_MS = 150.0  # the bar this benchmark sets for every target (the issue asks for the figures only)

_API = (
    ("findings ordered, overdue", "/api/v1/findings/?status=ordered&overdue=true"),
    ("findings open", "/api/v1/findings/?status=open"),
    ("findings submitted", "/api/v1/findings/?status=submitted"),
    ("notices", "/api/v1/notices/"),
    ("counts, all in reach", "/api/v1/inspection-counts/?campaign={campaign}"),
    ("finding detail", "/api/v1/findings/{finding}/"),
)
_HTML = ("page: ordered, overdue", "{findings_page}?status=ordered&overdue=1")
LABEL = {"hq": "HQ", "city_inspector": "city"}


def targets(with_page: bool) -> tuple[Target, ...]:
    """Every API target for HQ, then for the city's inspector; the HTML page last, if it exists."""
    made = [Target(f"{LABEL[p]}: {name}", p, url, GOAL_MS) for p in MEASURED for name, url in _API]
    if with_page:
        made += [Target(f"{LABEL[p]}: {_HTML[0]}", p, _HTML[1], GOAL_MS) for p in MEASURED]
    return tuple(made)


EXPLAIN_DEFAULT = (1, 5)  # --explain without numbers: HQ's ordered+overdue list and its counts
EXPLAIN_TABLES = (Finding._meta.db_table, Notice._meta.db_table)


@dataclass
class Report:
    units: int = 0
    items: int = 0
    assignments: int = 0
    province_s: float = 0.0  # units + plan import and publish (0: reused)
    seed_s: float = 0.0  # the supervision records (0: reused)
    data: dict[str, Any] = field(default_factory=dict)
    timed: list[Timed] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)  # query counts by page number
    explained: list[Explained] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)


# --- Seeding -------------------------------------------------------------------------------------


class Seeder:
    """The supervision records of one campaign, built in memory and written with ``bulk_create``.

    Shapes follow the services: inspections visit units of their office's city (HQ's anywhere);
    most findings come from a visit, the rest are logged without one; a notice lists several
    findings of one visited unit, numbered in its office's sequence in the order issued; a
    finding's status follows its notice's deadline (past due: mostly closed, a share still
    ordered, i.e. overdue), with one answer per round and a rejected first round for some.
    """

    def __init__(self, campaign: Campaign, users: dict[str, User], size: Size, today: date):
        self.campaign, self.users, self.size, self.today = campaign, users, size, today
        self.rng = random.Random(SEED)
        self.created: Counter[str] = Counter()
        root = Unit.objects.get(code=HQ_CODE)
        self.hq = root
        step = Unit.steplen
        units = list(Unit.objects.filter(path__startswith=root.path).order_by("path"))
        self.city_of: dict[int, Unit] = {}
        cities = {u.path: u for u in units if u.depth == root.depth + 1}
        self.cities = list(cities.values())
        self.pool: dict[int, tuple[list[Unit], list[float]]] = {}  # per city: units to visit, weights
        # Visits (and so findings) go 85% to stations, 10% to sub-bureaus, 5% to detachments.
        share = {UnitKind.STATION: 85, UnitKind.SUBBUREAU: 10, UnitKind.DETACHMENT: 5}
        of_kind = Counter(u.kind for u in units)
        weights = {kind: pct / of_kind[kind] for kind, pct in share.items() if of_kind[kind]}
        by_city: dict[int, list[Unit]] = defaultdict(list)
        for unit in units:
            city = cities.get(unit.path[: len(root.path) + step])
            if city is not None and unit.kind in weights:
                self.city_of[unit.pk] = city
                by_city[city.pk].append(unit)
        for city_pk, members in by_city.items():
            self.pool[city_pk] = (members, [weights[u.kind] for u in members])
        # each city's inspector logs and issues, its liaison answers (keyed by the city's id)
        by_code = {c.code: c for c in self.cities}
        self.inspector: dict[int, User] = {}
        self.liaison: dict[int, User] = {}
        for persona, (role, code, _) in people(len(self.cities)).items():
            if code in by_code:
                reach = self.inspector if role == Role.INSPECTOR else self.liaison
                reach[by_code[code].pk] = users[persona]
        self.items = list(Item.objects.filter(campaign=campaign).values_list("pk", flat=True))

    def day(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def visit_units(self, city: Unit, k: int) -> list[Unit]:
        members, weights = self.pool[city.pk]
        return list(dict.fromkeys(self.rng.choices(members, weights, k=k)))

    def run(self) -> Counter[str]:
        with transaction.atomic():
            hotspots = self.hotspots()
            visits = self.inspections(hotspots)
            self.findings_and_notices(visits)
        return self.created

    def _bulk(self, model, objs: list) -> list:
        made = model.objects.bulk_create(objs, batch_size=2000)
        self.created[model._meta.model_name] += len(made)
        return made

    def hotspots(self) -> list[Hotspot]:
        rng, rows = self.rng, []
        for n in range(self.size.hotspots):
            city = self.cities[n % len(self.cities)]
            unit = self.visit_units(city, 1)[0]
            listed = self.day(START, self.today - timedelta(days=10))
            deadline = listed + timedelta(days=rng.choice((30, 45, 60)))
            delisted = None
            if rng.random() < 0.35 and listed + timedelta(days=20) <= self.today:
                delisted = self.day(listed + timedelta(days=20), min(deadline, self.today))
            rows.append(
                Hotspot(
                    campaign=self.campaign,
                    name=f"{unit.name}辖区挂牌整治点{n + 1}",
                    area=f"{unit.name}辖区重点路段",
                    problems="夜间警情集中；占道经营；消防通道堵塞",
                    unit=unit,
                    responsible_name=f"{unit.name}所长",
                    listed_on=listed,
                    deadline=deadline,
                    inspect_every_days=7,
                    status=Hotspot.Status.DELISTED if delisted else Hotspot.Status.LISTED,
                    delisted_on=delisted,
                    extensions=1 if rng.random() < 0.1 else 0,
                    listed_by=self.inspector[city.pk],
                )
            )
        hotspots = self._bulk(Hotspot, rows)
        criteria = ("警情同比下降30%以上", "无占道经营", "消防通道全部畅通")
        self._bulk(
            HotspotCriterion,
            [
                HotspotCriterion(hotspot=h, seq=i, text=text)
                for n, h in enumerate(hotspots)
                for i, text in enumerate(criteria[: 2 + n % 2], 1)
            ],
        )
        return hotspots

    def inspections(self, hotspots: list[Hotspot]) -> list[tuple[Inspection, Unit]]:
        """Routine, special and night inspections, weekly visits of hotspots, joint acceptances of
        the de-listed ones; returns the (inspection, unit) visits that have begun."""
        rng, today = self.rng, self.today
        plans: list[tuple[Inspection, list[Unit], User]] = []
        kinds = (InspectionKind.ROUTINE,) * 6 + (InspectionKind.SPECIAL,) * 2 + (InspectionKind.NIGHT,) * 2
        for _ in range(self.size.inspections):
            by_hq = rng.random() < 0.1
            city = rng.choice(self.cities)
            issuer, user = (self.hq, self.users["hq"]) if by_hq else (city, self.inspector[city.pk])
            planned = self.day(START + timedelta(days=1), today + timedelta(days=14))
            plans.append(
                (
                    self._inspection(rng.choice(kinds), issuer, user, planned),
                    self.visit_units(city, rng.randint(1, 3)),
                    user,
                )
            )
        for h in hotspots:
            city = self.city_of[h.unit_id]
            user = self.inspector[city.pk]
            last = min(h.delisted_on or today, today)
            for k in range(3):
                planned = min(h.listed_on + timedelta(days=7 * k + rng.randint(1, 6)), last)
                plans.append((self._inspection(InspectionKind.ROUTINE, city, user, planned, hotspot=h), [h.unit], user))
            if h.delisted_on:
                joint = self._inspection(InspectionKind.JOINT, city, user, h.delisted_on, hotspot=h, passed=True)
                plans.append((joint, [h.unit], user))
        made = self._bulk(Inspection, [p[0] for p in plans])
        through_units, through_team = Inspection.units.through, Inspection.team.through
        self._bulk(
            through_units,
            [through_units(inspection=i, unit=u) for i, (_, units, _) in zip(made, plans, strict=True) for u in units],
        )
        self._bulk(
            through_team, [through_team(inspection=i, user=user) for i, (_, _, user) in zip(made, plans, strict=True)]
        )
        criteria = defaultdict(list)
        for c in HotspotCriterion.objects.filter(hotspot__campaign=self.campaign):
            criteria[c.hotspot_id].append(c)
        self._bulk(
            Verdict,
            [
                Verdict(inspection=i, criterion=c, passed=True)
                for i in made
                if i.kind == InspectionKind.JOINT
                for c in criteria[i.hotspot_id]
            ],
        )
        return [
            (i, u)
            for i, (_, units, _) in zip(made, plans, strict=True)
            if i.status != InspectionStatus.PLANNED and i.kind != InspectionKind.JOINT
            for u in units
        ]

    def _inspection(self, kind, issuer: Unit, user: User, planned: date, hotspot=None, passed=None) -> Inspection:
        status = InspectionStatus.COMPLETED  # so is a joint acceptance, which has its verdict
        if passed is None and planned > self.today:
            status = InspectionStatus.PLANNED
        elif passed is None and planned > self.today - timedelta(days=2):
            status = InspectionStatus.IN_PROGRESS
        started = local_time(planned, 9) if status != InspectionStatus.PLANNED else None
        return Inspection(
            campaign=self.campaign,
            kind=kind,
            status=status,
            issuing_unit=issuer,
            hotspot=hotspot,
            planned_on=planned,
            started_at=started,
            completed_at=local_time(planned, 17) if status == InspectionStatus.COMPLETED else None,
            summary="现场检查，问题已当场反馈" if status == InspectionStatus.COMPLETED else "",
            passed=passed,
            created_by=user,
            created_at=local_time(planned - timedelta(days=3), 10),
        )

    def findings_and_notices(self, visits: list[tuple[Inspection, Unit]]) -> None:
        rng, today = self.rng, self.today
        categories, severities = [c.value for c in Category], [s.value for s in Severity]
        total, wanted = self.size.findings, self.size.notices
        self_reported = total * 15 // 100
        groups: dict[tuple[int, int], list[Finding]] = defaultdict(list)
        rows: list[Finding] = []

        def finding(unit: Unit, inspection: Inspection | None, found: datetime, by: User) -> Finding:
            f = Finding(
                campaign=self.campaign,
                inspection=inspection,
                unit=unit,
                hotspot_id=inspection and inspection.hotspot_id,
                item_id=rng.choice(self.items) if self.items and rng.random() < 0.5 else None,
                category=rng.choice(categories),
                severity=rng.choices(severities, (80, 15, 5))[0],
                place=f"{unit.name}辖区第{rng.randint(1, 300)}号场所",
                description="消防通道堆放杂物，灭火器过期；台账未按日更新",
                status=FindingStatus.OPEN,
                reported_by=by,
                found_at=found,
            )
            rows.append(f)
            return f

        for _ in range(total - self_reported):
            inspection, unit = rng.choice(visits)
            found = local_time(inspection.planned_on, rng.randint(9, 16), rng.randint(0, 59))
            user = (
                self.users["hq"]
                if inspection.issuing_unit_id == self.hq.pk
                else self.inspector[self.city_of[unit.pk].pk]
            )
            groups[inspection.pk, unit.pk].append(finding(unit, inspection, found, user))
        for _ in range(self_reported):
            city = rng.choice(self.cities)
            unit = self.visit_units(city, 1)[0]
            finding(unit, None, local_time(self.day(START, today), rng.randint(8, 20)), self.inspector[city.pk])

        by_pk = {i.pk: i for i, _ in visits}
        several = [key for key, found in groups.items() if len(found) >= 2]
        rng.shuffle(several)
        chosen = several[:wanted]
        if len(chosen) < wanted:  # then visits with a single finding
            chosen += [key for key, found in groups.items() if len(found) == 1][: wanted - len(chosen)]
        notices: list[tuple[Notice, list[Finding]]] = []
        for key in chosen:
            inspection, listed = by_pk[key[0]], groups[key][:8]
            issued = min(inspection.planned_on + timedelta(days=rng.randint(0, 2)), today)
            deadline = issued + timedelta(days=rng.choice((7, 10, 15, 20, 30)))
            notice = Notice(
                campaign=self.campaign,
                issuing_unit_id=inspection.issuing_unit_id,
                year=issued.year,
                unit_id=key[1],
                inspection=inspection,
                requirements="立即整改所列问题，逐项销号，按期书面报告整改情况。",
                deadline=deadline,
                issued_by=inspection.created_by,
                issued_at=local_time(issued, 17, rng.randint(0, 59)),
            )
            notices.append((notice, listed))
        self._number(notices)
        answers: list[Answer] = []
        for notice, listed in notices:
            for f in listed:
                answers += self._rectify(f, notice)
            notice.status = self._notice_status({f.status for f in listed})
        # Parents first: bulk_create takes each foreign key's id from its object saved just before.
        self._bulk(Notice, [n for n, _ in notices])
        findings = self._bulk(Finding, rows)
        self._bulk(Answer, answers)
        self._bulk(
            Photo,
            [
                Photo(
                    finding=f,
                    file=f"findings/{self.campaign.pk}/{f.pk}/bench.jpg",
                    name="现场照片.jpg",
                    content_type="image/jpeg",
                    extension=".jpg",
                    size=180_000,
                    sha256="0" * 64,
                    uploaded_by=f.reported_by,
                    uploaded_at=f.found_at,
                )
                for f in findings
                if f.inspection_id
            ],
        )

    def _number(self, notices: list[tuple[Notice, list[Finding]]]) -> None:
        """Numbers in each office's sequence in the order issued, and the sequences' last values."""
        units = {u.pk: u for u in [self.hq, *self.cities]}
        last: Counter[tuple[int, int]] = Counter()
        for notice, _ in sorted(notices, key=lambda n: n[0].issued_at):
            key = (notice.issuing_unit_id, notice.year)
            last[key] += 1
            notice.seq = last[key]
            notice.number = notice_number(units[notice.issuing_unit_id], notice.year, notice.seq)
        self._bulk(NoticeSequence, [NoticeSequence(unit_id=u, year=y, last=n) for (u, y), n in last.items()])

    def _rectify(self, f: Finding, notice: Notice) -> list[Answer]:
        """Where the finding stands now under ``notice``, and the answers of its rounds."""
        rng, today = self.rng, self.today
        f.notice, f.deadline, f.rounds = notice, notice.deadline, 1
        past = notice.deadline < today
        f.status = rng.choices(
            (FindingStatus.CLOSED, FindingStatus.SUBMITTED, FindingStatus.ORDERED),
            (55, 15, 30) if past else (15, 30, 55),
        )[0]
        issued = notice.issued_at.date()
        liaison, inspector = self.liaison[self.city_of[f.unit_id].pk], notice.issued_by
        answers = []
        if rng.random() < 0.1:  # a first rectification rejected, a new deadline given
            answered = self.day(issued, min(notice.deadline, today))
            answers.append(
                Answer(
                    finding=f,
                    round=1,
                    text="已初步整改。",
                    answered_by=liaison,
                    answered_at=local_time(answered, 10),
                    accepted=False,
                    verified_by=inspector,
                    verified_at=local_time(answered, 16),
                    verdict_note="整改不彻底",
                )
            )
            f.rounds, f.deadline = 2, max(answered, notice.deadline) + timedelta(days=rng.choice((7, 14)))
            issued = answered
        if f.status != FindingStatus.ORDERED:
            answered = self.day(issued, min(f.deadline, today))
            answer = Answer(
                finding=f,
                round=f.rounds,
                text="已按要求整改完毕，附整改前后照片。",
                answered_by=liaison,
                answered_at=local_time(answered, 11),
            )
            if f.status == FindingStatus.CLOSED:
                closed = local_time(min(answered + timedelta(days=rng.randint(0, 3)), today), 15)
                answer.accepted, answer.verified_by, answer.verified_at = True, inspector, closed
                f.closed_at = closed
            answers.append(answer)
        return answers

    @staticmethod
    def _notice_status(states: set[str]) -> str:
        """As ``services._sync_notice``: closed when all are verified, issued while any waits for the unit."""
        if states == {FindingStatus.CLOSED}:
            return NoticeStatus.CLOSED
        return NoticeStatus.ISSUED if FindingStatus.ORDERED in states else NoticeStatus.ANSWERED


def _describe(campaign: Campaign, today: date) -> dict[str, Any]:
    findings = Finding.objects.filter(campaign=campaign)

    def by(qs, column: str) -> dict[str, int]:
        return dict(qs.values_list(column).annotate(n=Count("id")).order_by(column))

    return {
        "findings": findings.count(),
        "findings_by_status": by(findings, "status"),
        "overdue": findings.filter(Finding.overdue_q(today)).count(),
        "notices": by(Notice.objects.filter(campaign=campaign), "status"),
        "inspections": by(Inspection.objects.filter(campaign=campaign), "status"),
        "hotspots": by(Hotspot.objects.filter(campaign=campaign), "status"),
        "answers": Answer.objects.filter(finding__campaign=campaign).count(),
        "photos": Photo.objects.filter(finding__campaign=campaign).count(),
    }


# --- The command -------------------------------------------------------------------------------


class Command(BenchCommand):
    scratch = SCRATCH
    help = (
        "Benchmark the supervision API as HQ (whole province) and a city's inspector: findings by "
        "status and overdue, notices, counts, a finding, on the synthetic province of "
        "bench_plan_import with 20,000 findings and 3,000 notices, in a scratch PostgreSQL database: "
        "p50/p95/max over in-process requests and SQL queries per request, which must be the same on "
        "every page and for both users. The data is kept and reused; --reset deletes every unit, "
        "campaign and supervision record first (scratch databases only) and builds it again. "
        + SCRATCH.example("[--explain] [--json]")
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page (default 200)")
        for name, default in asdict(Size()).items():
            parser.add_argument(f"--{name}", type=int, default=default, help=f"Default {default:,} (a build only)")
        parser.add_argument(
            "--explain",
            type=int,
            nargs="*",
            metavar="N",
            help="EXPLAIN (ANALYZE, BUFFERS) the finding and notice queries of target N (1-based; "
            f"default {' '.join(map(str, EXPLAIN_DEFAULT))})",
        )
        self.output_arguments(parser, rebuild=True)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        self.time_machine()  # needed to measure: missing, say so before building
        size = Size(**{name: options[name] for name in asdict(Size())})
        self.at_least_one(options, ("requests", *asdict(size)))
        try:
            findings_page = reverse(WEB_FINDINGS)
        except NoReverseMatch:
            findings_page = None
        self.targets = targets(with_page=findings_page is not None)
        explain = self.explained(options["explain"], EXPLAIN_DEFAULT, len(self.targets), "target")
        report = Report()
        if claim_scratch(
            self.scratch, reset=options["reset"], progress=self.progress, reuse=lambda: self._reused(size)
        ):
            self._build(report, size)
        campaign = Campaign.objects.get(code=CODE)
        report.units = Unit.objects.count()
        report.items = campaign.items.count()
        report.assignments = Assignment.objects.filter(campaign=campaign).count()
        report.data = _describe(campaign, TODAY)
        moment = local_time(TODAY, 9)
        with self.measuring(moment, report.load):
            self._measure(report, campaign, findings_page, options["requests"], explain)
        self._print(report)
        failed = [
            f"{t.target.name}: HTTP {t.status}, query counts {t.queries_seen}"
            for t in report.timed
            if t.status != 200 or len(t.queries_seen) != 1
        ]
        failed += [f"{p['name']}: queries by page {p['queries']}" for p in report.pages if len(set(p["queries"])) != 1]
        failed += [
            f"{u}: HQ and city inspector differ {q}" for u, q in self._by_persona(report).items() if len(set(q)) != 1
        ]
        if failed:
            raise CommandError("; ".join(failed))

    # --- steps ---

    @staticmethod
    def _reused(size: Size) -> bool:
        """An earlier run's data is measured again if it has this size; other data of ours is refused."""
        ours = Campaign.objects.filter(code=CODE)
        if not ours.exists():
            return False
        units = len(province_rows(size.cities, size.subbureaus, size.stations))
        if Finding.objects.filter(campaign__in=ours).count() == size.findings and Unit.objects.count() == units:
            return True
        raise CommandError("The benchmark's data here has another size (or its seeding did not finish); pass --reset.")

    def _build(self, report: Report, size: Size) -> None:
        started = time.perf_counter()
        rows = province_rows(size.cities, size.subbureaus, size.stations)
        import_province(
            rows, items=size.items, cities=size.cities, name=CAMPAIGN_NAME, code=CODE, progress=self.progress
        )
        users = create_personas(people(size.cities), USER_PREFIX, "bench_supervision")
        report.province_s = time.perf_counter() - started
        started = time.perf_counter()
        created = Seeder(Campaign.objects.get(code=CODE), users, size, TODAY).run()
        report.seed_s = time.perf_counter() - started
        self.progress(
            f"seeded in {report.seed_s:.1f} s (bulk_create): " + ", ".join(f"{n:,} {m}" for m, n in created.items())
        )
        vacuum_analyze()

    def _placeholders(self, campaign: Campaign, findings_page: str | None) -> dict[str, Any]:
        """A finding both users see, with photos and two rounds of answers (a rejected one first)."""
        city = Unit.objects.get(code=CITY_CODE)
        mine = Finding.objects.filter(campaign=campaign, unit__path__startswith=city.path, inspection__isnull=False)
        detail = (
            mine.filter(rounds=2, status=FindingStatus.CLOSED).order_by("id").first() or mine.order_by("id").first()
        )
        if detail is None:
            raise CommandError(f"no finding in city {CITY_CODE}: was the campaign seeded?")
        return {"campaign": campaign.pk, "finding": detail.pk, "findings_page": findings_page or ""}

    def _measure(
        self, report: Report, campaign: Campaign, findings_page: str | None, n: int, explain: list[int]
    ) -> None:
        fill = self._placeholders(campaign, findings_page)
        clients = session_clients(SCRATCH.users().filter(username__in=[USER_PREFIX + p for p in MEASURED]), USER_PREFIX)
        try:
            for number, target in enumerate(self.targets, start=1):
                url = target.url.format(**fill)
                timed = time_page(target, url, clients[target.persona], n)
                report.timed.append(timed)
                self.progress(
                    f"{number}. {target.name}: p50 {timed.p50:.1f} ms, p95 {timed.pct(95):.1f} ms, "
                    f"{timed.queries} queries, HTTP {timed.status}"
                )
                if timed.rows is not None and timed.rows > PAGE:
                    report.pages.append(self._pages(number, timed, clients[target.persona]))
                if number in explain:
                    report.explained.extend(explain_page(number, url, clients[target.persona], EXPLAIN_TABLES))
        finally:
            for client in clients.values():
                client.logout()

    @staticmethod
    def _pages(number: int, timed: Timed, client: Client) -> dict[str, Any]:
        """Queries for page 2, the middle page and the last page (page 1 was timed)."""
        last = math.ceil(timed.rows / PAGE)
        pages = sorted({2, (last + 1) // 2, last} - {1})
        queries = [timed.queries]
        for page in pages:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"{timed.url}{'&' if '?' in timed.url else '?'}page={page}")
            queries.append(len(ctx.captured_queries) if response.status_code == 200 else -response.status_code)
        return {"n": number, "name": timed.target.name, "pages": [1, *pages], "queries": queries}

    def _by_persona(self, report: Report) -> dict[str, list[int]]:
        """Queries per request of each URL as each measured user asked it."""
        seen: dict[str, list[int]] = defaultdict(list)
        for t in report.timed:
            seen[t.url].append(t.queries)
        return {url: q for url, q in seen.items() if len(q) > 1}

    # --- output ---

    def _summary(self, r: Report) -> dict[str, Any]:
        return {
            "database": connection.settings_dict["NAME"],
            "units": r.units,
            "items": r.items,
            "assignments": r.assignments,
            "province_s": round(r.province_s, 1),
            "seed_s": round(r.seed_s, 1),
            "today": TODAY.isoformat(),
            "today_by": "time_machine",
            **r.data,
            "loadavg_before_after": load_summary(r.load),
            "targets": target_summary(r.timed),
            "queries_by_page": r.pages,
            "queries_by_user": self._by_persona(r),
            "explain": explain_summary(r.explained),
        }

    def _print(self, r: Report) -> None:
        s = self._summary(r)
        if self.printed_json(s):
            return

        def spread(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in counts.items())

        built = (
            f"province built in {s['province_s']} s, supervision seeded in {s['seed_s']} s" if r.seed_s else "reused"
        )
        lines = [
            f"database {s['database']}: {s['units']:,} units, {s['items']} items, {s['assignments']:,} assignments ({built})",
            f"today = {s['today']} (time_machine); findings {s['findings']:,}: {spread(s['findings_by_status'])}; "
            f"overdue {s['overdue']:,}",
            f"notices {sum(s['notices'].values()):,}: {spread(s['notices'])}; inspections "
            f"{sum(s['inspections'].values()):,}: {spread(s['inspections'])}; hotspots {spread(s['hotspots'])}; "
            f"answers {s['answers']:,}; photos {s['photos']:,}",
            *run_lines(len(r.timed[0].times_ms) if r.timed else 0, s["loadavg_before_after"]),
            "",
            *target_lines(s["targets"]),
            "",
            "queries per request, by page (must not change):",
            *(
                f"{p['n']:>2} {p['name'][:35]:36} pages {', '.join(map(str, p['pages']))}: "
                f"{', '.join(map(str, p['queries']))}{'' if len(set(p['queries'])) == 1 else '  VARIES'}"
                for p in s["queries_by_page"]
            ),
            "queries per request, HQ vs city inspector on the same URL (must not change):",
            *(
                f"   {url}: {' vs '.join(map(str, q))}{'' if len(set(q)) == 1 else '  DIFFERS'}"
                for url, q in s["queries_by_user"].items()
            ),
        ]
        if r.timed and len(r.timed) == len(_API) * len(MEASURED):
            lines.append(f"(no HTML target: {WEB_FINDINGS} does not reverse in this checkout)")
        lines += explain_lines(s["explain"])
        self.stdout.write("\n".join(lines))
