"""One rule for overdue in every view (``tasks.queries.overdue_q``): work that went for acceptance on or
before its due date is not overdue while HQ has yet to accept it; work submitted late, or returned, is.
And a share passed down (``Assignment.parent``) is counted once, in its parent: the totals are the plan's.

Test plan (tests/tasks/planfiles.py) on TODAY (09-01): item 1.1 (各派出所, due 08-31) at the three
stations — 城关 submitted on the due date, 东湖 submitted the day after, 西山 still open."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from accounts import scope
from accounts.models import Unit
from bench.aggregates import Ask, battle_sql, ranking_sql
from bench.boards import _columns
from boards.bulletin import bulletin_context, week_of
from boards.queries import battle_board
from boards.ranking import standings
from notifications import digest, sweep
from notifications.models import Reminder
from ops.celery import app as celery_app
from tasks.models import Assignment, AssignmentStatus
from tasks.queries import checklist_progress, overdue_q, progress_counts
from tasks.services.cascade import Share, pass_down
from tests.boards.conftest import TODAY
from tests.boards.test_exports import ledger_rows, made
from tests.web.pages import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
S = AssignmentStatus
DUE = date(2026, 8, 31)
ON_TIME, LATE, OPEN = "33031001", "33031002", "33032001"  # 城关, 东湖, 西山


def one(code: str, unit: str) -> Assignment:
    return Assignment.objects.get(item__code=code, unit__code=unit)


@pytest.fixture
def waiting(published):
    """1.1: 城关 submitted on its due date, 东湖 a day late, both waiting; 西山 not submitted."""
    assert one("1.1", ON_TIME).due_date == DUE
    Assignment.objects.filter(item__code="1.1", unit__code=ON_TIME).update(status=S.SUBMITTED, submitted_on=DUE)
    Assignment.objects.filter(item__code="1.1", unit__code=LATE).update(
        status=S.SUBMITTED, submitted_on=DUE + timedelta(days=1)
    )
    return published


@pytest.fixture
def shared(city, published):
    """城东分局 passes its 2.1 down to two of its stations: two more rows, no more work."""
    parent = one("2.1", "330310")
    pass_down(
        assignment=parent,
        by=city["east_lead"],
        shares=[Share(city.units["33031001"], None), Share(city.units["33031002"], None)],
    )
    assert Assignment.objects.filter(campaign=published, parent=parent).count() == 2
    return published


def planned(campaign) -> int:
    """The plan's assignments: every row the publish made (a share is made later, by pass-down)."""
    return Assignment.objects.filter(campaign=campaign, is_active=True, parent__isnull=True).count()


def test_the_rule_on_the_rows(waiting):
    assert not one("1.1", ON_TIME).is_overdue
    assert one("1.1", LATE).is_overdue and one("1.1", OPEN).is_overdue
    overdue = set(Assignment.objects.filter(overdue_q(), item__code="1.1").values_list("unit__code", flat=True))
    assert ON_TIME not in overdue and {LATE, OPEN} <= overdue
    # returned: the wait is over, the work is overdue again; accepted: never overdue
    Assignment.objects.filter(item__code="1.1", unit__code=ON_TIME).update(status=S.RETURNED)
    assert one("1.1", ON_TIME).is_overdue
    Assignment.objects.filter(item__code="1.1", unit__code=LATE).update(status=S.ACCEPTED)
    assert not one("1.1", LATE).is_overdue
    assert set(Assignment.objects.filter(overdue_q(), item__code="1.1").values_list("unit__code", flat=True)) >= {
        ON_TIME
    }


def test_an_extension_before_submitting_counts(waiting):
    """On time means by the due date in force when it went in: 东湖's extension to 09-05 makes it on time."""
    Assignment.objects.filter(item__code="1.1", unit__code=LATE).update(due_date=date(2026, 9, 5), extensions=1)
    assert not one("1.1", LATE).is_overdue
    with time_machine.travel(date(2026, 9, 10), tick=False):
        assert not one("1.1", LATE).is_overdue  # still waiting for HQ, past the new date too


def test_battle_board_cells(city, waiting):
    board = battle_board(city["hq"], waiting, city.units["330310"])
    action = one("1.1", ON_TIME).item.action_id
    assert board.cell(action, city.units[ON_TIME].pk).overdue == 0
    assert board.cell(action, city.units[LATE].pk).overdue == 1
    assert board.cell(action, city.units[ON_TIME].pk).total == 1


def test_ranking(city, waiting):
    got = {s.unit.code: s for s in standings(city["hq"], waiting, city.units["330310"]).values()}
    assert (got[ON_TIME].overdue, got[ON_TIME].in_time) == (0, 1)
    assert (got[LATE].overdue, got[LATE].in_time) == (1, 0)


def test_bulletin(city, waiting):
    ctx = bulletin_context(city["hq"], waiting, city.units["3303"], week_of(waiting, TODAY))
    listed = {(o["unit"], o["item"].split()[0]) for o in ctx["overdue"]}
    assert ("东湖派出所", "1.1") in listed and ("西山派出所", "1.1") in listed
    assert ("城关派出所", "1.1") not in listed
    late = Assignment.objects.filter(overdue_q(TODAY + timedelta(days=1)), campaign=waiting, parent__isnull=True)
    assert f"逾期未完成{late.count()}项" in ctx["overview"]


def test_item_page_and_api_overdue_filter(city, waiting):
    item = one("1.1", ON_TIME).item
    page = login(city["hq"]).get(f"/items/{item.pk}/?overdue=1")
    assert page.status_code == 200
    shown = {a.unit.code for a in page.context["page"]}
    assert ON_TIME not in shown and {LATE, OPEN} <= shown
    client = APIClient()
    client.force_authenticate(city["hq"])
    rows = client.get("/api/v1/assignments/?overdue=true").json()["results"]
    ids = {r["id"] for r in rows}
    assert one("1.1", ON_TIME).pk not in ids and {one("1.1", LATE).pk, one("1.1", OPEN).pk} <= ids
    assert all(r["is_overdue"] for r in rows)
    mine = login(city["station_lead"]).get("/my/")
    days_late = {a.unit.code: a.days_late for _, _, rows in mine.context["groups"] for a in rows}
    assert days_late[ON_TIME] == 0


def test_reminder_sweep_does_not_chase_an_on_time_submission(city, waiting):
    """城关's lead (station_lead) is not told its on-time work is overdue; once HQ returns it, it is."""

    def chased(day: date) -> set[int]:
        with time_machine.travel(day, tick=False):
            sweep.run()
        reminders = Reminder.objects.filter(subject_type="assignment", kind="overdue", occurrence=f"overdue {day}")
        return set(reminders.values_list("subject_id", flat=True))

    assert one("1.1", ON_TIME).pk not in chased(TODAY)
    Assignment.objects.filter(item__code="1.1", unit__code=ON_TIME).update(status=S.RETURNED)
    assert one("1.1", ON_TIME).pk in chased(TODAY + timedelta(days=1))


def test_checklist_progress(city, waiting):
    item = one("1.1", ON_TIME).item
    counts, overdue = checklist_progress(waiting, city["hq"], TODAY)
    assert "城关派出所" not in overdue[item.pk]
    assert {"东湖派出所", "西山派出所"} <= set(overdue[item.pk])
    assert counts[item.pk]["overdue"] == len(overdue[item.pk])


def test_a_pass_down_is_counted_once(city, shared):
    hq, root = city["hq"], city.units["3303"]
    plan = planned(shared)
    assert Assignment.objects.filter(campaign=shared, is_active=True).count() == plan + 2
    assert battle_board(hq, shared, root).total.total == plan
    assert (
        sum(s.total for s in standings(hq, shared, root).values())
        == plan - Assignment.objects.filter(campaign=shared, unit=root).count()
    )  # the ranking ranks the units under the root
    east = standings(hq, shared, city.units["330310"])
    station = Assignment.objects.filter(campaign=shared, is_active=True, unit__code="33031001")
    assert east[city.units["33031001"].path].total == station.count() - 1  # its own work; the share is not more
    item = one("2.1", "330310").item
    counts, _ = checklist_progress(shared, hq, TODAY)
    assert counts[item.pk]["total"] == 2 == progress_counts(item.assignments.all())["total"]  # 城东, 城西
    assert sum(c["total"] for c in counts.values()) == plan
    # a station lead sees its share and not the sub-bureau's assignment it came from: counted, once
    share = Assignment.objects.get(campaign=shared, item=item, unit__code="33031001", parent__isnull=False)
    mine = checklist_progress(shared, city["station_lead"], TODAY)[0]
    assert mine[item.pk]["total"] == 1 == progress_counts(item.assignments.filter(unit=share.unit))["total"]
    # the station still lists its share
    client = APIClient()
    client.force_authenticate(city["station_lead"])
    listed = {r["item"]["code"] for r in client.get("/api/v1/assignments/?unit=33031001").json()["results"]}
    assert "2.1" in listed


def test_the_bare_sql_agrees(city, waiting, shared):
    """bench.aggregates' SQL (the benchmark's check of the boards) follows the same two rules."""
    for unit in (city.units["3303"], city.units["330310"]):
        ask = Ask("battle", unit, shared, TODAY)
        with connection.cursor() as cursor:
            cursor.execute(*battle_sql(ask))
            rows = cursor.fetchall()
        columns = _columns(unit)
        board = battle_board(city["hq"], shared, unit)
        got = {(a, path): (t, d, o) for a, path, t, d, o in rows if path in columns}
        want = {(a, Unit.objects.get(pk=u).path): (c.total, c.done, c.overdue) for (a, u), c in board.cells.items()}
        assert got == want
        ask = Ask("ranking", unit, shared, TODAY)
        with connection.cursor() as cursor:
            cursor.execute(*ranking_sql(ask))
            rows = [r for r in cursor.fetchall() if r[0] == "a"]
        ranked = standings(city["hq"], shared, unit)
        for _, path, total, done, due, in_time, overdue, *_ in rows:
            if path in ranked:
                s = ranked[path]
                assert (total, done, due, in_time, overdue) == (s.total, s.done, s.due, s.in_time, s.overdue)


def test_ledger_export_and_weekly_digest(city, waiting, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    rows = ledger_rows(made(django_capture_on_commit_callbacks, city["hq"], "ledger", campaign=waiting.pk))
    late = {r[3]: r[8] for r in rows if r[2].startswith("1.1 ")}
    assert (late["城关派出所"], late["东湖派出所"], late["西山派出所"]) == ("否", "是", "是")
    overdue = Assignment.objects.filter(overdue_q(TODAY), campaign=waiting)
    assert sum(r[8] == "是" for r in rows) == overdue.count()
    figures = digest.summary(scope.scope_for(city["hq"], scope.Action.VIEW), TODAY)
    assert figures.overdue == overdue.count()
    assert overdue.filter(unit__code=LATE).exists() and not overdue.filter(unit__code=ON_TIME, item__code="1.1")
