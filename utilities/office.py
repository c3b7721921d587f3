"""Office files in and out, the one place for their two risks.

In: an .xlsx or .docx is a zip, and a zip of 64 KB may unpack to gigabytes (a "zip bomb"), or to a
sheet of millions of cells that holds a server process for a minute. Every Office file the system
opens (a statistics sheet, a plan, a unit list) or accepts (evidence) passes ``check_archive`` first:
what it unpacks to in all (``OFFICE_MAX_EXPANDED_BYTES``) and per part (``OFFICE_MAX_MEMBER_BYTES``),
and how far it expands (``OFFICE_MAX_RATIO``), from the zip's directory (Python's zipfile never
inflates a part past its declared size). A file about to be parsed passes ``check_tables`` too: its
XML parts are inflated as a stream, never held, and their cells and rows counted against
``OFFICE_MAX_CELLS``; the readers then read in streaming mode and count what they make (``Cells``).

Out: a text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel, WPS
and LibreOffice take for a formula (OWASP's CSV-injection rule): a unit renamed
``=HYPERLINK("http://x","y")`` must come out of every export as that text. Every workbook the system
writes is turned into bytes by ``workbook_bytes``, which stores such a cell as a string with Excel's
"quote prefix" (what typing ``'=…`` does): shown as written, and kept text when edited.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from io import BytesIO
from pathlib import Path
from typing import IO

from django.conf import settings
from openpyxl import Workbook

from .errors import Refused

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def reads_as_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def as_text(book: Workbook) -> Workbook:
    """Every text cell of ``book`` that a spreadsheet would evaluate (a formula, an error code such as
    ``#N/A``, a leading sign …) made plain text. The system writes no formulas of its own."""
    for ws in book.worksheets:
        for cell in ws._cells.values():  # the cells that exist; iter_rows would create the empty ones
            text_cell(cell)
    return book


def text_cell(cell):
    """``as_text`` for one cell; a write-only sheet's cells pass here as they are written."""
    value = cell._value
    if isinstance(value, str) and (cell.data_type != "s" or reads_as_formula(value)):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def workbook_bytes(book: Workbook) -> bytes:
    """The .xlsx file of ``book``, every text cell written as text."""
    buffer = BytesIO()
    as_text(book).save(buffer)
    return buffer.getvalue()


# --- in ----------------------------------------------------------------------------------------------

RATIO_FLOOR = 1024 * 1024  # below this a part's (or the file's) expansion is not judged: tiny parts compress far
KINDS = {
    ".xlsx": ("Excel", "Excel 或 WPS", ".xlsx"),
    ".xlsm": ("Excel", "Excel 或 WPS", ".xlsx"),
    ".docx": ("Word", "Word 或 WPS", ".docx"),
}
# A spreadsheet cell or row (<c>, <row>), a Word table cell, row or grid column (<w:tc>, <w:tr>, <w:gridCol>).
_ELEMENT = re.compile(rb"<(?:\w{1,16}:)?(?:c|row|tc|tr|gridCol)[\s/>]")
_CHUNK = 1024 * 1024


class OfficeRefused(Refused):
    """An Office file the system will not read; the message says why, for the user."""


def _mb(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size < 10 * 1048576 else f"{size // 1048576} MB"


def not_readable(suffix: str) -> OfficeRefused:
    kind, programs, extension = KINDS.get(suffix.lower(), ("Office", "Office 或 WPS", suffix))
    return OfficeRefused(f"不是有效的 {kind} 文件（无法解压读取）：请用 {programs} 打开，另存为 {extension} 格式后重试")


def too_many_cells() -> OfficeRefused:
    return OfficeRefused(
        f"表格的单元格或行数超过{settings.OFFICE_MAX_CELLS:,}个，不予读取：请只保留需要导入的工作表和数据"
    )


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse an archive that would unpack too far, judged from its directory; nothing is inflated."""
    infos = archive.infolist()
    member_limit, total_limit, ratio = (
        settings.OFFICE_MAX_MEMBER_BYTES,
        settings.OFFICE_MAX_EXPANDED_BYTES,
        settings.OFFICE_MAX_RATIO,
    )
    for info in infos:
        if info.file_size > member_limit:
            raise OfficeRefused(
                f"文件中的“{info.filename[:60]}”解压后有{_mb(info.file_size)}，超过单个部分的上限{_mb(member_limit)}，不予读取"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
            raise _expands(info.file_size, info.compress_size, ratio)
    expanded, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    if expanded > total_limit:
        raise OfficeRefused(f"文件解压后有{_mb(expanded)}，超过上限{_mb(total_limit)}，不予读取")
    if expanded > RATIO_FLOOR and expanded > ratio * max(packed, 1):
        raise _expands(expanded, packed, ratio)


def _expands(expanded: int, packed: int, ratio: int) -> OfficeRefused:
    return OfficeRefused(
        f"文件解压后（{_mb(expanded)}）是压缩时的{expanded // max(packed, 1)}倍，超过上限{ratio}倍，"
        "疑为恶意构造的压缩文件，不予读取"
    )


def _count(stream: IO[bytes], left: int) -> int:
    """``left`` less the cells and rows in the XML ``stream``, read a chunk at a time; stops below zero."""
    tail = b""
    while left >= 0 and (chunk := stream.read(_CHUNK)):
        window = tail + chunk
        cut = window.rfind(b"<", max(0, len(window) - 24))  # an element's start cut by the chunk: next time
        if cut < 0:
            cut = len(window)
        left -= len(_ELEMENT.findall(window, 0, cut))
        tail = window[cut:]
    return left - len(_ELEMENT.findall(tail))


def check_tables(path: Path | str) -> None:
    """The gate before a parser opens the Office file at ``path``: a zip at all, within
    ``check_archive``'s limits, with no more cells and rows in its XML parts than ``OFFICE_MAX_CELLS``."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive)
            left = settings.OFFICE_MAX_CELLS
            for info in archive.infolist():
                if info.filename.lower().endswith(".xml") and left >= 0:
                    with archive.open(info) as part:
                        left = _count(part, left)
    except OfficeRefused:
        raise
    except FileNotFoundError as exc:
        raise OfficeRefused("找不到该文件") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error) as exc:
        raise not_readable(path.suffix) from exc  # not a zip, damaged, encrypted, or an unknown compression
    if left < 0:
        raise too_many_cells()


class Cells:
    """What a reader has made so far, against ``OFFICE_MAX_CELLS``: a row counts its cells, at least one."""

    def __init__(self) -> None:
        self.left = settings.OFFICE_MAX_CELLS

    def take(self, count: int) -> None:
        self.left -= max(count, 1)
        if self.left < 0:
            raise too_many_cells()
