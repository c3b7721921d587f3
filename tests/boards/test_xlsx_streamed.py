"""The ledger's table written streamed (a write-only workbook) looks as the normal one did: title and
subtitle merged, header framed and filled, each column's width and number format, empty cells framed,
the bold totals row, frozen panes, print titles and page setup, formula-like text kept text; and it
holds far less memory while it is written."""

from __future__ import annotations

import tracemalloc
from datetime import date, timedelta
from io import BytesIO

from openpyxl import Workbook, load_workbook

from boards import xlsx

COLUMNS = [
    xlsx.Column("序号", 7, "0"),
    xlsx.Column("责任单位", 20),
    xlsx.Column("完成时限", 15, xlsx.CN_DATE),
    xlsx.Column("进度", 9, xlsx.PERCENT),
    xlsx.Column("数量", 9, xlsx.INTEGER),
]


def rows(n: int):
    for i in range(1, n + 1):
        unit = '=HYPERLINK("http://x","y")' if i == 2 else f"第{i}派出所"
        yield [i, unit, date(2026, 7, 1) + timedelta(days=i % 60), None if i % 3 else i / 100, i * 7]


def written(book: Workbook, n: int) -> bytes:
    xlsx.sheet(
        book,
        title="全省任务台账",
        subtitle="制表单位：省厅    统计时间：截至2026年9月1日",
        columns=COLUMNS,
        rows=rows(n),
        totals=lambda: ["合计", None, None, None, f"共{n}项"],
        name="任务台账",
    )
    return xlsx.workbook_bytes(book)


def look(data: bytes) -> tuple[dict, list]:
    ws = load_workbook(BytesIO(data)).active
    sheet = {
        "title": ws.title,
        "dimensions": ws.dimensions,
        "merged": sorted(map(str, ws.merged_cells.ranges)),
        "freeze": ws.freeze_panes,
        "print_titles": ws.print_title_rows,
        "page": (
            ws.page_setup.orientation,
            ws.page_setup.paperSize,
            ws.page_setup.fitToWidth,
            ws.page_setup.fitToHeight,
        ),
        "fit": ws.sheet_properties.pageSetUpPr.fitToPage,
        "centred": ws.print_options.horizontalCentered,
        "widths": {k: v.width for k, v in sorted(ws.column_dimensions.items())},
        "heights": [ws.row_dimensions[r].height for r in (1, 2, 3)],
    }
    cells = [
        (
            c.coordinate,
            c.value,
            c.data_type,
            c.quotePrefix,
            c.number_format,
            (c.font.name, c.font.sz, c.font.b),
            (c.border.left.style, c.border.bottom.style),
            c.fill.fgColor.rgb,
            (c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text),
        )
        for row in ws.iter_rows()
        for c in row
    ]
    return sheet, cells


def test_the_streamed_table_looks_as_the_normal_one():
    normal, streamed = look(written(Workbook(), 40)), look(written(Workbook(write_only=True), 40))
    assert streamed[0] == normal[0]
    assert streamed[1] == normal[1]
    sheet, cells = streamed
    assert sheet["merged"] == ["A1:E1", "A2:E2"] and sheet["freeze"] == "A4" and sheet["fit"] is True
    by = {c[0]: c for c in cells}
    assert by["B5"][1].startswith("=HYPERLINK") and by["B5"][2] == "s" and by["B5"][3] is True  # text, not a formula
    assert by["D4"][1] is None and by["D4"][6] == ("thin", "thin")  # an empty cell keeps its frame
    assert by["C4"][4] == xlsx.CN_DATE and by["D6"][4] == xlsx.PERCENT and by["A44"][5][2] is True  # totals bold


def peak_mb(book: Workbook, n: int) -> float:
    tracemalloc.start()
    try:
        written(book, n)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_streaming_holds_a_fraction_of_the_memory():
    normal, streamed = peak_mb(Workbook(), 6000), peak_mb(Workbook(write_only=True), 6000)
    assert streamed < normal / 3, (normal, streamed)
