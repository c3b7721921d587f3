"""Writing results statistics: a unit's figures for a day or a round, from the page, the API or a
whole sheet uploaded as XLSX. Every write is checked, audited and atomic.

The rules: a figure is a number ≥ 0 of its indicator's kind (``stats.numbers.entered``: a count whole,
money converted to 元, a rate in percent; a computed rate is not reported) for an indicator the campaign reports; its day lies in the
campaign and not in the future; a day inside a round is reported as the round's totals, dated the
round's last day (集中统一行动 report once per round). The unit must be in the reporter's scope
(unit leads, for their subtree; HQ, for the units it manages: a figure HQ enters for a unit it does not
report for is flagged ``on_behalf``, 代填, on the row and in its audit event).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from audit import services as audit
from tasks.models import Campaign, CampaignStatus
from tasks.services.errors import refuse_closed
from utilities.cn import cn_date, cn_range
from utilities.errors import Forbidden, Refused
from utilities.tables import FileProblems, Location, Problem, find_header, normalise_header, read_tables

from . import numbers
from .models import Figure, Indicator, Kind, Round

MAX_SHEET = 5 * 1024 * 1024  # a unit's sheet for a whole campaign is well under 1 MB


class StatsError(Refused):
    """A figure that breaks the rules (a day outside the campaign, inside a round, a negative number …)."""


@dataclass(frozen=True)
class Entry:
    indicator: Indicator
    day: date
    value: Decimal  # stored: money in 元, a rate in percent


def may_report(user, unit: Unit) -> bool:
    """``user`` may enter ``unit``'s figures: its lead (REPORT), or HQ over it (MANAGE), which enters the
    totals an office compiles from phone calls and paper on the unit's behalf (代填)."""
    return scope.can(user, scope.Action.REPORT, unit) or scope.can(user, scope.Action.MANAGE, unit)


def on_behalf(user, unit: Unit) -> bool:
    """A figure ``user`` enters for ``unit`` is HQ's on the unit's behalf: the user may not report for
    the unit itself (an HQ who also leads the unit reports as its lead)."""
    return not scope.can(user, scope.Action.REPORT, unit)


def enterable_units(user) -> QuerySet[Unit]:
    """The units whose figures ``user`` may enter (``may_report``): its report scope and its manage scope."""
    return Unit.objects.visible_to(user, scope.Action.REPORT) | Unit.objects.visible_to(user, scope.Action.MANAGE)


def reported_indicators(campaign: Campaign) -> QuerySet[Indicator]:
    """The indicators units report figures for: the active ones but computed rates (their parts are)."""
    return campaign.indicators.filter(is_active=True).exclude(kind=Kind.RATE, numerator__isnull=False)


def check_day(campaign: Campaign, day: date, rounds: list[Round], today: date | None = None) -> str | None:
    """What is wrong with reporting for ``day``, or None."""
    today = today or timezone.localdate()
    if not campaign.start <= day <= campaign.end:
        return f"{cn_date(day)}不在行动期间（{cn_date(campaign.start)}至{cn_date(campaign.end)}）"
    if day > today:
        return f"{cn_date(day)}尚未到来，不能预报战果"
    for r in rounds:
        if r.start <= day <= r.end and day != r.end:
            return f"{r.name}（{cn_range(r.start, r.end)}）按轮次汇总上报，日期应为{cn_date(r.end)}"
    return None


def check_value(value, indicator: Indicator | None = None) -> tuple[Decimal | None, str | None]:
    """The stored value of what was entered for ``indicator`` (none: a count), or what is wrong with it:
    ``stats.numbers.entered`` (a count whole, a quantity's decimals, money converted to 元, a rate in
    percent, a computed rate refused)."""
    return numbers.entered(value, indicator or _COUNT)


_COUNT = Indicator(kind=Kind.COUNT, measure="")


def _write(*, campaign: Campaign, unit: Unit, entries: list[Entry], by: User, source: str) -> int:
    """Upsert ``entries`` for ``unit`` and audit each changed figure; returns how many changed."""
    return write_figures(campaign=campaign, entries=[(unit, e) for e in entries], by=by, source=source)


def write_figures(*, campaign: Campaign, entries: list[tuple[Unit, Entry]], by: User, source: str) -> int:
    """Upsert the figures of one or many units (a summary sheet: a row per unit) and audit each changed
    one; returns how many changed. Set-based: a fixed number of queries whatever the number of units
    (lock what is there, one bulk upsert, read the ids back, one batch of events)."""
    if campaign.status == CampaignStatus.DRAFT:
        raise StatsError("行动方案尚未发布，不能填报战果")
    units = {u.pk: u for u, _e in entries}
    if not all(may_report(by, u) for u in units.values()):
        raise Forbidden("无权为该单位填报战果")
    refuse_closed(campaign)
    now = timezone.now()
    behalf = {pk: on_behalf(by, u) for pk, u in units.items()}
    with transaction.atomic():
        keys = {(u.pk, e.indicator.pk, e.day) for u, e in entries}
        days = {e.day for _u, e in entries}
        before = {
            (f.unit_id, f.indicator_id, f.day): f
            for f in Figure.objects.select_for_update(of=("self",))
            .filter(campaign=campaign, unit__in=units, day__in=days)
            .order_by("pk")
            if (f.unit_id, f.indicator_id, f.day) in keys
        }
        changed = [
            (u, e)
            for u, e in entries
            if (old := before.get((u.pk, e.indicator.pk, e.day))) is None or old.value != e.value
        ]
        if not changed:
            return 0
        rows = [
            Figure(
                campaign=campaign,
                indicator=e.indicator,
                unit=u,
                day=e.day,
                value=e.value,
                reported_by=by,
                reported_at=now,
                on_behalf=behalf[u.pk],
            )
            for u, e in changed
        ]
        Figure.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["unit", "indicator", "day"],
            update_fields=["value", "reported_by", "reported_at", "on_behalf"],
        )
        saved = _saved(campaign, changed, rows)
        events = []
        for u, e in changed:
            key = (u.pk, e.indicator.pk, e.day)
            saved[key].unit, saved[key].indicator = u, e.indicator  # its name in the event, without a query
            old = before.get(key)
            # the value as the API gives it: a count an int (as before), money in 元 etc. an exact string
            value = [numbers.raw(e.indicator, old.value if old else None), numbers.raw(e.indicator, e.value)]
            changes = {"indicator": e.indicator.code, "day": e.day, "value": value}
            if behalf[u.pk]:  # the history says the figure is HQ's, entered for the unit (代填)
                changes["on_behalf"] = True
            events.append(audit.event(saved[key], "figure.report", actor=by, changes=changes, unit=u, source=source))
        audit.record(events)
    return len(changed)


def _saved(campaign: Campaign, changed: list[tuple[Unit, Entry]], rows: list[Figure]) -> dict[tuple, Figure]:
    """The figures just upserted by key, with their ids for the history: the upsert's own rows where the
    database returned the ids (``RETURNING``: PostgreSQL, SQLite), else read back."""
    if all(f.pk is not None for f in rows):
        return {(f.unit_id, f.indicator_id, f.day): f for f in rows}
    written = {(u.pk, e.indicator.pk, e.day) for u, e in changed}
    return {
        (f.unit_id, f.indicator_id, f.day): f
        for f in Figure.objects.filter(
            campaign=campaign, unit__in={u.pk for u, _e in changed}, day__in={e.day for _u, e in changed}
        )
        if (f.unit_id, f.indicator_id, f.day) in written
    }


def active_indicators(campaign: Campaign) -> dict[int, Indicator]:
    """The campaign's indicators reported now, by id, with a rate's parts (what a figure is checked by)."""
    return {i.pk: i for i in campaign.indicators.filter(is_active=True).select_related("numerator", "denominator")}


def report_figures(
    *,
    campaign: Campaign,
    unit: Unit,
    day: date,
    values: dict[int, object],
    by: User,
    source: str = "",
    indicators: dict[int, Indicator] | None = None,
) -> int:
    """A unit's figures for one day (a round: its last day), ``values`` by indicator id; blanks are
    skipped. ``indicators``: ``active_indicators(campaign)`` when the caller has read them already.
    Raises StatsError with every wrong field named, or Forbidden."""
    if not may_report(by, unit):
        raise Forbidden("无权为该单位填报战果")
    problem = check_day(campaign, day, list(campaign.rounds.all()))
    if problem:
        raise StatsError(problem)
    if indicators is None:
        indicators = active_indicators(campaign)
    entries, wrong = [], []
    for key, raw in values.items():
        indicator = indicators.get(int(key))
        if indicator is None:
            wrong.append(f"指标{key}不属于该行动或已停用")
            continue
        if raw is None or raw == "":
            continue
        value, problem = check_value(raw, indicator)
        if problem:
            wrong.append(f"{indicator.name}：{problem}")
        else:
            entries.append(Entry(indicator, day, value))
    if wrong:
        raise StatsError("；".join(wrong))
    return _write(campaign=campaign, unit=unit, entries=entries, by=by, source=source)


# --- a whole sheet -------------------------------------------------------------------------------

DAY_HEADERS = ("日期", "统计日期", "时间", "轮次", "date", "day")
_DATE = re.compile(r"^(?:(\d{4})\s*[年./-]\s*)?(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?$")


def _headers(indicators: list[Indicator]) -> dict[str, tuple[str, ...]]:
    words = {"day": DAY_HEADERS}
    for i in indicators:
        words[i.code] = (f"{i.name}（{i.measure}）", i.name, i.code)
    return words


def parse_day(cell, campaign: Campaign, rounds: list[Round]) -> date | None:
    """A date cell, "2026-07-07", "2026年7月7日", "7月7日" (the campaign's year) or a round's name."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = str(cell).strip()
    for r in rounds:
        if normalise_header(text).startswith(normalise_header(r.name)):
            return r.end
    m = _DATE.match(text)
    if not m:
        return None
    year = int(m.group(1)) if m.group(1) else campaign.start.year
    try:
        return date(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def import_sheet(*, path: Path | str, campaign: Campaign, unit: Unit, by: User, display_name: str | None = None) -> int:
    """A unit's statistics sheet (a row per day or round, a column per indicator): every problem found,
    with sheet, row, column and field, or every figure written. Returns how many changed."""
    name = display_name or Path(path).name
    if not may_report(by, unit):
        raise Forbidden("无权为该单位填报战果")
    indicators = list(reported_indicators(campaign))
    rounds = list(campaign.rounds.all())
    synonyms = _headers(indicators)
    tables = read_tables(path, display_name=name)
    header = None
    for table in tables:
        header = find_header(table, synonyms, ["day"])
        if header and len(header.columns) > 1:
            break
        header = None
    if header is None:
        expected = "、".join(["日期", *(f"{i.name}（{i.measure}）" for i in indicators[:3])])
        raise FileProblems([Problem(Location(name), f"找不到战果统计表的表头：第一行应为 {expected} 等列")])
    problems: list[Problem] = []
    entries: dict[tuple[int, date], Entry] = {}
    seen_rows: dict[date, int] = {}
    by_code = {i.code: i for i in indicators}
    today = timezone.localdate()
    for row in table.rows[header.row.number :]:
        if row.is_blank():
            continue
        day_col = header.columns["day"]
        where_day = row.location.at(column=day_col, label=header.labels["day"])
        cell = row.cells[day_col] if day_col < len(row.cells) else None
        if cell in (None, ""):
            if any(c not in (None, "") for i, c in enumerate(row.cells) if i != day_col):
                problems.append(Problem(where_day, "缺少日期：应写统计日期（如2026-07-07或7月7日）或轮次名称"))
            continue
        if isinstance(cell, str) and normalise_header(cell) in ("合计", "总计", "小计", "total"):
            continue  # a totals row the office added: ours are computed
        day = parse_day(cell, campaign, rounds)
        if day is None:
            problems.append(Problem(where_day, f"“{cell}”不是日期：应写2026-07-07、7月7日或轮次名称"))
        elif problem := check_day(campaign, day, rounds, today):
            problems.append(Problem(where_day, problem))
            day = None
        elif day in seen_rows:
            problems.append(Problem(where_day, f"{cn_date(day)}与第{seen_rows[day]}行重复"))
            day = None
        else:
            seen_rows[day] = row.number
        for code, col in header.columns.items():  # every figure is checked, whatever is wrong with the day
            if code == "day" or col >= len(row.cells) or row.cells[col] in (None, ""):
                continue
            value, problem = check_value(row.cells[col], by_code[code])
            if problem:
                problems.append(Problem(row.location.at(column=col, label=header.labels[code]), problem))
            elif day is not None:
                entries[(by_code[code].pk, day)] = Entry(by_code[code], day, value)
    if problems:
        raise FileProblems(problems)
    if not entries:
        raise FileProblems([Problem(Location(name, "sheet", table.name), "表中没有填写任何战果数字")])
    return _write(campaign=campaign, unit=unit, entries=list(entries.values()), by=by, source=name)


def import_upload(*, upload: UploadedFile, campaign: Campaign, unit: Unit, by: User) -> int:
    """``import_sheet`` for an uploaded file (the page's and the API's): spooled to a temporary file
    with its extension, named in every problem by the name it was uploaded under."""
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix.lower()) as spool:
        for chunk in upload.chunks():
            spool.write(chunk)
        spool.flush()
        return import_sheet(path=spool.name, campaign=campaign, unit=unit, by=by, display_name=upload.name)
