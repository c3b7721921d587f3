"""The board rollup (``boards.BoardCount``): exact after every kind of write, whoever writes.

The property test runs random sequences of the services (transitions on random days, 签收, reports,
pass-downs, extensions asked and decided, an item's deadline, units and line of action changed, the
plan imported again) and of raw writes (an UPDATE or DELETE as a benchmark or a test does), then checks
the rollup against a recomputation from the rows, and the battle board and the ranking against the
aggregate over the assignments they read before the rollup (kept here as the reference)."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, F, IntegerField, Q
from django.db.models.functions import Substr
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts import scope
from accounts.models import Unit, User
from boards import rollup
from boards.models import BoardCount, BoardDelta
from boards.queries import STEP, battle_board
from boards.ranking import standings
from tasks.models import Assignment, AssignmentStatus, Item, LineOfAction
from tasks.queries import overdue_q, planned_q, submitted_on_time_q
from tasks.services.cascade import Share, pass_down
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.items import update_item
from tasks.services.plans import import_plan
from tasks.services.progress import report_progress
from tasks.services.receipts import acknowledge_assignment
from tasks.services.workflow import TRANSITIONS, transition_assignment
from tests.tasks.planfiles import CAMPAIGN, PLAN, write_xlsx
from utilities.errors import Refused

pytestmark = pytest.mark.django_db
S = AssignmentStatus
START = date(2026, 7, 1)


# --- The reference: the board and the ranking's counts from the assignments (as before the rollup) ---


def reference_cells(user, campaign, unit: Unit, *, action=None, due_by=None, today: date) -> dict:
    work = scope.restrict(
        Assignment.objects.filter(planned_q(), campaign=campaign, is_active=True, unit__path__startswith=unit.path),
        user,
    )
    if action is not None:
        work = work.filter(item__action=action)
    if due_by is not None:
        work = work.filter(due_date__lte=due_by)
    grouped = (
        work.order_by()
        .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
        .values("item__action_id", "branch")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=S.ACCEPTED)),
            overdue=Count("id", filter=overdue_q(today), output_field=IntegerField()),
            unacknowledged=Count("id", filter=Q(acknowledged_at__isnull=True)),
        )
    )
    by_path = {u.path: u.pk for u in scope.children(user, unit)}
    by_path.setdefault(unit.path, unit.pk)
    return {
        (r["item__action_id"], by_path[r["branch"]]): (r["total"], r["done"], r["overdue"], r["unacknowledged"])
        for r in grouped
        if r["branch"] in by_path
    }


def reference_standings(user, campaign, unit: Unit, *, today: date) -> dict:
    work = scope.restrict(
        Assignment.objects.filter(planned_q(), campaign=campaign, is_active=True, unit__path__startswith=unit.path),
        user,
    )
    due = Q(due_date__lt=today)
    rows = (
        work.order_by()
        .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
        .values("branch")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=S.ACCEPTED)),
            due=Count("id", filter=due),
            in_time=Count("id", filter=due & submitted_on_time_q()),
            overdue=Count("id", filter=overdue_q(today), output_field=IntegerField()),
        )
    )
    children = {u.path for u in scope.children(user, unit)}
    return {
        r["branch"]: (r["total"], r["done"], r["due"], r["in_time"], r["overdue"])
        for r in rows
        if r["branch"] in children
    }


def assert_exact(campaign, viewers, today: date) -> None:
    assert rollup.differences(campaign) == []
    actions = [None, *LineOfAction.objects.filter(campaign=campaign)]
    for user, unit in viewers:
        for action in actions:
            for due_by in (None, today, today + timedelta(days=30)):
                board = battle_board(user, campaign, unit, action=action, due_by=due_by, today=today)
                got = {k: (c.total, c.done, c.overdue, c.unacknowledged) for k, c in board.cells.items()}
                assert got == reference_cells(user, campaign, unit, action=action, due_by=due_by, today=today)
        ranked = standings(user, campaign, unit, today=today)
        got = {p: (s.total, s.done, s.due, s.in_time, s.overdue) for p, s in ranked.items() if s.total}
        assert got == reference_standings(user, campaign, unit, today=today)


# --- The random writes -----------------------------------------------------------------------------

day = st.integers(min_value=0, max_value=99).map(lambda n: START + timedelta(days=n))
pick = st.integers(min_value=0, max_value=10_000)

TRANSITION = st.tuples(st.just("transition"), pick, pick, day)
OPS = st.one_of(
    TRANSITION,
    TRANSITION,
    TRANSITION,
    st.tuples(st.just("acknowledge"), pick, day),
    st.tuples(st.just("report"), pick, st.integers(min_value=0, max_value=5), day),
    st.tuples(st.just("pass_down"), pick, st.integers(min_value=1, max_value=3), day),
    st.tuples(st.just("extend"), pick, st.integers(min_value=1, max_value=20), st.booleans(), day),
    st.tuples(st.just("item_due"), pick, st.integers(min_value=-20, max_value=20)),
    st.tuples(st.just("item_action"), pick),
    st.tuples(st.just("item_units"), pick, st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("reimport"), st.booleans()),
    st.tuples(
        st.just("raw"),
        pick,
        st.sampled_from(["status", "due_date", "is_active", "acknowledged_at", "submitted_on", "delete_share"]),
        pick,
    ),
)


def _nth(qs, n: int):
    rows = list(qs.order_by("pk"))
    return rows[n % len(rows)] if rows else None


def run(op, *, campaign, root: User, tmp_path) -> None:
    kind, *args = op
    assignments = Assignment.objects.filter(campaign=campaign)
    if kind == "transition":
        n, k, when = args
        a = _nth(assignments, n)
        possible = sorted(t.name for t in TRANSITIONS.values() if a.status in t.sources)
        name = possible[k % len(possible)]
        with time_machine.travel(when, tick=False):
            transition_assignment(assignment=a, name=name, by=root, note="理由", confirm_shortfall=True)
    elif kind == "acknowledge":
        n, when = args
        with time_machine.travel(when, tick=False):
            acknowledge_assignment(assignment=_nth(assignments, n), by=root)
    elif kind == "report":
        n, value, when = args
        with time_machine.travel(when, tick=False):
            report_progress(assignment=_nth(assignments, n), by=root, value=Decimal(value), text="进展")
    elif kind == "pass_down":
        n, how_many, when = args
        parents = assignments.filter(unit__numchild__gt=0)
        a = _nth(parents, n)
        if a is None:
            return
        below = list(Unit.objects.filter(depth=a.unit.depth + 1, path__startswith=a.unit.path).order_by("path"))
        shares = [Share(u, None, a.due_date - timedelta(days=k)) for k, u in enumerate(below[:how_many])]
        with time_machine.travel(when, tick=False):
            pass_down(assignment=a, by=root, shares=shares)
    elif kind == "extend":
        n, days, approve, when = args
        a = _nth(assignments, n)
        with time_machine.travel(when, tick=False):
            request = request_extension(assignment=a, by=root, due=a.due_date + timedelta(days=days), reason="警力不足")
            decide_extension(request=request, by=root, approve=approve, note="" if approve else "不同意")
    elif kind == "item_due":
        n, days = args
        item = _nth(Item.objects.filter(campaign=campaign), n)
        update_item(item=item, by=root, due_date=(item.due_date or date(2026, 8, 31)) + timedelta(days=days))
    elif kind == "item_action":
        item = _nth(Item.objects.filter(campaign=campaign), args[0])
        other = LineOfAction.objects.filter(campaign=campaign).exclude(pk=item.action_id).order_by("pk").first()
        update_item(item=item, by=root, action=other)
    elif kind == "item_units":
        n, k = args
        item = _nth(Item.objects.filter(campaign=campaign), n)
        units = list(Unit.objects.filter(depth=3).order_by("path"))[k : k + 2]
        update_item(item=item, by=root, cooperating_units=units, confirm=True)
    elif kind == "reimport":
        (drop_last,) = args
        plan = [(heading, rows[:-1] if drop_last and n == 0 else rows) for n, (heading, rows) in enumerate(PLAN)]
        opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
        import_plan(path=write_xlsx(tmp_path / "again.xlsx", plan), **opts)
    elif kind == "raw":  # as a benchmark, a demo builder or a test writes, around the services
        n, field, value = args
        a = _nth(assignments, n)
        rows = Assignment.objects.filter(pk=a.pk)
        if field == "status":
            rows.update(status=list(S)[value % len(S)])
        elif field == "due_date":
            rows.update(due_date=START + timedelta(days=value % 100))
        elif field == "is_active":
            rows.update(is_active=not a.is_active)
        elif field == "acknowledged_at":
            rows.update(acknowledged_at=None, acknowledged_by=None)
        elif field == "submitted_on":
            rows.update(submitted_on=START + timedelta(days=value % 100) if value % 3 else None)
        else:
            Assignment.objects.filter(campaign=campaign, parent__isnull=False, children__isnull=True).filter(
                pk__in=Assignment.objects.filter(pk__gte=a.pk).values("pk")[:1]
            ).delete()


@pytest.fixture
def root(city) -> User:
    return User.objects.create_superuser("root", password="pw-root", name="root", unit=city.units["3303"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=15), today=day)
def test_random_writes_keep_the_rollup_exact(city, published, root, tmp_path, ops, today):
    viewers = [(city["hq"], city.units["3303"]), (city["east_leader"], city.units["330310"])]
    with transaction.atomic():
        for op in ops:
            try:
                run(op, campaign=published, root=root, tmp_path=tmp_path)
                event(f"{op[0]} written")
            except Refused:
                event(f"{op[0]} refused")  # its transaction rolled back, and the rollup's change with it
            assert rollup.differences(published) == [], op
            assert rollup.ledger_differences(published) == [], op  # the ledger sums to the rows too
        assert_exact(published, viewers, today)
        transaction.set_rollback(True)


def test_an_item_moved_to_another_action_moves_its_counts(city, published, root):
    item = Item.objects.filter(campaign=published).order_by("pk").first()
    other = LineOfAction.objects.filter(campaign=published).exclude(pk=item.action_id).first()
    before = BoardCount.objects.filter(action=other).count()
    Item.objects.filter(pk=item.pk).update(action=other)  # even around the services
    assert BoardCount.objects.filter(action=other).count() > before
    assert rollup.differences(published) == []


def test_deleting_a_campaign_leaves_no_counts(city, published):
    assert BoardCount.objects.filter(campaign=published).exists()
    Assignment.objects.filter(campaign=published).delete()
    assert not BoardCount.objects.filter(campaign=published).exists()
    assert rollup.differences() == [] and rollup.ledger_differences() == []


def test_check_rollup_reports_and_fixes(city, published, capsys):
    call_command("check_rollup")
    assert "matches" in capsys.readouterr().out
    BoardCount.objects.filter(campaign=published).order_by("pk").first().delete()  # a lost count
    BoardCount.objects.filter(campaign=published).update(total=7)
    with pytest.raises(CommandError, match="--fix"):
        call_command("check_rollup", "--campaign", published.code)
    assert "counts differ" in capsys.readouterr().out
    call_command("check_rollup", "--fix")
    assert "Fixed" in capsys.readouterr().out
    assert rollup.differences() == []
    BoardDelta.objects.filter(campaign=published).order_by("pk").first().delete()  # a lost change
    with pytest.raises(CommandError, match="--fix"):
        call_command("check_rollup")
    assert "sums of the ledger differ" in capsys.readouterr().out
    call_command("check_rollup", "--fix")
    assert "1 sums of the ledger settled" in capsys.readouterr().out
    assert rollup.ledger_differences() == []
    with pytest.raises(CommandError, match="No campaign"):
        call_command("check_rollup", "--campaign", "NOPE")


def test_refresh_by_assignments_rewrites_their_units(city, published):
    a = Assignment.objects.filter(campaign=published).order_by("pk").first()
    BoardCount.objects.filter(campaign=published, unit=a.unit_id).update(total=99, accepted=3)
    rollup.refresh(assignment_ids=[a.pk])
    assert rollup.differences(published) == []


# --- As of a day: the ledger (``BoardDelta``) -----------------------------------------------------

AS_OF = {c: rollup.count(c) for c in BoardCount.COUNTS}


def truth(campaign, day: date) -> dict:
    """Per unit: every count of the rollup and the overdue work at the end of ``day``, from the rows as
    they are (the test calls it at that day's end)."""
    out: dict = {}
    for (_c, unit, _a, due), counts in rollup.recomputed(campaign).items():
        row = out.setdefault(unit, dict.fromkeys([*AS_OF, "overdue"], 0))
        for name, n in counts.items():
            row[name] += n
        if due <= day:
            row["overdue"] += counts.get("total", 0) - counts.get("accepted", 0) - counts.get("submitted_on_time", 0)
    return {u: row for u, row in out.items() if any(row.values())}


def as_of(campaign, day: date) -> dict:
    got = rollup.sums_as_of(
        BoardCount.objects.filter(campaign=campaign),
        BoardDelta.objects.filter(campaign=campaign, day__gt=day),
        F("unit_id"),
        {**AS_OF, "overdue": rollup.overdue(day + timedelta(days=1))},
    )
    return {u: row for u, row in got.items() if any(row.values())}


DATED = st.one_of(
    TRANSITION,
    TRANSITION,
    st.tuples(st.just("acknowledge"), pick, day),
    st.tuples(st.just("report"), pick, st.integers(min_value=0, max_value=5), day),
    st.tuples(st.just("extend"), pick, st.integers(min_value=1, max_value=20), st.booleans(), day),
)


def branches_as_of(campaign, day: date, prefix: int) -> dict:
    """``rollup.branch_sums_as_of``: the same as of the end of ``day``, per branch (path prefix) in one statement."""
    got = rollup.branch_sums_as_of(
        BoardCount.objects.filter(campaign=campaign),
        BoardDelta.objects.filter(campaign=campaign, day__gt=day),
        prefix,
        {**AS_OF, "overdue": rollup.overdue(day + timedelta(days=1))},
    )
    return {b: row for b, row in got.items() if any(row.values())}


def per_branch(counts: dict, prefix: int) -> dict:
    """``truth``'s per-unit counts added up per branch, with the units that have work."""
    paths = dict(Unit.objects.filter(pk__in=counts).values_list("pk", "path"))
    out: dict = {}
    for unit, row in counts.items():
        branch = out.setdefault(paths[unit][:prefix], dict.fromkeys([*row, "units"], 0))
        for name, n in row.items():
            branch[name] += n
        branch["units"] += row["total"] > 0
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(DATED, min_size=1, max_size=12))
def test_the_ledger_gives_the_counts_as_of_any_past_day(city, published, root, tmp_path, ops):
    """Services run day after day (in date order, as a campaign goes): at the end of each day the counts
    are noted from the rows; afterwards the rollup minus the ledger's later changes gives each day's."""
    published_on = published.assignments.order_by("created_at").first().created_at
    ops = sorted(ops, key=lambda op: op[-1])
    seen: dict[date, dict] = {}
    with transaction.atomic():
        for n, op in enumerate(ops):
            when = max(op[-1], timezone.localtime(published_on).date() + timedelta(days=1))
            # each write at its own moment of the day (a write that leaves ``updated_at`` as it was is
            # dated by the database's clock, the real today)
            moment = timezone.make_aware(datetime.combine(when, time(10, n)))
            with contextlib.suppress(Refused):
                run((*op[:-1], moment), campaign=published, root=root, tmp_path=tmp_path)
            seen[when] = truth(published, when)
        prefix = len(Unit.objects.get_first_root_node().path) + STEP
        for when, counts in seen.items():
            assert as_of(published, when) == counts, (when, ops)
            assert branches_as_of(published, when, prefix) == per_branch(counts, prefix), (when, ops)
        assert as_of(published, date(2099, 1, 1)) == truth(published, date(2099, 1, 1))
        transaction.set_rollback(True)


def test_the_day_of_a_change_is_its_local_day(city, published, root):
    """A change at 23:30 in the city is of that day, though UTC has it a day earlier than 08:00."""
    a = Assignment.objects.filter(campaign=published).order_by("pk").first()
    late_evening = timezone.make_aware(datetime(2026, 7, 10, 23, 30))
    with time_machine.travel(late_evening, tick=False):
        transition_assignment(assignment=a, name="accept" if a.status == "submitted" else "start", by=root, note="x")
    days = set(BoardDelta.objects.filter(campaign=published, unit=a.unit_id).values_list("day", flat=True))
    assert date(2026, 7, 10) in days and date(2026, 7, 11) not in days
