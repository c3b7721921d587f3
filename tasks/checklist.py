"""A campaign's checklist (责任清单) as the office files it: XLSX or DOCX, laid out as plans are imported.

A title, the header row (the plan template's: 序号, 工作任务, 工作措施, 量化指标, 牵头单位, 配合单位,
责任领导, 完成时限, 验收标准), then per line of action a section row spanning the table
(``一、“清患”行动（分管领导：王建国）``) and its items. So the file reads back through ``import_plan``
into the same items, and a re-import of it changes nothing (``docs/plan-format.md``, "Export").

With ``progress``, two more columns that the reader does not know and leaves alone: each item's
completion over the assignments in the user's scope (accepted/total and its percentage) and the units
with overdue work, as an office lists them (、-separated). They come from ``queries.checklist_progress``:
one query per column, whatever the number of items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

import docx
from django.http import HttpResponse
from django.utils import timezone
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from utilities import office
from utilities.cn import cn_date, cn_percent
from utilities.uploads import OOXML, download, safe_name

from .models import DIRECTIVE_LINE, Campaign, Item, LineOfAction
from .planfile.reader import FIELD_LABELS
from .planfile.template import COLUMNS as TEMPLATE_COLUMNS
from .queries import checklist_progress

FORMATS = ("xlsx", "docx")
CONTENT_TYPES = {extension.lstrip("."): content_type for content_type, extension in OOXML.values()}
# the plan template's columns, so that an exported checklist re-imported changes nothing (measures and
# acceptance criteria included: left out, a re-import of an edited export would empty them)
COLUMNS = TEMPLATE_COLUMNS
PROGRESS_COLUMNS = ("完成情况", "逾期单位")
# widths: Excel's characters; Word's share of the landscape A4 table
WIDTHS = {
    "code": 6,
    "task": 22,
    "measures": 34,
    "target": 20,
    "lead": 16,
    "cooperating": 18,
    "leader": 9,
    "deadline": 14,
    "acceptance": 20,
}
PROGRESS_WIDTHS = (14, 24)
BODY_FONT, TITLE_FONT, HEADER_FONT = "仿宋", "宋体", "黑体"  # installed with every Chinese Windows and WPS


@dataclass
class Row:
    """One item as the checklist shows it, with its progress cells when asked for."""

    item: Item
    progress: tuple[str, str] | None = None

    def cells(self) -> list[str]:
        it = self.item
        fields = {
            "code": it.code,
            "task": it.title,
            "measures": it.measures,
            "target": it.target_text,
            "lead": it.lead_text,
            "cooperating": it.cooperating_text,
            "leader": it.leader_name,
            "deadline": it.deadline_text,
            "acceptance": it.acceptance,
        }
        return [fields[c] for c in COLUMNS] + list(self.progress or ())


@dataclass
class Section:
    action: LineOfAction
    rows: list[Row]

    @property
    def heading(self) -> str:
        """一、“清患”行动（分管领导：王建国）: the section row the reader takes for this line of action."""
        a = self.action
        number = cn_ordinal(int(a.code)) if a.code.isascii() and a.code.isdigit() else a.code
        return f"{number}、{a.name}" + (f"（分管领导：{a.leader_name}）" if a.leader_name else "")


@dataclass
class Checklist:
    campaign: Campaign
    sections: list[Section]
    progress_on: date | None  # the day the progress columns were counted, None without them

    @property
    def title(self) -> str:
        return f"{self.campaign.name}责任清单"

    @property
    def subtitle(self) -> str:
        return f"（完成情况统计截至{cn_date(self.progress_on)}）" if self.progress_on else ""

    @property
    def header(self) -> list[str]:
        return [FIELD_LABELS[c] for c in COLUMNS] + (list(PROGRESS_COLUMNS) if self.progress_on else [])

    def filename(self, kind: str) -> str:
        stem = self.title + (f"（完成情况{self.progress_on:%Y%m%d}）" if self.progress_on else "")
        return safe_name(f"{stem}.{kind}")


def cn_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九: section numbers as the reader takes them."""
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + ("十" if tens else "") + (digits[ones] if ones else "")


def completion(counts: dict | None) -> str:
    """3/12（25%）: accepted of all the assignments counted; 0/0 when none is in scope."""
    accepted, total = (counts["accepted"], counts["total"]) if counts else (0, 0)
    return f"{accepted}/{total}" + (f"（{cn_percent(100 * accepted / total)}）" if total else "")


def checklist(campaign: Campaign, *, user=None, progress: bool = False, today: date | None = None) -> Checklist:
    """The campaign's lines of action and active items, in the plan's order; with ``progress``, each
    item's completion and overdue units over ``user``'s scope."""
    today = today or timezone.localdate()
    counts, overdue = checklist_progress(campaign, user, today) if progress else ({}, {})
    lines = campaign.actions.exclude(code=DIRECTIVE_LINE)  # the directives' line is not the plan's
    sections = {a.pk: Section(a, []) for a in lines.order_by("seq", "code")}
    for it in campaign.items.in_plan().filter(is_active=True).order_by("seq", "code"):
        cells = (completion(counts.get(it.pk)), "、".join(overdue.get(it.pk, ()))) if progress else None
        sections[it.action_id].rows.append(Row(it, cells))
    return Checklist(campaign, list(sections.values()), today if progress else None)


# --- XLSX ------------------------------------------------------------------------------------------


def xlsx_bytes(sheet_data: Checklist) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "责任清单"
    header = sheet_data.header
    width = len(header)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    body_font = Font(name=BODY_FONT, size=11)

    def spanning(text: str, font: Font, alignment: Alignment) -> None:
        sheet.append([text])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.cell(row, 1).font, sheet.cell(row, 1).alignment = font, alignment

    spanning(sheet_data.title, Font(name=TITLE_FONT, size=16, bold=True), Alignment(horizontal="center"))
    if sheet_data.subtitle:
        spanning(sheet_data.subtitle, Font(name=BODY_FONT, size=11), Alignment(horizontal="center"))
    sheet.append(header)
    header_row = sheet.max_row
    headings = set()
    for section in sheet_data.sections:
        spanning(section.heading, Font(name=HEADER_FONT, size=11, bold=True), Alignment(vertical="center"))
        headings.add(sheet.max_row)
        for row in section.rows:
            sheet.append([value or None for value in row.cells()])
    for row in sheet.iter_rows(min_row=header_row, max_row=sheet.max_row, max_col=width):
        for cell in row:
            cell.border = border
            cell.number_format = "@"  # codes such as 3.10 stay text, not the number 3.1
            if cell.row == header_row:
                cell.font, cell.fill = Font(name=HEADER_FONT, bold=True), PatternFill("solid", fgColor="DDEBF7")
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            elif cell.row not in headings:
                cell.font, cell.alignment = body_font, wrap
    widths = [WIDTHS[c] for c in COLUMNS] + list(PROGRESS_WIDTHS[: width - len(COLUMNS)])
    for index, value in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(header_row, index).column_letter].width = value
    sheet.freeze_panes = sheet.cell(header_row + 1, 1).coordinate
    sheet.print_title_rows = f"{header_row}:{header_row}"  # the header on every printed page
    sheet.page_setup.orientation, sheet.page_setup.paperSize = "landscape", sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return office.workbook_bytes(book)


# --- DOCX ------------------------------------------------------------------------------------------


def _font(run, name: str, size: float, *, bold: bool = False) -> None:
    """``name`` for Latin and East Asian text alike (Word picks the East Asian font for Chinese)."""
    run.font.name, run.font.size, run.font.bold = name, Pt(size), bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _row_property(row, tag: str) -> None:
    element = OxmlElement(tag)
    element.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(element)


def _write(cell, text: str, *, font: str = BODY_FONT, size: float = 10.5, bold: bool = False, center=False) -> None:
    """``text`` into ``cell``, a paragraph per line (read back joined by new lines, as it was written)."""
    for n, line in enumerate(str(text or "").split("\n")):
        paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(paragraph.add_run(line), font, size, bold=bold)


def docx_bytes(sheet_data: Checklist) -> bytes:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = BODY_FONT, Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(sheet_data.title), TITLE_FONT, 18, bold=True)
    if sheet_data.subtitle:
        line = document.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(line.add_run(sheet_data.subtitle), BODY_FONT, 12)

    header = sheet_data.header
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    shares = [WIDTHS[c] for c in COLUMNS] + list(PROGRESS_WIDTHS[: len(header) - len(COLUMNS)])
    usable = section.page_width - section.left_margin - section.right_margin
    widths = [int(usable * share / sum(shares)) for share in shares]
    for column, value in zip(table.columns, widths, strict=True):
        column.width = value
    first = table.rows[0]
    _row_property(first, "w:tblHeader")  # repeated at the top of every page
    for cell, text, value in zip(first.cells, header, widths, strict=True):
        cell.width = value
        _write(cell, text, font=HEADER_FONT, bold=True, center=True)
    for sec in sheet_data.sections:
        row = table.add_row()
        _row_property(row, "w:cantSplit")
        merged = row.cells[0].merge(row.cells[-1])  # the section row spans the table
        merged.width = sum(widths)
        _write(merged, sec.heading, font=HEADER_FONT, bold=True)
        for item_row in sec.rows:
            row = table.add_row()
            _row_property(row, "w:cantSplit")  # an item is not cut across two pages
            for n, (cell, text, value) in enumerate(zip(row.cells, item_row.cells(), widths, strict=True)):
                cell.width = value
                _write(cell, text, center=n == 0)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def checklist_response(campaign: Campaign, *, user, kind: str, progress: bool) -> HttpResponse:
    """The checklist as a download; the caller has checked that ``user`` may see ``campaign``."""
    data = checklist(campaign, user=user, progress=progress)
    body = xlsx_bytes(data) if kind == "xlsx" else docx_bytes(data)
    response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
    return download(response, data.filename(kind), fallback=f"checklist.{kind}")
