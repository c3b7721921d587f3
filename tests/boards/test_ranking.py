"""The ranking (排名): each measure over the unit's whole subtree against a brute-force count, HQ's
weights change the order and are audited, laggards are the lowest, a leader ranks only its subtree,
the query count does not depend on the level, and the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Unit
from audit.models import AuditEvent
from boards.ranking import ranking, score, standings
from boards.services import save_weights
from inspections.models import Finding, FindingStatus
from tasks.models import Assignment, AssignmentStatus
from tests.boards.conftest import TODAY
from tests.web.pages import login, text
from utilities.errors import Refused

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]
S = AssignmentStatus


def brute(campaign, root: Unit) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}

    def column(unit):
        return Unit.objects.get(path=unit.path[: len(root.path) + 4]).code

    for a in Assignment.objects.filter(campaign=campaign, is_active=True, parent=None).select_related("unit"):
        if a.unit.path.startswith(root.path) and a.unit.path != root.path:
            c = out.setdefault(
                column(a.unit),
                dict.fromkeys(
                    ["total", "done", "due", "in_time", "overdue", "findings", "findings_due", "rectified_in_time"], 0
                ),
            )
            c["total"] += 1
            c["done"] += a.status == S.ACCEPTED
            c["due"] += a.due_date < TODAY
            c["in_time"] += (
                a.due_date < TODAY and a.status in (S.SUBMITTED, S.ACCEPTED) and a.submitted_on <= a.due_date
            )
            waiting_on_time = a.status == S.SUBMITTED and a.submitted_on <= a.due_date
            c["overdue"] += a.status != S.ACCEPTED and a.due_date < TODAY and not waiting_on_time
    for f in Finding.objects.filter(campaign=campaign).select_related("unit"):
        if f.unit.path.startswith(root.path) and f.unit.path != root.path:
            c = out.setdefault(
                column(f.unit),
                dict.fromkeys(
                    ["total", "done", "due", "in_time", "overdue", "findings", "findings_due", "rectified_in_time"], 0
                ),
            )
            c["findings"] += 1
            c["findings_due"] += bool(f.deadline) and (f.status == FindingStatus.CLOSED or f.deadline < TODAY)
            c["rectified_in_time"] += (
                f.status == FindingStatus.CLOSED and timezone.localtime(f.closed_at).date() <= f.deadline
            )
    return out


def test_standings_count_each_subtree(city, worked):
    for root in (city.units["3303"], city.units["330310"]):
        got = {
            s.unit.code: {
                k: getattr(s, k)
                for k in ("total", "done", "due", "in_time", "overdue", "findings", "findings_due", "rectified_in_time")
            }
            for s in standings(city["hq"], worked, root).values()
            if s.total or s.findings
        }
        assert got == brute(worked, root)


def test_scores_are_weighted_means_and_weights_reorder(city, worked):
    r = ranking(city["hq"], worked, city.units["3303"])
    by = {s.unit.code: s for s in r.standings}
    east, west = by["330310"], by["330320"]
    assert east.rank < west.rank and east.measures["on_time"] == 100.0
    assert west.measures["rectification"] == 0.0  # its only finding due was closed late
    for s in r.standings:
        if s.score is None:
            continue
        counted = {m: v for m, v in s.measures.items() if v is not None}
        expected = sum(r.weights[m] * v for m, v in counted.items()) / sum(r.weights[m] for m in counted)
        assert s.score == round(expected, 1)
    assert [s.rank for s in r.standings if s.rank] == sorted(s.rank for s in r.standings if s.rank)
    only_findings = ranking(
        city["hq"], worked, city.units["3303"], weights=dict.fromkeys(r.weights, 0) | {"findings": 1}
    )
    assert {s.unit.code: s.score for s in only_findings.standings if s.score is not None}["330310"] > 0


def test_a_measure_a_unit_has_nothing_for_is_left_out():
    from boards.ranking import Standing

    a, b = Standing(Unit(code="a")), Standing(Unit(code="b"))
    a.total, a.done, a.due, a.in_time = 10, 10, 0, 0
    b.total, b.done = 10, 5
    score([a, b], {"completion": 50, "on_time": 50, "overdue": 0, "rectification": 0, "findings": 0})
    assert a.measures["on_time"] is None and a.score == 100.0 and b.score == 50.0


def test_laggards_are_the_lowest_with_reasons(city, worked):
    r = ranking(city["hq"], worked, city.units["3303"])
    ranked = [s for s in r.standings if s.rank]
    assert (
        r.laggards == list(reversed(ranked[-len(r.laggards) :])) and 1 <= len(r.laggards) <= len(ranked) // 3
    ) or len(ranked) < 3
    assert all(s.reasons()[0].startswith("完成率") for s in r.laggards)


def test_weights_are_set_by_the_owning_hq_and_audited(city, worked):
    values = {"completion": 10, "on_time": 10, "overdue": 10, "rectification": 60, "findings": 10, "laggards": 1}
    with pytest.raises(PermissionDenied):
        save_weights(campaign=worked, by=city["east_leader"], values=values)
    with pytest.raises(Refused):
        save_weights(
            campaign=worked,
            by=city["hq"],
            values=values
            | {"completion": 0, "on_time": 0, "overdue": 0, "rectification": 0, "findings": 0, "directives": 0},
        )
    save_weights(campaign=worked, by=city["hq"], values=values)
    (event,) = AuditEvent.objects.filter(verb="ranking.weights")
    assert event.changes["rectification"] == [10, 60] and event.actor == city["hq"]
    r = ranking(city["hq"], worked, city.units["3303"])
    assert r.weights["rectification"] == 60 and len(r.laggards) == 1


def test_a_leader_ranks_its_subtree_only(city, worked):
    client = login(city["east_leader"])
    assert client.get("/api/v1/boards/ranking/?unit=3303").status_code == 404
    got = client.get("/api/v1/boards/ranking/").json()
    assert got["unit"]["code"] == "330310"
    assert {s["unit"]["code"] for s in got["standings"]} <= {"33031001", "33031002", "33031003"}


def test_the_query_count_does_not_depend_on_the_level(city, worked):
    client = login(city["hq"])
    counts = []
    for unit in ("3303", "330310", "33031001"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/boards/ranking/?unit={unit}").status_code == 200
        counts.append(len(ctx))
    assert len(set(counts)) == 1, counts


def test_the_page_ranks_drills_and_saves_weights(city, worked):
    hq = login(city["hq"])
    page = hq.get("/board/ranking/")
    html = text(page)
    assert page.status_code == 200 and "城东分局" in html and "通报约谈" in html
    assert f"?campaign={worked.pk}&amp;unit=330310" in html  # a unit opens the ranking one level down
    post = {
        "campaign": worked.pk,
        "unit": "3303",
        "completion": 1,
        "on_time": 1,
        "overdue": 1,
        "rectification": 1,
        "findings": 1,
        "laggards": 2,
    }
    assert hq.post("/board/ranking/", post).status_code == 302
    assert AuditEvent.objects.filter(verb="ranking.weights").exists()
    leader = login(city["east_leader"])
    assert leader.get("/board/ranking/").context["weights_form"] is None
    assert leader.post("/board/ranking/", post | {"unit": "330310"}).status_code == 403


def test_directives_done_in_time_weigh_as_hq_sets(city, worked):
    """督办事项: a unit's directive work due is a measure of its own, weighted by HQ (default 10); units
    without directive work due are ranked as before (the measure left out)."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from boards.models import Weights
    from directives.services import complete_directive, hand_down, register_directive

    tz = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 8, 10, 10, tzinfo=tz), tick=False):
        d = register_directive(
            campaign=worked,
            by=city["hq"],
            title="督办：城西夜市噪音",
            source="instruction",
            lead_units=[city.units["330320"]],
            due_date=date(2026, 8, 20),
        )
        hand_down(directive=d, by=city["hq"])

    def scores(**weights):
        r = ranking(city["hq"], worked, city.units["3303"], weights=(Weights().as_dict() | weights))
        return r, {s.unit.code: s for s in r.standings}

    _r, by = scores()
    assert Weights().directives == 10 and ranking(city["hq"], worked, city.units["3303"]).weights["directives"] == 10
    west, east = by["330320"], by["330310"]
    assert (west.directives_due, west.directives_in_time, west.measures["directives"]) == (1, 0, 0.0)
    # a unit without directive work due is ranked as before: the measure is left out, whatever its weight
    assert east.measures["directives"] is None and east.score == scores(directives=0)[1]["330310"].score
    assert west.score < scores(directives=0)[1]["330320"].score  # a directive missed weighs it down
    with time_machine.travel(datetime(2026, 8, 19, 10, tzinfo=tz), tick=False):
        complete_directive(directive=d, by=city["west_lead"], report="已整治")
    assert scores()[1]["330320"].measures["directives"] == 100.0
    # HQ sets it (audited), the ranking uses it, the API reports it and the page offers it
    save_weights(campaign=worked, by=city["hq"], values={"directives": 30})
    event = AuditEvent.objects.filter(verb="ranking.weights").latest("at")
    assert event.changes["directives"] == [10, 30]
    assert ranking(city["hq"], worked, city.units["3303"]).weights["directives"] == 30
    got = login(city["hq"]).get(f"/api/v1/boards/ranking/?campaign={worked.pk}&unit=3303").json()
    assert got["weights"]["directives"] == 30
    assert 'name="directives"' in login(city["hq"]).get("/board/ranking/").content.decode()
