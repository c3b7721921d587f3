"""Units ranked by an indicator (issue 20.5, ``stats.ranking``): the values are the statistics page's
totals (a property test for random figures, both read paths), ties share a rank (1, 1, 3 — 并列第一), a
rate ranks by the ratio of the summed parts, an entered rate only among the units that entered it, a
rise that is bad ranks ascending; a fixed number of queries; the API and the page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as runs
from hypothesis import strategies as st

from accounts.models import Unit, UnitKind
from stats import queries as q
from stats import ranking as r
from stats.models import Figure
from tests.stats.test_kinds import DAY, STATIONS, enter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]

PARTS = st.tuples(st.integers(0, 6), st.integers(0, 6))  # small: ties are frequent
FIGURES = st.fixed_dictionaries({code: PARTS | st.none() for code in STATIONS})


def _write(city, kinds, days: list[dict]) -> list[Figure]:
    Figure.objects.all().delete()
    c, by = kinds["campaign"], city["hq"]
    rows = []
    for n, figures in enumerate(days):
        for code, parts in figures.items():
            if parts is None:
                continue
            filed, solved = parts[0] + parts[1], parts[1]
            for ind, value in ((kinds["filed"], filed), (kinds["solved"], solved), (kinds["alerts"], parts[0])):
                rows.append(
                    Figure(
                        campaign=c,
                        indicator=ind,
                        unit=city.units[code],
                        day=DAY + timedelta(days=n),
                        value=value,
                        reported_by=by,
                    )
                )
    Figure.objects.bulk_create(rows)
    return rows


def _check_ranks(places: list[r.Place], up_is_good: bool) -> None:
    ranked = [p for p in places if p.rank is not None]
    for p in ranked:
        better = [o for o in ranked if (o.key > p.key if up_is_good else o.key < p.key)]
        assert p.rank == len(better) + 1  # competition ranking: 1, 1, 3
        assert p.tied == any(o is not p and o.key == p.key for o in ranked)


@pytest.mark.parametrize("fast", [True, False], ids=["rollup", "figures"])
@runs(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(FIGURES, min_size=1, max_size=3))
def test_the_ranking_is_the_totals_of_the_page_with_ties_shared(city, kinds, days, fast, settings):
    settings.DB_FAST_PATHS = fast
    rows = _write(city, kinds, days)
    c, hq = kinds["campaign"], city["hq"]
    w = q.Window(DAY, DAY + timedelta(days=len(days) - 1))
    for root in ("3303", "330310"):
        unit = city.units[root]
        t = q.totals(hq, c, unit, w)
        for code in ("filed", "alerts", "rate"):
            got = r.rank(hq, c, unit, kinds[code], w)
            line = next(ln for ln in t.lines if ln.indicator.code == code)
            assert {p.unit.pk for p in got.places} == {u.pk for u in t.columns if u.pk != unit.pk}
            for p in got.places:
                assert p.value == line.by_unit.get(p.unit.pk, 0 if code != "rate" else None), (root, code)
            _check_ranks(got.places, kinds[code].up_is_good)
            if code == "rate":  # the exact ratio of the summed parts, never a mean of rates
                for p in got.places:
                    under = [f for f in rows if f.unit.path.startswith(p.unit.path)]
                    filed = sum(int(f.value) for f in under if f.indicator == kinds["filed"])
                    solved = sum(int(f.value) for f in under if f.indicator == kinds["solved"])
                    assert p.key == (Fraction(solved * 100, filed) if filed else None)
                    assert (p.rank is None) == (not filed)
    # every station of the city (one level), each its own figures
    stations = r.rank(hq, c, city.units["3303"], kinds["filed"], w, level=city.units["3303"].depth + 2)
    for p in stations.places:
        assert p.value == sum(int(f.value) for f in rows if f.unit == p.unit and f.indicator == kinds["filed"])
    _check_ranks(stations.places, True)


def test_ties_share_the_first_place_and_a_bad_rise_ranks_ascending(city, kinds):
    enter(city, kinds, "33031001", filed=5, solved=4, alerts=3)
    enter(city, kinds, "33031002", filed=5, solved=2, alerts=9)
    enter(city, kinds, "33031003", filed=2, solved=2, alerts=3)
    c, hq, east = kinds["campaign"], city["hq"], city.units["330310"]
    w = q.Window(DAY, DAY)
    filed = r.rank(hq, c, east, kinds["filed"], w)
    assert [(p.unit.code, p.rank, p.tied) for p in filed.places] == [
        ("33031001", 1, True),
        ("33031002", 1, True),
        ("33031003", 3, False),
    ]
    assert [p.rank_words for p in filed.places] == ["并列第一", "并列第一", "第三"]
    assert r.firsts(filed) == "刑事立案全区并列第一：城关派出所、东湖派出所（5起）"
    alerts = r.rank(hq, c, east, kinds["alerts"], w)  # 警情: the fewest first
    assert [(p.unit.code, p.rank) for p in alerts.places] == [("33031001", 1), ("33031003", 1), ("33031002", 3)]
    rate = r.rank(hq, c, east, kinds["rate"], w)  # 100 % (2/2), 80 % (4/5), 40 % (2/5)
    assert [(p.unit.code, p.rank, p.text(kinds["rate"])) for p in rate.places] == [
        ("33031003", 1, "100.0%"),
        ("33031001", 2, "80.0%"),
        ("33031002", 3, "40.0%"),
    ]
    assert r.firsts(rate) == "破案率全区第一：城东交警大队（100.0%）"


def test_a_rate_without_a_denominator_and_an_entered_rate_not_entered_are_not_ranked(city, kinds):
    enter(city, kinds, "33031001", filed=4, solved=1, dissuaded="80")
    enter(city, kinds, "33031002", dissuaded="92.5")
    c, hq, east = kinds["campaign"], city["hq"], city.units["330310"]
    w = q.Window(DAY, DAY)
    rate = r.rank(hq, c, east, kinds["rate"], w)
    assert [(p.unit.code, p.rank, p.value) for p in rate.places] == [
        ("33031001", 1, Decimal(25)),
        ("33031002", None, None),
        ("33031003", None, None),
    ]
    entered = r.rank(hq, c, east, kinds["dissuaded"], w)
    assert [(p.unit.code, p.rank) for p in entered.places] == [("33031002", 1), ("33031001", 2), ("33031003", None)]
    assert entered.places[2].rank_words == "" and entered.places[2].text(kinds["dissuaded"]) == "—"
    nothing = r.rank(hq, c, city.units["3303"], kinds["drugs"], w)  # all 0: shared first, nothing to praise
    assert {p.rank for p in nothing.places} == {1} and r.firsts(nothing) == ""


def test_the_area_word(city):
    assert r.area_word(city.units["3303"]) == "全市" and r.area_word(city.units["330310"]) == "全区"
    assert r.area_word(Unit(name="某某县公安局", kind=UnitKind.SUBBUREAU)) == "全县"
    assert r.area_word(Unit(name="某某省公安厅", kind=UnitKind.PROVINCE)) == "全省"
    assert r.area_word(city.units["330302"]) == "全局"


@pytest.mark.parametrize("fast", [True, False], ids=["rollup", "figures"])
def test_the_queries_do_not_grow_with_the_units(city, kinds, fast, settings):
    settings.DB_FAST_PATHS = fast
    for code in STATIONS:
        enter(city, kinds, code, filed=3, solved=1)
    c, hq, top = kinds["campaign"], city["hq"], city.units["3303"]
    w = q.Window(DAY, DAY)
    counts = []
    for level in (top.depth + 1, top.depth + 2):
        with CaptureQueriesContext(connection) as ctx:
            got = r.rank(hq, c, top, kinds["rate"], w, level=level)
        counts.append(len(ctx.captured_queries))
        assert got.places
    assert counts[0] == counts[1] <= 4


def test_a_lead_ranks_only_what_he_sees(city, kinds):
    for code in STATIONS:
        enter(city, kinds, code, filed=3)
    c, w = kinds["campaign"], q.Window(DAY, DAY)
    east = r.rank(city["east_lead"], c, city.units["330310"], kinds["filed"], w)
    assert [p.unit.code for p in east.places] == ["33031001", "33031002", "33031003"]
