"""HQ's summary sheet (代填汇总表, issue 17 item 5): a row per unit, a column per indicator, for one day or
round. Downloaded blank with the units HQ may enter for, filled, uploaded: every figure written at once and
flagged as HQ's, or every problem located and nothing written; the totals and the unit's report page say
how much was entered by HQ; the report page's unit is typed into a datalist."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from accounts.models import Role, Unit, UnitKind
from audit.models import AuditEvent
from stats.models import Figure
from stats.summary import import_summary
from tests.conftest import make_user
from tests.web.pages import login, text
from utilities.tables import FileProblems

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]

DAY = date(2026, 7, 2)
RECENT = date(2026, 8, 20)  # among the report page's recent days
HEADER = ("单位代码", "单位", "出动警力（人次）", "检查场所（家次）")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def summary(tmp_path, rows, header=HEADER, name="汇总.xlsx", above=("战果统计汇总表", "统计日期：2026年7月2日")):
    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    for line in above:
        ws.append([line])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    path = tmp_path / name
    book.save(path)
    return path


def got() -> dict[tuple[str, str], tuple[int, bool]]:
    rows = Figure.objects.values_list("unit__code", "indicator__code", "value", "on_behalf")
    return {(u, i): (v, b) for u, i, v, b in rows}


def test_round_trip_blank_sheet_filled_and_uploaded(city, catalogue):
    c = catalogue["campaign"]
    hq = login(city["hq"])
    blank = hq.get(f"/stats/summary/sheet/?campaign={c.pk}&day={DAY}")
    assert blank.status_code == 200 and blank["Content-Type"] == XLSX
    ws = load_workbook(BytesIO(blank.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "统计日期：2026年7月2日"
    assert rows[2] == HEADER
    # every unit HQ may enter for, in tree order, by code and name, the figures blank
    tree = list(Unit.objects.order_by("path").values_list("code", "name"))
    assert [(r[0], r[1]) for r in rows[3:]] == tree and all(v is None for r in rows[3:] for v in r[2:])
    at = {r[0]: n for n, r in enumerate(rows, start=1)}
    ws.cell(at["33031001"], 3, 40)
    ws.cell(at["33031001"], 4, 12)
    ws.cell(at["33032001"], 3, 7)
    ws.cell(at["330310"], 1, None)  # named by its name alone
    ws.cell(at["330310"], 4, 3)
    filled = BytesIO()
    ws.parent.save(filled)
    upload = SimpleUploadedFile("汇总0702.xlsx", filled.getvalue(), XLSX)
    loaded = hq.post("/stats/summary/", {"campaign": c.pk, "day": DAY.isoformat(), "file": upload})
    assert loaded.status_code == 302, text(loaded)
    assert got() == {
        ("33031001", "police"): (40, True),
        ("33031001", "places"): (12, True),
        ("33032001", "police"): (7, True),
        ("330310", "places"): (3, True),
    }
    assert set(Figure.objects.values_list("day", flat=True)) == {DAY}
    events = AuditEvent.objects.filter(verb="figure.report")
    assert events.count() == 4 and {e.source.split()[0] for e in events} == {"汇总0702.xlsx"}
    assert all(e.actor == city["hq"] and e.changes["on_behalf"] is True for e in events)
    # the same sheet again changes nothing; a unit's lead correcting its figure makes it its own
    upload.seek(0)
    again = hq.post("/stats/summary/", {"campaign": c.pk, "day": DAY.isoformat(), "file": upload})
    assert again.status_code == 302 and AuditEvent.objects.filter(verb="figure.report").count() == 4


def test_a_round_is_one_column_of_totals_dated_its_last_day(city, catalogue, tmp_path):
    c = catalogue["campaign"]
    path = summary(tmp_path, [("33031001", "", 90, 30)], above=("统计日期：第一轮（7月7日至9日）",))
    assert import_summary(path=path, campaign=c, day=date(2026, 7, 9), by=city["hq"]) == 2
    assert set(Figure.objects.values_list("day", flat=True)) == {date(2026, 7, 9)}
    hq = login(city["hq"])
    page = hq.get(f"/stats/summary/?campaign={c.pk}&day=2026-07-08")  # a day of the round: the round
    assert page.status_code == 200 and 'name="day" value="2026-07-09"' in text(page)


def test_a_broken_sheet_says_where_suggests_names_and_writes_nothing(city, catalogue, tmp_path):
    path = summary(
        tmp_path,
        [
            ("33031001", "城关派出所", 10, 2),  # right
            (None, "城关所", 5, 1),  # a name nearly right
            ("3303100", None, 1, 1),  # a code with a digit missing
            ("33031002", None, -3, "十二"),
            ("33031001", None, 1, None),  # twice
            (None, None, 4, 4),  # no unit
            ("合计", "合计", 20, 8),  # the office's totals row: skipped
        ],
        above=("统计日期：2026年7月3日",),
    )
    with pytest.raises(FileProblems) as caught:
        import_summary(path=path, campaign=catalogue["campaign"], day=DAY, by=city["hq"])
    found = [(p.location.row, p.location.as_dict()["column"], p.text, p.message) for p in caught.value.problems]
    assert [f[:3] for f in found] == [
        (1, "A", "统计日期：2026年7月3日"),
        (4, "B", "城关所"),
        (5, "A", "3303100"),
        (6, "C", "-3"),
        (6, "D", "十二"),
        (7, "A", "33031001"),
        (8, "A", ""),
    ]
    messages = [f[3] for f in found]
    assert "2026年7月3日" in messages[0] and "2026年7月2日" in messages[0]
    assert "“城关派出所”" in messages[1]  # the closest name suggested
    assert "“33031001”" in messages[2]  # the closest code
    assert "不小于0" in messages[3] and "不是数字" in messages[4]
    assert "“城关派出所”与第3行重复" in messages[5]
    assert "缺少单位" in messages[6]
    assert not Figure.objects.exists() and not AuditEvent.objects.filter(verb="figure.report").exists()
    # the page lists them, each with the cell's text
    hq = login(city["hq"])
    with path.open("rb") as fh:
        page = hq.post("/stats/summary/", {"campaign": catalogue["campaign"].pk, "day": DAY.isoformat(), "file": fh})
    assert page.status_code == 400
    assert text(page).count('<code class="cell">') == 6 and "城关所" in text(page)
    assert not Figure.objects.exists()


def test_units_out_of_scope_are_refused_by_name(city, catalogue, tmp_path):
    west_hq = make_user("west_hq", city.units["330320"], (Role.HQ, city.units["330320"]), name="西指")
    path = summary(tmp_path, [("33032001", "", 3, 3), ("33031001", "", 1, 1), (None, "东湖派出所", 2, 2)])
    with pytest.raises(FileProblems) as caught:
        import_summary(path=path, campaign=catalogue["campaign"], day=DAY, by=west_hq)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 2
    # refused as the sheet names them, in the words of a unit that does not exist (existence not confirmed)
    assert "第5行 A列（单位代码）" in messages[0] and "单位代码“33031001”不是您可以代填的单位" in messages[0]
    assert "城关派出所" not in messages[0]
    assert "单位“东湖派出所”不是您可以代填的单位（不存在或不在您的职责范围内）" in messages[1]
    assert not Figure.objects.exists()
    # the blank sheet lists only its own units; the API answers the problems located
    blank = login(west_hq).get(f"/stats/summary/sheet/?campaign={catalogue['campaign'].pk}&day={DAY}")
    codes = [r[0] for r in list(load_workbook(BytesIO(blank.content)).active.iter_rows(values_only=True))[3:]]
    assert codes == ["330320", "33032001"]
    with path.open("rb") as fh:
        api = login(west_hq).post(
            "/api/v1/stats/figures/summary/", {"campaign": catalogue["campaign"].pk, "day": "2026-07-02", "file": fh}
        )
    assert api.status_code == 400
    problems = api.json()["problems"]
    assert [(p["row"], p["column"], p["text"]) for p in problems] == [(5, "A", "33031001"), (6, "B", "东湖派出所")]
    assert not Figure.objects.exists()


def test_odd_cells_formulas_unicode_digits_huge_numbers(city, catalogue, tmp_path):
    csv = tmp_path / "汇总.csv"
    rows = [
        "单位代码,单位,出动警力（人次）,检查场所（家次）",
        "33031001,,１２,٣",  # full-width and Arabic-Indic digits are digits
        "33031002,,=SUM(C2:C3),²",  # a formula's text, a superscript
        "33031003,,99999999999999999999," + "9" * 5000,  # beyond any day's figure; beyond int()'s digits
        '330310,,"1,234",1e3',
    ]
    csv.write_text("\n".join(rows), encoding="utf-8")
    with pytest.raises(FileProblems) as caught:
        import_summary(path=csv, campaign=catalogue["campaign"], day=DAY, by=city["hq"])
    found = [(p.location.row, p.location.as_dict()["column"], p.message) for p in caught.value.problems]
    assert [f[:2] for f in found] == [(3, "C"), (3, "D"), (4, "C"), (4, "D"), (5, "D")]
    assert "不是数字" in found[0][2] and "=SUM(C2:C3)" in found[0][2] and "不是数字" in found[1][2]
    assert "超出合理范围" in found[2][2] and "超出合理范围" in found[3][2] and len(found[3][2]) < 60
    csv.write_text("\n".join([*rows[:2], '330310,,"1,234",']), encoding="utf-8")
    assert import_summary(path=csv, campaign=catalogue["campaign"], day=DAY, by=city["hq"]) == 3
    assert got() == {
        ("33031001", "police"): (12, True),
        ("33031001", "places"): (3, True),
        ("330310", "police"): (1234, True),
    }


def _stations(city, n: int) -> list[Unit]:
    parent = city.units["330320"]
    out = []
    for k in range(n):
        parent.refresh_from_db()
        out.append(
            Unit.objects.add_child(
                parent, instance=Unit(code=f"3303209{k:02d}", name=f"测试所{k}", kind=UnitKind.STATION)
            )
        )
    return out


def test_the_query_count_does_not_grow_with_the_units(city, catalogue, tmp_path):
    stations = _stations(city, 50)
    warm = summary(tmp_path, [(stations[0].code, "", 1, 1)], above=(), name="warm.xlsx")  # the content types cached
    import_summary(path=warm, campaign=catalogue["campaign"], day=date(2026, 7, 1), by=city["hq"])
    counts = []
    for n, day in ((5, date(2026, 7, 2)), (50, date(2026, 7, 3))):
        path = summary(
            tmp_path, [(u.code, "", k, k + 1) for k, u in enumerate(stations[:n])], above=(), name=f"{n}.xlsx"
        )
        hq = make_user(f"hq{n}", city.units["3303"], (Role.HQ, city.units["3303"]))  # nothing cached
        with CaptureQueriesContext(connection) as ctx:
            assert import_summary(path=path, campaign=catalogue["campaign"], day=day, by=hq) == 2 * n
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    assert Figure.objects.filter(on_behalf=True).count() == 112


def test_only_hq_fills_a_summary(city, catalogue, tmp_path):
    c = catalogue["campaign"]
    path = summary(tmp_path, [("33031001", "", 1, 1), ("33031002", "", 1, 1)])
    for who in ("station_lead", "east_lead", "inspector", "east_leader"):
        client = login(city[who])
        assert client.get(f"/stats/summary/?campaign={c.pk}").status_code == 403
        assert client.get(f"/stats/summary/sheet/?campaign={c.pk}").status_code == 403
        with path.open("rb") as fh:
            api = client.post("/api/v1/stats/figures/summary/", {"campaign": c.pk, "day": "2026-07-02", "file": fh})
        assert api.status_code == 403, who
        with path.open("rb") as fh:
            page = client.post("/stats/summary/", {"campaign": c.pk, "day": "2026-07-02", "file": fh})
        assert page.status_code == 403
        with pytest.raises(PermissionDenied):
            import_summary(path=path, campaign=c, day=DAY, by=city[who])
    assert not Figure.objects.exists()
    with path.open("rb") as fh:
        ok = login(city["hq"]).post(
            "/api/v1/stats/figures/summary/", {"campaign": c.pk, "day": "2026-07-02", "file": fh}
        )
    assert ok.status_code == 201 and ok.json() == {"changed": 4}


@pytest.mark.parametrize("fast", [True, False])
def test_totals_and_the_report_page_mark_what_hq_entered(city, catalogue, tmp_path, settings, fast):
    settings.DB_FAST_PATHS = fast
    c = catalogue["campaign"]
    path = summary(tmp_path, [("33031001", "", 40, 12), ("33032001", "", 7, None)], above=())
    import_summary(path=path, campaign=c, day=RECENT, by=city["hq"])
    lead = login(city["station_lead"])
    assert (
        lead.post(
            "/stats/report/",
            {"campaign": c.pk, "unit": "33031002", "day": RECENT.isoformat(), f"v{catalogue['police'].pk}": "5"},
        ).status_code
        == 400
    )  # not its unit: nothing written
    east = login(city["east_lead"])
    assert (
        east.post(
            "/stats/report/",
            {"campaign": c.pk, "unit": "33031002", "day": RECENT.isoformat(), f"v{catalogue['police'].pk}": "5"},
        ).status_code
        == 302
    )  # the sub-bureau's lead: its own figure
    hq = login(city["hq"])
    totals = hq.get(f"/api/v1/stats/totals/?campaign={c.pk}&unit=3303&start={RECENT}&end={RECENT}").json()
    lines = {ln["indicator"]["code"]: ln for ln in totals["lines"]}
    east_pk, west_pk = str(city.units["330310"].pk), str(city.units["330320"].pk)
    assert (lines["police"]["total"], lines["police"]["on_behalf"]) == (52, 2)
    assert lines["police"]["on_behalf_by_unit"] == {east_pk: 1, west_pk: 1}
    assert (lines["places"]["total"], lines["places"]["on_behalf"]) == (12, 1)
    page = hq.get(f"/stats/?campaign={c.pk}&unit=3303&start={RECENT}&end={RECENT}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = text(page)
    assert page.status_code == 200 and "含代填2项" in html and "含代填1项" in html
    row = html.split('data-indicator="police"')[1].split("</tr>")[0]
    assert row.count('class="badge blue on-behalf"') == 3  # the total, east's column, west's column
    # the unit's report page marks the day in its picker, and the figures
    report = hq.get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={RECENT}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "2026-08-20（含代填）" in text(report) and "2026-08-19（含代填）" not in text(report)
    own = hq.get(f"/stats/report/?campaign={c.pk}&unit=33031002&day={RECENT}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "含代填" not in text(own)


def test_the_report_page_types_the_unit_into_a_datalist(city, catalogue):
    c = catalogue["campaign"]
    hq = login(city["hq"])
    page = hq.get(f"/stats/report/?campaign={c.pk}&unit=33031001", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = text(page)
    assert page.status_code == 200 and 'list="unit-options"' in html and '<select name="unit"' not in html
    options = html.split('<datalist id="unit-options">')[1].split("</datalist>")[0]
    assert options.count("<option") == Unit.objects.count()
    assert '<option value="33031001">城关派出所</option>' in options
    (picker,) = re.findall(r'<input[^>]*list="unit-options"[^>]*>', html)
    assert 'name="unit"' in picker and 'value="33031001"' in picker
    typed = hq.get(f"/stats/report/?campaign={c.pk}&unit=33031002%20东湖派出所")  # an option typed out
    assert typed.status_code == 200 and "东湖派出所" in text(typed).split("<h1>")[1].split("</h1>")[0]
    west_hq = make_user("west_hq", city.units["330320"], (Role.HQ, city.units["330320"]))
    for odd in ("33031001", "²", "99999999999999999999999", "nope"):
        refused = login(west_hq).get(f"/stats/report/?campaign={c.pk}&unit={odd}", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert refused.status_code == 400 and 'id="figures"' not in text(refused)
        assert "不是您可以填报战果的单位" in text(refused), odd
    posted = login(west_hq).post(
        "/stats/report/",
        {"campaign": c.pk, "unit": "33031001", "day": DAY.isoformat(), f"v{catalogue['police'].pk}": "5"},
    )
    assert posted.status_code == 400 and not Figure.objects.exists()
