"""The statistics sheet a unit fills in and uploads (战果统计表): a row per day it reports (a round
is one row, named by the round), a column per indicator, its figures so far already filled in."""

from __future__ import annotations

from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from accounts.models import Unit
from tasks.models import Campaign
from utilities import office
from utilities.cn import cn_date, cn_range

from . import numbers
from .models import Figure, Indicator, Kind
from .services import reported_indicators


def number_format(indicator: Indicator) -> str:
    """A cell's number format for a figure of ``indicator`` in its own unit (``numbers.shown``): a count
    whole, a rate in percent to one decimal (95.0), a quantity or money with its decimals."""
    return {Kind.COUNT: "#,##0", Kind.RATE: "0.0"}.get(indicator.kind, "#,##0.0##")


def report_days(campaign: Campaign, until: date) -> list[tuple[date, str]]:
    """Each day a unit reports, up to ``until``: (the figure's day, the label in the sheet's date column).
    A round's days are one row dated its last day and labelled with its name."""
    rounds = list(campaign.rounds.all())
    out, day = [], campaign.start
    while day <= min(until, campaign.end):
        r = next((r for r in rounds if r.start <= day <= r.end), None)
        if r is None:
            out.append((day, day.isoformat()))
        elif day == r.end:
            out.append((day, f"{r.name}（{cn_range(r.start, r.end)}）"))
        day += timedelta(days=1)
    return out


def unit_sheet(campaign: Campaign, unit: Unit, *, until: date) -> bytes:
    indicators = list(reported_indicators(campaign))
    have = {
        (f["indicator_id"], f["day"]): f["value"]
        for f in Figure.objects.filter(campaign=campaign, unit=unit).values("indicator_id", "day", "value")
    }
    book = Workbook()
    ws = book.active
    ws.title = "战果统计"
    width = len(indicators) + 1
    ws.cell(1, 1, f"{unit.name}战果统计表")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.cell(
        2, 1, f"{campaign.name}（{cn_date(campaign.start)}至{cn_date(campaign.end)}）；集中统一行动按轮次填一行合计"
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    headers = ["日期", *(f"{i.name}（{i.measure}）" for i in indicators)]
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(3, col, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = 30 if col == 1 else 14
    for row, (day, label) in enumerate(report_days(campaign, until), start=4):
        ws.cell(row, 1, label)
        for col, i in enumerate(indicators, start=2):
            cell = ws.cell(row, col, numbers.shown(i, have.get((i.pk, day))))  # money in its measure
            cell.number_format = number_format(i)
    ws.freeze_panes = "B4"
    return office.workbook_bytes(book)
