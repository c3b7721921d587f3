"""Build plan.xlsx and plan.docx from plan.yaml (demo seed data).

Usage (from /work/main):  .venv/bin/python seeds/build.py

The output is deterministic: document properties carry fixed dates and the
zip containers are rewritten with fixed timestamps, so re-running the script
on the same machine produces identical bytes.
"""

import datetime
import io
import math
import zipfile
from pathlib import Path

import yaml
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

HERE = Path(__file__).resolve().parent
PLAN = HERE / "plan.yaml"
XLSX = HERE / "plan.xlsx"
DOCX = HERE / "plan.docx"

FIXED_DT = datetime.datetime(2026, 6, 28, 9, 0, 0)
ZIP_DT = (2026, 6, 28, 9, 0, 0)
AUTHOR = "江城市公安局“百日行动”领导小组办公室"
CHIEF = "陈志远"  # 局长, 领导小组组长

# (header, key, xlsx width in characters, docx width in cm)
COLUMNS = [
    ("序号", "code", 6, 1.1),
    ("工作任务", "task", 20, 3.2),
    ("工作措施", "measures", 46, 6.4),
    ("量化指标", "target", 24, 3.6),
    ("牵头单位", "lead", 14, 2.2),
    ("配合单位", "cooperating", 18, 2.8),
    ("责任领导", "leader", 9, 1.5),
    ("完成时限", "deadline", 18, 2.7),
    ("验收标准", "acceptance", 22, 3.0),
    ("备注", "remark", 8, None),
]
LEADER_COL = [c[1] for c in COLUMNS].index("leader")


def load_plan():
    with open(PLAN, encoding="utf-8") as f:
        return yaml.safe_load(f)


def units_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return "、".join(value)


def item_values(item):
    vals = {}
    for _, key, _, _ in COLUMNS:
        v = item.get(key, "")
        if key in ("lead", "cooperating"):
            v = units_text(v)
        vals[key] = "" if v is None else str(v)
    return vals


def section_title(action):
    return f"{action['code']}、{action['name']}（分管领导：{action['leader']}）"


def leader_runs(items):
    """Yield (start, end) index ranges of consecutive items sharing a leader."""
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i].get("leader") != items[start].get("leader"):
            yield start, i - 1
            start = i


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip container with fixed timestamps and attributes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- xlsx


def est_lines(text, width):
    if not text:
        return 1
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, math.ceil(units / max(1, (width - 1))))


def build_xlsx(plan, path=XLSX):
    campaign = plan["campaign"]
    ncol = len(COLUMNS)
    last = get_column_letter(ncol)

    wb = Workbook()
    ws = wb.active
    ws.title = "责任清单"

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap_left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    body_font = Font(name="宋体", size=10)

    # row 1: title
    ws.cell(row=1, column=1, value=f"{campaign['name']}量化责任清单")
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36

    # row 2: header
    header_fill = PatternFill("solid", fgColor="D9D9D9")
    for c, (title, _, width, _) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=2, column=c, value=title)
        cell.font = Font(name="黑体", size=11, bold=True)
        cell.alignment = wrap_center
        cell.border = border
        cell.fill = header_fill
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.row_dimensions[2].height = 24

    section_fill = PatternFill("solid", fgColor="F2F2F2")
    row = 3
    for action in plan["actions"]:
        # section row
        ws.cell(row=row, column=1, value=section_title(action))
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        for c in range(1, ncol + 1):
            cell = ws.cell(row=row, column=c)
            cell.border = border
            cell.fill = section_fill
        ws.cell(row=row, column=1).font = Font(name="黑体", size=11, bold=True)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="left", vertical="center")
        ws.row_dimensions[row].height = 22
        row += 1

        items = action["items"]
        first_row = row
        for item in items:
            vals = item_values(item)
            lines = 1
            for c, (_, key, width, _) in enumerate(COLUMNS, start=1):
                cell = ws.cell(row=row, column=c, value=vals[key])
                if key == "code":
                    cell.number_format = "@"  # dotted code stays text
                cell.font = body_font
                cell.border = border
                cell.alignment = wrap_center if key in ("code", "leader", "deadline") else wrap_left
                if key != "leader":
                    lines = max(lines, est_lines(vals[key], width))
            ws.row_dimensions[row].height = max(30, lines * 13.5 + 6)
            row += 1

        # vertical merge of 责任领导 for consecutive identical leaders
        col = LEADER_COL + 1
        for s, e in leader_runs(items):
            if e > s:
                for r in range(first_row + s + 1, first_row + e + 1):
                    ws.cell(row=r, column=col).value = None
                ws.merge_cells(start_row=first_row + s, start_column=col, end_row=first_row + e, end_column=col)
                for r in range(first_row + s, first_row + e + 1):
                    ws.cell(row=r, column=col).border = border
                ws.cell(row=first_row + s, column=col).alignment = wrap_center

    ws.freeze_panes = "A3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True

    props = wb.properties
    props.creator = AUTHOR
    props.lastModifiedBy = AUTHOR
    props.title = f"{campaign['name']}量化责任清单"
    props.created = FIXED_DT
    props.modified = FIXED_DT

    buf = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook() would stamp "modified" with now()
    writer = ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED))
    writer.save()
    path.write_bytes(normalise_zip(buf.getvalue()))


# --------------------------------------------------------------------------- docx


def set_run_font(run, east_asia, size=None, bold=None, latin="Times New Roman"):
    run.font.name = latin
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold


def add_text_paragraph(doc, text, east_asia="仿宋_GB2312", size=16, bold=False, align=None, indent=True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.line_spacing = Pt(28)
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    set_run_font(p.add_run(text), east_asia, size, bold)
    return p


def write_cell(cell, text, bold=False, align=WD_ALIGN_PARAGRAPH.LEFT, size=9):
    p = cell.paragraphs[0]  # fresh cells hold one empty paragraph
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    if text:
        set_run_font(p.add_run(text), "黑体" if bold else "宋体", size, bold)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def mark_header_row(row):
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def build_docx(plan, path=DOCX):
    campaign = plan["campaign"]
    actions = plan["actions"]
    n_items = sum(len(a["items"]) for a in actions)
    cols = [c for c in COLUMNS if c[3] is not None]  # no 备注 in the Word table

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)

    start, end = campaign["start"], campaign["end"]
    add_text_paragraph(
        doc, f"{campaign['name']}实施方案", "方正小标宋简体", 22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False
    )
    add_text_paragraph(doc, "")
    add_text_paragraph(
        doc,
        f"为深入贯彻落实上级公安机关关于夏季治安打击整治“百日行动”的部署要求，全力维护全市社会大局"
        f"安全稳定，市局决定自{start.year}年{start.month}月{start.day}日至{end.month}月{end.day}日"
        f"在全市公安机关开展夏季治安打击整治“百日行动”。结合我市实际，制定本方案。",
    )
    add_text_paragraph(doc, "一、指导思想", "黑体", 16)
    names = "".join(f"“{a['name'].split('”')[0].lstrip('“')}”" for a in actions)
    add_text_paragraph(
        doc,
        f"坚持以人民为中心的发展思想，坚持总体国家安全观，紧紧围绕“百日行动”目标任务，以{names}"
        f"{'一二三四五六七八九十'[len(actions) - 1]}大行动为抓手，重拳打击突出违法犯罪，"
        "铁腕整治社会治安乱象，攻坚化解各类安全隐患，"
        f"全面净化社会治安环境，不断提升人民群众安全感和满意度。",
    )
    add_text_paragraph(doc, "二、工作目标", "黑体", 16)
    add_text_paragraph(
        doc,
        "通过开展“百日行动”，全市刑事、治安警情同比分别下降15%、20%以上，八类严重暴力犯罪案件"
        "破案率达到95%以上，挂牌整治治安乱点摘牌率达到90%以上，较大道路交通事故和有重大影响的案事件"
        f"“零发生”。附件量化责任清单共{n_items}项，逐项明确牵头单位、配合单位、责任领导和完成时限，"
        "逐级压实、层层传导，确保行动取得实效。",
    )
    add_text_paragraph(doc, "三、组织领导", "黑体", 16)
    add_text_paragraph(
        doc,
        f"成立由市局局长{CHIEF}任组长、各副局长任副组长的“百日行动”工作领导小组，领导小组办公室设在"
        "指挥中心，负责统筹协调、督导检查和战果统计。各项行动由分管局领导牵头负责，各单位每周五前向"
        "领导小组办公室报送工作进展。",
    )

    # attachment on a landscape section
    land = doc.add_section()
    land.orientation = WD_ORIENT.LANDSCAPE
    land.page_width, land.page_height = Cm(29.7), Cm(21.0)
    land.top_margin = land.bottom_margin = Cm(2.0)
    land.left_margin = land.right_margin = Cm(1.5)

    heading = doc.add_heading(level=1)
    heading.paragraph_format.space_after = Pt(6)
    run = heading.add_run("附件：量化责任清单")
    set_run_font(run, "黑体", 16, True)
    run.font.color.rgb = RGBColor(0, 0, 0)

    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(c[3]) for c in cols]

    hdr = table.rows[0]
    mark_header_row(hdr)
    for i, (title, _, _, _) in enumerate(cols):
        write_cell(hdr.cells[i], title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=10)

    for action in actions:
        row = table.add_row()
        merged = row.cells[0].merge(row.cells[-1])
        write_cell(merged, section_title(action), bold=True, size=10)

        items = action["items"]
        first = len(table.rows)
        for n, item in enumerate(items, start=1):
            vals = item_values(item)
            vals["code"] = str(n)  # plain numbers restarting in every section
            cells = table.add_row().cells
            for i, (_, key, _, _) in enumerate(cols):
                text = vals[key]
                center = key in ("code", "leader", "deadline")
                if key == "leader" and n - 1 > 0 and items[n - 2].get("leader") == item.get("leader"):
                    text = ""  # value only in the top cell of a merged run
                write_cell(cells[i], text, align=WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT)
        for s, e in leader_runs(items):
            if e > s:
                top = table.cell(first + s, LEADER_COL)
                top.merge(table.cell(first + e, LEADER_COL))

    for i, col in enumerate(table.columns):
        col.width = widths[i]
    for row in table.rows:  # per-cell widths; a spanning cell gets the sum of its columns
        grid = 0
        for tc in row._tr.tc_lst:
            span = tc.grid_span
            tc.width = sum(widths[grid : grid + span], Cm(0))
            grid += span

    cp = doc.core_properties
    cp.author = AUTHOR
    cp.last_modified_by = AUTHOR
    cp.title = f"{campaign['name']}实施方案"
    cp.subject = "量化责任清单"
    cp.comments = ""
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.last_printed = FIXED_DT
    cp.revision = 1

    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(normalise_zip(buf.getvalue()))


def main():
    plan = load_plan()
    build_xlsx(plan)
    build_docx(plan)
    n = sum(len(a["items"]) for a in plan["actions"])
    print(
        f"wrote {XLSX.relative_to(HERE.parent)} and {DOCX.relative_to(HERE.parent)}: "
        f"{len(plan['actions'])} actions, {n} items"
    )


if __name__ == "__main__":
    main()
