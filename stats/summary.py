"""The summary sheet HQ fills for many units at once (代填汇总表): a row per unit, a column per indicator,
for one day or one round — the table offices circulate (单位 | 出动警力（人次）| 检查场所（家次）…).

HQ downloads it blank (``summary_sheet``: the units it may enter for, in tree order, each with its code,
so that names need not be unique), fills it and uploads it (``import_summary``): a unit is named by its
code or its exact name; every problem is located (sheet, row, column, the cell's text), a unit that is none of
the uploader's — unknown, or out of its scope: the same words, naming the unit as the sheet does — with
the closest of its own units suggested; nothing is written
unless all is right, and then every figure at once (``services.write_figures``: set-based, one
transaction, audited, each figure flagged ``on_behalf`` where HQ enters it for a unit it does not lead).
Open to HQ (the manage right): a unit lead enters its own figures on its report page or sheet.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from datetime import date
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from accounts import scope
from accounts.models import Unit, User
from tasks.models import Campaign
from utilities import office
from utilities.cn import cn_date, cn_range
from utilities.errors import Forbidden
from utilities.tables import FileProblems, Location, Problem, find_header, normalise_header, read_tables

from .models import Round
from .services import (
    Entry,
    StatsError,
    _headers,
    check_day,
    check_value,
    enterable_units,
    parse_day,
    reported_indicators,
    write_figures,
)

CODE_HEADERS = ("单位代码", "代码", "机构代码", "unit code", "code")
UNIT_HEADERS = ("单位", "单位名称", "填报单位", "责任单位", "unit")
DAY_LINE = re.compile(r"^\s*(?:统计日期|日期|轮次)\s*[:：]\s*(.+)$")
MAX_HINTS = 50  # unknown units given the closest names (a sheet of another city's units gets no more)
NOT_HQ = "汇总表代填仅限指挥部（领导小组办公室）使用；单位请在本单位的填报页面填报"


def may_fill(user) -> bool:
    """``user`` may fill a summary sheet: HQ over some units (the manage right)."""
    return bool(scope.scope_for(user, scope.Action.MANAGE))


def summary_units(user) -> QuerySet[Unit]:
    """The rows of ``user``'s summary sheet: the active units it may enter figures for, in tree order."""
    return enterable_units(user).filter(is_active=True).order_by("path")


def day_label(day: date, round_: Round | None) -> str:
    return f"{round_.name}（{cn_range(round_.start, round_.end)}）" if round_ else cn_date(day)


def summary_sheet(campaign: Campaign, *, user, day: date, round_: Round | None = None) -> bytes:
    """The blank summary sheet of ``day`` (a round: its last day) for the units ``user`` may enter for."""
    if not may_fill(user):
        raise Forbidden(NOT_HQ)
    indicators = list(reported_indicators(campaign))
    units = list(summary_units(user).only("code", "name", "path"))
    book = Workbook()
    ws = book.active
    ws.title = "战果汇总"
    width = len(indicators) + 2
    ws.cell(1, 1, f"{campaign.name}战果统计汇总表")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.cell(2, 1, f"统计日期：{day_label(day, round_)}")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    headers = ["单位代码", "单位", *(f"{i.name}（{i.measure}）" for i in indicators)]
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(3, col, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = {1: 14, 2: 28}.get(col, 14)
    for row, unit in enumerate(units, start=4):
        ws.cell(row, 1, unit.code).number_format = "@"  # a code stays text: leading zeros kept
        ws.cell(row, 2, unit.name)
        for col in range(3, width + 1):
            ws.cell(row, col).number_format = "#,##0"
    ws.freeze_panes = "C4"
    return office.workbook_bytes(book)


def _header(tables, synonyms):
    for table in tables:
        for required in (["code"], ["unit"]):
            header = find_header(table, synonyms, required)
            if header and len(header.columns.keys() - {"code", "unit"}) >= 1:
                return table, header
    return None, None


def _stated_day(table, header, campaign, rounds):
    """The day the sheet says it is for (its 统计日期 line above the header), with the row it is on."""
    for row in table.rows[: header.row.number - 1]:
        for cell in row.cells:
            m = DAY_LINE.match(cell) if isinstance(cell, str) else None
            if m:
                return parse_day(m.group(1), campaign, rounds), row, cell
    return None, None, None


def import_summary(
    *, path: Path | str, campaign: Campaign, day: date, by: User, display_name: str | None = None
) -> int:
    """Many units' figures of ``day`` (a round: its last day) from a summary sheet: every problem found,
    located, or every figure written at once. Returns how many changed. Forbidden unless HQ."""
    name = display_name or Path(path).name
    if not may_fill(by):
        raise Forbidden(NOT_HQ)
    rounds = list(campaign.rounds.all())
    if problem := check_day(campaign, day, rounds):
        raise StatsError(problem)
    indicators = list(reported_indicators(campaign))
    synonyms = {"code": CODE_HEADERS, "unit": UNIT_HEADERS, **_headers(indicators)}
    del synonyms["day"]
    table, header = _header(read_tables(path, display_name=name), synonyms)
    if header is None:
        expected = "、".join(["单位代码", "单位", *(f"{i.name}（{i.measure}）" for i in indicators[:3])])
        raise FileProblems([Problem(Location(name), f"找不到战果汇总表的表头：应有 {expected} 等列")])
    problems: list[Problem] = []
    stated, stated_row, stated_text = _stated_day(table, header, campaign, rounds)
    if stated is not None and stated != day:
        problems.append(
            Problem(
                stated_row.location.at(column=0),
                f"表中的统计日期是{cn_date(stated)}，而本次填报的是{day_label(day, _round_of(rounds, day))}",
                text=stated_text,
            )
        )
    # every unit the user may enter for, once (1,650 rows of three short fields for a city HQ)
    mine = list(summary_units(by).only("code", "name", "path"))
    by_code = {u.code: u for u in mine}
    by_name: dict[str, list[Unit]] = {}
    for u in mine:
        by_name.setdefault(u.name, []).append(u)
    by_indicator = {i.code: i for i in indicators}
    figure_cols = {code: col for code, col in header.columns.items() if code not in ("code", "unit")}
    rows: list[tuple[object, str, Location, object]] = []  # (row, what named the unit, where, cell)
    for row in table.rows[header.row.number :]:
        if row.is_blank():
            continue
        code_cell = _cell(row, header.columns.get("code"))
        name_cell = _cell(row, header.columns.get("unit"))
        if isinstance(name_cell, str) and normalise_header(name_cell) in ("合计", "总计", "小计", "total"):
            continue  # a totals row the office added: ours are computed
        if code_cell not in (None, ""):
            rows.append(
                (
                    row,
                    str(code_cell),
                    row.location.at(column=header.columns["code"], label=header.labels["code"]),
                    "code",
                )
            )
        elif name_cell not in (None, ""):
            rows.append(
                (
                    row,
                    str(name_cell),
                    row.location.at(column=header.columns["unit"], label=header.labels["unit"]),
                    "name",
                )
            )
        else:
            where = row.location.at(
                column=header.columns.get("code", header.columns.get("unit")),
                label=header.labels.get("code", header.labels.get("unit", "")),
            )
            problems.append(Problem(where, "缺少单位：应写单位代码或单位名称"))
            rows.append((row, "", where, None))
    entries: dict[tuple[int, int], tuple[Unit, Entry]] = {}
    seen: dict[int, int] = {}
    hinted = 0
    for row, named, where, kind in rows:
        unit = None
        if kind == "code" and named in by_code:
            unit = by_code[named]
        elif kind == "name" and len(by_name.get(named, ())) == 1:
            unit = by_name[named][0]
        elif kind == "name" and named in by_name:
            codes = "、".join(u.code for u in by_name[named])
            problems.append(Problem(where, f"有多个单位名为“{named}”（代码{codes}）：请填单位代码", text=named))
        elif kind:  # missing or out of scope: the same words (a unit out of reach is not confirmed to exist)
            close = []
            if hinted < MAX_HINTS and len(named) <= 60:  # difflib reads every name: a bounded number of times
                hinted += 1
                close = difflib.get_close_matches(
                    named, list(by_name) if kind == "name" else list(by_code), n=3, cutoff=0.5
                )
                if kind == "code" and not close:
                    close = difflib.get_close_matches(named, list(by_name), n=3, cutoff=0.5)
            named = named if len(named) <= 60 else named[:60] + "…"
            hint = f"：是否为{'、'.join(f'“{c}”' for c in close)}？" if close else ""
            what = "单位代码" if kind == "code" else "单位"
            problems.append(
                Problem(where, f"{what}“{named}”不是您可以代填的单位（不存在或不在您的职责范围内）{hint}", text=named)
            )
        if unit is not None and unit.pk in seen:
            problems.append(Problem(where, f"“{unit.name}”与第{seen[unit.pk]}行重复", text=named))
            unit = None
        elif unit is not None:
            seen[unit.pk] = row.number
        for code, col in figure_cols.items():  # every figure is checked, whatever is wrong with the unit
            cell = _cell(row, col)
            if cell in (None, ""):
                continue
            value, problem = check_value(cell, by_indicator[code])
            if problem:
                problems.append(
                    Problem(row.location.at(column=col, label=header.labels[code]), problem, text=str(cell)[:100])
                )
            elif unit is not None:
                indicator = by_indicator[code]
                entries[(unit.pk, indicator.pk)] = (unit, Entry(indicator, day, value))
    if problems:  # in the order of the sheet, row by row, left to right
        raise FileProblems(sorted(problems, key=lambda p: (p.location.row or 0, p.location.column or 0)))
    if not entries:
        raise FileProblems([Problem(Location(name, "sheet", table.name), "表中没有填写任何战果数字")])
    return write_figures(campaign=campaign, entries=list(entries.values()), by=by, source=name)


def _cell(row, col: int | None):
    return row.cells[col] if col is not None and col < len(row.cells) else None


def _round_of(rounds: list[Round], day: date) -> Round | None:
    return next((r for r in rounds if r.start <= day <= r.end), None)


def import_summary_upload(*, upload: UploadedFile, campaign: Campaign, day: date, by: User) -> int:
    """``import_summary`` for an uploaded file (the page's and the API's), named by its uploaded name."""
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix.lower()) as spool:
        for chunk in upload.chunks():
            spool.write(chunk)
        spool.flush()
        return import_summary(path=spool.name, campaign=campaign, day=day, by=by, display_name=upload.name)
