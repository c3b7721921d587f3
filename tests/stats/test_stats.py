"""Results statistics (战果统计): reporting by day and by round, the sheet upload with every problem
located, totals rolled up the tree against a brute-force sum, 同比 and 环比 as reports word them,
non-reporters, the scope of a leader, constant queries, and the pages."""

from __future__ import annotations

import time
from datetime import date
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from accounts.models import Unit
from audit.models import AuditEvent
from stats import queries as q
from stats.models import Figure, Indicator
from stats.services import StatsError, import_sheet, report_figures
from stats.sheets import unit_sheet
from tasks.models import Campaign, CampaignStatus
from tests.boards.conftest import TODAY
from tests.web.pages import login, text
from tests.zipbombs import sheet_bomb
from utilities.tables import FileProblems

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]


def report(city, who, unit, day, **values):
    c = Campaign.objects.get(code="XJ")
    ids = {i.code: i.pk for i in c.indicators.all()}
    return report_figures(
        campaign=c, unit=city.units[unit], day=day, values={ids[k]: v for k, v in values.items()}, by=city[who]
    )


def test_a_lead_reports_a_day_and_a_correction_keeps_the_history(city, catalogue):
    assert report(city, "station_lead", "33031001", date(2026, 7, 2), police=12, places=3) == 2
    assert report(city, "station_lead", "33031001", date(2026, 7, 2), police=15, places=3) == 1  # only the change
    f = Figure.objects.get(unit__code="33031001", indicator__code="police", day=date(2026, 7, 2))
    assert f.value == 15 and f.campaign == catalogue["campaign"]
    history = AuditEvent.objects.filter(verb="figure.report", object_id=f.pk).order_by("at", "id")
    assert [e.changes["value"] for e in history] == [[None, 12], [12, 15]]
    assert {e.actor for e in history} == {city["station_lead"]}


def test_a_figure_sent_reads_the_catalogue_once_and_nothing_back(city, catalogue):
    """The API's figure: the indicators read once (their codes and their checks), the upserted rows'
    ids taken from the upsert (RETURNING) for the history, not read back."""
    api = login(city["station_lead"])
    c = catalogue["campaign"]
    body = {"campaign": c.pk, "unit": "33031001", "day": "2026-07-02", "values": {"police": 3}}
    assert api.post("/api/v1/stats/figures/", body, content_type="application/json").status_code == 201
    body["values"] = {"police": 4, "places": 2}
    with CaptureQueriesContext(connection) as ctx:
        sent = api.post("/api/v1/stats/figures/", body, content_type="application/json")
    assert sent.status_code == 201 and sent.json() == {"changed": 2}
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len([s for s in sql if 'FROM "stats_indicator"' in s]) == 1
    figure_reads = [s for s in sql if s.lstrip().startswith('SELECT "stats_figure"')]
    assert len(figure_reads) == 1  # the lock (SQLite: the read before the write), never a read back
    assert "FOR UPDATE" in figure_reads[0] or connection.vendor != "postgresql"
    police = Figure.objects.get(unit__code="33031001", indicator__code="police", day=date(2026, 7, 2))
    places = Figure.objects.get(unit__code="33031001", indicator__code="places", day=date(2026, 7, 2))
    history = AuditEvent.objects.filter(verb="figure.report").order_by("id")
    assert [(e.object_id, e.changes["value"]) for e in history] == [
        (police.pk, [None, 3]),
        (police.pk, [3, 4]),
        (places.pk, [None, 2]),
    ]


@pytest.mark.parametrize(
    ("who", "unit", "day", "values", "error"),
    [
        ("station_lead", "33031001", date(2026, 7, 8), {"police": 1}, "按轮次汇总上报，日期应为2026年7月9日"),
        ("station_lead", "33031001", date(2026, 6, 30), {"police": 1}, "不在行动期间"),
        ("station_lead", "33031001", date(2026, 9, 2), {"police": 1}, "尚未到来"),
        ("station_lead", "33031001", date(2026, 7, 2), {"police": -1}, "不小于0的整数"),
        ("station_lead", "33031001", date(2026, 7, 2), {"police": "十二"}, "不是数字"),
    ],
)
def test_wrong_figures_are_refused_with_the_reason(city, catalogue, who, unit, day, values, error):
    with pytest.raises(StatsError, match=error):
        report(city, who, unit, day, **values)
    assert not Figure.objects.exists()


def test_only_a_lead_of_the_unit_or_hq_over_it_reports(city, catalogue):
    for who, unit in (("west_lead", "33031001"), ("east_leader", "330310"), ("inspector", "3303")):
        with pytest.raises(PermissionDenied):
            report(city, who, unit, date(2026, 7, 2), police=1)
    assert report(city, "east_lead", "33031001", date(2026, 7, 2), police=1) == 1  # its subtree
    assert report(city, "hq", "33031001", date(2026, 7, 2), police=2) == 1  # on the unit's behalf (代填)
    assert not Figure.objects.exclude(unit__code="33031001").exists()


def test_a_draft_campaign_takes_no_figures(city, catalogue):
    Campaign.objects.filter(code="XJ").update(status=CampaignStatus.DRAFT)
    with pytest.raises(StatsError, match="尚未发布"):
        report(city, "station_lead", "33031001", date(2026, 7, 2), police=1)


# --- the sheet -----------------------------------------------------------------------------------


def sheet(tmp_path, rows, header=("日期", "出动警力（人次）", "检查场所（家次）"), name="城关.xlsx"):
    book = Workbook()
    ws = book.active
    ws.title = "战果"
    ws.append(["城关派出所战果统计表"])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    path = tmp_path / name
    book.save(path)
    return path


def test_a_sheet_loads_days_and_rounds(city, catalogue, tmp_path):
    path = sheet(
        tmp_path,
        [
            ("2026-07-01", 10, 2),
            ("7月2日", 11, None),
            (date(2026, 7, 3), 0, 1),
            ("第一轮集中统一行动（7月7日至9日）", 90, 30),
            ("合计", 111, 33),
        ],
    )
    changed = import_sheet(
        path=path, campaign=catalogue["campaign"], unit=city.units["33031001"], by=city["station_lead"]
    )
    got = {(f.indicator.code, f.day): f.value for f in Figure.objects.select_related("indicator")}
    assert changed == 7 == len(got)
    assert got[("police", date(2026, 7, 9))] == 90 and got[("places", date(2026, 7, 3))] == 1
    assert ("places", date(2026, 7, 2)) not in got  # a blank is not a zero
    assert AuditEvent.objects.filter(verb="figure.report", source="城关.xlsx").count() == 7


def test_a_sheet_with_problems_writes_nothing_and_says_where(city, catalogue, tmp_path):
    path = sheet(
        tmp_path,
        [
            ("2026-07-01", 10, 2),
            ("2026-07-08", 5, 1),
            ("明天", 1, 1),
            ("2026-07-02", -3, "x"),
            ("2026-07-01", 1, 1),
            (None, 4, 4),
        ],
    )
    with pytest.raises(FileProblems) as caught:
        import_sheet(path=path, campaign=catalogue["campaign"], unit=city.units["33031001"], by=city["station_lead"])
    where = [(p.location.row, p.location.as_dict()["column"], p.location.label) for p in caught.value.problems]
    assert where == [
        (4, "A", "日期"),
        (5, "A", "日期"),
        (6, "B", "出动警力（人次）"),
        (6, "C", "检查场所（家次）"),
        (7, "A", "日期"),
        (8, "A", "日期"),
    ]
    messages = [str(p) for p in caught.value.problems]
    assert "城关.xlsx 工作表“战果” 第4行 A列（日期）" in messages[0] and "日期应为2026年7月9日" in messages[0]
    assert "与第3行重复" in messages[4]
    assert not Figure.objects.exists() and not AuditEvent.objects.filter(verb="figure.report").exists()


def test_a_sheet_reports_every_bad_cell_even_in_a_row_whose_day_is_wrong(city, catalogue, tmp_path):
    path = sheet(
        tmp_path,
        [
            ("明天", "x", -1),
            ("2026-07-08", "many", 2),
            ("2026-07-02", 3, "y"),
            ("2026-07-02", "z", 4),
            ("2026-09-30", 1.5, 1),
        ],
    )
    with pytest.raises(FileProblems) as caught:
        import_sheet(path=path, campaign=catalogue["campaign"], unit=city.units["33031001"], by=city["station_lead"])
    assert [(p.location.row, p.location.as_dict()["column"], p.message) for p in caught.value.problems] == [
        (3, "A", "“明天”不是日期：应写2026-07-07、7月7日或轮次名称"),
        (3, "B", "“x”不是数字：应为不小于0的整数"),
        (3, "C", "“-1”应为不小于0的整数"),
        (4, "A", "第一轮（7月7日至9日）按轮次汇总上报，日期应为2026年7月9日"),
        (4, "B", "“many”不是数字：应为不小于0的整数"),
        (5, "C", "“y”不是数字：应为不小于0的整数"),
        (6, "A", "2026年7月2日与第5行重复"),
        (6, "B", "“z”不是数字：应为不小于0的整数"),
        (7, "A", "2026年9月30日尚未到来，不能预报战果"),
        (7, "B", "“1.5”应为不小于0的整数"),
    ]
    assert not Figure.objects.exists()


def test_a_sheet_without_the_header_is_refused(city, catalogue, tmp_path):
    path = sheet(tmp_path, [("2026-07-01", 1)], header=("时间段", "数量"))
    with pytest.raises(FileProblems, match="找不到战果统计表的表头"):
        import_sheet(path=path, campaign=catalogue["campaign"], unit=city.units["33031001"], by=city["station_lead"])


def test_the_downloaded_sheet_loads_back(city, catalogue, tmp_path):
    report(city, "station_lead", "33031001", date(2026, 7, 2), police=12)
    body = unit_sheet(catalogue["campaign"], city.units["33031001"], until=TODAY)
    path = tmp_path / "back.xlsx"
    path.write_bytes(body)
    ws = load_workbook(path).active
    assert ws["A1"].value == "城关派出所战果统计表" and "A1:C1" in {str(r) for r in ws.merged_cells.ranges}
    labels = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1)]
    assert "第一轮（7月7日至9日）" in labels and "2026-07-08" not in labels and labels[0] == "2026-07-01"
    assert ws.cell(5, 2).value == 12  # its figures so far
    ws.cell(4, 2, 20)
    load = tmp_path / "filled.xlsx"
    ws.parent.save(load)
    assert (
        import_sheet(path=load, campaign=catalogue["campaign"], unit=city.units["33031001"], by=city["station_lead"])
        == 1
    )


def test_the_sheet_writes_names_that_read_as_formulas_as_text(city, catalogue, tmp_path):
    Unit.objects.filter(code="33031001").update(name='=HYPERLINK("http://x","y")')
    Indicator.objects.filter(code="police").update(name="@SUM(A1:A9)")
    ws = load_workbook(
        BytesIO(unit_sheet(catalogue["campaign"], Unit.objects.get(code="33031001"), until=TODAY))
    ).active
    title, header = ws["A1"], ws["B3"]
    assert (title.value, title.data_type, title.quotePrefix) == ('=HYPERLINK("http://x","y")战果统计表', "s", True)
    assert (header.value, header.data_type, header.quotePrefix) == ("@SUM(A1:A9)（人次）", "s", True)


# --- totals --------------------------------------------------------------------------------------


def brute(campaign, root: Unit, start, end, user_units=None) -> dict[tuple[str, str], int]:
    """(indicator code, column code) → sum, from the rows and the tree."""
    out: dict[tuple[str, str], int] = {}
    for f in Figure.objects.filter(campaign=campaign).select_related("unit", "indicator"):
        if not (f.unit.path.startswith(root.path) and start <= f.day <= end):
            continue
        if user_units is not None and f.unit.code not in user_units:
            continue
        column = f.unit if f.unit.path == root.path else Unit.objects.get(path=f.unit.path[: len(root.path) + 4])
        key = (f.indicator.code, column.code)
        out[key] = out.get(key, 0) + f.value
    return out


def test_totals_roll_up_the_tree_with_yoy_and_mom(city, reported):
    w = q.Window(date(2026, 7, 11), date(2026, 7, 20))
    for root in (city.units["3303"], city.units["330310"]):
        t = q.totals(city["hq"], reported, root, w)
        got = {(ln.indicator.code, u.code): ln.by_unit[u.pk] for ln in t.lines for u in t.columns if u.pk in ln.by_unit}
        assert got == brute(reported, root, w.start, w.end)
        for ln in t.lines:
            assert ln.total == sum(ln.by_unit.values())
            year_ago = brute(reported.compare_to, root, date(2025, 7, 11), date(2025, 7, 20))
            assert ln.last_year == sum(v for (code, _), v in year_ago.items() if code == ln.indicator.code)
            before = brute(reported, root, date(2026, 7, 1), date(2026, 7, 10))
            assert ln.previous == sum(v for (code, _), v in before.items() if code == ln.indicator.code)
            pct = round((ln.total - ln.last_year) * 100 / ln.last_year, 1)
            assert ln.yoy == f"同比增长{pct:g}%"  # a count that should rise 增长 (issue 20; 警情 上升)
    east = q.totals(city["hq"], reported, city.units["330310"], w)
    assert [u.code for u in east.columns] == ["330310", "33031001", "33031002", "33031003"]  # 本级 first


def test_a_round_compares_with_the_round_before(city, reported, catalogue):
    w = q.window(reported, round=catalogue["second"])
    t = q.totals(city["hq"], reported, city.units["3303"], w)
    assert q.previous_window(reported, w) == q.Window(date(2026, 7, 7), date(2026, 7, 9), catalogue["first"])
    first = brute(reported, city.units["3303"], date(2026, 7, 7), date(2026, 7, 9))
    assert t.lines[0].previous == sum(v for (code, _), v in first.items() if code == "police")
    assert q.previous_window(reported, q.window(reported, round=catalogue["first"])) is None


def test_without_a_compared_campaign_yoy_reads_the_same_dates_a_year_before(city, reported):
    reported.compare_to = None
    reported.save()
    t = q.totals(city["hq"], reported, city.units["3303"], q.Window(date(2026, 7, 1), date(2026, 7, 5)))
    assert t.compared_with is None and t.last_year_window == q.Window(date(2025, 7, 1), date(2025, 7, 5))
    assert t.lines[0].last_year == 5 * (1 + 2 + 3 + 4)  # five days of four units reporting n each


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [
        (124, 100, "同比增长24%"),
        (69, 100, "同比下降31%"),
        (1000, 800, "同比增长25%"),
        (100, 100, "同比持平"),
        (5, 0, ""),
        (5, None, ""),
        (752, 1000, "同比下降24.8%"),
    ],
)
def test_the_words_of_a_comparison(now, before, words):
    assert q.words("同比", now, before) == words


def test_a_leader_sees_only_its_subtree(city, reported):
    w = q.Window(date(2026, 7, 1), date(2026, 8, 9))
    t = q.totals(city["east_leader"], reported, city.units["330310"], w)
    east = {"330310", "33031001", "33031002", "33031003"}
    assert {
        (ln.indicator.code, u.code): ln.by_unit[u.pk] for ln in t.lines for u in t.columns if u.pk in ln.by_unit
    } == brute(reported, city.units["330310"], w.start, w.end, east)
    client = login(city["east_leader"])
    assert client.get("/api/v1/stats/totals/?unit=3303").status_code == 404
    assert client.get("/api/v1/stats/totals/?unit=330320").status_code == 404
    api = client.get("/api/v1/stats/totals/?unit=330310&start=2026-07-01&end=2026-08-09").json()
    assert api["lines"][0]["total"] == t.lines[0].total


def test_non_reporters_are_the_units_with_work_and_no_figure(city, reported):
    expected = set(q.reporting_units(city["hq"], reported, city.units["3303"]).values_list("code", flat=True))
    missing = set(
        q.non_reporters(city["hq"], reported, city.units["3303"], date(2026, 7, 5)).values_list("code", flat=True)
    )
    reported_units = {"33031001", "33031002", "330310", "33032001"}
    assert missing == expected - reported_units and missing
    late = set(
        q.non_reporters(city["hq"], reported, city.units["3303"], date(2026, 8, 20)).values_list("code", flat=True)
    )
    assert late == expected  # nobody reported that day


def test_the_query_count_does_not_depend_on_the_level(city, reported):
    client = login(city["hq"])
    counts = []
    for unit in ("3303", "330310", "33031001"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/stats/totals/?unit={unit}").status_code == 200
        counts.append(len(ctx))
    assert len(set(counts)) == 1, counts


TOTALS_QUERIES = {  # (fast path, window) → statements of one totals request: session, the user with its grants
    # (accounts.backends), campaigns, unit, catalogue, columns, then on PostgreSQL's rollup ONE aggregate (this
    # window per column, 代填, 同比, 环比); a round adds the campaign's rounds (the round and the one before, read
    # at once)
    (True, "campaign"): 7,
    (True, "days"): 7,
    (True, "round"): 8,
    # the portable queries: this window per column, 代填, 同比, and 环比 when there is a window before
    (False, "campaign"): 9,
    (False, "days"): 10,
    (False, "round"): 11,
}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("span", ["campaign", "days", "round"])
def test_a_totals_request_runs_a_fixed_number_of_statements(city, reported, settings, fast, span):
    settings.DB_FAST_PATHS = fast
    second = reported.rounds.get(name="第二轮")
    asked = {"campaign": "", "days": "&start=2026-08-01&end=2026-08-09", "round": f"&round={second.pk}"}[span]
    client = login(city["hq"])
    with CaptureQueriesContext(connection) as ctx:
        got = client.get(f"/api/v1/stats/totals/?unit=3303{asked}")
    assert got.status_code == 200
    assert len(ctx) == TOTALS_QUERIES[fast and connection.vendor == "postgresql", span], [
        q["sql"][:120] for q in ctx.captured_queries
    ]
    lines = {ln["indicator"]["code"]: ln for ln in got.json()["lines"]}
    assert lines["police"]["last_year"] is not None  # 同比 read in the same statement
    assert (lines["police"]["previous"] is None) == (span == "campaign")  # 环比: none before the campaign's start


# --- API and pages -------------------------------------------------------------------------------


def test_the_api_reports_and_uploads(city, catalogue, tmp_path):
    client = login(city["station_lead"])
    c = catalogue["campaign"]
    ok = client.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33031001", "day": "2026-07-02", "values": {"police": 7}},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json() == {"changed": 1}
    unknown = client.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33031001", "day": "2026-07-02", "values": {"arrests": 7}},
        content_type="application/json",
    )
    assert unknown.status_code == 400 and "未知指标" in unknown.json()["values"][0]
    other = client.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33032001", "day": "2026-07-02", "values": {"police": 7}},
        content_type="application/json",
    )
    assert other.status_code == 400 and other.json() == {"unit": ["不在您的职责范围内"]}
    path = sheet(tmp_path, [("2026-07-08", 1, 1)])
    with path.open("rb") as fh:
        bad = client.post("/api/v1/stats/figures/upload/", {"campaign": c.pk, "unit": "33031001", "file": fh})
    assert bad.status_code == 400
    (problem,) = bad.json()["problems"]
    assert (problem["sheet"], problem["row"], problem["column"], problem["field"]) == ("战果", 3, "A", "日期")
    catalogue_json = client.get(f"/api/v1/stats/catalogue/?campaign={c.pk}").json()
    assert [i["code"] for i in catalogue_json["indicators"]] == ["police", "places"]
    assert [r["name"] for r in catalogue_json["rounds"]] == ["第一轮", "第二轮"]


def test_the_pages(city, reported, tmp_path):
    hq = login(city["hq"])
    page = hq.get("/stats/?start=2026-07-01&end=2026-07-31")
    assert page.status_code == 200
    html = text(page)
    assert "同比增长" in html and "城东分局" in html and "&amp;unit=330310" in html
    assert page.context["missing"]  # units that have not reported the last day are listed
    assert hq.get("/stats/?unit=330310").status_code == 200
    assert hq.get("/stats/?start=2026-08-01&end=2026-07-01").status_code == 400
    assert hq.get("/stats/report/").status_code == 200  # HQ enters figures on a unit's behalf (代填)
    assert login(city["inspector"]).get("/stats/report/").status_code == 403  # an inspector reports none
    lead = login(city["station_lead"])
    form = lead.get("/stats/report/?day=2026-07-08")
    assert form.context["day"] == date(2026, 7, 9) and form.context["round"].name == "第一轮"
    ind = reported.indicators.get(code="police")
    saved = lead.post(
        "/stats/report/", {"campaign": reported.pk, "unit": "33031001", "day": "2026-07-09", f"v{ind.pk}": "77"}
    )
    assert saved.status_code == 302
    assert Figure.objects.get(unit__code="33031001", indicator=ind, day=date(2026, 7, 9)).value == 77
    refused = lead.post(
        "/stats/report/", {"campaign": reported.pk, "unit": "33031001", "day": "2026-07-09", f"v{ind.pk}": "-2"}
    )
    assert refused.status_code == 400 and "不小于0" in text(refused)
    sibling = lead.get("/stats/report/?unit=33032001")  # typed in the picker: a form error, no figures shown
    assert sibling.status_code == 400 and 'id="figures"' not in text(sibling) and "33032001" in text(sibling)
    download = lead.get(f"/stats/sheet/?campaign={reported.pk}&unit=33031001")
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    path = sheet(tmp_path, [("2026-07-02", "many", 1)])
    with path.open("rb") as fh:
        bad = lead.post("/stats/upload/", {"campaign": reported.pk, "unit": "33031001", "file": fh})
    assert bad.status_code == 400 and "第3行 B列（出动警力（人次））" in text(bad)


def test_a_zip_bomb_sheet_is_refused_fast_on_the_api_and_the_page(city, catalogue):
    """The tester's 64 KB sheet that unpacks to 16 MB held a process for 63 s; now one sentence, at once."""
    c = catalogue["campaign"]
    client = login(city["station_lead"])
    for url in ("/api/v1/stats/figures/upload/", "/stats/upload/"):
        started = time.monotonic()
        response = client.post(
            url, {"campaign": c.pk, "unit": "33031001", "file": SimpleUploadedFile("城关.xlsx", sheet_bomb())}
        )
        assert time.monotonic() - started < 5, url
        assert response.status_code == 400
        said = response.json()["problems"][0]["message"] if url.startswith("/api/") else text(response)
        assert "疑为恶意构造的压缩文件，不予读取" in said, url
    assert not Figure.objects.exists()


def test_a_file_that_is_not_a_sheet_is_named_in_words(city, catalogue):
    c = catalogue["campaign"]
    client = login(city["station_lead"])
    page = client.post(
        "/stats/upload/",
        {"campaign": c.pk, "unit": "33031001", "file": SimpleUploadedFile("城关.xlsx", b"PK\x03\x04 not a zip")},
    )
    assert page.status_code == 400
    html = text(page)
    assert "城关.xlsx：不是有效的 Excel 文件（无法解压读取）" in html and "BadZipFile" not in html
    api = client.post(
        "/api/v1/stats/figures/upload/",
        {"campaign": c.pk, "unit": "33031001", "file": SimpleUploadedFile("城关.xlsx", b"%PDF-1.4")},
    )
    (problem,) = api.json()["problems"]
    assert problem["message"].startswith("不是有效的 Excel 文件") and problem["file"] == "城关.xlsx"


def test_hq_adds_an_indicator_in_the_admin_and_it_is_audited(city, catalogue):
    hq = login(city["hq"])
    assert hq.get("/admin/stats/indicator/").status_code == 200
    added = hq.post(
        "/admin/stats/indicator/add/",
        {
            "campaign": catalogue["campaign"].pk,
            "code": "leaflets",
            "name": "发放宣传资料",
            "measure": "份",
            "seq": 3,
            "is_active": "on",
            "kind": "count",
            "up_is_good": "on",
        },
    )
    assert added.status_code == 302, text(added)[:500]
    made = Indicator.objects.get(code="leaflets")
    assert AuditEvent.objects.filter(verb="indicator.created", object_id=made.pk, actor=city["hq"]).exists()
    lead = login(city["station_lead"])
    assert "发放宣传资料" not in text(lead.get("/admin/stats/indicator/"))  # HQ's catalogue, not a lead's
    assert lead.get("/admin/stats/indicator/add/").status_code == 403
