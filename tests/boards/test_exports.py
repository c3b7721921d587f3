"""Exports (导出): the spreadsheet writer's layout; the battle board's figures in the XLSX equal the
board's; a ledger holds exactly the user's rows; the job runs (Celery eager), writes progress and
fails with a message for the user; only the owner downloads; the page polls while something is
being made; every request is audited."""

from __future__ import annotations

import ast
import re
from datetime import date
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from PIL import Image as PILImage

from audit.models import AuditEvent
from boards import exports, jobs, xlsx
from boards.exports import KINDS, XLSX_TYPE, ExportError, Kind, make_export
from boards.models import Export, ExportStatus
from boards.queries import battle_board
from boards.ranking import MEASURES, ranking
from boards.services import request_export
from ops.celery import app as celery_app
from stats import queries as stats_queries
from tasks.models import Assignment, AssignmentStatus
from tests.boards.conftest import TODAY
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    """Jobs run in-process whatever REDIS_URL says (scripts/test sets it: the worker tests need Redis)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def spread(published):
    """Some work accepted, some not: a board with something to show."""
    for n, a in enumerate(Assignment.objects.order_by("id")):
        if n % 3 == 0:
            Assignment.objects.filter(pk=a.pk).update(status=AssignmentStatus.ACCEPTED)
    return published


def made(django_capture_on_commit_callbacks, user, kind: str, **params) -> Export:
    """Ask for an export and let its job run, as the commit would."""
    with django_capture_on_commit_callbacks(execute=True):
        export = request_export(by=user, kind=kind, params=params)
    export.refresh_from_db()
    return export


def opened(export: Export):
    with export.file.open("rb") as f:
        return load_workbook(BytesIO(f.read()))


# --- the writer -------------------------------------------------------------------------------------


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = BytesIO()
    PILImage.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_writer_lays_out_a_titled_table():
    book = Workbook()
    columns = [
        xlsx.Column("单位", 20),
        xlsx.Column("检查场所", 12, xlsx.INTEGER),
        xlsx.Column("完成率", 10, xlsx.PERCENT),
        xlsx.Column("完成时限", 16, xlsx.CN_DATE, key="due"),
    ]
    rows = [["城关派出所", 1234, 0.5, date(2026, 7, 15)], {"due": date(2026, 8, 31)}]
    ws = xlsx.sheet(
        book,
        title="夏季行动 统计表",
        subtitle="统计时间：2026年7月1日至7月9日  制表单位：市局指挥部",
        columns=columns,
        rows=iter(rows),
        totals=lambda: ["合计", 1234, 0.5, None],
        name="统计:表/1",
    )
    xlsx.image(ws, png(), "F3")
    book = load_workbook(BytesIO(xlsx.workbook_bytes(book)))
    ws = book.worksheets[0]
    assert book.sheetnames == ["统计_表_1"]  # the default sheet was reused; the name made legal
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:D1", "A2:D2"}
    assert ws["A1"].value == "夏季行动 统计表" and ws["A1"].font.b and ws["A1"].font.sz == 16
    assert ws["A1"].alignment.horizontal == "center"
    assert ws["A2"].value.startswith("统计时间")
    assert [c.value for c in ws[3]] == ["单位", "检查场所", "完成率", "完成时限"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("D9E1F2") and c.border.top.style == "thin" for c in ws[3])
    assert ws.freeze_panes == "A4"
    assert [ws.column_dimensions[c].width for c in "ABCD"] == [20, 12, 10, 16]
    assert (ws["B4"].value, ws["B4"].number_format) == (1234, "#,##0")
    assert (ws["C4"].value, ws["C4"].number_format) == (0.5, "0.0%")
    assert ws["D4"].value.date() == date(2026, 7, 15) and ws["D4"].number_format == 'yyyy"年"m"月"d"日"'
    assert ws["A5"].value is None and ws["D5"].value.date() == date(2026, 8, 31)  # a mapping row, by key
    assert ws["A6"].value == "合计" and ws["A6"].font.b and not ws["A4"].font.b
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3"
    assert len(ws._images) == 1


# --- the kinds ---------------------------------------------------------------------------------------


def test_the_battle_export_holds_the_boards_figures(city, spread, django_capture_on_commit_callbacks):
    hq = city["hq"]
    export = made(django_capture_on_commit_callbacks, hq, "battle", campaign=spread.pk)
    assert (export.status, export.progress, export.message) == (ExportStatus.DONE, 100, "")
    assert export.filename == f"{spread.name}_挂图作战_江城市公安局_20260901.xlsx"
    assert export.size == export.file.size > 0 and re.fullmatch(
        r"exports/\d{4}/\d\d/[0-9a-f]{32}\.xlsx", export.file.name
    )
    assert export.params == {"campaign": spread.pk, "unit": "3303", "action": None, "due_by": None}
    ws = opened(export).active
    board = battle_board(hq, spread, city.units["3303"], today=TODAY)
    width = 1 + 2 * len(board.columns) + 2
    assert str(next(iter(ws.merged_cells.ranges))) == f"A1:{get_column_letter(width)}1"
    assert ws["A1"].value == f"{spread.name} 挂图作战进度表"
    assert "江城市公安局" in ws["A2"].value and "2026年9月1日" in ws["A2"].value
    header = [c.value for c in ws[3]][:width]
    assert header[0] == "行动" and header[-2:] == ["合计\n完成率", "合计\n逾期"]
    assert ws.column_dimensions["A"].width == 30
    for i, action in enumerate(board.rows):
        row = [c.value for c in ws[4 + i]][:width]
        assert row[0] == f"{action.code} {action.name}"
        for j, unit in enumerate(board.columns):
            cell = board.cell(action.pk, unit.pk)
            got = row[1 + 2 * j : 3 + 2 * j]
            assert got == ([round(cell.percent / 100, 4), cell.overdue] if cell.total else [None, None]), (action, unit)
        total = board.row_totals[action.pk]
        assert row[-2:] == [round(total.percent / 100, 4), total.overdue]
    last = [c.value for c in ws[4 + len(board.rows)]][:width]
    assert last[0] == "合计" and last[-2:] == [round(board.total.percent / 100, 4), board.total.overdue]
    assert ws[4 + len(board.rows)][0].font.b
    assert ws.cell(4, 2).number_format == "0.0%" and ws.cell(4, 3).number_format == "#,##0"


def ledger_rows(export: Export) -> list[list]:
    ws = opened(export).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert rows[-1][0] == "合计"
    return rows[:-1]


def test_a_ledger_holds_exactly_the_users_rows(city, spread, django_capture_on_commit_callbacks):
    everything = Assignment.objects.filter(campaign=spread, is_active=True)
    hq = ledger_rows(made(django_capture_on_commit_callbacks, city["hq"], "ledger", campaign=spread.pk))
    station = ledger_rows(made(django_capture_on_commit_callbacks, city["station_lead"], "ledger", campaign=spread.pk))
    assert len(hq) == everything.count() > len(station) > 0
    assert len(station) == everything.filter(unit__code="33031001").count()
    assert {r[3] for r in station} == {"城关派出所"}
    assert [r[0] for r in hq] == list(range(1, len(hq) + 1))
    header = [c.value for c in opened(Export.objects.filter(kind="ledger").first()).active[3]]
    assert header == [
        "序号",
        "行动",
        "工作任务",
        "责任单位",
        "角色",
        "完成时限",
        "状态",
        "进度",
        "是否逾期",
        "分解指标",
    ]
    overdue = everything.filter(due_date__lt=TODAY).exclude(status=AssignmentStatus.ACCEPTED).count()
    assert sum(r[8] == "是" for r in hq) == overdue > 0
    assert {r[4] for r in hq} <= {"牵头", "配合"} and {r[6] for r in hq} <= {"未开始", "已验收"}
    assert all(r[5].date() <= date(2026, 10, 8) for r in hq)


def test_the_ranking_export_holds_the_rankings_figures(city, worked, django_capture_on_commit_callbacks):
    hq = city["hq"]
    export = made(django_capture_on_commit_callbacks, hq, "ranking", campaign=worked.pk)
    assert (export.status, export.message) == (ExportStatus.DONE, "")
    assert export.filename == f"{worked.name}_综合排名_江城市公安局_20260901.xlsx"
    book = opened(export)
    assert book.sheetnames == ["综合排名", "通报约谈"]
    ws = book["综合排名"]
    r = ranking(hq, worked, city.units["3303"], today=TODAY)
    assert ws["A1"].value == f"{worked.name} 单位综合排名" and "江城市公安局" in ws["A2"].value
    header = [c.value for c in ws[3]]
    assert header[:3] == ["名次", "单位", "综合得分"] and header[-5:] == [
        "任务数",
        "已完成",
        "逾期",
        "发现问题",
        "未整改",
    ]
    assert header[3] == f"完成率\n权重{r.weights['completion']}"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(rows) == len(r.standings) > 1
    for got, s in zip(rows, r.standings, strict=True):
        measures = [None if s.measures.get(m) is None else round(s.measures[m] / 100, 4) for m in MEASURES]
        assert got == [
            s.rank,
            s.unit.name,
            s.score,
            *measures,
            s.total,
            s.done,
            s.overdue,
            s.findings,
            s.open_findings,
        ], s.unit.code
    called = book["通报约谈"]
    assert called["A1"].value == "通报约谈单位"
    assert [[c.value for c in row] for row in called.iter_rows(min_row=3)] == [
        [n, s.unit.name, s.rank, s.score, "，".join(s.reasons())] for n, s in enumerate(r.laggards, start=1)
    ]


def test_the_stats_export_holds_the_statistics(city, reported, django_capture_on_commit_callbacks):
    hq, east = city["hq"], city.units["330310"]
    export = made(
        django_capture_on_commit_callbacks,
        hq,
        "stats",
        campaign=reported.pk,
        unit="330310",
        start="2026-07-01",
        end="2026-07-31",
    )
    assert (export.status, export.message) == (ExportStatus.DONE, "")
    assert export.params == {
        "campaign": reported.pk,
        "unit": "330310",
        "round": None,
        "start": "2026-07-01",
        "end": "2026-07-31",
    }
    assert export.filename == f"{reported.name}_战果统计_城东分局_0701-0731.xlsx"
    book = opened(export)
    assert book.sheetnames == ["战果统计", "分轮次", "每日"]
    w = stats_queries.window(reported, start=date(2026, 7, 1), end=date(2026, 7, 31))
    t = stats_queries.totals(hq, reported, east, w)
    ws = book["战果统计"]
    assert ws["A1"].value == f"{reported.name} 战果统计表"
    assert "城东分局" in ws["A2"].value and "2026年7月1日至2026年7月31日" in ws["A2"].value
    header = [c.value for c in ws[3]]
    assert header[:7] == ["指标", "计量", "合计", "去年同期", "同比", "上期", "环比"]
    assert header[7:] == ["本级" if u.pk == east.pk else (u.short_name or u.name) for u in t.columns]
    for row, line in zip(ws.iter_rows(min_row=4, max_row=3 + len(t.lines)), t.lines, strict=True):
        got = [c.value for c in row]
        assert got[:4] == [line.indicator.name, line.indicator.measure, line.total, line.last_year] and line.total > 0
        assert got[4] == round((line.total - line.last_year) / line.last_year, 4)
        assert got[7:] == [line.by_unit.get(u.pk) for u in t.columns]
    assert len(ws._images) == 1  # the daily chart
    by_round = stats_queries.per_round(hq, reported, east)
    rounds = [[c.value for c in row] for row in book["分轮次"].iter_rows(min_row=3)]
    assert rounds == [
        [
            r.name,
            f"{r.start.month}月{r.start.day}日至{r.end.day}日",
            *(by_round.get(r.pk, {}).get(ln.indicator.pk) for ln in t.lines),
        ]
        for r in reported.rounds.all()
    ]
    days = stats_queries.series(hq, reported, east, w)
    daily = book["每日"]
    first = [c.value for c in daily[3]]
    assert first[0].date() == date(2026, 7, 1) and daily["A3"].number_format == xlsx.CN_DATE
    assert first[1:] == [days[ln.indicator.pk][date(2026, 7, 1)] for ln in t.lines]
    assert daily.max_row == 2 + 31


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tbad", "\rbad"]


def test_the_writer_writes_text_that_reads_as_a_formula_as_text():
    """OWASP's rule, in the one place every workbook is saved (utilities.office): such text is a string cell
    with Excel's quote prefix; other text, numbers and dates are left as they are."""
    book = Workbook()
    columns = [xlsx.Column("单位", 20), xlsx.Column("数", 8, xlsx.INTEGER)]
    xlsx.sheet(book, title=FORMULAS[0], columns=columns, rows=[[f, -3] for f in [*FORMULAS, "#N/A", "城关派出所"]])
    ws = load_workbook(BytesIO(xlsx.workbook_bytes(book))).active
    assert (ws["A1"].value, ws["A1"].data_type, ws["A1"].quotePrefix) == (FORMULAS[0], "s", True)  # the title too
    cells = [(ws.cell(r, 1).value, ws.cell(r, 1).data_type, ws.cell(r, 1).quotePrefix) for r in range(3, 11)]
    assert cells == [(f, "s", True) for f in [*FORMULAS, "#N/A"]] + [("城关派出所", "s", False)]
    assert {(ws.cell(r, 2).value, ws.cell(r, 2).data_type) for r in range(3, 11)} == {(-3, "n")}


def _as_text(book, name: str) -> list[str]:
    """The cells holding ``name`` (alone or at their start): each is text shown as written; no cell is a formula."""
    found = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(name):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    found.append(cell.value)
    return found


def test_a_unit_named_as_a_formula_comes_out_as_text(city, reported, django_capture_on_commit_callbacks):
    """A unit renamed =HYPERLINK(…) in the admin by a city HQ comes out of every export as the text it is."""
    from accounts.models import Unit

    name = FORMULAS[0]
    Unit.objects.filter(code__in=["33031001", "330310"]).update(name=name, short_name=name)
    Assignment.objects.filter(campaign=reported).update(status=AssignmentStatus.ACCEPTED)
    hq = city["hq"]
    ledger = made(django_capture_on_commit_callbacks, hq, "ledger", campaign=reported.pk)
    battle = made(django_capture_on_commit_callbacks, hq, "battle", campaign=reported.pk)
    ranked = made(django_capture_on_commit_callbacks, hq, "ranking", campaign=reported.pk)
    figures = made(django_capture_on_commit_callbacks, hq, "stats", campaign=reported.pk, unit="330310")
    assert [e.status for e in (ledger, battle, ranked, figures)] == [ExportStatus.DONE] * 4
    assert name in _as_text(opened(ledger), name)  # the unit column
    assert f"{name}\n完成率" in _as_text(opened(battle), name)  # a column header
    assert name in _as_text(opened(ranked), name)
    assert name in _as_text(opened(figures), name)  # a station's column


def test_the_export_module_is_below_the_job():
    """boards.services (the request) → boards.jobs → boards.exports: the module the job runs imports
    neither the job nor the request, not even inside a function, so the dependency runs one way."""
    above = {"jobs", "services", "boards.jobs", "boards.services"}
    for node in ast.walk(ast.parse(Path(exports.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names = {node.module} if node.module else {a.name for a in node.names}
            assert not names & above, ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert not {a.name for a in node.names} & above, ast.unparse(node)


def test_out_of_scope_and_malformed_requests_are_refused(city, spread):
    station = city["station_lead"]
    with pytest.raises(ExportError):
        request_export(by=station, kind="pie-chart", params={})
    with pytest.raises(ExportError):
        request_export(by=station, kind="battle", params={"due_by": "soon"})
    with pytest.raises(Http404):
        request_export(by=station, kind="battle", params={"unit": "330320"})
    with pytest.raises(Http404):
        request_export(by=city["west_lead"], kind="ledger", params={"campaign": 2_000_000_007})
    assert not Export.objects.exists() and not AuditEvent.objects.filter(verb="export.requested").exists()


# --- the job -----------------------------------------------------------------------------------------


def test_the_job_writes_progress_and_finishes(city, spread, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(exports, "LEDGER_CHUNK", 2)  # a progress call every two rows
    export = request_export(by=city["hq"], kind="ledger", params={"campaign": spread.pk})
    assert (export.status, export.progress) == (ExportStatus.QUEUED, 0)
    seen = []
    real = exports._Reporter.__call__

    def spy(self, percent):
        real(self, percent)
        seen.append(Export.objects.get(pk=export.pk).progress)

    monkeypatch.setattr(exports._Reporter, "__call__", spy)
    with CaptureQueriesContext(connection) as ctx:
        assert jobs.run_export.delay(export.pk).get() == {"export": export.pk, "outcome": "done"}
    export.refresh_from_db()
    assert (export.status, export.progress, export.finished_at is not None) == (ExportStatus.DONE, 100, True)
    assert seen == sorted(seen) and 0 < max(seen) < 100  # forward only, 100 with the file
    updates = [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "progress" in q["sql"]]
    assert len(updates) <= 100 // exports.PROGRESS_STEP + 2
    assert make_export(export_id=export.pk) == "skipped"  # a second delivery changes nothing


def test_a_failure_is_a_message_not_a_traceback(city, spread, django_capture_on_commit_callbacks, monkeypatch):
    def broken(user, params, progress):
        progress(40)
        raise ZeroDivisionError("internal detail at line 42")

    monkeypatch.setitem(KINDS, "broken", Kind("broken", "broken", broken))
    export = made(django_capture_on_commit_callbacks, city["hq"], "broken")
    assert export.status == ExportStatus.FAILED and export.progress == 40 and not export.file
    assert export.message == "导出失败，请稍后重试；仍然失败请联系系统管理员"
    page = text(login(city["hq"]).get("/exports/"))
    assert export.message in page and "internal detail" not in page and "Traceback" not in page
    assert AuditEvent.objects.filter(verb="export.failed", object_id=export.pk).exists()


def test_a_user_who_lost_the_scope_gets_a_failure(city, spread, django_capture_on_commit_callbacks):
    lead = city["station_lead"]
    export = request_export(by=lead, kind="battle", params={"campaign": spread.pk, "unit": "33031001"})
    lead.grants.all().delete()
    assert make_export(export_id=export.pk) == "failed"
    export.refresh_from_db()
    assert export.message == "要导出的专项行动或单位已不在您的职责范围内"


def test_too_many_waiting_exports_are_refused(city, spread):
    for _ in range(exports.MAX_PENDING):
        request_export(by=city["hq"], kind="ledger", params={})
    with pytest.raises(ExportError, match="正在生成"):
        request_export(by=city["hq"], kind="ledger", params={})
    assert request_export(by=city["east_lead"], kind="ledger", params={})  # per user


# --- pages and downloads -----------------------------------------------------------------------------


def test_the_battle_page_exports_and_only_the_owner_downloads(city, spread, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    board = text(hq.get(f"/board/?campaign={spread.pk}&unit=330310"))
    assert 'id="export-form"' in board and 'name="kind" value="battle"' in board and 'value="330310"' in board
    with django_capture_on_commit_callbacks(execute=True):
        response = hq.post("/exports/new/", {"kind": "battle", "campaign": spread.pk, "unit": "330310"})
    assert response.status_code == 302 and response["Location"] == "/exports/"
    export = Export.objects.get()
    assert (export.user, export.status, export.params["unit"]) == (city["hq"], ExportStatus.DONE, "330310")
    url = f"/exports/{export.pk}/download/"
    page = text(hq.get("/exports/"))
    assert url in page and export.filename in page and "hx-trigger" not in page  # nothing to wait for

    got = hq.get(url)
    assert got.status_code == 200 and got["Content-Type"] == XLSX_TYPE
    assert got["X-Content-Type-Options"] == "nosniff"
    assert got["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(export.filename)}" in got["Content-Disposition"]
    assert load_workbook(BytesIO(b"".join(got.streaming_content))).active["A1"].value.endswith("挂图作战进度表")

    for other in ("east_lead", "inspector", "nobody"):  # HQ's own colleague or not: it does not exist
        assert login(city[other]).get(url).status_code == 404
        assert login(city[other]).get(f"/api/v1/exports/{export.pk}/download/").status_code == 404
        assert login(city[other]).get(f"/api/v1/exports/{export.pk}/").status_code == 404
    api = hq.get(f"/api/v1/exports/{export.pk}/download/")
    assert api.status_code == 200 and api["X-Content-Type-Options"] == "nosniff"
    assert hq.get("/api/v1/exports/").json()["results"][0]["download"] == f"/api/v1/exports/{export.pk}/download/"


def test_the_ranking_and_stats_pages_offer_their_exports(city, reported, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    first = reported.rounds.get(name="第一轮")
    for page, kind, post in (
        (f"/board/ranking/?campaign={reported.pk}&unit=330310", "ranking", {"unit": "330310"}),
        (
            f"/stats/?campaign={reported.pk}&unit=330310&round={first.pk}",
            "stats",
            {"unit": "330310", "round": first.pk},
        ),
        (
            f"/stats/?campaign={reported.pk}&start=2026-07-02&end=2026-07-20",
            "stats",
            {"start": "2026-07-02", "end": "2026-07-20"},
        ),
    ):
        html = text(hq.get(page))
        form = html.split('id="export-form"', 1)[1].split("</form>", 1)[0]
        assert f'name="kind" value="{kind}"' in form, page
        for key, value in (post | {"campaign": reported.pk}).items():
            assert f'name="{key}" value="{value}"' in form, (page, key)
        with django_capture_on_commit_callbacks(execute=True):
            response = hq.post("/exports/new/", post | {"campaign": reported.pk, "kind": kind})
        assert response.status_code == 302 and response["Location"] == "/exports/"
        export = Export.objects.latest("pk")
        assert (export.kind, export.status, export.message) == (kind, ExportStatus.DONE, ""), page
    ranked, by_round, by_dates = Export.objects.order_by("pk")
    assert ranked.params == {"campaign": reported.pk, "unit": "330310"}
    assert by_round.params == {"campaign": reported.pk, "unit": "330310", "round": first.pk, "start": None, "end": None}
    assert (by_dates.params["start"], by_dates.params["end"]) == ("2026-07-02", "2026-07-20")
    assert opened(by_round)["战果统计"]["A2"].value.count("第一轮") == 1


def test_the_list_polls_while_an_export_is_being_made(city, spread):
    client = login(city["east_lead"])
    assert client.post("/exports/new/", {"kind": "ledger"}).status_code == 302  # queued: no commit in a test
    export = Export.objects.get()
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=35)
    page = text(client.get("/exports/"))
    assert '<progress value="35" max="100">' in page
    assert 'hx-get="/exports/status/"' in page and 'hx-trigger="every 2s"' in page
    assert "<script" not in page.split("</head>", 1)[1]  # htmx attributes, no inline script
    partial = text(client.get("/exports/status/"))
    assert partial.startswith('<div id="export-rows"') and "every 2s" in partial
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404  # not ready
    assert client.get(f"/api/v1/exports/{export.pk}/download/").status_code == 409
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, message="范围太大")
    partial = text(client.get("/exports/status/"))
    assert "hx-trigger" not in partial and "范围太大" in partial  # polling stops


def test_the_request_needs_csrf_and_post(city, spread):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(city["hq"])
    assert strict.post("/exports/new/", {"kind": "battle"}).status_code == 403
    assert login(city["hq"]).get("/exports/new/?kind=battle").status_code == 405
    assert not Export.objects.exists()


def test_out_of_scope_on_the_page_is_a_404_and_a_bad_kind_a_message(city, spread):
    lead = login(city["station_lead"])
    assert lead.post("/exports/new/", {"kind": "battle", "unit": "330320"}).status_code == 404
    response = lead.post("/exports/new/", {"kind": "nonsense"}, follow=True)
    assert "没有这种导出" in text(response) and not Export.objects.exists()


def test_the_request_is_audited(city, spread):
    client = login(city["east_leader"])
    response = client.post("/api/v1/exports/", {"kind": "ledger", "params": {}}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["progress"], body["download"]) == ("ledger", "queued", 0, None)
    event = AuditEvent.objects.get(verb="export.requested")
    assert (event.actor, event.object_id, event.unit) == (city["east_leader"], body["id"], city.units["330310"])
    assert event.changes == {"kind": "ledger", "params": {"campaign": spread.pk}}


def test_old_files_are_cleared_and_the_record_kept(city, spread, django_capture_on_commit_callbacks, settings):
    from datetime import timedelta

    from django.utils import timezone

    old = made(django_capture_on_commit_callbacks, city["hq"], "battle")
    recent = made(django_capture_on_commit_callbacks, city["hq"], "battle")
    failed = made(django_capture_on_commit_callbacks, city["hq"], "battle")
    Export.objects.filter(pk=failed.pk).update(status=ExportStatus.FAILED)
    long_ago = timezone.now() - timedelta(days=settings.EXPORT_KEEP_DAYS, hours=1)
    Export.objects.filter(pk__in=[old.pk, failed.pk]).update(finished_at=long_ago)
    storage = old.file.storage
    assert storage.exists(old.file.name)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.purge_exports.delay().get() == {"expired": 1}
    old_file = old.file.name
    old.refresh_from_db()
    assert old.status == ExportStatus.EXPIRED and not old.file and "已过保存期限" in old.message
    assert not storage.exists(old_file) and storage.exists(recent.file.name)
    assert Export.objects.get(pk=recent.pk).status == ExportStatus.DONE
    event = AuditEvent.objects.get(verb="export.expired")
    assert event.object_id == old.pk and event.changes == {"file": old_file}
    client = login(city["hq"])
    assert client.get(f"/exports/{old.pk}/download/").status_code == 404
    assert client.get(f"/api/v1/exports/{old.pk}/download/").status_code in (404, 409)
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.expire_exports() == 0  # nothing twice


def test_an_export_whose_message_was_lost_is_sent_again(city, spread, django_capture_on_commit_callbacks):
    """Redis keeps nothing on disk: a restart loses the queued message. The 10-minute beat queues again
    every export still queued and every running one whose worker died; a fresh running one is left alone."""
    with django_capture_on_commit_callbacks(execute=False):  # the message never reaches a worker
        lost = request_export(by=city["hq"], kind="battle", params={"campaign": spread.pk})
        died = request_export(by=city["hq"], kind="battle", params={"campaign": spread.pk})
        busy = request_export(by=city["hq"], kind="battle", params={"campaign": spread.pk})
    now = timezone.now()
    Export.objects.filter(pk=died.pk).update(status=ExportStatus.RUNNING, started_at=now - exports.STALE_AFTER * 2)
    Export.objects.filter(pk=busy.pk).update(status=ExportStatus.RUNNING, started_at=now)
    assert exports.stalled_exports() == [lost.pk, died.pk]
    assert jobs.resend_stalled_exports() == {"resent": [lost.pk, died.pk]}
    states = dict(Export.objects.values_list("pk", "status"))
    assert states == {lost.pk: ExportStatus.DONE, died.pk: ExportStatus.DONE, busy.pk: ExportStatus.RUNNING}
    assert jobs.resend_stalled_exports() == {"resent": []}
