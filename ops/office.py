"""Office files in and out, the one place for their two risks.

Out: a text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel, WPS
and LibreOffice take for a formula (OWASP's CSV-injection rule): a unit renamed
``=HYPERLINK("http://x","y")`` must come out of every export as that text. Every workbook the system
writes is turned into bytes by ``workbook_bytes``, which stores such a cell as a string with Excel's
"quote prefix" (what typing ``'=…`` does): shown as written, and kept text when edited.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def reads_as_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def as_text(book: Workbook) -> Workbook:
    """Every text cell of ``book`` that a spreadsheet would evaluate (a formula, an error code such as
    ``#N/A``, a leading sign …) made plain text. The system writes no formulas of its own."""
    for ws in book.worksheets:
        for cell in ws._cells.values():  # the cells that exist; iter_rows would create the empty ones
            value = cell._value
            if isinstance(value, str) and (cell.data_type != "s" or reads_as_formula(value)):
                cell.data_type = "s"
                cell.quotePrefix = True
    return book


def workbook_bytes(book: Workbook) -> bytes:
    """The .xlsx file of ``book``, every text cell written as text."""
    buffer = BytesIO()
    as_text(book).save(buffer)
    return buffer.getvalue()
