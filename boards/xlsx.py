"""The one way the boards write spreadsheets (openpyxl): a titled table laid out the way HQ offices
print them — a merged title, a subtitle (统计时间、制表单位), a framed header row repeated on every
printed page, the data with each column's number format, a bold totals row, landscape, fit to width.

A workbook made with ``Workbook(write_only=True)`` gets the same table streamed (``_streamed``): each
row goes to a temporary file as it is made and only the row being written is in memory, so the
ledger's 114,000 rows no longer hold 600 MB; the look is the same (title, frame, formats, widths,
print setup), only images need normal mode (the battle board's chart).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from utilities import office

# number formats
INTEGER = "#,##0"
PERCENT = "0.0%"
CN_DATE = 'yyyy"年"m"月"d"日"'
TEXT = "@"

FONT = "宋体"  # what the offices' templates use; Excel and WPS fall back to any CJK font
_thin = Side(style="thin", color="808080")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TITLE_FONT = Font(name=FONT, size=16, bold=True)
SUBTITLE_FONT = Font(name=FONT, size=10)
HEADER_FONT = Font(name=FONT, size=11, bold=True)
BODY_FONT = Font(name=FONT, size=10)
TOTAL_FONT = Font(name=FONT, size=10, bold=True)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="center", wrap_text=True)
NUMBER = Alignment(horizontal="right", vertical="center")


@dataclass
class Column:
    header: str
    width: float
    number_format: str = "General"
    key: str | None = None  # for rows given as mappings: the value's key


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return _BAD_SHEET_CHARS.sub("_", name).strip("'")[:31] or "Sheet"


def _fresh(book: Workbook) -> Worksheet:
    """The workbook's untouched default sheet, else a new one."""
    ws = book.active
    if len(book.worksheets) == 1 and ws is not None and not ws._cells and not ws.merged_cells.ranges:
        return ws
    return book.create_sheet()


def _value(row: Sequence[Any] | Mapping[str, Any], index: int, column: Column) -> Any:
    if isinstance(row, Mapping):
        return row.get(column.key) if column.key else None
    return row[index] if index < len(row) else None


def sheet(
    book: Workbook,
    *,
    title: str,
    subtitle: str = "",
    columns: list[Column],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    totals: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
    name: str = "Sheet",
) -> Worksheet:
    """Write one titled table on a new sheet of ``book`` (the default empty sheet is reused).

    ``rows`` may be a generator: it is consumed once, row by row. Rows are lists in column order, or
    mappings read by each column's ``key``. ``totals`` is a row, or a function giving it once the rows
    are written (for counts made while streaming them).
    """
    if book.write_only:
        return _streamed(book, title=title, subtitle=subtitle, columns=columns, rows=rows, totals=totals, name=name)
    ws = _fresh(book)
    ws.title = _sheet_title(name)
    width = len(columns)
    last = get_column_letter(width)

    ws.append([title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font, ws["A1"].alignment = TITLE_FONT, CENTRE
    ws.row_dimensions[1].height = 30
    header_row = 2
    if subtitle:
        ws.append([subtitle])
        ws.merge_cells(f"A2:{last}2")
        ws["A2"].font, ws["A2"].alignment = SUBTITLE_FONT, Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[2].height = 20
        header_row = 3

    ws.append([c.header for c in columns])
    for cell in ws[header_row]:
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTRE
    ws.freeze_panes = f"A{header_row + 1}"

    formats = [c.number_format for c in columns]
    aligns = [WRAP if f in ("General", TEXT) else NUMBER for f in formats]

    at = header_row
    styled: dict[int, list] = {}  # per font: each column's style, set once and then copied (5× faster)

    def put(row: Sequence[Any] | Mapping[str, Any], font: Font) -> None:
        nonlocal at
        at += 1
        cells = [ws.cell(row=at, column=i + 1, value=_value(row, i, c)) for i, c in enumerate(columns)]
        if id(font) in styled:
            for cell, style in zip(cells, styled[id(font)], strict=True):
                cell._style = copy(style)
            return
        for cell, fmt, align in zip(cells, formats, aligns, strict=True):
            cell.number_format, cell.font, cell.border, cell.alignment = fmt, font, BORDER, align
        styled[id(font)] = [cell._style for cell in cells]

    for row in rows:
        put(row, BODY_FONT)
    if totals is not None:
        put(totals() if callable(totals) else totals, TOTAL_FONT)

    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    _print_setup(ws, header_row)
    return ws


def _print_setup(ws, header_row: int) -> None:
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True


def _streamed(
    book: Workbook,
    *,
    title: str,
    subtitle: str,
    columns: list[Column],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    totals: Sequence[Any] | Callable[[], Sequence[Any]] | None,
    name: str,
):
    """``sheet`` on a write-only workbook: what normal mode sets on the sheet is set before the first
    row (widths, frozen panes, heights), the merges and print setup are written at the end, and each
    cell is a ``WriteOnlyCell`` carrying its style (an empty one too: its frame)."""
    ws = book.create_sheet(_sheet_title(name))
    last = get_column_letter(len(columns))
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    header_row = 3 if subtitle else 2
    ws.freeze_panes = f"A{header_row + 1}"
    _print_setup(ws, header_row)  # before the first row: the sheet's properties (fit to page) go first

    def styled(value: Any, **style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value)
        for attribute, setting in style.items():
            setattr(cell, attribute, setting)
        return office.text_cell(cell)

    ws.row_dimensions[1].height = 30
    ws.append([styled(title, font=TITLE_FONT, alignment=CENTRE)])
    ws.merged_cells.add(f"A1:{last}1")
    if subtitle:
        ws.row_dimensions[2].height = 20
        centred = Alignment(horizontal="center", vertical="center")
        ws.append([styled(subtitle, font=SUBTITLE_FONT, alignment=centred)])
        ws.merged_cells.add(f"A2:{last}2")
    ws.append([styled(c.header, font=HEADER_FONT, fill=HEADER_FILL, border=BORDER, alignment=CENTRE) for c in columns])

    formats = [c.number_format for c in columns]
    aligns = [WRAP if f in ("General", TEXT) else NUMBER for f in formats]
    kept: dict[int, list] = {}  # per font: each column's style, made once and copied (as ``sheet``)

    def put(row: Sequence[Any] | Mapping[str, Any], font: Font) -> None:
        values = [_value(row, i, c) for i, c in enumerate(columns)]
        if id(font) not in kept:
            kept[id(font)] = [
                styled(None, number_format=fmt, font=font, border=BORDER, alignment=align)._style
                for fmt, align in zip(formats, aligns, strict=True)
            ]
        cells = []
        for value, style in zip(values, kept[id(font)], strict=True):
            cell = WriteOnlyCell(ws, value)
            cell._style = copy(style)
            cells.append(office.text_cell(cell))
        ws.append(cells)

    for row in rows:
        put(row, BODY_FONT)
    if totals is not None:
        put(totals() if callable(totals) else totals, TOTAL_FONT)
    return ws


def image(ws: Worksheet, png_bytes: bytes, anchor: str) -> Image:
    """Place a PNG (e.g. a chart) with its top-left corner at ``anchor`` ("H3")."""
    picture = Image(BytesIO(png_bytes))
    ws.add_image(picture, anchor)
    return picture


def workbook_bytes(book: Workbook) -> bytes:
    """The file, every text cell written as text (``utilities.office``: no formula from a unit's name)."""
    return office.workbook_bytes(book)
