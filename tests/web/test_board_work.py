"""The work behind a battle board cell (``web:boards-work``): each cell links to it, and the list counts
what the cell counts — at the city and at a sub-bureau, a child's subtree and the 本级 column; HQ and a
leader chase from it (all of the cell or ticked rows), a unit lead sees no form and is refused."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audit.models import AuditEvent
from boards.queries import battle_board
from tasks.models import Assignment
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db
AT = datetime(2026, 9, 10, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 7月15日 and 8月底 work is overdue


@pytest.fixture(autouse=True)
def _late_in_the_campaign():
    with time_machine.travel(AT, tick=False):
        yield


def count_on_page(client, query: str) -> int:
    response = client.get(f"/board/work/?{query}")
    assert response.status_code == 200, response.content[:300]
    return int(re.search(r'<b id="count">(\d+)</b>', text(response)).group(1))


@pytest.mark.parametrize("level", ["3303", "330310"])
def test_the_list_counts_what_each_cell_counts(city, published, level):
    hq = city["hq"]
    client = login(hq)
    board = battle_board(hq, published, city.units[level])
    assert board.total.total > 0
    page = text(client.get(f"/board/?campaign={published.pk}&unit={level}"))
    tried = 0
    for action in board.rows:
        for unit in board.columns:
            cell = board.cell(action.pk, unit.pk)
            if not cell.total:
                continue
            query = f"campaign={published.pk}&unit={unit.code}&action={action.pk}"
            if unit == board.unit:
                query += "&own=1"
            assert f"/board/work/?{query}" in page  # the cell links to its work
            assert count_on_page(client, query) == cell.total
            assert count_on_page(client, query + "&overdue=1") == cell.overdue
            tried += 1
    assert tried >= 2


def test_hq_chases_all_of_a_cell_and_a_unit_lead_may_not(city, published):
    query = {"campaign": published.pk, "unit": "330310", "overdue": "1"}
    overdue = battle_board(city["hq"], published, city.units["330310"]).total.overdue
    assert overdue > 0
    assert 'id="chase-form"' in text(login(city["hq"]).get("/board/work/", query))
    assert 'name="ids"' not in text(login(city["east_lead"]).get("/board/work/", query))
    refused = login(city["east_lead"]).post("/board/work/chase/", {**query, "all": "1"})
    assert refused.status_code == 403
    done = login(city["hq"]).post("/board/work/chase/", {**query, "all": "1", "note": "尽快"})
    assert done.status_code == 302 and done["Location"].startswith("/board/work/?")
    chased = AuditEvent.objects.filter(verb="assignment.chased")
    assert chased.count() == overdue
    a = Assignment.objects.get(pk=chased.first().object_id)
    assert a.unit.path.startswith(city.units["330310"].path)


def test_a_leader_chases_ticked_rows(city, published):
    row = Assignment.objects.filter(unit__code="330310", is_active=True).first()
    response = login(city["east_leader"]).post("/board/work/chase/", {"ids": [row.pk], "note": "请加快"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb="assignment.chased", object_id=row.pk).count() == 1
    again = login(city["east_leader"]).post("/board/work/chase/", {"ids": [row.pk]})
    assert again.status_code == 409
