"""HQ's catalogue of a campaign's results statistics on one page: its indicators and rounds written many
at a time (the page's tables, the API), from an XLSX list, as recurring rounds in one step, or copied
from another campaign. Every write is one transaction, audited, and checks the caller's right itself:
HQ over the campaign's owner (``Forbidden`` otherwise).

Every problem is found before anything is written and located: by row and field for the tables
(``CatalogueProblems``, index of the row as sent), by sheet, row and column for a file
(``utilities.tables.FileProblems``). The rules: an indicator has a name (unique in the campaign) and a
unit of measure; a round has a name (unique in the campaign), lies inside the campaign's period and
overlaps no other round (a day inside two rounds could be reported under neither: see
``stats.services.check_day``); the dates of a round already reported under cannot change.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Mod

from accounts import scope
from accounts.models import User
from audit import services as audit
from tasks.models import Campaign
from tasks.queries import campaigns_for
from utilities.cn import cn_date, cn_range
from utilities.errors import Forbidden, Missing, Refused
from utilities.tables import FileProblems, Location, Problem, find_header, normalise_header, read_tables
from utilities.uploads import UploadRejected, check_data_file

from .models import MONEY_UNITS, Figure, Indicator, Kind, Round

NAME_MAX = Indicator._meta.get_field("name").max_length
MEASURE_MAX = Indicator._meta.get_field("measure").max_length
CODE_MAX = Indicator._meta.get_field("code").max_length
ROUND_NAME_MAX = Round._meta.get_field("name").max_length
SEQ_MAX = 32767  # PositiveSmallIntegerField
MAX_ROWS = 500  # a catalogue is a few dozen lines; more is a wrong file
MAX_RECURRING = 120  # a year of weekends is 53
DEFAULT_PATTERN = "第{n}轮集中统一行动"

FIELD_WORDS = {
    "id": "编号",
    "name": "名称",
    "code": "代码",
    "measure": "计量单位",
    "seq": "顺序",
    "is_active": "是否填报",
    "kind": "类型",
    "numerator": "分子",
    "denominator": "分母",
    "up_is_good": "增长为好",
    "start": "开始日期",
    "end": "结束日期",
}


def may_edit(user, campaign: Campaign) -> bool:
    """HQ over the campaign's owner keeps its catalogue (seen from below, as a sub-bureau's HQ: no)."""
    return scope.can(user, scope.Action.MANAGE, campaign.owner)


def _check_right(by: User, campaign: Campaign) -> None:
    if not may_edit(by, campaign):
        raise Forbidden("只有行动牵头的领导小组办公室可以维护统计指标和统一行动轮次")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row of a table sent: its index (0-based, as sent), the field, what."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row + 1}行 {FIELD_WORDS.get(self.field, self.field)}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class CatalogueProblems(Refused):
    """Rows refused: every problem with its row and field; nothing has been written."""

    def __init__(self, problems: Iterable[RowProblem]):
        self.problems = list(problems)
        super().__init__("；".join(str(p) for p in self.problems))

    def payload(self) -> dict[str, Any]:
        return {"detail": str(self), "problems": [p.as_dict() for p in self.problems]}


# --- checking rows ------------------------------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else str(value).replace("\u3000", " ").strip()


def _whole(value, *, low: int = 0, high: int = SEQ_MAX) -> tuple[int | None, str | None]:
    if isinstance(value, bool):
        return None, "应为整数"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[0-9]+", text):  # ASCII digits only: "²".isdigit() is true, int("²") fails
            return None, f"“{value}”应为整数"
        value = int(text[:12])
    if not isinstance(value, int) or not low <= value <= high:
        return None, f"应为{low}至{high}之间的整数"
    return value, None


def _claim(row: dict, existing: dict, seen: set[int], noun: str) -> tuple[Any, str]:
    """The existing row ``row["id"]`` names (``None`` for a new one) and the problem with it, if any: not
    one of the campaign's, or named twice in one save (``seen`` collects the ids)."""
    if row.get("id") in (None, ""):
        return None, ""
    pk, bad = _whole(row["id"], low=1, high=2**31 - 1)
    obj = existing.get(pk) if bad is None else None
    if obj is None:
        return None, f"该{noun}不属于此行动"
    if pk in seen:
        return None, f"同一{noun}出现了两次"
    seen.add(pk)
    return obj, ""


def _flag(value) -> tuple[bool | None, str | None]:
    if isinstance(value, bool):
        return value, None
    text = _text(value).lower()
    if text in ("1", "true", "yes", "on", "是", "填报", "√"):
        return True, None
    if text in ("0", "false", "no", "off", "否", "停用", "不填报", "×"):
        return False, None
    return None, f"“{value}”应为“是”或“否”"


KIND_WORDS = {
    Kind.COUNT: ("count", "数量", "计数", "整数"),
    Kind.QUANTITY: ("quantity", "计量", "数值", "小数"),
    Kind.MONEY: ("money", "金额", "资金"),
    Kind.RATE: ("rate", "比率", "率", "百分比"),
}
PARTS = ("numerator", "denominator")


def _kind(value) -> tuple[str | None, str | None]:
    text = _text(value).lower()
    for kind, names in KIND_WORDS.items():
        if text in names:
            return kind.value, None
    return None, f"“{value}”应为数量、计量、金额或比率"


@dataclass
class _Planned:
    """What a checked row will do: ``obj`` (new or existing), its new values and the old ones."""

    index: int
    obj: Any
    values: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    delete: bool = False

    @property
    def changes(self) -> dict[str, list[Any]]:
        return audit.diff(self.before, self.values)


def _next_code(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"i{n}" in taken:
        n += 1
    return f"i{n}"


def _shown(rows: list[dict], index: int) -> int:
    """The number a message gives a row: the caller's (``row``: the table's line, the sheet's row), else
    its place in the list from 1."""
    number = rows[index].get("row")
    return number if isinstance(number, int) else index + 1


def check_indicators(campaign: Campaign, rows: list[dict]) -> tuple[list[_Planned], list[RowProblem]]:
    """Each row (``id`` to change one, else a new one; ``name``, ``measure``, optional ``seq``,
    ``is_active``, ``code``; ``row``, the number messages give it) checked against the others and the
    campaign's indicators."""
    problems: list[RowProblem] = []
    if len(rows) > MAX_ROWS:
        return [], [RowProblem(MAX_ROWS, "id", f"一次最多{MAX_ROWS}行")]
    existing = {i.pk: i for i in Indicator.objects.filter(campaign=campaign)}
    planned: list[_Planned] = []
    seen_ids: set[int] = set()
    for index, row in enumerate(rows):
        wrong = lambda fld, msg, index=index: problems.append(RowProblem(index, fld, msg))  # noqa: E731
        obj, problem = _claim(row, existing, seen_ids, "指标")
        if problem:
            wrong("id", problem)
            continue
        current = _indicator_values(obj, existing) if obj else {}
        values = (
            dict(current)
            if obj
            else {
                "code": "",
                "name": "",
                "measure": "",
                "seq": None,
                "is_active": True,
                "kind": Kind.COUNT.value,
                "up_is_good": True,
                "numerator": "",
                "denominator": "",
            }
        )
        if row.get("kind") not in (None, ""):
            values["kind"], bad = _kind(row["kind"])
            if bad:
                wrong("kind", bad)
        if obj is None or "name" in row:
            values["name"] = _text(row.get("name"))
            if not values["name"]:
                wrong("name", "请填写指标名称")
            elif len(values["name"]) > NAME_MAX:
                wrong("name", f"不应超过{NAME_MAX}个字")
        if obj is None or "measure" in row:
            values["measure"] = _text(row.get("measure")) or ("%" if values["kind"] == Kind.RATE else "")
            if not values["measure"]:
                wrong("measure", "请填写计量单位（人次、家次、起 …）")
            elif len(values["measure"]) > MEASURE_MAX:
                wrong("measure", f"不应超过{MEASURE_MAX}个字")
        if row.get("seq") not in (None, ""):
            values["seq"], bad = _whole(row["seq"])
            if bad:
                wrong("seq", bad)
        if row.get("is_active") not in (None, ""):
            values["is_active"], bad = _flag(row["is_active"])
            if bad:
                wrong("is_active", bad)
        if row.get("up_is_good") not in (None, ""):
            values["up_is_good"], bad = _flag(row["up_is_good"])
            if bad:
                wrong("up_is_good", bad)
        for part in PARTS:
            if part in row:
                values[part] = _text(row.get(part))
        if values["kind"] == Kind.MONEY and values["measure"] and values["measure"] not in MONEY_UNITS:
            wrong("measure", f"金额的计量单位应为{'、'.join(MONEY_UNITS)}")
        if row.get("code") not in (None, ""):
            code = _text(row["code"])
            if not re.fullmatch(r"[-a-zA-Z0-9_]+", code) or len(code) > CODE_MAX:
                wrong("code", f"代码只能由字母、数字、-和_组成，不超过{CODE_MAX}个字符")
            values["code"] = code
        planned.append(_Planned(index, obj or Indicator(campaign=campaign), values, current if obj else {}))
    # names and codes: unique among the rows and the indicators not in them
    changed = {p.obj.pk for p in planned if p.obj.pk}
    names = {i.name: None for i in existing.values() if i.pk not in changed}
    codes = {i.code for i in existing.values() if i.pk not in changed}
    for p in planned:
        name = p.values["name"]
        if name and name in names:
            where = f"与第{_shown(rows, names[name])}行重名" if names[name] is not None else "该行动已有同名指标"
            problems.append(RowProblem(p.index, "name", where))
        names.setdefault(name, p.index)
        code = p.values["code"]
        if code and code in codes:
            problems.append(RowProblem(p.index, "code", f"代码“{code}”已被其他指标使用"))
        if code:
            codes.add(code)
    problems += _check_kinds(planned, existing)
    # a new indicator without a code: the one its namesake had in the campaign compared with (同比), else i<n>
    earlier = {}
    if campaign.compare_to_id:
        earlier = dict(Indicator.objects.filter(campaign_id=campaign.compare_to_id).values_list("name", "code"))
    seq = max([i.seq for i in existing.values()] + [0])
    for p in planned:
        if not p.values["code"]:
            wanted = earlier.get(p.values["name"])
            p.values["code"] = wanted if wanted and wanted not in codes else _next_code(codes)
            codes.add(p.values["code"])
        if p.values["seq"] is None:
            seq += 1
            p.values["seq"] = min(seq, SEQ_MAX)
    _final_codes(planned)
    problems.sort(key=lambda p: (p.row, list(FIELD_WORDS).index(p.field) if p.field in FIELD_WORDS else 99))
    return planned, problems


def _indicator_values(obj: Indicator, existing: dict[int, Indicator]) -> dict[str, Any]:
    """An indicator's fields as a row gives them, its rate's parts by code."""
    parts = {p: existing[pk].code if (pk := getattr(obj, f"{p}_id")) in existing else "" for p in PARTS}
    return {
        "code": obj.code,
        "name": obj.name,
        "measure": obj.measure,
        "seq": obj.seq,
        "is_active": obj.is_active,
        "kind": obj.kind,
        "up_is_good": obj.up_is_good,
        **parts,
    }


def _check_kinds(planned: list[_Planned], existing: dict[int, Indicator]) -> list[RowProblem]:
    """A rate's parts name two other indicators (by code or name, of the campaign or of the rows) that are
    summed, not rates; only a rate has parts; a kind changes once reported only where the figures fit.
    A part is kept as the row's values (``_final_codes`` turns it into the code, once codes are final)."""
    problems: list[RowProblem] = []
    changed = {p.obj.pk for p in planned if p.obj.pk}
    final = [p.values for p in planned] + [
        _indicator_values(i, existing) for i in existing.values() if i.pk not in changed
    ]
    moved = [p for p in planned if p.obj.pk and p.values["kind"] != p.before.get("kind")]
    ids = [p.obj.pk for p in moved]
    reported = set(Figure.objects.filter(indicator__in=ids).values_list("indicator_id", flat=True).distinct())
    fractional = set(
        Figure.objects.filter(indicator__in=ids)
        .annotate(fraction=Mod("value", 1))
        .exclude(fraction=0)
        .values_list("indicator_id", flat=True)
        .distinct()
    )
    for p in moved:
        old, new = p.before["kind"], p.values["kind"]
        if p.obj.pk in reported and Kind.RATE in (old, new):
            problems.append(RowProblem(p.index, "kind", "已有单位填报，不能改为或改自比率"))
        elif p.obj.pk in fractional and new == Kind.COUNT:
            problems.append(RowProblem(p.index, "kind", "已填报的数字有小数，不能改为数量（整数）"))
    for p in planned:
        values = p.values
        if values["kind"] != Kind.RATE:
            problems += [RowProblem(p.index, part, "只有比率指标有分子、分母") for part in PARTS if values[part]]
            continue
        named = [values[part] for part in PARTS]
        if any(named) and not all(named):
            missing = next(part for part in PARTS if not values[part])
            problems.append(RowProblem(p.index, missing, "比率由分子÷分母计算：两者都要填写；都不填则由各单位直接填报"))
            continue
        for part in PARTS:
            if not values[part]:
                continue
            target = next((v for v in final if values[part] in (v["code"], v["name"])), None)
            if target is None:
                problems.append(RowProblem(p.index, part, f"“{values[part]}”不是该行动的指标（应写指标名称或代码）"))
            elif target is values:
                problems.append(RowProblem(p.index, part, "不能是比率本身"))
            elif target["kind"] == Kind.RATE:
                problems.append(RowProblem(p.index, part, f"“{target['name']}”是比率：分子、分母应为计数、计量或金额"))
            else:
                values[part] = target

    # an indicator another rate divides may not become a rate itself
    def divides(values: dict) -> bool:
        return any(
            v[part] is values or (isinstance(v[part], str) and v[part] and v[part] == values.get("code"))
            for v in final
            for part in PARTS
        )

    for p in planned:
        if p.values["kind"] == Kind.RATE and divides(p.values):
            problems.append(RowProblem(p.index, "kind", "该指标是比率的分子或分母，应为计数、计量或金额"))
    return problems


def _final_codes(planned: list[_Planned]) -> None:
    for p in planned:
        for part in PARTS:
            if isinstance(p.values[part], dict):
                p.values[part] = p.values[part]["code"]


def _date(value) -> tuple[date | None, str | None]:
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = _text(value)
    m = re.fullmatch(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?", text)
    if not m:
        return None, f"“{text}”不是日期：应写2026-07-07或2026年7月7日" if text else "请填写日期"
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), None
    except ValueError:
        return None, f"“{text}”不是有效日期"


def check_rounds(campaign: Campaign, rows: list[dict]) -> tuple[list[_Planned], list[RowProblem]]:
    """Each row (``id`` to change or, with ``delete``, remove one; else a new one; ``name``, ``start``,
    ``end``) checked against the others, the campaign's period and its other rounds."""
    problems: list[RowProblem] = []
    if len(rows) > MAX_ROWS:
        return [], [RowProblem(MAX_ROWS, "id", f"一次最多{MAX_ROWS}行")]
    existing = {r.pk: r for r in Round.objects.filter(campaign=campaign)}
    planned: list[_Planned] = []
    seen_ids: set[int] = set()
    period = cn_range(campaign.start, campaign.end)
    for index, row in enumerate(rows):
        wrong = lambda fld, msg, index=index: problems.append(RowProblem(index, fld, msg))  # noqa: E731
        obj, problem = _claim(row, existing, seen_ids, "轮次")
        if problem:
            wrong("id", problem)
            continue
        current = {"name": obj.name, "start": obj.start, "end": obj.end} if obj else {}
        if obj is not None and row.get("delete"):
            planned.append(_Planned(index, obj, current, current, delete=True))
            continue
        values = dict(current) if obj else {"name": "", "start": None, "end": None}
        if obj is None or "name" in row:
            values["name"] = _text(row.get("name"))
            if not values["name"]:
                wrong("name", "请填写轮次名称")
            elif len(values["name"]) > ROUND_NAME_MAX:
                wrong("name", f"不应超过{ROUND_NAME_MAX}个字")
        for fld in ("start", "end"):
            if obj is None or fld in row:
                values[fld], bad = _date(row.get(fld))
                if bad:
                    wrong(fld, bad)
                elif not campaign.start <= values[fld] <= campaign.end:
                    wrong(fld, f"{cn_date(values[fld])}不在行动期间（{period}）")
                    values[fld] = None
        if values["start"] and values["end"] and values["end"] < values["start"]:
            wrong("end", "结束日期不能早于开始日期")
            values["end"] = None
        planned.append(_Planned(index, obj or Round(campaign=campaign), values, current))
    # rounds whose window changes or goes: not once reported under (the figures are dated its last day)
    moved = [
        p
        for p in planned
        if p.obj.pk and (p.delete or (p.values["start"], p.values["end"]) != (p.obj.start, p.obj.end))
    ]
    if moved:
        window = Q()
        for p in moved:
            window |= Q(day__range=(p.obj.start, p.obj.end))
        days = set(Figure.objects.filter(window, campaign=campaign).values_list("day", flat=True).distinct())
        for p in moved:
            if any(p.obj.start <= d <= p.obj.end for d in days):
                fld = "id" if p.delete else "start"
                problems.append(RowProblem(p.index, fld, "已有单位按该轮次上报战果，不能删除或改动日期"))
    # names unique; windows apart
    touched = {p.obj.pk for p in planned if p.obj.pk}
    kept = [r for r in existing.values() if r.pk not in touched]
    names = {r.name: None for r in kept}
    windows = [(r.start, r.end, r.name, None) for r in kept]
    for p in planned:
        if p.delete:
            continue
        name = p.values["name"]
        if name and name in names:
            where = f"与第{_shown(rows, names[name])}行重名" if names[name] is not None else "该行动已有同名轮次"
            problems.append(RowProblem(p.index, "name", where))
        names.setdefault(name, p.index)
        start, end = p.values["start"], p.values["end"]
        if start and end:
            for s, e, other, at in windows:
                if start <= e and s <= end:
                    whose = f"第{_shown(rows, at)}行的" if at is not None else ""
                    problems.append(RowProblem(p.index, "start", f"与{whose}“{other}”（{cn_range(s, e)}）日期重叠"))
                    break
            windows.append((start, end, name, p.index))
    problems.sort(key=lambda p: (p.row, list(FIELD_WORDS).index(p.field) if p.field in FIELD_WORDS else 99))
    return planned, problems


# --- writing ------------------------------------------------------------------------------------


def _lock(campaign: Campaign) -> None:
    """Catalogue writes of one campaign queue on its row, so that the names checked stay unique."""
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()


def _write(planned: list[_Planned], *, kind: str, by: User, campaign: Campaign, source: str) -> list:
    """Apply checked rows and record their events (inside the caller's transaction); returns the rows kept."""
    model = Indicator if kind == "indicator" else Round
    events, kept, parted = [], [], []
    planned = sorted(planned, key=lambda p: not p.delete)  # a name freed by a deletion may be taken again
    # renamed rows first take a name no one has: a swap of two names never meets the unique constraint
    renamed = [p for p in planned if p.obj.pk and not p.delete and p.values["name"] != p.before.get("name")]
    for p in renamed:
        model.objects.filter(pk=p.obj.pk).update(name=f"~{p.obj.pk}")
    if kind == "indicator":  # and the same for codes
        recoded = [p for p in planned if p.obj.pk and p.values["code"] != p.before.get("code")]
        for p in recoded:
            model.objects.filter(pk=p.obj.pk).update(code=f"~{p.obj.pk}")
    for p in planned:
        if p.delete:
            events.append(
                audit.event(p.obj, f"{kind}.deleted", actor=by, changes=p.before, unit=campaign.owner, source=source)
            )
            p.obj.delete()
            continue
        new = p.obj.pk is None
        changes = p.changes
        if not new and not changes:
            kept.append(p.obj)
            continue
        for k, v in p.values.items():
            if k not in PARTS:
                setattr(p.obj, k, v)
        if kind == "indicator":  # a rate's parts: set below, once every row has its final code
            p.obj.numerator = p.obj.denominator = None
            parted.append(p)
        p.obj.save()
        kept.append(p.obj)
        if new or changes:
            verb = f"{kind}.created" if new else f"{kind}.changed"
            events.append(audit.event(p.obj, verb, actor=by, changes=changes, unit=campaign.owner, source=source))
    if parted:
        by_code = {i.code: i for i in Indicator.objects.filter(campaign=campaign)}
        for p in parted:
            if p.values["numerator"]:
                p.obj.numerator, p.obj.denominator = by_code[p.values["numerator"]], by_code[p.values["denominator"]]
                p.obj.save(update_fields=["numerator", "denominator"])
    audit.record(events)
    return kept


def save_indicators(*, campaign: Campaign, by: User, rows: list[dict], source: str = "") -> list[Indicator]:
    """Create and change many indicators at once (the page's table, the API): all or none. Raises
    ``CatalogueProblems`` with every problem by row and field, or ``Forbidden``."""
    _check_right(by, campaign)
    with transaction.atomic():
        _lock(campaign)
        planned, problems = check_indicators(campaign, rows)
        if problems:
            raise CatalogueProblems(problems)
        return _write(planned, kind="indicator", by=by, campaign=campaign, source=source)


def save_rounds(*, campaign: Campaign, by: User, rows: list[dict], source: str = "") -> list[Round]:
    """Create, change and (``delete``) remove many rounds at once: all or none. Raises
    ``CatalogueProblems`` with every problem by row and field, or ``Forbidden``."""
    _check_right(by, campaign)
    with transaction.atomic():
        _lock(campaign)
        planned, problems = check_rounds(campaign, rows)
        if problems:
            raise CatalogueProblems(problems)
        return _write(planned, kind="round", by=by, campaign=campaign, source=source)


# --- an XLSX list ---------------------------------------------------------------------------------

INDICATOR_SHEETS = ("指标", "统计指标", "战果统计指标")
ROUND_SHEETS = ("统一行动", "集中统一行动", "轮次")
INDICATOR_HEADERS = {
    "name": ("指标名称", "指标", "名称"),
    "measure": ("计量单位", "单位"),
    "seq": ("顺序", "序号", "排序"),
    "code": ("代码", "指标代码"),
    "is_active": ("是否填报", "填报"),
    "kind": ("类型", "指标类型"),
    "numerator": ("分子",),
    "denominator": ("分母",),
    "up_is_good": ("增长为好", "越多越好"),
}
ROUND_HEADERS = {"name": ("名称", "轮次名称", "行动名称"), "start": ("开始日期", "开始"), "end": ("结束日期", "结束")}


@dataclass(frozen=True)
class Imported:
    indicators: int  # rows created or changed
    rounds: int


def _sheet_rows(table, header, synonyms) -> tuple[list[dict], list[Any]]:
    """The table's rows under its header as dicts, and each one's Row (for locations)."""
    rows, where = [], []
    for row in table.rows[header.row.number :]:
        if row.is_blank():
            continue
        values = {f: row.cells[c] if c < len(row.cells) else None for f, c in header.columns.items()}
        rows.append({**values, "row": row.number})
        where.append(row)
    return rows, where


def _located(problems: list[RowProblem], where: list, header) -> list[Problem]:
    out = []
    for p in problems:
        row = where[min(p.row, len(where) - 1)] if where else None
        if row is None:
            continue
        column = header.columns.get(p.field)
        label = header.labels.get(p.field, FIELD_WORDS.get(p.field, p.field))
        text = row.cells[column] if column is not None and column < len(row.cells) else None
        out.append(
            Problem(
                row.location.at(column=column, label=label),
                p.message,
                text=str(text) if text not in (None, "") else "",
            )
        )
    return out


def _by_name(rows: list[dict], existing: dict[str, int]) -> list[dict]:
    """Rows of a list match the campaign's rows by name: a name already there is changed, not doubled."""
    for row in rows:
        pk = existing.get(_text(row.get("name")))
        if pk:
            row["id"] = pk
    return rows


def import_catalogue(*, campaign: Campaign, by: User, upload: UploadedFile) -> Imported:
    """An XLSX list: sheet 指标 (指标名称, 计量单位, 顺序; optionally 代码, 是否填报) and optionally sheet
    统一行动 (名称, 开始日期, 结束日期). Rows match the campaign's by name. Every problem with its sheet,
    row and column, or everything written (one transaction)."""
    _check_right(by, campaign)
    checked = check_data_file(upload)
    if checked.extension != ".xlsx":
        raise UploadRejected(checked.name, "指标清单应为 Excel 文件（.xlsx），含“指标”工作表")
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as spool:
        upload.seek(0)
        for chunk in upload.chunks():
            spool.write(chunk)
        spool.flush()
        tables = read_tables(spool.name, display_name=checked.name)
    sheets = {normalise_header(t.name): t for t in tables}
    ind_table = next((sheets[n] for n in map(normalise_header, INDICATOR_SHEETS) if n in sheets), None)
    round_table = next((sheets[n] for n in map(normalise_header, ROUND_SHEETS) if n in sheets), None)
    if ind_table is None and round_table is None:
        names = "、".join(f"“{t.name}”" for t in tables)
        raise FileProblems([Problem(Location(checked.name), f"找不到“指标”工作表（文件中的工作表：{names}）")])
    problems: list[Problem] = []
    parts = []
    for table, synonyms, required, kind in (
        (ind_table, INDICATOR_HEADERS, ["name", "measure"], "indicator"),
        (round_table, ROUND_HEADERS, ["name", "start", "end"], "round"),
    ):
        if table is None:
            continue
        header = find_header(table, synonyms, required)
        if header is None:
            expected = "、".join(synonyms[f][0] for f in required)
            problems.append(Problem(Location(checked.name, "sheet", table.name), f"找不到表头：应有 {expected} 列"))
            continue
        rows, where = _sheet_rows(table, header, synonyms)
        parts.append((kind, rows, where, header))
    with transaction.atomic():
        _lock(campaign)
        plans = {}
        for kind, rows, where, header in parts:
            model = Indicator if kind == "indicator" else Round
            existing = dict(model.objects.filter(campaign=campaign).values_list("name", "pk"))
            check = check_indicators if kind == "indicator" else check_rounds
            planned, found = check(campaign, _by_name(rows, existing))
            problems += _located(found, where, header)
            plans[kind] = planned
        if problems:
            raise FileProblems(problems)
        if not any(plans.values()):
            raise FileProblems([Problem(Location(checked.name), "清单中没有任何指标或轮次")])
        source = f"web {checked.name}"
        done = {k: len([p for p in v if p.obj.pk is None or p.changes]) for k, v in plans.items()}
        for kind, planned in plans.items():
            _write(planned, kind=kind, by=by, campaign=campaign, source=source)
    return Imported(done.get("indicator", 0), done.get("round", 0))


# --- recurring rounds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    """How rounds recur: every weekend (Saturday and Sunday), or the first ``days`` days of each month.
    A weekend or month start cut by the campaign's period is kept as the part inside it."""

    WEEKENDS = "weekends"
    MONTH_START = "month_start"

    kind: str
    days: int = 0

    def windows(self, start: date, end: date) -> list[tuple[date, date]]:
        out = []
        if self.kind == self.WEEKENDS:
            saturday = start - timedelta(days=(start.weekday() - 5) % 7)  # the Saturday on or before start
            while saturday <= end:
                s, e = max(saturday, start), min(saturday + timedelta(days=1), end)
                if s <= e:
                    out.append((s, e))
                saturday += timedelta(days=7)
        elif self.kind == self.MONTH_START:
            first = start.replace(day=1)
            while first <= end:
                nxt = (first + timedelta(days=32)).replace(day=1)
                last = min(first + timedelta(days=self.days - 1), nxt - timedelta(days=1))
                s, e = max(first, start), min(last, end)
                if s <= e:
                    out.append((s, e))
                first = nxt
        return out


def _name(pattern: str, n: int, start: date, end: date) -> str:
    return (
        pattern.replace("{n}", str(n))
        .replace("{start}", cn_date(start))
        .replace("{end}", cn_date(end))
        .replace("{range}", cn_range(start, end))
    )


def add_recurring_rounds(
    *, campaign: Campaign, by: User, rule: Recurrence, name_pattern: str = DEFAULT_PATTERN, source: str = ""
) -> list[Round]:
    """Rounds for every window of ``rule`` in the campaign, named by ``name_pattern`` ({n}: the round's
    number, after the campaign's rounds so far; {start}, {end}, {range}: its dates). All or none."""
    _check_right(by, campaign)
    if rule.kind not in (Recurrence.WEEKENDS, Recurrence.MONTH_START):
        raise Refused("重复方式应为“每个周末”或“每月前几天”")
    if rule.kind == Recurrence.MONTH_START and not 1 <= rule.days <= 31:
        raise Refused("每月前几天：天数应为1至31")
    pattern = _text(name_pattern) or DEFAULT_PATTERN
    if "{n}" not in pattern and "{start}" not in pattern and "{range}" not in pattern:
        raise Refused("轮次名称应含{n}（序号）或{start}/{range}（日期），否则各轮重名")
    windows = rule.windows(campaign.start, campaign.end)
    if not windows:
        raise Refused("行动期间内没有符合该规则的日期")
    if len(windows) > MAX_RECURRING:
        raise Refused(f"将生成{len(windows)}个轮次，超过上限{MAX_RECURRING}个")
    with transaction.atomic():
        _lock(campaign)
        offset = Round.objects.filter(campaign=campaign).count()
        rows = [{"name": _name(pattern, offset + n, s, e), "start": s, "end": e} for n, (s, e) in enumerate(windows, 1)]
        planned, problems = check_rounds(campaign, rows)
        if problems:
            raise CatalogueProblems(problems)
        return _write(planned, kind="round", by=by, campaign=campaign, source=source)


# --- copying from another campaign ----------------------------------------------------------------


@dataclass(frozen=True)
class Copied:
    indicators: int  # added to the target
    rounds: int  # added (clamped ones included)
    clamped: int  # rounds cut to the target's period
    dropped: int  # rounds wholly outside the target's period, or overlapping its rounds
    skipped: int  # rows the target already had (same code or name)


def shift_by_starts(source: Campaign, target: Campaign) -> Callable[[date], date]:
    """The default mover: every date moves by the distance between the two campaigns' first days."""
    delta = target.start - source.start
    return lambda day: day + delta


def copy_catalogue(
    *,
    source: Campaign,
    target: Campaign,
    by: User,
    move: Callable[[date], date] | None = None,
    source_label: str = "",
) -> Copied:
    """The source's indicators (with their codes, so 同比 matches them) and rounds, dates moved by ``move``
    (default ``shift_by_starts``), into ``target``. What the target already has (an indicator of the same
    code or name, a round of the same name) is kept as it is. A moved round partly outside the target's
    period is clamped to it; wholly outside, or overlapping a round of the target, it is dropped.
    ``source`` must be a campaign ``by`` sees (else ``Missing``)."""
    _check_right(by, target)
    if source.pk == target.pk:
        raise Refused("不能从本行动复制")
    if not campaigns_for(by).filter(pk=source.pk).exists():
        raise Missing("找不到该行动")
    move = move or shift_by_starts(source, target)
    with transaction.atomic():
        _lock(target)
        have = list(Indicator.objects.filter(campaign=target))
        codes, names = {i.code for i in have}, {i.name for i in have}
        ind_rows, skipped = [], 0
        source_indicators = {i.pk: i for i in Indicator.objects.filter(campaign=source)}
        for i in sorted(source_indicators.values(), key=lambda i: (i.seq, i.pk)):
            if i.code in codes or i.name in names:
                skipped += 1
                continue
            ind_rows.append(_indicator_values(i, source_indicators))  # its kind, direction, a rate's parts
            codes.add(i.code)
            names.add(i.name)
        kept_rounds = list(Round.objects.filter(campaign=target))
        taken = {r.name for r in kept_rounds}
        windows = [(r.start, r.end) for r in kept_rounds]
        round_rows, clamped, dropped = [], 0, 0
        for r in Round.objects.filter(campaign=source).order_by("start"):
            if r.name in taken:
                skipped += 1
                continue
            start, end = move(r.start), move(r.end)
            s, e = max(start, target.start), min(end, target.end)
            if e < s or any(s <= we and ws <= e for ws, we in windows):
                dropped += 1
                continue
            clamped += (s, e) != (start, end)
            round_rows.append({"name": r.name, "start": s, "end": e})
            windows.append((s, e))
            taken.add(r.name)
        source_text = f"copy {source.code} {source_label}".strip()
        for kind, rows in (("indicator", ind_rows), ("round", round_rows)):
            if not rows:
                continue
            planned, problems = (check_indicators if kind == "indicator" else check_rounds)(target, rows)
            if problems:  # the source's own rows break no rule; a broken one is the source's fault
                raise CatalogueProblems(problems)
            _write(planned, kind=kind, by=by, campaign=target, source=source_text)
    return Copied(len(ind_rows), len(round_rows), clamped, dropped, skipped)
