"""The battle board (挂图作战): each cell counts the action's work in the column unit's whole subtree,
the totals add up, a leader sees only its subtree, the query count does not depend on the level, and
the page drills down."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Unit
from boards.queries import battle_board
from tasks.models import Assignment, AssignmentStatus
from tests.boards.conftest import TODAY
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]


@pytest.fixture
def spread(published):
    """Some work accepted, some not: a board with something to show."""
    for n, a in enumerate(Assignment.objects.order_by("id")):
        if n % 3 == 0:
            Assignment.objects.filter(pk=a.pk).update(status=AssignmentStatus.ACCEPTED)
    return published


def brute(campaign, root: Unit) -> dict[tuple[int, str], Counter]:
    """(action, column code) → counts, from the rows and the tree, without the board's SQL."""
    out: dict[tuple[int, str], Counter] = {}
    for a in Assignment.objects.filter(campaign=campaign, is_active=True, parent=None).select_related("unit", "item"):
        if not a.unit.path.startswith(root.path):
            continue
        column = a.unit if a.unit.path == root.path else Unit.objects.get(path=a.unit.path[: len(root.path) + 4])
        c = out.setdefault((a.item.action_id, column.code), Counter())
        c["total"] += 1
        c["done"] += a.status == AssignmentStatus.ACCEPTED
        waiting_on_time = a.status == AssignmentStatus.SUBMITTED and a.submitted_on <= a.due_date
        c["overdue"] += a.status != AssignmentStatus.ACCEPTED and a.due_date < TODAY and not waiting_on_time
    return out


def test_cells_roll_up_each_subtree_and_totals_add_up(city, spread):
    hq = city["hq"]
    for root in (city.units["3303"], city.units["330310"]):
        board = battle_board(hq, spread, root)
        got = {
            (a, next(u.code for u in board.columns if u.pk == uid)): Counter(
                total=c.total, done=c.done, overdue=c.overdue
            )
            for (a, uid), c in board.cells.items()
        }
        assert got == brute(spread, root)
        assert board.total.total == sum(c["total"] for c in got.values()) > 0
        assert sum(c.total for c in board.row_totals.values()) == board.total.total
        assert sum(c.total for c in board.column_totals.values()) == board.total.total
        children = set(
            Unit.objects.filter(depth=root.depth + 1, path__startswith=root.path).values_list("code", flat=True)
        )
        assert {u.code for u in board.columns} - {root.code} <= children


def test_colours(city, spread):
    board = battle_board(city["hq"], spread, city.units["3303"])
    for c in board.cells.values():
        assert c.colour == ("green" if not c.overdue else "red" if c.overdue * 5 >= c.total else "yellow")
        assert c.percent == round(c.done * 100 / c.total, 1)


def test_a_leader_sees_its_subtree_only(city, spread):
    leader = login(city["east_leader"])
    page = leader.get("/board/")
    assert page.status_code == 200 and page.context["board"].unit == city.units["330310"]  # its own, by default
    assert leader.get("/board/?unit=3303").status_code == 404
    assert leader.get("/board/?unit=330320").status_code == 404
    api = leader.get("/api/v1/boards/battle/?unit=330310").json()
    east = Assignment.objects.filter(campaign=spread, is_active=True, unit__path__startswith=city.units["330310"].path)
    assert api["total"]["total"] == east.count()


def test_the_query_count_does_not_depend_on_the_level(city, spread):
    client = login(city["hq"])
    counts = []
    for unit in ("3303", "330310", "33031001"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/boards/battle/?unit={unit}").status_code == 200
        counts.append(len(ctx))
    assert len(set(counts)) == 1, counts


def test_the_page_drills_down_and_filters(city, spread):
    client = login(city["hq"])
    page = client.get("/board/")
    html = text(page)
    assert page.context["board"].unit == city.units["3303"]
    assert f"?campaign={spread.pk}&unit=330310" in html  # a column header opens the level below
    action = spread.actions.order_by("seq").first()
    below = client.get(f"/board/?campaign={spread.pk}&unit=330310&action={action.pk}")
    board = below.context["board"]
    assert [a.pk for a in board.rows] == [action.pk] and board.unit.code == "330310"
    assert [u.code for u in board.trail] == ["3303", "330310"]
    due = client.get("/board/?due_by=2026-07-31").context["board"]
    july = Assignment.objects.filter(campaign=spread, is_active=True, due_date__lte=date(2026, 7, 31))
    assert due.total.total == july.count() < page.context["board"].total.total
    assert client.get("/board/?due_by=soon").status_code == 400


CELL_TEMPLATE = (
    "{% load i18n %}"
    "{% blocktranslate with done=c.done total=c.total overdue=c.overdue %}{{ done }} of {{ total }} done, "
    "{{ overdue }} overdue{% endblocktranslate %}|"
    "{% blocktranslate with n=c.overdue %}{{ n }} overdue{% endblocktranslate %}|"
    "{% blocktranslate with n=c.unacknowledged %}{{ n }} not acknowledged{% endblocktranslate %}|"
    "{% blocktranslate with n=c.total %}{{ n }} assignments{% endblocktranslate %}"
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("grouping", [False, True])
def test_the_cells_words_are_what_the_template_wrote(language, grouping, settings):
    """The board page's cells get their words from ``labels.CellWords`` (once per page) instead of three
    ``{% blocktranslate %}`` per cell: the same text, in either language, whatever the number format."""
    from django.template import Context, Template
    from django.utils import translation

    from boards.queries import Cell
    from web.labels import CellWords

    settings.USE_THOUSAND_SEPARATOR = grouping
    cells = [Cell(total=1234567, done=3, overdue=0, unacknowledged=12), Cell(total=5, done=5, overdue=2)]
    with translation.override(language):
        words = CellWords()
        for cell in cells:
            w = words(cell)
            made = "|".join([w["title"], w["overdue"], w["unacknowledged"], w["total"]])
            assert made == Template(CELL_TEMPLATE).render(Context({"c": cell}))
