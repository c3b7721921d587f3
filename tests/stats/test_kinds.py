"""Indicator kinds (issue 20, docs/figures.md): each kind entered and refused with the field and what is
expected; money stored in 元 exactly; a computed rate the ratio of the summed parts at every level (a
property test against an independent sum); an entered rate never summed; the direction's words and
colours; the catalogue's rules; the API's values; the XLSX export; the rollup's decimals; migrations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stats import catalogue as cat
from stats import numbers
from stats import queries as q
from stats.models import Figure, Indicator, Kind
from stats.services import StatsError, report_figures
from tasks.models import Campaign
from tests.boards.conftest import TODAY
from tests.web.pages import login

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]

DAY = date(2026, 7, 2)
STATIONS = ["33031001", "33031002", "33031003", "33032001", "330310", "330320", "3303"]


def enter(city, kinds, unit, day=DAY, **values):
    return report_figures(
        campaign=kinds["campaign"],
        unit=city.units[unit],
        day=day,
        values={kinds[k].pk: v for k, v in values.items()},
        by=city["hq"],
    )


def stored(kinds, code, unit="33031001", day=DAY):
    return Figure.objects.get(indicator=kinds[code], unit__code=unit, day=day).value


# --- entry ------------------------------------------------------------------------------------


def test_each_kind_is_entered_exactly(city, kinds):
    assert enter(city, kinds, "33031001", police=12, drugs="27.3", funds="950.5", dissuaded="72.11") == 4
    assert stored(kinds, "police") == 12
    assert stored(kinds, "drugs") == Decimal("27.3")
    assert stored(kinds, "funds") == Decimal("9505000")  # 950.5万元 in 元, exactly
    assert stored(kinds, "dissuaded") == Decimal("72.11")
    kinds["funds"].measure = "亿元"
    kinds["funds"].save()
    enter(city, kinds, "33031002", funds="14.5")
    assert stored(kinds, "funds", "33031002") == Decimal("1450000000")
    enter(city, kinds, "33031003", drugs=0.1, dissuaded="95%")  # a float from a cell: its digits, not its binary
    assert stored(kinds, "drugs", "33031003") == Decimal("0.1") and stored(kinds, "dissuaded", "33031003") == 95


@pytest.mark.parametrize(
    ("code", "value", "said"),
    [
        ("police", "27.3", "出动警力：“27.3”应为不小于0的整数"),
        ("police", "-1", "出动警力：“-1”应为不小于0的整数"),
        ("drugs", "27.3456", "缴获毒品：“27.3456”应为不小于0的数（单位克，最多3位小数"),
        ("drugs", "许多", "缴获毒品：“许多”不是数字"),
        ("funds", "950.1234567", "涉案资金：“950.1234567”应为不小于0的金额（单位万元，最多6位小数"),
        ("funds", "-5", "涉案资金：“-5”应为不小于0的金额"),
        ("dissuaded", "101", "见面劝阻率：“101”应为0至100之间的百分数"),
        ("dissuaded", "72.111", "见面劝阻率：“72.111”应为0至100之间的百分数（最多2位小数"),
        ("rate", "95", "破案率：由破获刑事案件÷刑事立案计算，不需填报"),
        ("funds", "9" * 30, "超出合理范围"),
    ],
)
def test_bad_input_names_the_field_and_what_is_expected(city, kinds, code, value, said):
    with pytest.raises(StatsError) as refused:
        enter(city, kinds, "33031001", **{code: value})
    assert said in str(refused.value)
    assert not Figure.objects.exists()


# --- totals -------------------------------------------------------------------------------------


def test_money_and_quantities_sum_exactly_and_read_as_reports_write_them(city, kinds):
    enter(city, kinds, "33031001", drugs="27.3", funds="950.5")
    enter(city, kinds, "33031002", drugs="0.05", funds="0.01")
    t = q.totals(city["hq"], kinds["campaign"], city.units["330310"], q.Window(DAY, DAY))
    line = {ln.indicator.code: ln for ln in t.lines}
    assert line["drugs"].total == Decimal("27.35") and line["drugs"].text == "27.35克"
    assert line["funds"].total == Decimal("9505100") and line["funds"].text == "950.51万元"


def test_an_entered_rate_is_shown_per_unit_never_summed(city, kinds):
    enter(city, kinds, "33031001", dissuaded="80")
    enter(city, kinds, "33031002", dissuaded="60")
    enter(city, kinds, "330310", dissuaded="72.11")
    enter(city, kinds, "330310", day=DAY + timedelta(days=1), dissuaded="75")
    w = q.Window(DAY, DAY + timedelta(days=1))
    east = q.totals(city["hq"], kinds["campaign"], city.units["330310"], w)
    line = next(ln for ln in east.lines if ln.indicator.code == "dissuaded")
    assert line.total == 75  # the sub-bureau's own, its latest day: not 80 + 60 + …, nor a mean
    assert line.by_unit[city.units["33031001"].pk] == 80 and line.by_unit[city.units["33031002"].pk] == 60
    top = q.totals(city["hq"], kinds["campaign"], city.units["3303"], w)
    line = next(ln for ln in top.lines if ln.indicator.code == "dissuaded")
    assert line.total is None and line.by_unit == {city.units["330310"].pk: 75}  # the city reported none
    assert line.text == "—"


def test_direction_chooses_the_words_and_the_colour(kinds):
    police, alerts, rate = kinds["police"], kinds["alerts"], kinds["rate"]
    assert numbers.words("同比", police, 124, 100) == "同比增长24%"
    assert numbers.tone(police, 124, 100) == "good"
    assert numbers.words("同比", alerts, 124, 100) == "同比上升24%"
    assert numbers.tone(alerts, 124, 100) == "bad" and numbers.tone(alerts, 75, 100) == "good"
    assert numbers.words("同比", alerts, 752, 1000) == "同比下降24.8%"
    assert numbers.words("同比", rate, Decimal("95"), Decimal("92.9")) == "同比上升2.1个百分点"
    assert numbers.words("环比", police, 100, 100) == "环比持平" and numbers.tone(police, 100, 100) == ""


UNIT_FIGURES = st.fixed_dictionaries(
    {code: st.tuples(st.integers(0, 40), st.integers(0, 40)) | st.none() for code in STATIONS}
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(UNIT_FIGURES, min_size=1, max_size=3))
def test_a_computed_rate_is_the_ratio_of_the_summed_parts_at_every_level(city, kinds, days):
    Figure.objects.all().delete()
    c, by = kinds["campaign"], city["hq"]
    rows = []
    for n, figures in enumerate(days):
        for code, parts in figures.items():
            if parts is None:
                continue
            filed, solved = parts[0] + parts[1], parts[1]  # solved never above filed, as reported
            for ind, value in ((kinds["filed"], filed), (kinds["solved"], solved)):
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
    Figure.objects.bulk_create(rows)  # the rollup's triggers on PostgreSQL, as any writer
    w = q.Window(DAY, DAY + timedelta(days=len(days) - 1))

    def brute(path: str) -> Fraction | None:
        filed = sum(f.value for f in rows if f.indicator == kinds["filed"] and f.unit.path.startswith(path))
        solved = sum(f.value for f in rows if f.indicator == kinds["solved"] and f.unit.path.startswith(path))
        return Fraction(int(solved) * 100, int(filed)) if filed else None

    def close(got, want) -> bool:
        return got is None if want is None else abs(Fraction(got) - want) < Fraction(1, 10**20)

    for root in ("3303", "330310", "330320"):
        unit = city.units[root]
        t = q.totals(by, c, unit, w)
        line = next(ln for ln in t.lines if ln.indicator.code == "rate")
        assert close(line.total, brute(unit.path))
        for column in t.columns:
            # 本级 (the chosen unit's column): its own figures only
            want = _own_ratio(rows, kinds, column) if column.pk == unit.pk else brute(column.path)
            assert close(line.by_unit.get(column.pk), want), (root, column.code)
        assert line.total is None or numbers.parse(line.text, line.indicator) == pytest.approx(
            line.total, abs=Decimal("0.05")
        )


def _own_ratio(rows, kinds, unit) -> Fraction | None:
    filed = sum(f.value for f in rows if f.indicator == kinds["filed"] and f.unit == unit)
    solved = sum(f.value for f in rows if f.indicator == kinds["solved"] and f.unit == unit)
    has = any(f.unit == unit and f.indicator == kinds["filed"] for f in rows)
    return Fraction(int(solved) * 100, int(filed)) if has and filed else None


def test_a_rate_is_compared_in_percentage_points(city, kinds):
    for n, code in enumerate(["33031001", "33031002"]):
        enter(city, kinds, code, filed=10, solved=9 - n)
    c = kinds["campaign"]
    c.compare_to = Campaign.objects.create(
        code="XJ25", name="去年", owner=c.owner, start=date(2025, 7, 1), end=date(2025, 10, 8), status="closed"
    )
    c.save()
    for code, name, value in (("filed", "刑事立案", 20), ("solved", "破获刑事案件", 15)):
        Figure.objects.create(
            campaign=c.compare_to,
            indicator=Indicator.objects.create(campaign=c.compare_to, code=code, name=name, measure="起"),
            unit=city.units["33031001"],
            day=date(2025, 7, 2),
            value=value,
            reported_by=city["hq"],
        )
    t = q.totals(city["hq"], c, city.units["330310"], q.Window(DAY, DAY))
    line = next(ln for ln in t.lines if ln.indicator.code == "rate")
    assert line.total == 85 and line.last_year == 75  # 17 of 20; last year 15 of 20
    assert line.yoy == "同比上升10个百分点" and line.text == "85.0%" and line.yoy_tone == "good"


# --- the catalogue ------------------------------------------------------------------------------


def test_the_catalogue_keeps_kinds_parts_and_directions(city, catalogue):
    c = catalogue["campaign"]
    saved = cat.save_indicators(
        campaign=c,
        by=city["hq"],
        rows=[
            {"name": "立案数", "measure": "起"},
            {"name": "破案数", "measure": "起"},
            {"name": "破案率", "kind": "比率", "numerator": "破案数", "denominator": "立案数"},
            {"name": "涉案资金", "measure": "万元", "kind": "金额"},
            {"name": "刑事警情", "measure": "起", "up_is_good": "否"},
        ],
    )
    rate = Indicator.objects.get(campaign=c, name="破案率")
    assert (
        rate.computed and rate.measure == "%" and (rate.numerator.name, rate.denominator.name) == ("破案数", "立案数")
    )
    assert Indicator.objects.get(campaign=c, name="刑事警情").up_is_good is False
    assert len(saved) == 5
    with pytest.raises(cat.CatalogueProblems) as refused:
        cat.save_indicators(
            campaign=c,
            by=city["hq"],
            rows=[
                {"name": "办结率", "kind": "rate", "numerator": "破案数"},
                {"name": "资金", "measure": "美元", "kind": "money"},
                {"name": "比率之比", "kind": "rate", "numerator": "破案率", "denominator": "立案数"},
                {"name": "怪", "kind": "几何"},
                {"name": "有分子", "measure": "起", "numerator": "破案数", "denominator": "立案数"},
            ],
        )
    got = [(p.row, p.field, p.message) for p in refused.value.problems]
    assert (0, "denominator", "比率由分子÷分母计算：两者都要填写；都不填则由各单位直接填报") in got
    assert (1, "measure", "金额的计量单位应为元、万元、亿元") in got
    assert (2, "numerator", "“破案率”是比率：分子、分母应为计数、计量或金额") in got
    assert (3, "kind", "“几何”应为数量、计量、金额或比率") in got
    assert (4, "numerator", "只有比率指标有分子、分母") in got


def test_a_kind_changes_once_reported_only_where_the_figures_fit(city, kinds):
    enter(city, kinds, "33031001", drugs="27.3", police=5)
    with pytest.raises(cat.CatalogueProblems) as refused:
        cat.save_indicators(
            campaign=kinds["campaign"],
            by=city["hq"],
            rows=[{"id": kinds["drugs"].pk, "kind": "count"}, {"id": kinds["police"].pk, "kind": "rate"}],
        )
    assert [(p.row, p.field) for p in refused.value.problems] == [(0, "kind"), (1, "kind")]
    cat.save_indicators(
        campaign=kinds["campaign"], by=city["hq"], rows=[{"id": kinds["police"].pk, "kind": "quantity"}]
    )
    assert Indicator.objects.get(pk=kinds["police"].pk).kind == Kind.QUANTITY


# --- the API, the export, the rollup ------------------------------------------------------------


def test_the_api_takes_decimals_and_answers_exact_strings(city, kinds):
    api = login(city["hq"])
    c = kinds["campaign"]
    sent = api.post(
        "/api/v1/stats/figures/",
        {
            "campaign": c.pk,
            "unit": "33031001",
            "day": "2026-07-02",
            "values": {"police": 12, "drugs": 27.3, "funds": "950.5"},
        },
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.content
    bad = api.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33031001", "day": "2026-07-02", "values": {"police": "1.5"}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "出动警力" in bad.json()["detail"] and "整数" in bad.json()["detail"]
    got = api.get(f"/api/v1/stats/totals/?campaign={c.pk}&unit=330310&start=2026-07-02&end=2026-07-02").json()
    lines = {ln["indicator"]["code"]: ln for ln in got["lines"]}
    assert lines["police"]["total"] == 12  # a count stays an integer
    assert lines["drugs"]["total"] == "27.3" and lines["drugs"]["text"] == "27.3克"
    assert lines["funds"]["total"] == "9505000.00" and lines["funds"]["text"] == "950.5万元"
    assert lines["funds"]["indicator"]["kind"] == "money" and lines["alerts"]["indicator"]["up_is_good"] is False
    assert lines["rate"]["total"] is None  # nothing filed: no rate
    catalogue = api.get(f"/api/v1/stats/catalogue/?campaign={c.pk}").json()
    reported = {i["code"]: i["reported"] for i in catalogue["indicators"]}
    assert reported["rate"] is False and reported["drugs"] is True


def test_the_xlsx_export_writes_each_kind_in_its_unit(city, kinds):
    from boards.exports import build_stats

    enter(city, kinds, "33031001", police=12, drugs="27.3", funds="950.5", filed=4, solved=3)
    _name, data = build_stats(
        city["hq"],
        {"campaign": kinds["campaign"].pk, "unit": "330310", "start": "2026-07-02", "end": "2026-07-02"},
        lambda n: None,
    )
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(data))["战果统计"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=4) if r[0].value}
    assert rows["涉案资金"][1].value == "万元" and rows["涉案资金"][2].value == pytest.approx(950.5)
    assert rows["缴获毒品"][2].value == pytest.approx(27.3) and rows["缴获毒品"][2].number_format == "#,##0.0##"
    assert rows["破案率"][2].value == 75 and rows["破案率"][2].number_format == "0.0"
    assert rows["出动警力"][2].value == 12 and rows["出动警力"][2].number_format == "#,##0"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is PostgreSQL's")
def test_the_rollup_sums_decimals_exactly(city, kinds):
    enter(city, kinds, "33031001", drugs="27.3", funds="0.01")
    enter(city, kinds, "33031002", drugs="0.001", funds="950.5")
    enter(city, kinds, "33031002", drugs="0.002")  # a correction: the update trigger
    with connection.cursor() as cursor:
        cursor.execute("SELECT indicator_id, total FROM stats_rollup WHERE ancestor_id = %s", [city.units["330310"].pk])
        got = dict(cursor.fetchall())
    assert got[kinds["drugs"].pk] == Decimal("27.302") and got[kinds["funds"].pk] == Decimal("9505100")


def test_the_bulletin_writes_each_kind_as_reports_do(city, kinds):
    from boards import bulletin

    enter(city, kinds, "33031001", police=11_000, drugs="27.3", funds="950.5", filed=4, solved=3, alerts=5)
    c = kinds["campaign"]
    week = bulletin.week_of(c, DAY)
    results = bulletin.bulletin_context(city["hq"], c, c.owner, week, issued=TODAY)["results"]
    for said in ("出动警力1.1万人次", "缴获毒品27.3克", "涉案资金950.5万元", "破案率75.0%", "治安警情5起"):
        assert said in results, results
    assert "见面劝阻率" not in results  # an entered rate nobody entered for the city itself: left out
