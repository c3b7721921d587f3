"""Reading the tables offices write (XLSX sheets, Word tables, CSV) into plain rows with locations.

Both importers (units, plans) use this: it knows file formats, merged cells, encodings, header
rows with synonyms, and how to say *where* something is the way the user's program shows it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import office
from .errors import Refused

Cell = str | date | None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as Excel labels columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Location:
    """Where a value sits in the user's file, described as their program shows it."""

    file: str
    kind: str = ""  # "sheet" | "table" | "csv" | "yaml" | "json" | ""
    table: str = ""  # sheet name, or the Word table's number
    row: int | None = None  # 1-based, as Excel / Word / the CSV line shows it
    column: int | None = None  # 0-based index
    label: str = ""  # the header of that column, or a key path in YAML/JSON

    def at(self, *, column: int | None = None, label: str = "") -> Location:
        return Location(self.file, self.kind, self.table, self.row, column, label)

    def __str__(self) -> str:
        parts = [self.file]
        if self.kind == "sheet":
            parts.append(f"工作表“{self.table}”")
        elif self.kind == "table":
            parts.append(f"第{self.table}个表格")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column is not None:
            col = column_letter(self.column) + "列" if self.kind in ("sheet", "csv") else f"第{self.column + 1}列"
            parts.append(f"{col}（{self.label}）" if self.label else col)
        elif self.label:
            parts.append(self.label)
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet" if self.kind == "sheet" else "table": self.table or None,
            "row": self.row,
            "column": column_letter(self.column) if self.column is not None else None,
            "field": self.label or None,
        }


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where, and what was expected."""

    location: Location
    message: str
    text: str = ""  # the offending cell's text as written, where one cell is at fault (shown beside it)

    def __str__(self) -> str:
        return f"{self.location}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        found = {"where": str(self.location), **self.location.as_dict(), "message": self.message}
        return {**found, "text": self.text} if self.text else found


class FileProblems(Refused):
    """Raised with every problem found; nothing has been written. The API answers every problem located."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def payload(self) -> dict[str, Any]:
        return {"problems": [p.as_dict() for p in self.problems]}


@dataclass
class Row:
    number: int
    cells: list[Cell]
    location: Location

    def is_blank(self) -> bool:
        return all(c in (None, "") for c in self.cells)


@dataclass
class Table:
    name: str
    kind: str
    file: str
    rows: list[Row] = field(default_factory=list)


def clean(value: Any) -> Cell:
    """Cell text as offices mean it: full-width spaces folded, numbers without a stray '.0'."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).replace("\u3000", " ").replace("\xa0", " ").strip()
    return text or None


def normalise_header(text: Cell) -> str:
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s*＊:：()（）\[\]【】]", "", text).lower()


# --- readers -------------------------------------------------------------------------------


def read_tables(path: Path | str, *, display_name: str | None = None) -> list[Table]:
    """Every table of the file at ``path``; an Office file passes ``utilities.office``'s gate before any
    parser opens it, and every reader counts the cells it makes against the same limit."""
    path = Path(path)
    name = display_name or path.name
    suffix = path.suffix.lower()
    readers = {".xlsx": _read_xlsx, ".xlsm": _read_xlsx, ".docx": _read_docx}
    try:
        if suffix in readers:
            office.check_tables(path)
            return readers[suffix](path, name, office.Cells())
        if suffix in (".csv", ".txt"):
            return [_read_csv(path.read_bytes(), name, office.Cells())]
    except office.OfficeRefused as exc:
        raise FileProblems([Problem(Location(name), str(exc))]) from exc
    raise FileProblems(
        [Problem(Location(name), f"不支持的文件类型“{suffix or '无扩展名'}”：应为 .xlsx、.docx 或 .csv")]
    )


def _read_xlsx(path: Path, name: str, cells: office.Cells) -> list[Table]:
    """Read-only (streaming) mode: rows come from the sheet's XML as it is parsed, so the memory is
    that of the rows kept, not of openpyxl's cell objects; merged ranges are read from the XML apart."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise office.not_readable(path.suffix) from exc
    try:
        return [_sheet_table(sheet, name, cells) for sheet in book.worksheets]
    except office.OfficeRefused:
        raise
    except Exception as exc:  # a damaged sheet shows only once it is read
        raise office.not_readable(path.suffix) from exc
    finally:
        book.close()


def _sheet_table(sheet, name: str, cells: office.Cells) -> Table:
    sheet.reset_dimensions()  # the stated size may lie: rows are as long as their last cell
    grid: list[list[Cell]] = []
    for row in sheet.iter_rows(values_only=True):
        cells.take(len(row))
        grid.append([clean(v) for v in row])
    width = max((len(row) for row in grid), default=0)  # every row as wide as the sheet, as Excel shows it
    # A merged range shows its value in every cell it covers, as the user sees it (within the sheet's
    # width: a title merged across a whole row adds no columns).
    for rng in _merged_ranges(sheet):
        if rng.min_row > len(grid) or rng.min_col > width:
            continue
        first = grid[rng.min_row - 1]
        top = first[rng.min_col - 1] if rng.min_col - 1 < len(first) else None
        last = min(rng.max_col, width)
        for row in grid[rng.min_row - 1 : rng.max_row]:
            if len(row) < last:
                cells.take(last - len(row))
                row.extend([None] * (last - len(row)))
            row[rng.min_col - 1 : last] = [top] * (last - rng.min_col + 1)
    for row in grid:
        if len(row) < width:
            cells.take(width - len(row))
            row.extend([None] * (width - len(row)))
    table = Table(sheet.title, "sheet", name)
    for i, values in enumerate(grid, start=1):
        table.rows.append(Row(i, values, Location(name, "sheet", sheet.title, i)))
    return table


def _merged_ranges(sheet) -> list:
    """The merged ranges of a read-only sheet (openpyxl keeps none in that mode), streamed from its XML."""
    from openpyxl.worksheet.cell_range import CellRange
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    tag = f"{{{SHEET_MAIN_NS}}}mergeCell"
    ranges = []
    with sheet._get_source() as source:
        for _event, element in iterparse(source):
            if element.tag == tag and element.get("ref"):
                ranges.append(CellRange(element.get("ref")))
            element.clear()  # as openpyxl's own parser does: only empty shells stay
    return ranges


def _read_docx(path: Path, name: str, cells: office.Cells) -> list[Table]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise office.not_readable(path.suffix) from exc
    tables = []
    for t_index, wt in enumerate(document.tables, start=1):
        table = Table(str(t_index), "table", name)
        for r_index, wrow in enumerate(wt.rows, start=1):
            # python-docx repeats a merged cell in every grid column it spans, like the merged
            # Excel cells above, so a section row reads as the same text across the row.
            found = wrow.cells
            cells.take(len(found))
            texts = [clean(cell.text) for cell in found]
            table.rows.append(Row(r_index, texts, Location(name, "table", str(t_index), r_index)))
        tables.append(table)
    return tables


def decode_text(data: bytes, name: str) -> str:
    # Excel on Chinese Windows saves CSV as GBK; everything else is UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblems([Problem(Location(name), "无法识别文件编码：应为 UTF-8 或 GBK 编码的文本")])


def _read_csv(data: bytes, name: str, cells: office.Cells) -> Table:
    text = decode_text(data, name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table = Table(name, "csv", name)
    reader = csv.reader(io.StringIO(text), dialect)
    start = 1
    for values in reader:
        cells.take(len(values))
        table.rows.append(Row(start, [clean(c) for c in values], Location(name, "csv", "", start)))
        start = reader.line_num + 1
    return table


# --- headers -------------------------------------------------------------------------------


@dataclass
class Header:
    row: Row
    columns: dict[str, int]  # field -> column index
    labels: dict[str, str]  # field -> header text as written


def find_header(
    table: Table, synonyms: dict[str, Iterable[str]], required: Iterable[str], *, scan: int = 10
) -> Header | None:
    """The first row among the first ``scan`` that names every required field.

    Rows above it (titles, dates, issuing office) are skipped.
    """
    lookup = {normalise_header(word): fld for fld, words in synonyms.items() for word in (*words, fld)}
    required = set(required)
    for row in table.rows[:scan]:
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, cell in enumerate(row.cells):
            fld = lookup.get(normalise_header(cell))
            if fld and fld not in columns:
                columns[fld] = index
                labels[fld] = str(cell)
        if required <= columns.keys():
            return Header(row, columns, labels)
    return None


def describe_headers(synonyms: dict[str, Iterable[str]], fields: Iterable[str]) -> str:
    return "、".join("/".join(list(synonyms[f])[:2]) for f in fields)
