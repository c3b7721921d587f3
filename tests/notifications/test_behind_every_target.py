"""The sweep's behind-pace reminder (序时进度, ``sweep._behind``) judges every target of an item as the
lists and pages do (``tasks.targets.judged``, issue 20): a later target by the reports naming it, a
target linked to an indicator by the figures of the unit and its subtree — on PostgreSQL with the
rollup and without it (``DB_FAST_PATHS``), and on SQLite. Again on the same day, the behind-pace
statement re-runs when a table only it reads was written (``sweep.STEP_READS``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Unit
from notifications import sweep
from notifications.models import Audience, Kind, Reminder, Subject
from stats.models import Figure, Indicator
from tasks import targets
from tasks.models import Assignment, Item, ProgressReport, Target
from tasks.services.cascade import recount_targets

from .test_subjects import at, run

pytestmark = pytest.mark.django_db

START = date(2026, 7, 1)  # the test plan's campaign (tests/tasks/planfiles.py)
OPEN = ("pending", "in_progress", "returned")
# Days from the start to a due date: each divides 100, so the share of a whole amount due by any day has
# at most two decimals, and ``judged``'s rounding of it to cents is exact: the sweep compares multiplied
# out, and on the edge of a cent the two may differ (``sweep._behind``).
SPANS = (10, 20, 25, 50, 100)
UNITS = ("3303", "330310", "33031001", "33031002", "330320", "33032001")

TARGET = st.fixed_dictionaries(
    {
        "comparator": st.sampled_from(["ge", "ge", "gt", "le", ""]),
        "value": st.sampled_from([None, 0, 10, 40, 300, 300]),
        "unit": st.sampled_from(["", "", "家次", "%"]),
        "basis": st.sampled_from(["", "", "", "yoy"]),
        "per": st.sampled_from(["", "", "", "weekly"]),
        "indicator": st.sampled_from([None, None, 0, 1]),  # one of the two indicators
    }
)
ROW = st.fixed_dictionaries(
    {
        "progress": st.one_of(st.integers(0, 40), st.integers(0, 300)),
        "share": st.sampled_from([None, None, 5, 120]),
        "status": st.sampled_from([*OPEN, "in_progress", "submitted", "accepted"]),
        "active": st.sampled_from([True, True, True, False]),
        "span": st.sampled_from([*SPANS, 50, 100, 100]),  # mostly due after the day
        "reports": st.lists(st.integers(0, 60), min_size=3, max_size=3),  # on each target, 0: none
    }
)
FIGURE = st.tuples(st.sampled_from(UNITS), st.sampled_from([0, 1]), st.integers(0, 2), st.integers(0, 80))


def behind_selected(day: date) -> set[int]:
    """The assignments the sweep's behind-pace statement selects on ``day`` (its source, before the
    recipients are joined)."""
    source = next(s for s in sweep.sources() if s.subject_type == Subject.ASSIGNMENT)
    step = sweep.Step(Kind.BEHIND, f"behind {day}", Audience.LEAD, day)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.id FROM ({source.sql(step, '')}) s", sweep._params(step, source, "b", at(day)))
        return {pk for (pk,) in cursor.fetchall()}


def judged_behind(day: date) -> set[int]:
    """The assignments the lists call behind on ``day`` that the sweep can remind: open, active, not yet due
    (overdue work is red, submitted work waits for its verdict)."""
    rows = list(Assignment.objects.select_related("item", "campaign"))
    found = targets.judged(rows, day)
    return {a.pk for a in rows if found[a.pk].behind and a.is_active and a.status in OPEN and a.due_date > day}


def write(published, hq, items: list[list[dict]], rows: list[dict], figures: list[tuple]) -> None:
    indicators = [
        Indicator.objects.create(campaign=published, code=f"i{n}", name=f"指标{n}", measure="起", seq=n + 1)
        for n in range(2)
    ]
    units = {u.code: u for u in Unit.objects.filter(code__in=UNITS)}
    made: dict[int, list[Target]] = {}
    for item, drawn in zip(Item.objects.filter(campaign=published).order_by("pk"), items, strict=False):
        Target.objects.filter(item=item).delete()
        made[item.pk] = [
            Target.objects.create(
                item=item,
                seq=seq,
                text=f"目标{seq}",
                comparator=t["comparator"],
                value=t["value"],
                unit=t["unit"],
                basis=t["basis"],
                per=t["per"],
                indicator=None if t["indicator"] is None else indicators[t["indicator"]],
            )
            for seq, t in enumerate(drawn, start=1)
        ]
        first = drawn[0]  # the item's own fields hold its first target
        Item.objects.filter(pk=item.pk).update(
            target_comparator=first["comparator"],
            target_value=first["value"],
            target_unit=first["unit"],
            target_basis=first["basis"],
            target_per=first["per"],
        )
    for a, r in zip(Assignment.objects.filter(campaign=published).order_by("pk"), rows, strict=False):
        Assignment.objects.filter(pk=a.pk).update(
            progress=r["progress"],
            target_share=r["share"],
            status=r["status"],
            is_active=r["active"],
            due_date=START + timedelta(days=r["span"]),
        )
        for t, value in zip(made.get(a.item_id, []), r["reports"], strict=False):
            if value and t.indicator_id is None:  # a linked target is not reported on (``LinkedTarget``)
                ProgressReport.objects.create(assignment=a, target=t, value=value, reported_by=hq)
    recount_targets()  # the reports written by hand: their running totals (``TargetProgress``) as a report keeps them
    kept = {(code, n, offset): value for code, n, offset, value in figures}  # one figure per unit, indicator, day
    for (code, n, offset), value in kept.items():
        Figure.objects.create(
            campaign=published,
            indicator=indicators[n],
            unit=units[code],
            day=START + timedelta(days=offset),
            value=value,
            reported_by=hq,
        )


@pytest.mark.parametrize("fast", [True, False], ids=["rollup", "figures"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    items=st.lists(st.lists(TARGET, min_size=1, max_size=3), min_size=4, max_size=4),
    rows=st.lists(ROW, min_size=12, max_size=12),
    figures=st.lists(FIGURE, max_size=10),
    elapsed=st.integers(0, 60),
)
def test_the_sweep_reminds_exactly_the_work_the_lists_call_behind(
    city, published, settings, fast, items, rows, figures, elapsed
):
    if fast and connection.vendor != "postgresql":
        pytest.skip("the rollup is PostgreSQL's")
    settings.DB_FAST_PATHS = fast
    day = START + timedelta(days=elapsed)
    with transaction.atomic():
        write(published, city["hq"], items, rows, figures)
        expected = judged_behind(day)
        assert behind_selected(day) == expected
        event(f"behind: {min(len(expected), 3)}+")
        first = {a.pk for a in Assignment.objects.select_related("item", "campaign") if a.is_behind_pace(day)}
        event(f"decided by a later or a linked target: {bool(expected - first)}")
        transaction.set_rollback(True)


# --- examples ---------------------------------------------------------------------------------------

MONDAY = date(2026, 8, 3)  # the default rules' weekday; day 33 of the 61 to 1.1's due date (8月底前)


@pytest.fixture
def station(published) -> Assignment:
    """城关派出所's 1.1, 检查场所不少于300家次 (due 8-31), its 300 done: never behind on its first target."""
    a = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    Assignment.objects.filter(pk=a.pk).update(progress=300)
    return a


def behind_reminded(a: Assignment) -> bool:
    return Reminder.objects.filter(kind=Kind.BEHIND, subject_type=Subject.ASSIGNMENT, subject_id=a.pk).exists()


def second_target(a: Assignment) -> Target:
    return Target.objects.create(item_id=a.item_id, seq=2, text="整改隐患不少于20处", comparator="ge", value=20)


def assignment_steps(outcome) -> set[str]:
    """The kinds of the assignments' statements a sweep ran (each counted, 0 or more)."""
    return {kind for (subject, kind, _audience) in outcome.reminders if subject == Subject.ASSIGNMENT}


@pytest.mark.parametrize("fast", [True, False], ids=["rollup", "figures"])
def test_a_later_target_behind_and_a_linked_first_one_by_its_figures(city, station, settings, fast):
    settings.DB_FAST_PATHS = fast
    second = second_target(station)
    run(MONDAY)
    assert behind_reminded(station)  # the second, nothing reported, is behind (10.82 due of 20)

    def report(value):
        ProgressReport.objects.create(assignment=station, target=second, value=value, reported_by=city["station_lead"])
        recount_targets()

    report(11)
    Reminder.objects.all().delete()
    run(MONDAY + timedelta(days=7))  # 13.11 due by 8-10 (40 of 61 days)
    assert behind_reminded(station)
    report(5)
    Reminder.objects.all().delete()
    run(MONDAY + timedelta(days=7))
    assert not behind_reminded(station)  # 16 of 13.11
    # the first target linked to an indicator: its progress is the figures of the station (none), not the 300
    indicator = Indicator.objects.create(campaign=station.campaign, code="places", name="检查场所", measure="家次")
    Target.objects.filter(item_id=station.item_id, seq=1).update(indicator=indicator)
    run(MONDAY + timedelta(days=14))
    assert behind_reminded(station)
    Reminder.objects.all().delete()
    Figure.objects.create(
        campaign=station.campaign, indicator=indicator, unit=station.unit, day=MONDAY, value=240, reported_by=city["hq"]
    )
    run(MONDAY + timedelta(days=14))
    assert not behind_reminded(station)  # 240 of 231.15 due by 8-17; the second's 16 of 15.41


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the change triggers are PostgreSQL's")
def test_a_target_or_a_figure_written_between_two_sweeps_re_runs_the_behind_pace_statement(city, station):
    run(MONDAY)
    assert not behind_reminded(station)
    second = second_target(station)
    again = run(MONDAY)  # the same day: only the statement that reads tasks_target runs again
    assert behind_reminded(station)
    assert assignment_steps(again) == {Kind.BEHIND}
    # on another weekday than the rules', a target or a figure written re-runs nothing of the assignments
    tuesday = MONDAY + timedelta(days=1)
    run(tuesday)
    indicator = Indicator.objects.create(campaign=station.campaign, code="fix", name="整改隐患", measure="处")
    Target.objects.filter(pk=second.pk).update(indicator=indicator)
    assert Subject.ASSIGNMENT in run(tuesday).skipped
    figure = lambda day, value: Figure.objects.create(  # noqa: E731
        campaign=station.campaign, indicator=indicator, unit=station.unit, day=day, value=value, reported_by=city["hq"]
    )
    figure(MONDAY, 5)
    assert Subject.ASSIGNMENT in run(tuesday).skipped
    # on the rules' weekday a figure re-runs the behind-pace statement alone
    next_monday = MONDAY + timedelta(days=7)
    run(next_monday)
    figure(tuesday, 1)
    assert assignment_steps(run(next_monday)) == {Kind.BEHIND}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the change triggers are PostgreSQL's")
def test_every_table_the_sweep_reads_is_watched():
    read = set(sweep.EVERYONE).union(*sweep.READS.values(), *sweep.STEP_READS.values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
            "WHERE g.tgname = 'sweep_changed'"
        )
        watched = {name for (name,) in cursor.fetchall()}
    assert read <= watched, read - watched


def _loops(plan: dict, alias: str) -> int:
    """How many times the plan scanned the table under ``alias``: the sum of its nodes' loops."""
    found = plan.get("Actual Loops", 0) if plan.get("Alias") == alias else 0
    return found + sum(_loops(child, alias) for child in plan.get("Plans", []))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan's loops are PostgreSQL's EXPLAIN")
def test_only_the_rows_of_an_item_with_a_later_or_linked_target_run_the_every_target_exists(city, station):
    """The EXISTS over an item's other targets runs per row, so it runs only for the rows of the items that
    have one (``sweep.PACED_APART``, read once): a one-target item's rows, behind on their first target or
    not, are judged on their own fields."""
    import json

    campaign = station.campaign
    Assignment.objects.filter(campaign=campaign).update(progress=100_000)  # no one behind on a first target
    second_target(station)
    day = MONDAY
    open_rows = Assignment.objects.filter(campaign=campaign, is_active=True, status__in=OPEN, due_date__gt=day)
    of_the_item = open_rows.filter(item_id=station.item_id).count()
    assert of_the_item and open_rows.exclude(item_id=station.item_id).exists()
    source = next(s for s in sweep.sources() if s.subject_type == Subject.ASSIGNMENT)
    step = sweep.Step(Kind.BEHIND, f"behind {day}", Audience.LEAD, day)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT s.id FROM ({source.sql(step, '')}) s",
            sweep._params(step, source, "b", at(day)),
        )
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert 0 < _loops(plan[0]["Plan"], "t") <= of_the_item
    assert behind_selected(day) == {a.pk for a in open_rows.filter(item_id=station.item_id)}  # 0 of 20 by the 2nd


def test_the_sweep_and_the_lists_read_amount_and_progress_from_one_place():
    """The lead's shares of every target per assignment will change ``targets.amount_sql`` alone."""
    done, _join = targets.progress_sql(target="t", assignment="a", unit="au")
    assert done in targets._others_sql()
    assert targets.amount_sql(target="t", assignment="s0", item="i") in sweep._behind()
    assert targets.progress_sql(target="t", assignment="s0", unit="au")[0] in sweep._behind()


def test_the_behind_pace_message_quotes_the_target_that_is_behind(city, station):
    """The first target is met (300 of 300 家次); the second (整改隐患不少于20处, none reported) is behind: the
    message names the second's amount, progress and unit — not 300 done beside a pace of 163."""
    import time_machine

    from notifications.delivery import _facts, _templates, render
    from notifications.models import Message

    Target.objects.create(
        item_id=station.item_id, seq=2, text="整改隐患不少于20处", comparator="ge", value=20, unit="处"
    )
    run(MONDAY)
    messages = list(
        Message.objects.filter(
            reminder__kind=Kind.BEHIND, reminder__subject_id=station.pk, reminder__subject_type=Subject.ASSIGNMENT
        ).select_related("reminder", "recipient")
    )
    assert messages
    with time_machine.travel(at(MONDAY), tick=False):
        _subject, body = render(messages[0], _facts(messages), _templates())
    assert "目标20处" in body and "已完成0，" in body and "按序时进度应完成11处，" in body, body
    assert "300" not in body, body


@pytest.mark.parametrize(
    ("amount", "unit", "said"),
    [
        ("20", "处", "11"),  # 10.82处 asked: 11 meets it, 10 does not
        ("150", "名", "82"),  # 81.15 → 82
        ("20", "公斤", "10.82"),  # measured: as judged, to the cent
        ("20", "万元", "10.82"),
        ("100", "%", "54.10"),
        ("20.5", "处", "11.09"),  # an amount that is no whole number of things
        ("0", "处", "0"),
    ],
)
def test_the_pace_asked_is_said_as_an_office_says_it(amount, unit, said):
    assert targets.paced(Decimal(amount), Decimal("0.541"), unit) == Decimal(said)
