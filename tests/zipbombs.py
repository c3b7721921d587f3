"""Office files built to hurt a reader: a sheet of many identical rows that compresses to almost
nothing (a "zip bomb"), a sheet that claims a huge size, a Word file of a huge table. Each is a valid
file a parser would open, so only the gate (utilities/office.py) stands in the way."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document
from openpyxl import Workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)), zipfile.ZIP_DEFLATED, 9)
    return out.getvalue()


def xlsx(header: tuple[str, ...], rows: bytes, *, dimension: str = "") -> bytes:
    """A workbook whose first sheet is ``header`` then the raw ``<row>`` XML ``rows``."""
    book = Workbook()
    book.active.title = "战果"
    buffer = io.BytesIO()
    book.save(buffer)
    cells = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in header)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}<sheetData><row r="1">{cells}</row>'
    sheet = sheet.encode() + rows + b"</sheetData></worksheet>"
    return _rezip(buffer.getvalue(), {"xl/worksheets/sheet1.xml": sheet})


STATS_HEADER = ("日期", "出动警力（人次）", "检查场所（家次）")


def sheet_bomb(rows: int = 200_000, header: tuple[str, ...] = STATS_HEADER) -> bytes:
    """The tester's file: about 64 KB that unpacks to a 16 MB sheet of ``rows`` identical rows."""
    row = b'<row><c t="inlineStr"><is><t>2026-07-02</t></is></c><c><v>1</v></c><c><v>2</v></c></row>'
    return xlsx(header, row * rows)


def docx_bomb(rows: int = 60_000) -> bytes:
    """A Word file whose one table has ``rows`` identical rows (each a few cells)."""
    document = Document()
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ("序号", "工作任务", "牵头单位", "完成时限"), strict=True):
        cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        body = z.read("word/document.xml")
    row = b"<w:tr>" + b"<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>" * 4 + b"</w:tr>"
    end = body.index(b"</w:tbl>")
    return _rezip(buffer.getvalue(), {"word/document.xml": body[:end] + row * rows + body[end:]})


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
