"""Writing small plan files the way offices lay them out, for the importer tests."""

from __future__ import annotations

from pathlib import Path

import docx
import yaml
from openpyxl import Workbook

HEADER = ["序号", "工作任务", "工作措施", "量化指标", "牵头单位", "配合单位", "责任领导", "完成时限", "验收标准"]

# (action heading, [(code, task, measures, target, lead, coop, leader, deadline, acceptance)])
PLAN = [
    (
        "一、“清患”行动（分管领导：王建国）",
        [
            (
                "1",
                "重点场所清查",
                "集中清查夜宵摊、娱乐场所",
                "检查场所不少于300家次",
                "各派出所",
                "治安支队",
                "王建国",
                "8月底前",
                "台账完整",
            ),
            ("2", "涉危企业检查", "严管易制爆企业", "≥20家", "治安支队", "各分局、治安支队", "王建国", "7月15日前", ""),
        ],
    ),
    (
        "二、“铁拳”行动（分管领导：李振华）",
        [
            ("1", "打击电信诈骗", "快侦快破", "同比下降20%", "城东分局、城西分局", "", "李振华", "每周五前", ""),
            ("2", "全域巡逻防控", "叠加巡逻", "建立长效机制", "全市各单位", "", "李振华", "行动期间", "机制建立"),
        ],
    ),
]
CAMPAIGN = {
    "name": "夏季治安打击整治“百日行动”",
    "code": "XJ",
    "start": "2026-07-01",
    "end": "2026-10-08",
    "owner": "3303",
}


def write_xlsx(path: Path, plan=PLAN, *, title: str = "量化责任清单", header=HEADER) -> Path:
    """Title row, header, a merged section row per action, dotted codes as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "责任清单"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for n, (heading, rows) in enumerate(plan, start=1):
        sheet.append([heading])
        r = sheet.max_row
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(header))
        for row in rows:
            sheet.append([f"{n}.{row[0]}", *row[1:]])
    book.save(path)
    return path


def write_docx(path: Path, plan=PLAN) -> Path:
    """A Word plan: a paragraph, then one table; numbers restart in every section; 责任领导 merged down."""
    document = docx.Document()
    document.add_paragraph("附件：量化责任清单")
    n_rows = 1 + sum(1 + len(rows) for _, rows in plan)
    table = document.add_table(rows=n_rows, cols=len(HEADER))
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    r = 1
    for heading, rows in plan:
        merged = table.cell(r, 0).merge(table.cell(r, len(HEADER) - 1))
        merged.text = heading
        r += 1
        first = r
        for row in rows:
            for c, text in enumerate(row):
                if c != 6:
                    table.cell(r, c).text = text
            r += 1
        leader = table.cell(first, 6).merge(table.cell(r - 1, 6))
        leader.text = rows[0][6]
    document.save(path)
    return path


def write_yaml(path: Path, plan=PLAN, campaign=CAMPAIGN) -> Path:
    actions = []
    for n, (heading, rows) in enumerate(plan, start=1):
        name = heading.split("、", 1)[1].split("（")[0]
        actions.append(
            {
                "code": "一二三四五六"[n - 1],
                "name": name,
                "leader": rows[0][6],
                "items": [
                    dict(
                        zip(
                            [
                                "code",
                                "task",
                                "measures",
                                "target",
                                "lead",
                                "cooperating",
                                "leader",
                                "deadline",
                                "acceptance",
                            ],
                            [f"{n}.{row[0]}", *row[1:]],
                            strict=True,
                        )
                    )
                    for row in rows
                ],
            }
        )
    path.write_text(yaml.safe_dump({"campaign": campaign, "actions": actions}, allow_unicode=True), encoding="utf-8")
    return path


def with_row(plan, action: int, index: int, **changes):
    """A copy of ``plan`` with one item's fields changed (by column name of HEADER)."""
    fields = ["code", "task", "measures", "target", "lead", "coop", "leader", "deadline", "acceptance"]
    out = []
    for a, (heading, rows) in enumerate(plan):
        new_rows = []
        for i, row in enumerate(rows):
            if (a, i) == (action, index):
                row = tuple(changes.get(f, v) for f, v in zip(fields, row, strict=True))
            new_rows.append(row)
        out.append((heading, new_rows))
    return out
