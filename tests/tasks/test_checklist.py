"""The checklist export (tasks/checklist.py): it reads back through the plan reader into the same items,
its progress columns count the user's scope set-based, its text stays text, and it is served only to
those who see the campaign."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import docx
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from tasks.checklist import checklist, cn_ordinal, docx_bytes, xlsx_bytes
from tasks.models import Assignment, AssignmentStatus, Campaign, Item
from tasks.planfile.compiler import campaign_spec, compile_plan
from tasks.planfile.reader import read_plan
from tasks.services.items import update_item
from tasks.services.plans import import_plan

from .planfiles import CAMPAIGN, PLAN, with_row, write_docx, write_xlsx

pytestmark = pytest.mark.django_db

OPTS = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
KINDS = ("xlsx", "docx")


def export(campaign: Campaign, kind: str, folder: Path, **kwargs) -> Path:
    data = checklist(campaign, **kwargs)
    path = folder / f"export.{kind}"
    path.write_bytes(xlsx_bytes(data) if kind == "xlsx" else docx_bytes(data))
    return path


def stored(campaign: Campaign) -> dict:
    """What the checklist carries of each active item, as stored: its action, texts, parsed target and
    deadline, and the units it names (the plan's items: a directive's is not on the checklist)."""
    out = {}
    items = campaign.items.in_plan().filter(is_active=True)
    for it in items.select_related("action").prefetch_related("responsibilities"):
        named = sorted((r.role, r.scope, r.unit_id, r.unit_kind) for r in it.responsibilities.all())
        out[it.code] = (
            (it.action.code, it.action.name, it.action.leader_name),
            (it.title, it.target_text, it.target_value, it.target_unit, it.target_per, it.lead_text),
            (it.cooperating_text, it.leader_name, it.deadline_text, it.deadline_kind, it.due_date, it.milestones),
            named,
        )
    return out


def read_back(path: Path, campaign: Campaign) -> dict:
    """The same, from the file through the plan reader and compiler (what ``import_plan`` writes)."""
    raw = read_plan(path)
    defaults = {"name": campaign.name, "start": campaign.start, "end": campaign.end, "owner": campaign.owner.code}
    spec = compile_plan(
        raw, campaign_spec(raw, name=None, code=campaign.code, start=None, end=None, owner=None, defaults=defaults)
    )
    actions = {a.code: (a.code, a.name, a.leader_name) for a in spec.actions}
    out = {}
    for i in spec.items:
        d, t = i.deadline, i.target
        value = t.value.quantize(t.value.__class__("0.01")) if t.value is not None else None
        out[i.code] = (
            actions[i.action_code],
            (i.title, t.text, value, t.unit, t.per, i.lead_text),
            (i.cooperating_text, i.leader_name, d.text, d.kind, d.due, [m.isoformat() for m in d.milestones]),
            sorted((role, n.scope, n.unit_id, n.kind or "") for role, n, _text in i.named),
        )
    return out


def assert_reads_back(path: Path, campaign: Campaign) -> None:
    """Codes, titles, targets, units and deadlines come back as stored; a dry run of ``import_plan``
    changes nothing at all (measures and acceptance criteria are on the checklist too)."""
    assert read_back(path, campaign) == stored(campaign)
    result = import_plan(path=path, code=campaign.code, dry_run=True)
    assert result.items == campaign.items.in_plan().filter(is_active=True).count()
    assert result.assignments == campaign.assignments.filter(is_active=True).count()
    assert result.changes == []


@pytest.fixture
def quirky(city, tmp_path) -> Campaign:
    """A Word plan: numbers restarting in each section, 责任领导 merged down, a unit list over two lines,
    a milestone deadline, a task that reads as a formula."""
    plan = with_row(PLAN, 0, 1, coop="各分局\n治安支队", deadline="7月15日前完成排查，8月底前完成整改")
    plan = with_row(plan, 1, 0, task="=1+1", target='=HYPERLINK("http://x","y")')
    import_plan(path=write_docx(tmp_path / "plan.docx", plan), publish=True, **OPTS)
    return Campaign.objects.get(code=CAMPAIGN["code"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_export_of_an_xlsx_plan_reads_back(published, tmp_path, kind):
    assert_reads_back(export(published, kind, tmp_path), published)


@pytest.mark.parametrize("kind", KINDS)
def test_the_export_of_a_word_plan_with_its_quirks_reads_back(quirky, tmp_path, kind):
    assert quirky.items.get(code="1.2").milestones  # the quirks are in the plan
    assert_reads_back(export(quirky, kind, tmp_path), quirky)


@pytest.mark.parametrize("kind", KINDS)
def test_with_progress_columns_it_still_reads_back(published, city, tmp_path, kind):
    assert_reads_back(export(published, kind, tmp_path, user=city["hq"], progress=True), published)


def test_an_item_changed_after_publishing_and_a_withdrawn_one(published, city, tmp_path):
    """What the checklist shows is the plan as it stands: the changed words, without withdrawn items."""
    item = published.items.get(code="2.2")
    update_item(item=item, by=city["hq"], title="全域巡逻防控（调整）")
    Item.objects.filter(campaign=published, code="1.1").update(is_active=False)
    path = export(published, "xlsx", tmp_path)
    back = read_back(path, published)
    assert "1.1" not in back and back["2.2"][1][0] == "全域巡逻防控（调整）"
    assert back == stored(published)


def test_formulas_in_text_stay_text(quirky, tmp_path):
    book = load_workbook(export(quirky, "xlsx", tmp_path))
    cells = {c.value: c for row in book.active.iter_rows() for c in row if isinstance(c.value, str)}
    for text in ("=1+1", '=HYPERLINK("http://x","y")'):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    table = docx.Document(str(export(quirky, "docx", tmp_path))).tables[0]
    assert "=1+1" in {cell.text for row in table.rows for cell in row.cells}


def test_the_xlsx_layout(published, tmp_path):
    sheet = load_workbook(export(published, "xlsx", tmp_path)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == f"{published.name}责任清单"
    header = ["序号", "工作任务", "工作措施", "量化指标", "牵头单位", "配合单位", "责任领导", "完成时限", "验收标准"]
    assert rows[1] == header
    assert rows[2][0] == "一、“清患”行动（分管领导：王建国）" and rows[5][0] == "二、“铁拳”行动（分管领导：李振华）"
    it = published.items.get(code="1.1")
    first = ["1.1", "重点场所清查", it.measures, "检查场所不少于300家次", "各派出所", "治安支队", "王建国", "8月底前"]
    assert rows[3] == [*first, it.acceptance]
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:I1", "A3:I3", "A6:I6"}
    assert sheet.print_title_rows == "$2:$2" and sheet.page_setup.orientation == "landscape"
    assert sheet["A4"].number_format == "@"


def test_the_docx_layout(quirky, tmp_path):
    """Title, landscape A4, the header repeated on every page, section rows merged across, Chinese fonts."""
    document = docx.Document(str(export(quirky, "docx", tmp_path)))
    assert document.paragraphs[0].text == f"{quirky.name}责任清单"
    section = document.sections[0]
    assert (section.page_width.mm, section.page_height.mm) == pytest.approx((297, 210), abs=0.1)
    assert section.orientation == 1  # landscape
    table = document.tables[0]
    header = table.rows[0]
    assert [c.text for c in header.cells] == [
        "序号",
        "工作任务",
        "工作措施",
        "量化指标",
        "牵头单位",
        "配合单位",
        "责任领导",
        "完成时限",
        "验收标准",
    ]
    assert header._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    section_row = table.rows[1]
    assert len({id(c._tc) for c in section_row.cells}) == 1  # one cell spanning the row
    assert section_row.cells[0].text == "一、“清患”行动（分管领导：王建国）"
    coop = table.rows[3].cells[5].text
    assert coop == "各分局\n治安支队"
    xml = document.element.xml
    assert 'w:eastAsia="仿宋"' in xml and 'w:eastAsia="宋体"' in xml


def test_cn_ordinal():
    assert [cn_ordinal(n) for n in (1, 9, 10, 11, 20, 23, 99)] == ["一", "九", "十", "十一", "二十", "二十三", "九十九"]


# --- progress columns --------------------------------------------------------------------------------


def progress_cells(path: Path) -> dict[str, tuple[str, str]]:
    sheet = load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    start = next(n for n, row in enumerate(rows) if row[0] == "序号")
    assert rows[start][9:] == ["完成情况", "逾期单位"]
    return {row[0]: (row[9], row[10] or "") for row in rows[start + 1 :] if row[1]}


@time_machine.travel("2026-08-01 10:00 +0800", tick=False)  # in the campaign: 1.1 is due by the end of August
def test_progress_columns_count_the_users_scope(published, city, tmp_path):
    today = timezone.localdate()
    work = Assignment.objects.filter(campaign=published, item__code="1.1").select_related("unit")
    by_unit = {a.unit.code: a for a in work}  # 各派出所 (3) + 治安支队 cooperating
    Assignment.objects.filter(pk=by_unit["33031001"].pk).update(status=AssignmentStatus.ACCEPTED)
    late = [by_unit["33031002"].pk, by_unit["33032001"].pk]
    Assignment.objects.filter(pk__in=late).update(due_date=today - timedelta(days=1))
    hq = progress_cells(export(published, "xlsx", tmp_path, user=city["hq"], progress=True))
    assert hq["1.1"] == ("1/4（25%）", "东湖派出所、西山派出所")
    assert hq["1.2"][1] == "治安支队、城东分局、城西分局"  # due 7月15日前: past, nothing accepted
    assert hq["2.1"] == ("0/2（0%）", "")  # weekly, due at the campaign's end
    east = progress_cells(export(published, "xlsx", tmp_path, user=city["east_lead"], progress=True))
    assert east["1.1"] == ("1/2（50%）", "东湖派出所")  # 城关 and 东湖 only: 西山 is the other branch
    assert east["1.2"] == ("0/1（0%）", "城东分局")
    station = progress_cells(export(published, "xlsx", tmp_path, user=city["station_lead"], progress=True))
    assert station["1.1"] == ("1/1（100%）", "") and station["1.2"][0] == "0/0"


def test_progress_columns_take_one_query_each_whatever_the_items(published, city, tmp_path):
    """Without progress: the actions and the items. With it: one more query per column (the grants the
    scope reads aside, counted once), not one per item."""
    hq = city["hq"]
    checklist(published, user=hq, progress=True)  # the scope of the user is read (and kept) once

    def queries(**kwargs) -> int:
        with CaptureQueriesContext(connection) as seen:
            checklist(published, **kwargs)
        return len(seen)

    plain, with_progress = queries(), queries(user=hq, progress=True)
    assert (plain, with_progress) == (2, 4)
    more = [
        (h, [*rows, *[(f"{n}", f"任务{n}", "", "≥1起", "各派出所", "", "", "8月底前", "") for n in range(10, 30)]])
        for h, rows in PLAN
    ]
    import_plan(path=write_xlsx(tmp_path / "more.xlsx", more), publish=True, code=published.code)
    assert published.items.count() == 44
    assert (queries(), queries(user=hq, progress=True)) == (plain, with_progress)


# --- served: the page and the API ----------------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def get(client, user, url, **query):
    client.force_login(user)
    return client.get(url, query)


def assert_download(response, content_type: str, stem: str) -> bytes:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote(stem) in disposition, disposition
    return response.content


@pytest.mark.parametrize("url", ["/items/export/", "api"])
def test_served_as_a_download_with_a_chinese_name(published, city, client, tmp_path, url):
    url = f"/api/v1/campaigns/{published.pk}/checklist/" if url == "api" else url
    query = {"campaign": published.pk} if url == "/items/export/" else {}
    body = assert_download(get(client, city["station_lead"], url, **query), XLSX, f"{published.name}责任清单")
    (tmp_path / "got.xlsx").write_bytes(body)
    assert_reads_back(tmp_path / "got.xlsx", published)
    body = assert_download(
        get(client, city["station_lead"], url, **query, format="docx", progress="1"), DOCX, "责任清单（完成情况"
    )
    table = docx.Document(BytesIO(body)).tables[0]
    assert [c.text for c in table.rows[0].cells][-2:] == ["完成情况", "逾期单位"]


def test_the_items_page_links_to_the_export(published, city, client):
    page = get(client, city["station_lead"], "/items/", campaign=published.pk).content.decode()
    assert 'action="/items/export/"' in page and f'name="campaign" value="{published.pk}"' in page


def test_odd_parameters(published, city, client):
    hq = city["hq"]
    api = f"/api/v1/campaigns/{published.pk}/checklist/"
    assert get(client, hq, api, format="pdf").status_code == 400
    assert get(client, hq, api, progress="²").status_code == 400
    assert get(client, hq, api, format="json").status_code == 400  # not DRF's renderer: the file's format
    accept = client.get(api, {"format": "docx"}, HTTP_ACCEPT=DOCX)
    assert accept.status_code == 200 and accept["Content-Type"] == DOCX
    # the page picks: a malformed format or progress is left out (Excel, no progress); a malformed campaign: 404
    odd = get(client, hq, "/items/export/", campaign=published.pk, format="pdf", progress="²")
    assert odd.status_code == 200 and odd["Content-Type"] == XLSX
    assert load_workbook(BytesIO(odd.content)).active.max_column == 9
    for campaign in ("²", "", "0", "99999999999999999999"):
        assert get(client, hq, "/items/export/", campaign=campaign).status_code == 404


def test_a_draft_only_for_hq_managing_it_and_nothing_out_of_sight(city, client, tmp_path):
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx"), **OPTS)  # not published: a draft
    draft = Campaign.objects.get(code=CAMPAIGN["code"])
    api, ghost = f"/api/v1/campaigns/{draft.pk}/checklist/", "/api/v1/campaigns/2000000007/checklist/"
    assert get(client, city["hq"], api).status_code == 200
    assert get(client, city["hq"], "/items/export/", campaign=draft.pk).status_code == 200
    for name in ("station_lead", "east_lead", "inspector", "nobody"):
        response = get(client, city[name], api)
        assert response.status_code == 404, name
        assert response.json() == get(client, city[name], ghost).json()  # as if it did not exist
        assert get(client, city[name], "/items/export/", campaign=draft.pk).status_code == 404, name
