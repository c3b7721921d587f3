"""A later target's progress rolls up the chain of shares (issue 20 item 7 follow-up): what a share reports
on the second or third target of its item counts on its parent and every level above, as the first
target's does (``TargetProgress``, kept by ``report_progress`` in the report's transaction, read by
``targets.lines`` and the statement of ``targets.judged`` and the reminder sweep, ``progress_sql``).
PostgreSQL and SQLite alike; the threads on sibling shares on PostgreSQL only (row locks)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from audit.models import AuditEvent
from notifications import delivery
from notifications.models import Message
from tasks import targets
from tasks.models import Assignment, Target, TargetProgress
from tasks.services.cascade import Share, pass_down, recount_targets
from tasks.services.errors import AmountTooLarge
from tasks.services.plans import import_plan
from tasks.services.progress import report_progress
from tests.conftest import make_user

from .planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.django_db

OPTS = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
# 1.1 led by the city bureau itself, three targets: the chain can be three levels deep (江城市公安局 →
# 城东分局 / 城西分局 → their stations)
PLAN = [
    (
        "一、“清患”行动（分管领导：王建国）",
        [
            (
                "1",
                "重点场所清查",
                "",
                "检查场所不少于300家次，整改隐患不少于20处，发放宣传资料不少于500份",
                "江城市公安局",
                "",
                "",
                "9月30日前",
                "",
            )
        ],
    )
]
BELOW = {"3303": ["330310", "330320"], "330310": ["33031001", "33031002"], "330320": ["33032001"]}


def publish(tmp_path):
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx", PLAN), publish=True, **OPTS)


@pytest.fixture
def plan(city, tmp_path):
    publish(tmp_path)


@pytest.fixture
def boss(city):
    """A lead over the whole city: reports and passes down at every level."""
    return make_user("city_lead", city.units["3303"], (Role.UNIT_LEAD, city.units["3303"]), name="陈市")


def work(code: str) -> Assignment:
    return Assignment.objects.select_related("item", "campaign", "unit").get(item__code="1.1", unit__code=code)


def the_targets() -> list[Target]:
    return list(Target.objects.filter(item__code="1.1").order_by("seq"))


def report(a: Assignment, by, value, seq: int) -> None:
    target = None if seq == 1 else Target.objects.get(item_id=a.item_id, seq=seq)
    report_progress(assignment=a, by=by, value=Decimal(value), target=target)


def expected_progress(reports: list[tuple[int, int, Decimal]]) -> dict[tuple[int, int], Decimal]:
    """(assignment, seq) → what it and every share below it reported on that target."""
    parents = dict(Assignment.objects.values_list("pk", "parent_id"))
    out: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for pk, seq, value in reports:
        at = pk
        while at:
            out[at, seq] += value
            at = parents[at]
    return out


def read_by_lines() -> dict[tuple[int, int], Decimal]:
    rows = list(Assignment.objects.filter(item__code="1.1").select_related("item", "campaign", "unit"))
    return {(pk, line.target.seq): line.progress for pk, found in targets.lines(rows).items() for line in found}


def read_by_statement() -> dict[tuple[int, int], Decimal]:
    """The later targets' progress as ``judged``'s one statement reads it (``_others_sql``)."""
    ids = list(Assignment.objects.filter(item__code="1.1").values_list("pk", flat=True))
    sql = targets._others_sql().replace("{marks}", ", ".join(["%s"] * len(ids)))
    return {(t.row_id, t.seq): Decimal(str(t.done)) for t in Target.objects.raw(sql, ids)}


# --- random chains, random reports -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_every_targets_progress_is_the_reports_on_it_and_on_its_shares(city, plan, boss, seed):
    draw = random.Random(seed)
    depth = draw.choice([1, 2, 3]) if seed > 2 else seed + 1  # each depth at least once
    top = work("3303")
    reports: list[tuple[int, int, Decimal]] = []
    active = [top]

    def some_reports(n: int) -> None:
        for _ in range(n):
            a, seq = draw.choice(active), draw.choice([1, 2, 3])
            value = Decimal(draw.randint(1, 4000)) / 100
            report(a, boss, value, seq)
            reports.append((a.pk, seq, value))

    some_reports(draw.randint(0, 4))  # the parent reports before it passes anything down: it keeps it
    level = [top]
    for n in range(depth - 1):
        below = []
        for parent in level:
            codes = [c for c in BELOW.get(parent.unit.code, []) if draw.random() < 0.8] or BELOW[parent.unit.code][:1]
            shares = [
                Share(
                    city.units[c],
                    None,
                    targets={2: Decimal(draw.randint(1, 5) * (2 - n))} if draw.random() < 0.5 else {},
                )
                for c in codes
            ]
            below += pass_down(assignment=parent, by=boss, shares=shares, keep_remainder=True)
        below = [work(c.unit.code) for c in below]
        for child in below:  # a share starts with nothing of any target, as the first target's
            assert child.progress == 0 and not TargetProgress.objects.filter(assignment=child).exists()
        active += below
        level = below
        some_reports(draw.randint(2, 8))
    expected = expected_progress(reports)
    by_lines = read_by_lines()
    assert set(by_lines) == {(a.pk, seq) for a in Assignment.objects.filter(item__code="1.1") for seq in (1, 2, 3)}
    for key, progress in by_lines.items():
        assert progress == expected.get(key, Decimal(0)), key
    for key, progress in read_by_statement().items():
        assert progress == expected.get(key, Decimal(0)), key
    # ``judged`` (the lists, in one statement) agrees with the page's ``lines`` on every row
    rows = list(Assignment.objects.filter(item__code="1.1").select_related("item", "campaign", "unit"))
    judged, lines = targets.judged(rows), targets.lines(rows)
    for a in rows:
        assert judged[a.pk].progress == expected.get((a.pk, 1), Decimal(0))
        assert judged[a.pk].behind == any(line.behind for line in lines[a.pk])
        short = next(((line.progress, line.amount) for line in lines[a.pk] if line.short), None)
        assert judged[a.pk].short == short
    # and a rebuild from the reports (the demo's, the migration's statement) finds the same totals
    kept = sorted(TargetProgress.objects.values_list("assignment_id", "target_id", "progress"))
    recount_targets(top.campaign_id)
    assert sorted(TargetProgress.objects.values_list("assignment_id", "target_id", "progress")) == kept


def test_a_report_on_a_station_counts_at_every_level_and_is_audited(city, plan, boss):
    top = work("3303")
    (east, _west) = pass_down(
        assignment=top,
        by=boss,
        shares=[Share(city.units["330310"], None, targets={2: Decimal(12)}), Share(city.units["330320"], None)],
        keep_remainder=True,
    )
    report(work("330310"), boss, 2, 2)
    (station,) = pass_down(
        assignment=work("330310"), by=boss, shares=[Share(city.units["33031001"], None)], keep_remainder=True
    )
    report(work("33031001"), city["station_lead"], "3.5", 2)
    totals = dict(TargetProgress.objects.values_list("assignment_id", "progress"))
    assert totals == {station.pk: Decimal("3.5"), east.pk: Decimal("5.5"), top.pk: Decimal("5.5")}
    event = AuditEvent.objects.filter(verb="assignment.reported", object_id=station.pk).get()
    assert event.changes["target"] == 2 and event.changes["target_progress"] == ["0.00", "3.50"]
    # the sub-bureau's page reads 5.5 of its 12 for the second target, not the 2 it reported itself
    (line,) = [line for line in targets.lines([work("330310")])[east.pk] if line.target.seq == 2]
    assert (line.progress, line.amount) == (Decimal("5.5"), Decimal(12))


def test_a_total_too_large_anywhere_up_the_chain_refuses_the_report(city, plan, boss):
    top = work("3303")
    (east,) = pass_down(assignment=top, by=boss, shares=[Share(city.units["330310"], None)], keep_remainder=True)
    second = Target.objects.get(item__code="1.1", seq=2)
    TargetProgress.objects.create(assignment=top, target=second, progress=Decimal("999999999999"))
    with pytest.raises(AmountTooLarge) as refused:
        report(work("330310"), boss, 1, 2)
    assert "江城市公安局" in str(refused.value)
    assert not TargetProgress.objects.filter(assignment=east).exists()
    assert TargetProgress.objects.get(assignment=top).progress == Decimal("999999999999")


# --- the words: message, page, ledger --------------------------------------------------------------


@time_machine.travel(date(2026, 7, 20), tick=False)  # 08:00 in Beijing: no quiet hours
def test_the_pass_down_message_and_the_page_name_every_targets_share(city, plan, boss, client):
    top = work("3303")
    pass_down(
        assignment=top,
        by=boss,
        shares=[
            Share(city.units["330310"], Decimal(30), targets={2: Decimal(5), 3: Decimal("12.5")}),
            Share(city.units["330320"], None, targets={3: Decimal(40)}),
        ],
        keep_remainder=True,
    )
    east, west = work("330310"), work("330320")
    delivery.drain()
    east_message = Message.objects.get(
        event__kind="passed_down", event__subject_id=east.pk, recipient=city["east_lead"]
    )
    assert "分解目标检查场所30家次；整改隐患5处；发放宣传资料12.5份" in east_message.body
    west_message = Message.objects.get(
        event__kind="passed_down", event__subject_id=west.pk, recipient=city["west_lead"]
    )
    assert "分解目标发放宣传资料40份" in west_message.body
    # the share's page names what it is given of each target
    client.force_login(city["east_lead"])
    page = client.get(f"/assignments/{east.pk}/").content.decode()
    assert "检查场所30家次；整改隐患5处；发放宣传资料12.5份" in page


# --- the migration's backfill ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_the_totals_over_the_chain_and_goes_back(city, boss, tmp_path):
    publish(tmp_path)
    top = work("3303")
    pass_down(assignment=top, by=boss, shares=[Share(city.units["330310"], None)], keep_remainder=True)
    pass_down(assignment=work("330310"), by=boss, shares=[Share(city.units["33031001"], None)], keep_remainder=True)
    for code, value, seq in (("33031001", 4, 2), ("330310", 1, 2), ("33031001", 7, 3), ("3303", 2, 3), ("3303", 9, 1)):
        report(work(code), boss, value, seq)
    kept = sorted(TargetProgress.objects.values_list("assignment_id", "target_id", "progress"))
    assert len(kept) == 6  # of each later target: the station, the sub-bureau, the city
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("tasks", "0021_target_share")])
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        assert "tasks_targetprogress" not in tables
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert sorted(TargetProgress.objects.values_list("assignment_id", "target_id", "progress")) == kept


# --- two reports at once on sibling shares -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="row locks are PostgreSQL's")
def test_reports_at_once_on_sibling_shares_roll_into_the_parent_exactly(city, boss, tmp_path):
    publish(tmp_path)
    pass_down(assignment=work("3303"), by=boss, shares=[Share(city.units["330310"], None)], keep_remainder=True)
    parent = work("330310")
    pass_down(
        assignment=parent,
        by=boss,
        shares=[Share(city.units["33031001"], None), Share(city.units["33031002"], None)],
        keep_remainder=True,
    )
    siblings = [work("33031001"), work("33031002")]
    rounds, errors = 5, []
    barrier = threading.Barrier(2)

    def press(a: Assignment) -> None:
        try:
            for _ in range(rounds):
                barrier.wait(10)
                report(a, boss, "1.25", 2)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(a,)) for a in siblings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    totals = dict(TargetProgress.objects.values_list("assignment__unit__code", "progress"))
    assert totals == {
        "33031001": Decimal("6.25"),
        "33031002": Decimal("6.25"),
        "330310": Decimal("12.5"),
        "3303": Decimal("12.5"),
    }


def test_a_later_targets_report_costs_what_the_firsts_does(city, plan, boss):
    """The chain walked and locked alike; the later target reads its totals (one query) and upserts them
    (one statement) where the first adds to its ancestors' rows (one UPDATE) and its own in the row's
    save, which both paths make; the first learns whether it is linked with the locked row, the later
    one is named by the caller: one statement more for the later target, whatever the round."""
    pass_down(assignment=work("3303"), by=boss, shares=[Share(city.units["330310"], None)], keep_remainder=True)
    pass_down(assignment=work("330310"), by=boss, shares=[Share(city.units["33031001"], None)], keep_remainder=True)
    station, second = work("33031001"), Target.objects.get(item__code="1.1", seq=2)
    counts = []
    for target in (None, second, None, second):  # the second round: the later target's rows exist
        with CaptureQueriesContext(connection) as done:
            report_progress(assignment=station, by=boss, value=Decimal(1), target=target)
        counts.append(len(done))
    assert counts[1] == counts[0] + 1 and counts[3] == counts[2] + 1 and counts[2] == counts[0], counts
