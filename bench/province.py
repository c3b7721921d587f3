"""The synthetic province every benchmark measures, and the scratch database it is built in.

The province: HQ (``HQ_CODE``) → cities, each with detachments → sub-bureaus → stations, spread
round-robin (``province_rows``: 1,654 units by default), written as an office's unit CSV; a plan in
the office XLSX layout whose items mostly name 各派出所 (``write_plan_xlsx``: 77 items, ≈114,000
assignments); both go through the real importers (``import_province``). Then the benchmark's people
(``create_personas``), signed in (``session_clients``), a status mix (``PAST_DUE`` / ``NOT_YET_DUE``),
and everything deleted again (``delete_province``).

The scratch database: every benchmark builds its own province and refuses a database that holds
what it did not make; ``--reset`` deletes it only where no user but the benchmark's own belongs to a
unit (``claim_scratch``, with the benchmark's ``Scratch``).
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Model, Q
from django.test import Client
from openpyxl import Workbook

from accounts.models import RoleGrant, Unit, User
from accounts.services import grant_role
from accounts.unitfile import import_units
from audit.models import AuditEvent, SecurityEvent
from tasks.models import Assignment, AssignmentStatus, Campaign, Item, LineOfAction, Responsibility
from tasks.services.plans import PlanImportResult, import_plan

START, END = date(2026, 7, 1), date(2026, 10, 8)
CAMPAIGN_NAME = "全省公安机关夏季治安打击整治“百日行动”（基准测试）"
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
PLAN_TARGETS = ("检查重点场所不少于300家次", "破获案件≥20起", "隐患整改率100%", "同比下降20%", "")
TOPICS = ("重点场所清查", "涉危物品管控", "电诈窝点打击", "夜间巡逻防控", "矛盾纠纷排查", "校园周边整治")

# Statuses by a fixed hash of the id (percentages, cumulative in this order), so every run gives the
# same rows: past-due work is mostly done, the rest mostly under way.
PAST_DUE = (
    (AssignmentStatus.ACCEPTED, 50),
    (AssignmentStatus.SUBMITTED, 15),
    (AssignmentStatus.RETURNED, 10),
    (AssignmentStatus.IN_PROGRESS, 15),
    (AssignmentStatus.PENDING, 10),
)
NOT_YET_DUE = (
    (AssignmentStatus.ACCEPTED, 10),
    (AssignmentStatus.SUBMITTED, 15),
    (AssignmentStatus.RETURNED, 5),
    (AssignmentStatus.IN_PROGRESS, 40),
    (AssignmentStatus.PENDING, 30),
)

UnitRow = tuple[str, str, str, str]  # code, name, parent code, kind as offices write it
Persona = tuple[str, str, str]  # role, unit code the user belongs to and is granted the role on, display name


# --- The province ------------------------------------------------------------------------------


def city_name(index: int) -> str:
    return CITY_NAMES[index] if index < len(CITY_NAMES) else f"第{index + 1}"


def province_rows(cities: int, subbureaus: int, stations: int, detachments: int = 2) -> list[UnitRow]:
    """HQ → cities (each with detachments) → sub-bureaus → stations, spread round-robin."""
    rows: list[UnitRow] = [(HQ_CODE, "某省公安厅", "", "省厅")]
    city_codes = [f"{HQ_CODE}{c + 1:02d}" for c in range(cities)]
    for c, code in enumerate(city_codes):
        rows.append((code, f"{city_name(c)}市公安局", HQ_CODE, "市局"))
        for d in range(detachments):
            name = f"{city_name(c)}市公安局{DETACHMENTS[d % len(DETACHMENTS)]}"
            rows.append((f"{code}D{d + 1}", name, code, "支队"))
    subs: list[tuple[str, str]] = []
    for s in range(subbureaus):
        city, number = s % cities, s // cities + 1
        code, name = f"{city_codes[city]}{number:03d}", f"{city_name(city)}第{number}分局"
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
    return f"{city_name(k // 2 % cities)}市公安局", "各分局"


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
                PLAN_TARGETS[index % len(PLAN_TARGETS)],
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


def import_province(
    rows: list[UnitRow], *, items: int, cities: int, name: str, code: str, progress: Callable[[str], None]
) -> PlanImportResult:
    """The units of ``rows`` and a published ``items``-item plan for them, through the real importers."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-province-") as tmp:
        units_csv, plan_xlsx = Path(tmp) / UNITS_FILE, Path(tmp) / PLAN_FILE
        write_units_csv(units_csv, rows)
        import_units(path=units_csv)
        progress(f"units imported ({time.perf_counter() - started:.1f} s)")
        write_plan_xlsx(plan_xlsx, items, cities)
        result = import_plan(path=plan_xlsx, name=name, code=code, start=START, end=END, owner=HQ_CODE, publish=True)
    progress(f"plan imported and published: {result.assignments} assignments")
    return result


def delete_province(codes: Iterable[str], users, unit_codes: list[str], sources: Iterable[str], before=()) -> None:
    """Delete what a benchmark run created, children before parents (Item.action and Unit FKs
    PROTECT): first the querysets in ``before`` (rows of other apps pointing at these), then the
    campaigns of ``codes``, their audit events, the users and the province's units."""
    campaigns = Campaign.objects.filter(code__in=list(codes))
    with transaction.atomic():
        for qs in before:
            qs.delete()
        Assignment.objects.filter(campaign__in=campaigns).delete()
        Responsibility.objects.filter(item__campaign__in=campaigns).delete()
        Item.objects.filter(campaign__in=campaigns).delete()
        LineOfAction.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()
        AuditEvent.objects.filter(Q(source__in=sources) | Q(unit__code__in=unit_codes) | Q(actor__in=users)).delete()
        SecurityEvent.objects.filter(user__in=users).delete()  # the benchmark's own sign-ins
        RoleGrant.objects.filter(user__in=users).delete()
        users.delete()
        Unit.objects.filter(code=HQ_CODE).delete()  # treebeard deletes the whole subtree


def status_case(spread: tuple[tuple[str, int], ...], hashed: str, params: list) -> str:
    """SQL ``CASE`` giving the status of ``spread`` (``PAST_DUE`` …) for ``hashed``, an SQL expression
    of 0 … 99; its values are appended to ``params``."""
    whens, upto = [], 0
    for status, share in spread:
        upto += share
        whens.append(f"WHEN {hashed} < %s THEN %s")
        params.extend([upto, str(status)])
    return "CASE " + " ".join(whens) + " END"


def local_time(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour``:``minute`` in the project's time zone."""
    return datetime.combine(day, dtime(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))


def vacuum_analyze(*models: type[Model]) -> None:
    """What a live database's autovacuum would have done: planner statistics and the visibility map,
    of the tables of ``models`` (else of all). VACUUM cannot run in a transaction (a test's): ANALYZE then."""
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute(f"VACUUM (ANALYZE) {tables}".rstrip())
        else:
            cursor.execute(f"ANALYZE {tables}".rstrip())


# --- The people ---------------------------------------------------------------------------------


def create_personas(personas: dict[str, Persona], prefix: str, source: str) -> dict[str, User]:
    """One user per persona (no password), belonging to its unit and granted its role there."""
    units = {u.code: u for u in Unit.objects.filter(code__in=[code for _, code, _ in personas.values()])}
    made = {}
    for persona, (role, code, name) in personas.items():
        made[persona] = user = User.objects.create_user(prefix + persona, name=name, unit=units[code])
        grant_role(user=user, role=role, unit=units[code], source=source)
    return made


def session_clients(users: Iterable[User], prefix: str) -> dict[str, Client]:
    """A logged-in test client per user, keyed by persona (the username without ``prefix``)."""
    clients: dict[str, Client] = {}
    for user in users:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)  # a real session: each request reads it and the user, as in production
        clients[user.username.removeprefix(prefix)] = client
    return clients


# --- The scratch database -----------------------------------------------------------------------

# What every benchmark's --reset deletes of the province, children first (then its users, every unit).
PROVINCE = (Assignment, Responsibility, Item, LineOfAction, Campaign, RoleGrant, AuditEvent)


@dataclass(frozen=True)
class Scratch:
    """The scratch database a benchmark builds in (its own name, in its help and its refusals), and
    what its ``--reset`` deletes there."""

    command: str
    database: str  # e.g. tracker_bench_lists
    table: str  # a table the migrations make: it tells a migrated database
    wipe: tuple[type[Model], ...]  # deleted by --reset, in this order; then the benchmark's users and every unit
    wiped: str  # the same in words: "every assignment, campaign …"
    user_prefix: str = ""  # the benchmark's own users: --reset deletes them, and only they may belong to a unit
    held: tuple[type[Model], ...] = (Unit, Campaign)  # any row of these: the database is not empty
    postgresql: bool = True  # it measures PostgreSQL alone
    truncate: tuple[type[Model], ...] = ()  # on PostgreSQL, emptied with TRUNCATE first (millions of rows)
    vacuum_full: bool = False  # after --reset: a rebuilt province must scan like a fresh one
    also: str = ""  # another way out, added to the refusal of a database that is not empty

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.database}"

    @property
    def hint(self) -> str:
        return f"Point it at a scratch database: DATABASE_URL={self.url} (createdb, then manage.py migrate)."

    def example(self, options: str = "") -> str:
        """How to run the benchmark, for its help."""
        return (
            f"Example: createdb -h 127.0.0.1 -U postgres {self.database}; DATABASE_URL={self.url} "
            f"manage.py migrate; DATABASE_URL=… manage.py {self.command}{' ' if options else ''}{options}."
        )

    def users(self):
        if not self.user_prefix:
            return User.objects.none()
        return User.objects.filter(username__startswith=self.user_prefix)


def _either(models: tuple[type[Model], ...]) -> str:
    names = [f"{m._meta.model_name}s" for m in models]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def claim_scratch(
    scratch: Scratch, *, reset: bool, progress: Callable[[str], None], reuse: Callable[[], bool] | None = None
) -> bool:
    """Whether to build the province: the one guard of every benchmark's database.

    It must be PostgreSQL (where the benchmark measures it) and migrated. An empty database is built
    in. Without ``reset``, ``reuse`` (if given) may claim an earlier run's data (True: measure it, no
    build) or refuse it (CommandError); any other units or campaigns are refused. With ``reset``,
    everything of ``scratch.wipe``, the benchmark's users and every unit are deleted, but only where no
    other user belongs to a unit: that is not a scratch database.
    """
    hint = scratch.hint
    if scratch.postgresql and connection.vendor != "postgresql":
        raise CommandError(f"{scratch.command} measures PostgreSQL; this database is {connection.vendor}. {hint}")
    if scratch.table not in connection.introspection.table_names():
        raise CommandError(f"The database is not migrated. Run manage.py migrate first. {hint}")
    if not reset and reuse is not None and reuse():
        return False
    if not any(model.objects.exists() for model in scratch.held):
        return True
    if not reset:
        raise CommandError(
            f"The database already holds {_either(scratch.held)}; the benchmark builds its own. {hint} "
            f"Or pass --reset to delete them (scratch databases only){scratch.also}."
        )
    others = User.objects.filter(unit__isnull=False).exclude(pk__in=scratch.users().values("pk"))
    if others.exists():
        raise CommandError(f"--reset refused: users belong to units, this is not a scratch database. {hint}")
    started = time.perf_counter()
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():
        for model in scratch.truncate if postgresql else ():
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
        for model in scratch.wipe:
            model.objects.all().delete()
        SecurityEvent.objects.filter(user__in=scratch.users()).delete()  # a kept run's sign-ins protect its users
        scratch.users().delete()
        Unit.objects.all().delete()
    vacuumed = scratch.vacuum_full and postgresql
    if vacuumed:
        with connection.cursor() as cursor:
            # Hand back the deleted rows' pages: a rebuilt province must scan like a fresh one, not
            # through twice the pages.
            cursor.execute("VACUUM FULL")
    progress(
        f"--reset: deleted {scratch.wiped}{', VACUUM FULL' if vacuumed else ''} ({time.perf_counter() - started:.1f} s)"
    )
    return True
