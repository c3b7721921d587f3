"""The XLSX template HQ offices fill in: the recognised headers, an example section and items, and notes."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from utilities import office

from .reader import FIELD_LABELS, HEADERS

COLUMNS = ["code", "task", "measures", "target", "lead", "cooperating", "leader", "deadline", "acceptance"]
WIDTHS = {
    "code": 7,
    "task": 28,
    "measures": 40,
    "target": 20,
    "lead": 20,
    "cooperating": 20,
    "leader": 10,
    "deadline": 14,
    "acceptance": 24,
}
EXAMPLE = [
    [
        "1.1",
        "开展重点场所拉网式清查",
        "集结治安、派出所警力，对夜宵摊、娱乐场所逐家检查",
        "检查场所不少于300家次",
        "各派出所",
        "治安支队",
        "王建国",
        "8月底前",
        "清查台账完整，隐患整改率100%",
    ],
    [
        "1.2",
        "严管涉危企业",
        "对易制爆、剧毒企业开展全覆盖检查",
        "覆盖率100%",
        "治安支队",
        "各分局",
        "王建国",
        "7月20日前完成检查，8月底前完成整改",
        "检查记录、整改通知书齐全",
    ],
    ["1.3", "每周报送清查战果", "汇总本单位清查数据", "", "各分局", "", "王建国", "每周五前", "按时报送"],
]
NOTES = [
    ("序号", "如“3.12”；或在每个行动内从1编号，导入时自动加上行动序号。"),
    ("行动", "用跨列的分节行写明，如“一、“清患”行动（分管领导：王建国）”；也可另加“所属行动”列。"),
    (
        "牵头单位/配合单位",
        "可写多个单位，用顿号、逗号或分号分隔；可写单位名称、简称或编码；"
        "也可写“各分局”“各派出所”“各支队”“各大队”“全市各单位”。同一单位既牵头又配合的，按牵头计。",
    ),
    (
        "完成时限",
        "如“7月15日前”“8月底前”“9月中旬前”“2026年2月10日前”“每周五前”“每月5日前”“每日”“行动期间”“长期坚持”；"
        "一格写多个日期的，前面的为节点，最后一个为完成时限。",
    ),
    ("量化指标", "如“不少于300家次”“≥20起”“覆盖率100%”“同比下降20%”；无法量化的照常填写文字。"),
    ("其他", "表头上方可有标题行；无关的列（如备注）会被忽略。"),
]


def write_template(path: Path | str) -> Path:
    path = Path(path)
    book = Workbook()
    sheet = book.active
    sheet.title = "责任清单"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet.append(["××市公安机关××专项行动量化责任清单"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([FIELD_LABELS[c] for c in COLUMNS])
    sheet.append(["一、“清患”行动（分管领导：王建国）"])
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(COLUMNS))
    for row in EXAMPLE:
        sheet.append(row)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(2, index).column_letter].width = WIDTHS[column]
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for row in sheet.iter_rows(min_row=2, max_row=sheet.max_row, max_col=len(COLUMNS)):
        for cell in row:
            cell.border = border
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.number_format = "@"  # codes such as 3.10 stay text, not the number 3.1
            if cell.row == 2:
                cell.font, cell.fill = Font(bold=True), header_fill
    sheet["A3"].font = Font(bold=True)
    sheet.freeze_panes = "A3"

    notes = book.create_sheet("填写说明")
    notes.append(["项目", "说明"])
    for row in NOTES:
        notes.append(list(row))
    notes.append(["可识别的表头", "；".join(f"{'/'.join(HEADERS[c][:3])}" for c in COLUMNS)])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    path.write_bytes(office.workbook_bytes(book))
    return path
