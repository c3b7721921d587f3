"""A leader's landing page (领导首页, ``web:boards-leader``, ``boards.leader``): a line leader sees his lines
only, the bureau chief (a leader with no line of his own) and HQ every line; the figures are the battle
board's; the units with the most overdue work, findings awaiting rectification, the listed hotspots (near
deadlines marked), this week's results against last year's and the requests for his instruction, each linked;
a station lead or an inspector is refused (403); the home page sends a leader there."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, Unit, UnitKind
from boards.leader import HOTSPOT_DAYS, desk, this_week
from boards.queries import battle_board
from inspections.models import Finding, FindingStatus, Hotspot
from stats.queries import Window, totals
from tasks.models import Assignment, AssignmentStatus, CampaignStatus, LineOfAction
from tasks.queries import overdue_q
from tasks.services.progress import give_instruction, request_instruction
from tests.conftest import make_user
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db
TODAY = date(2026, 8, 5)  # a Wednesday; the figures run to 8月9日, 7月15日's work is overdue
AT = datetime.combine(TODAY, time(9, 30), tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _on_today():
    with time_machine.travel(AT, tick=False):
        yield


@pytest.fixture
def leaders(city, published):
    """The bureau chief (no line of his own) and a deputy in charge of the first line, both over the city."""
    city_unit = city.units["3303"]
    chief = make_user("chief", city_unit, (Role.LEADER, city_unit), name="陈志远")
    deputy = make_user("deputy", city_unit, (Role.LEADER, city_unit), name="王建国")
    first = published.actions.order_by("seq", "id").first()
    LineOfAction.objects.filter(pk=first.pk).update(leader=deputy)
    return {"chief": chief, "deputy": deputy, "line": first}


def page(user, query: str = "") -> tuple[object, str]:
    response = login(user).get(f"/leader/{query}")
    assert response.status_code == 200, response.content[:300]
    return response.context["d"], text(response)


def test_a_line_leader_sees_his_lines_with_the_boards_figures(city, worked, leaders):
    d, body = page(leaders["deputy"])
    board = battle_board(leaders["deputy"], worked, city.units["3303"], today=TODAY)
    assert [a for a, _c in d.lines] == [leaders["line"]] and not d.all_lines
    cell = d.lines[0][1]
    assert (cell.total, cell.done, cell.overdue) == (
        board.row_totals[leaders["line"].pk].total,
        board.row_totals[leaders["line"].pk].done,
        board.row_totals[leaders["line"].pk].overdue,
    )
    assert cell.total > 0
    q = f"campaign={worked.pk}&unit=3303&action={leaders['line'].pk}"
    assert f"/board/work/?{q}" in body  # each figure opens the work behind it
    assert f"/board/work/?{q}&status=accepted" in body and f"/board/work/?{q}&overdue=1" in body
    others = [a.pk for a in worked.actions.exclude(pk=leaders["line"].pk)]
    assert others and not any(f'data-action="{pk}"' in body for pk in others)


def test_the_figures_link_to_lists_of_the_same_count(city, worked, leaders):
    client = login(leaders["deputy"])
    d, body = page(leaders["deputy"])
    cell = d.lines[0][1]
    links = dict(re.findall(r'<a class="(total|done|overdue)" href="([^"]+)"', body))
    for kind, want in (("total", cell.total), ("done", cell.done), ("overdue", cell.overdue)):
        listed = text(client.get(links[kind].replace("&amp;", "&")))
        assert int(re.search(r'<b id="count">(\d+)</b>', listed).group(1)) == want


def test_the_bureau_chief_and_hq_see_every_line(city, worked, leaders):
    board = battle_board(city["hq"], worked, city.units["3303"], today=TODAY)
    for who in (leaders["chief"], city["hq"]):
        d, body = page(who)
        assert d.all_lines and [a for a, _c in d.lines] == board.rows
        assert (d.total.total, d.total.done, d.total.overdue) == (
            board.total.total,
            board.total.done,
            board.total.overdue,
        )
        assert 'id="desk-total"' in body


def test_a_sub_bureau_leader_sees_his_subtree(city, worked):
    d, _body = page(city["east_leader"])
    board = battle_board(city["east_leader"], worked, city.units["330310"], today=TODAY)
    assert d.unit == city.units["330310"] and d.total.total == board.total.total
    assert all(o.unit.path.startswith(city.units["330310"].path) for o in d.units)


@pytest.mark.parametrize("who", ["station_lead", "east_lead", "inspector", "nobody"])
def test_others_are_refused(city, published, who):
    assert login(city[who]).get("/leader/").status_code == 403


def test_the_most_overdue_units_counted_and_linked(city, worked, leaders):
    d, body = page(leaders["chief"])
    late = Assignment.objects.filter(campaign=worked, parent=None, is_active=True).filter(overdue_q(TODAY))
    expected = {}
    for code in late.values_list("unit__code", flat=True):
        expected[code] = expected.get(code, 0) + 1
    assert d.units and len(d.units) <= 5
    assert {o.unit.code: o.overdue for o in d.units} == dict(sorted(expected.items(), key=lambda kv: -kv[1])[:5])
    assert [o.overdue for o in d.units] == sorted((o.overdue for o in d.units), reverse=True)
    first = d.units[0]
    assert f"/board/work/?campaign={worked.pk}&unit={first.unit.code}&own=1&overdue=1" in body
    assert sum(n for _a, n in first.by_action) == first.overdue


def test_a_line_leader_counts_only_his_lines_overdue(city, worked, leaders):
    d, body = page(leaders["deputy"])
    late = Assignment.objects.filter(campaign=worked, parent=None, is_active=True, item__action=leaders["line"])
    expected: dict[str, int] = {}
    for code in late.filter(overdue_q(TODAY)).values_list("unit__code", flat=True):
        expected[code] = expected.get(code, 0) + 1
    assert expected and {o.unit.code: o.overdue for o in d.units} == dict(
        sorted(expected.items(), key=lambda kv: -kv[1])[:5]
    )
    assert all(a == leaders["line"] for o in d.units for a, _n in o.by_action)
    assert f"&own=1&overdue=1&action={leaders['line'].pk}" in body  # one line: the unit's link carries it


def test_findings_overdue_first_and_hotspots_near_their_deadline(city, worked, leaders):
    east = city.units["33031001"]
    hq = city["hq"]

    def finding(status, deadline):
        return Finding.objects.create(
            campaign=worked, unit=east, place=f"地点{deadline}", description="问题", status=status,
            deadline=deadline, reported_by=city["inspector"],
        )  # fmt: skip

    soon = finding(FindingStatus.ORDERED, TODAY + timedelta(days=3))
    late = finding(FindingStatus.ORDERED, TODAY - timedelta(days=2))
    waiting = finding(FindingStatus.SUBMITTED, TODAY - timedelta(days=9))
    finding(FindingStatus.CLOSED, TODAY - timedelta(days=5))

    def hotspot(name, deadline, status=Hotspot.Status.LISTED):
        return Hotspot.objects.create(
            campaign=worked, name=name, problems="治安乱点", unit=east, responsible_name="赵关",
            listed_on=date(2026, 7, 1), deadline=deadline, status=status, listed_by=hq,
        )  # fmt: skip

    near = hotspot("城关夜市", TODAY + timedelta(days=HOTSPOT_DAYS))
    past = hotspot("东湖路口", TODAY - timedelta(days=1))
    far = hotspot("远期整治点", TODAY + timedelta(days=HOTSPOT_DAYS + 1))
    hotspot("已摘牌", TODAY - timedelta(days=3), Hotspot.Status.DELISTED)

    d, body = page(leaders["chief"])
    # the fixture's own ordered finding (33032001, due 8月20日) is in the list too
    shown = [f.pk for f in d.findings]
    assert shown[0] == late.pk and set(shown) >= {soon.pk, waiting.pk}
    assert d.findings_count == len(shown) == 4
    # every listed hotspot, the nearest deadline first; the delisted one is not
    assert [h.pk for h in d.hotspots] == [past.pk, near.pk, far.pk] and d.hotspots_count == 3
    assert f"/findings/{late.pk}/" in body and f"/hotspots/{past.pk}/" in body
    section = body.split('id="hotspots"')[1].split("</section>")[0]
    marks = [line.split("</a>")[1] for line in section.split("<li>")[1:]]
    assert ["逾期" in m for m in marks] == [True, False, False]
    assert ["即将到期" in m for m in marks] == [False, True, False]
    # the sub-bureau's leader of the west does not see the east's
    d, _ = page(city["east_leader"])
    assert late.pk in [f.pk for f in d.findings]


def test_this_weeks_results_against_last_year(city, reported, leaders):
    d, body = page(leaders["chief"])
    week = Window(date(2026, 8, 3), TODAY)
    assert d.week == week
    want = totals(leaders["chief"], reported, city.units["3303"], week)
    assert [(line.total, line.last_year) for line in d.stats.lines] == [(x.total, x.last_year) for x in want.lines]
    assert d.stats.lines[0].last_year and d.stats.lines[0].yoy in body
    assert "同比" in d.stats.lines[0].yoy


def test_no_week_before_the_campaign(published):
    assert this_week(published, published.start - timedelta(days=3)) is None
    assert this_week(published, published.start + timedelta(days=2)).start == published.start


def test_the_requests_waiting_for_his_instruction(city, published, leaders):
    a = Assignment.objects.filter(campaign=published, unit=city.units["33031001"]).first()
    b = Assignment.objects.filter(campaign=published, unit=city.units["330302"]).first()
    chief = leaders["chief"]
    first = request_instruction(assignment=a, by=city["station_lead"], text="请示：夜市清查需协调城管", leader=chief)
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        second = request_instruction(assignment=b, by=city["hq"], text="请示治安支队警力调配", leader=chief)
        request_instruction(assignment=b, by=city["hq"], text="请王局长批示", leader=leaders["deputy"])
    d, body = page(chief)
    assert [r.pk for r in d.requests] == [first.pk, second.pk] and d.addressed_to_me  # oldest first
    assert f"/assignments/{a.pk}/#comments" in body
    d, _ = page(city["hq"])  # HQ: every open request in its scope, with whom it is addressed to
    assert d.requests_count == 3 and not d.addressed_to_me
    give_instruction(assignment=a, by=chief, text="同意，请治安支队牵头协调")
    d, _ = page(chief)
    assert [r.pk for r in d.requests] == [second.pk]


def test_a_closed_campaign_is_still_read(city, worked, leaders):
    type(worked).objects.filter(pk=worked.pk).update(status=CampaignStatus.CLOSED)
    d, _ = page(leaders["chief"], f"?campaign={worked.pk}")
    assert d.campaign == worked


def grow(city, published, stations: int, *, first: int = 0) -> None:
    """``stations`` more stations under the east sub-bureau, each with overdue work and a finding."""
    east = city.units["330310"]
    item = published.items.order_by("id").first()
    for n in range(first, first + stations):
        east.refresh_from_db()
        unit = Unit.objects.add_child(
            east, instance=Unit(code=f"3303109{n:02d}", name=f"新站{n}", kind=UnitKind.STATION)
        )
        Assignment.objects.create(
            campaign=published, item=item, unit=unit, role="lead", due_date=TODAY - timedelta(days=5),
            status=AssignmentStatus.IN_PROGRESS,
        )  # fmt: skip
        Finding.objects.create(
            campaign=published, unit=unit, place="某处", description="问题", status=FindingStatus.ORDERED,
            deadline=TODAY - timedelta(days=1), reported_by=city["inspector"],
        )  # fmt: skip


def queries_of(user) -> int:
    client = login(user)
    client.get("/leader/")  # the session warm
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/leader/").status_code == 200
    return len(seen)


def test_the_query_count_does_not_grow_with_units(city, reported, leaders, django_assert_max_num_queries):
    chief = leaders["chief"]
    small = queries_of(chief)
    grow(city, reported, 12)
    assert queries_of(chief) == small
    grow(city, reported, 30, first=12)
    client = login(chief)
    client.get("/leader/")
    with django_assert_max_num_queries(small):
        client.get("/leader/")
    d = desk(chief, reported, city.units["3303"], today=TODAY)
    assert d.findings_count >= 42 and len(d.findings) == 10


def test_home_sends_a_leader_to_his_page(city, published, leaders):
    assert login(leaders["chief"]).get("/")["Location"] == "/leader/"
    assert login(city["east_leader"]).get("/")["Location"] == "/leader/"
    assert login(city["hq"]).get("/")["Location"] == "/review/"  # HQ keeps its desk, and sees the link
    assert 'href="/leader/"' in text(login(city["hq"]).get("/review/"))
    assert 'href="/leader/"' not in text(login(city["station_lead"]).get("/my/"))
    both = make_user(
        "both", city.units["330310"], (Role.LEADER, city.units["3303"]), (Role.UNIT_LEAD, city.units["330310"])
    )
    assert login(both).get("/")["Location"] == "/my/"  # who reports for a unit lands on its work


def test_a_superuser_holds_no_leader_grant_but_opens_the_page(city, published):
    from accounts import scope
    from accounts.models import User

    root = User.objects.create_superuser("root", password="pw-root", name="管理员")
    assert not scope.of_role(root, Role.LEADER)
    assert not scope.of_role(city["nobody"], Role.LEADER)
    d, _ = page(root)
    assert d.all_lines and not d.addressed_to_me
