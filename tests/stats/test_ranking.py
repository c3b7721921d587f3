"""Units ranked by an indicator (issue 20.5, ``stats.ranking``): the values are the statistics page's
totals (a property test for random figures, both read paths), ties share a rank (1, 1, 3 — 并列第一), a
rate ranks by the ratio of the summed parts, an entered rate only among the units that entered it, a
rise that is bad ranks ascending; a fixed number of queries; the API and the page."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as runs
from hypothesis import strategies as st

from accounts.models import Unit, UnitKind
from stats import queries as q
from stats import ranking as r
from stats.models import Figure
from tests.boards.conftest import TODAY
from tests.stats.test_kinds import DAY, STATIONS, enter
from tests.web.pages import login, text

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
    assert r.firsts(alerts) == ""  # the fewest 警情 is ranked, not praised
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


# --- the API ------------------------------------------------------------------------------------


def test_the_api_ranks_with_the_page_s_windows(city, kinds):
    enter(city, kinds, "33031001", filed=5, solved=4)
    enter(city, kinds, "33032001", filed=5, solved=1)
    enter(city, kinds, "33031002", day=DAY + timedelta(days=1), filed=1, solved=1)
    c = kinds["campaign"]
    hq = login(city["hq"])
    got = hq.get(
        "/api/v1/stats/ranking/", {"campaign": c.pk, "indicator": kinds["filed"].pk, "period": "since", "end": DAY}
    )
    assert got.status_code == 200, got.content
    body = got.json()
    assert (body["start"], body["end"], body["period"], body["words"]) == (
        "2026-07-01",
        "2026-07-02",
        "since",
        "行动以来（截至7月2日）",
    )
    assert [(p["unit"]["code"], p["rank"], p["tied"], p["value"]) for p in body["places"]] == [
        ("330310", 1, True, 5),
        ("330320", 1, True, 5),
        ("330302", 3, False, 0),
    ]
    assert body["first"] == "刑事立案全市并列第一：城东分局、城西分局（5起）"
    rate = hq.get(
        "/api/v1/stats/ranking/",
        {"campaign": c.pk, "indicator": kinds["rate"].pk, "level": 2, "start": DAY, "end": DAY + timedelta(days=1)},
    ).json()
    assert [(p["unit"]["code"], p["value"], p["rank_words"]) for p in rate["places"][:3]] == [
        ("33031002", "100", "第一"),
        ("33031001", "80", "第二"),
        ("33032001", "20", "第三"),
    ]
    assert hq.get("/api/v1/stats/ranking/", {"campaign": c.pk, "indicator": 999999}).status_code == 404
    assert hq.get("/api/v1/stats/ranking/", {"campaign": c.pk, "level": 0}).status_code == 400
    assert hq.get("/api/v1/stats/ranking/", {"campaign": c.pk, "period": "year"}).status_code == 400
    week = hq.get("/api/v1/stats/ranking/", {"campaign": c.pk, "period": "week", "end": "2026-07-15"}).json()
    assert (week["start"], week["end"]) == ("2026-07-13", "2026-07-19")  # Monday to Sunday
    month = hq.get("/api/v1/stats/ranking/", {"campaign": c.pk, "period": "month", "end": "2026-08-15"}).json()
    assert (month["start"], month["end"], month["words"]) == ("2026-08-01", "2026-08-31", "8月（8月1日至31日）")
    lead = login(city["station_lead"]).get("/api/v1/stats/ranking/", {"campaign": c.pk, "unit": "330320"})
    assert lead.status_code == 404  # out of his reach, like a missing unit


def test_no_indicator_to_rank_is_a_404(city, catalogue):
    c = catalogue["campaign"]
    c.indicators.update(is_active=False)
    assert login(city["hq"]).get("/api/v1/stats/ranking/", {"campaign": c.pk}).status_code == 404


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_statistics_page_ranks_and_leaves_out_empty_lines(city, kinds):
    enter(city, kinds, "33031001", police=7, filed=5, solved=4, alerts=2)
    enter(city, kinds, "33032001", police=9, filed=2, solved=1, alerts=1)
    c = kinds["campaign"]
    hq = login(city["hq"])
    page = hq.get("/stats/", {"campaign": c.pk, "period": "since", "end": DAY, "rank": kinds["alerts"].pk})
    assert page.status_code == 200
    html = text(page)
    assert "行动以来（截至7月2日）" in html
    codes = [line.indicator.code for line in page.context["t"].lines]
    assert "places" not in codes and "drugs" not in codes and "police" in codes  # nothing this year or last
    assert page.context["hidden"] >= 2 and "zeros=1" in page.context["zeros_link"]
    r = page.context["ranking"]
    assert r["indicator"] == kinds["alerts"]
    assert [(p.unit.code, p.rank) for p, _t, _l in r["rows"]] == [("330302", 1), ("330320", 2), ("330310", 3)]
    assert 'id="ranking-first"' not in html  # the fewest 警情 is not praised: it may be who did not report
    assert "数值最少的排在前面" in html
    every = hq.get("/stats/", {"campaign": c.pk, "zeros": "1", "rank": "①"})  # a bad id: the first indicator
    assert every.status_code == 200 and "places" in [ln.indicator.code for ln in every.context["t"].lines]
    assert every.context["ranking"]["indicator"] == kinds["police"]
    assert "刑事立案" in text(hq.get("/stats/", {"campaign": c.pk, "round": kinds["first"].pk, "zeros": "1"}))
    stations = hq.get("/stats/", {"campaign": c.pk, "rank": kinds["police"].pk, "level": "2"}).context["ranking"]
    assert stations["levels"] == [1, 2] and stations["level"] == 2
    assert [p.unit.code for p, _t, _l in stations["rows"]][:2] == ["33032001", "33031001"]  # 9, then 7
    assert hq.get("/stats/", {"campaign": c.pk, "level": "9"}).context["ranking"]["level"] == 1
    week = hq.get("/stats/", {"campaign": c.pk, "period": "week", "end": "2026-07-15"})
    assert week.context["t"].window.start == DAY.replace(day=13) and "zeros=1" in week.context["zeros_link"]


def test_no_indicators_no_ranking(city, catalogue):
    c = catalogue["campaign"]
    c.indicators.update(is_active=False)
    page = login(city["hq"]).get("/stats/", {"campaign": c.pk})
    assert page.status_code == 200 and page.context["ranking"] == {"indicators": [], "ranking": None}


# --- the bulletin ------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed (scripts/bootstrap-system)")
def test_the_bulletin_names_the_first_units(city, kinds, tmp_path, django_assert_num_queries):
    from boards import bulletin

    enter(city, kinds, "33031001", police=30, filed=5, solved=4, alerts=3)
    enter(city, kinds, "33032001", police=30, filed=8, solved=2, alerts=9)
    c = kinds["campaign"]
    week = bulletin.week_of(c, DAY)
    ctx = bulletin.bulletin_context(city["hq"], c, c.owner, week, issued=TODAY)
    assert ctx["firsts"] == [
        "出动警力全市并列第一：城东分局、城西分局（30人次）",
        "刑事立案全市第一：城西分局（8起）",
        "破获刑事案件全市第一：城东分局（4起）",
        "破案率全市第一：城东分局（80.0%）",
    ]  # the headline: the first four that should rise with a figure (检查场所 has none; 警情 is not praised)
    enter(city, kinds, "33031002", day=week.end + timedelta(days=1), filed=50)  # after the period: not counted
    assert bulletin.bulletin_context(city["hq"], c, c.owner, week, issued=TODAY)["firsts"] == ctx["firsts"]
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(bulletin.render_pdf(ctx))
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squeezed = "".join(words.split())
    for line in ctx["firsts"]:
        assert line in squeezed, line
    t = q.totals(city["hq"], c, c.owner, q.Window(week.start, week.end))
    with django_assert_num_queries(2):
        bulletin.results_firsts(city["hq"], c, c.owner, q.Window(week.start, week.end), t.lines)
    with django_assert_num_queries(0):
        assert bulletin.results_firsts(city["hq"], c, c.owner, q.Window(week.start, week.end), []) == []
    page = login(city["hq"]).get(f"/board/bulletin/?campaign={c.pk}&period=w{DAY}")
    assert page.status_code == 200 and "刑事立案全市第一：城西分局（8起）" in text(page)


# --- the daily chart ---------------------------------------------------------------------------


def test_a_round_is_spread_over_its_days_not_a_spike(city, kinds):
    from boards.charts import daily_chart

    c, first = kinds["campaign"], kinds["first"]  # 第一轮: 7月7日至9日
    for day in (date(2026, 7, 5), date(2026, 7, 6), date(2026, 7, 10)):
        enter(city, kinds, "33031001", day=day, police=10, filed=4, solved=2)
    enter(city, kinds, "33031001", day=first.end, police=30, filed=6, solved=6)  # the round's totals, once
    w = q.Window(date(2026, 7, 5), date(2026, 7, 10))
    d = q.daily(city["hq"], c, c.owner, w)
    police = kinds["police"].pk
    assert d.days[0] == w.start and len(d.days) == 6 and d.rounds == [first]
    assert d.by_day[police] == {date(2026, 7, 5): 10, date(2026, 7, 6): 10, date(2026, 7, 10): 10}
    assert d.spread[police] == {day: Decimal(10) for day in (date(2026, 7, 7), date(2026, 7, 8), date(2026, 7, 9))}
    assert set(d.spread[kinds["rate"].pk].values()) == {Decimal(100)}  # the round's rate, not divided
    t = q.totals(city["hq"], c, c.owner, w)
    chart = daily_chart("每日", d, t.lines[:4])
    line = next(s for s in chart.series if s.name == "出动警力")
    assert line.values == [10, 10, None, None, None, 10]  # no 30 on 7月9日
    bar = next(s for s in chart.series if s.kind == "bar" and s.name.startswith("出动警力"))
    assert bar.values == [None, None, Decimal(10), Decimal(10), Decimal(10), None]
    assert max(v for s in chart.series for v in s.values if v is not None) <= 10
    # a window ending inside the round still spreads the round (read to its end)
    inside = q.daily(city["hq"], c, c.owner, q.Window(date(2026, 7, 8), date(2026, 7, 8)))
    assert inside.spread[police] == {date(2026, 7, 8): Decimal(10)} and inside.by_day == {}
    page = login(city["hq"]).get("/stats/", {"campaign": c.pk, "start": "2026-07-05", "end": "2026-07-10"})
    option = page.context["charts"][0][1]
    counted = [s for s in option["series"] if s["name"].startswith("出动警力")]
    assert len(counted) == 2 and max(v for s in counted for v in s["data"] if v is not None) == 10
    assert "7/8" in option["xAxis"]["data"]


def test_no_round_no_bars(city, kinds):
    from boards.charts import daily_chart

    c = kinds["campaign"]
    enter(city, kinds, "33031001", police=4)
    w = q.Window(DAY, DAY + timedelta(days=1))
    d = q.daily(city["hq"], c, c.owner, w)
    assert d.rounds == [] and d.spread == {}
    chart = daily_chart("每日", d, q.totals(city["hq"], c, c.owner, w).lines[:2])
    assert all(s.kind == "line" for s in chart.series)


NEW_UNITS = st.lists(st.tuples(st.integers(0, 1000), PARTS | st.none()), max_size=6)


@runs(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grown=NEW_UNITS, days=st.lists(FIGURES, min_size=1, max_size=2))
def test_for_random_trees_every_level_ranks_the_subtree_sums(city, kinds, grown, days):
    """Units added under random parents (and rolled back after each example): at every level under the
    city, each unit's value is the sum of its subtree's figures (the rate: the ratio of the summed parts),
    and the children's values are the totals' columns."""
    c, hq = kinds["campaign"], city["hq"]
    with transaction.atomic():
        rows = _write(city, kinds, days)
        tree = sorted(city.units.values(), key=lambda u: u.path)
        for n, (parent_at, parts) in enumerate(grown):
            parent = Unit.objects.get(pk=tree[parent_at % len(tree)].pk)
            unit = Unit.objects.add_child(
                parent, instance=Unit(code=f"R{n}", name=f"随机单位{n}", kind=UnitKind.STATION)
            )
            tree.append(unit)
            if parts is not None:
                added = [
                    Figure(campaign=c, indicator=kinds[code], unit=unit, day=DAY, value=v, reported_by=hq)
                    for code, v in (("filed", parts[0] + parts[1]), ("solved", parts[1]))
                ]
                Figure.objects.bulk_create(added)
                rows += added
        w = q.Window(DAY, DAY + timedelta(days=len(days) - 1))
        top = city.units["3303"]
        deepest = max(u.depth for u in tree)
        for level in range(top.depth + 1, deepest + 1):
            for code in ("filed", "rate"):
                got = r.rank(hq, c, top, kinds[code], w, level=level)
                assert {p.unit.pk for p in got.places} == {u.pk for u in tree if u.depth == level}
                for p in got.places:
                    under = [f for f in rows if f.unit.path.startswith(p.unit.path)]
                    filed = sum(int(f.value) for f in under if f.indicator == kinds["filed"])
                    solved = sum(int(f.value) for f in under if f.indicator == kinds["solved"])
                    if code == "filed":
                        assert p.value == filed
                    else:
                        assert p.key == (Fraction(solved * 100, filed) if filed else None)
                _check_ranks(got.places, True)
        t = q.totals(hq, c, top, w)
        children = r.rank(hq, c, top, kinds["filed"], w)
        line = next(ln for ln in t.lines if ln.indicator.code == "filed")
        assert all(p.value == line.by_unit.get(p.unit.pk, 0) for p in children.places)
        transaction.set_rollback(True)
