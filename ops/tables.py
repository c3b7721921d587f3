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

    def __str__(self) -> str:
        return f"{self.location}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"where": str(self.location), **self.location.as_dict(), "message": self.message}


class FileProblems(Exception):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


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
    path = Path(path)
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name)
    if suffix == ".docx":
        return _read_docx(path, name)
    if suffix in (".csv", ".txt"):
        return [_read_csv(path.read_bytes(), name)]
    raise FileProblems(
        [Problem(Location(name), f"不支持的文件类型“{suffix or '无扩展名'}”：应为 .xlsx、.docx 或 .csv")]
    )


def _read_xlsx(path: Path, name: str) -> list[Table]:
    from openpyxl import load_workbook

    try:
        # Not read-only: merged ranges are only available on a fully loaded sheet.
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileProblems(
            [Problem(Location(name), f"无法作为 Excel 文件打开（{exc.__class__.__name__}）：应为 .xlsx 格式")]
        ) from exc
    tables = []
    for sheet in book.worksheets:
        grid = [[clean(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        # A merged range shows its value in every cell it covers, as the user sees it.
        for rng in sheet.merged_cells.ranges:
            top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else None
            for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for c in range(rng.min_col - 1, rng.max_col):
                    if c < len(grid[r]):
                        grid[r][c] = top
        table = Table(sheet.title, "sheet", name)
        for i, cells in enumerate(grid, start=1):
            table.rows.append(Row(i, cells, Location(name, "sheet", sheet.title, i)))
        tables.append(table)
    return tables


def _read_docx(path: Path, name: str) -> list[Table]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise FileProblems(
            [Problem(Location(name), f"无法作为 Word 文件打开（{exc.__class__.__name__}）：应为 .docx 格式")]
        ) from exc
    tables = []
    for t_index, wt in enumerate(document.tables, start=1):
        table = Table(str(t_index), "table", name)
        for r_index, wrow in enumerate(wt.rows, start=1):
            # python-docx repeats a merged cell in every grid column it spans, like the merged
            # Excel cells above, so a section row reads as the same text across the row.
            cells = [clean(cell.text) for cell in wrow.cells]
            table.rows.append(Row(r_index, cells, Location(name, "table", str(t_index), r_index)))
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


def _read_csv(data: bytes, name: str) -> Table:
    text = decode_text(data, name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table = Table(name, "csv", name)
    reader = csv.reader(io.StringIO(text), dialect)
    start = 1
    for cells in reader:
        table.rows.append(Row(start, [clean(c) for c in cells], Location(name, "csv", "", start)))
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
