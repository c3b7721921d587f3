"""Checking a raw plan and turning it into specs the importer can write: every problem, located."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from accounts.models import Unit
from tasks.models import AssignmentRole, Campaign, Item, LineOfAction
from utilities.tables import FileProblems, Location, Problem

from .phrases import Deadline, PhraseError, Target, parse_deadline, parse_target, parse_targets, split_units
from .reader import RawItem, RawPlan
from .units import Named, UnitResolver


@dataclass
class CampaignSpec:
    name: str
    code: str
    start: date
    end: date
    owner: Unit


@dataclass
class ActionSpec:
    code: str
    seq: int
    name: str
    leader_name: str
    location: Location


@dataclass
class ItemSpec:
    code: str
    seq: int
    action_code: str
    title: str
    measures: str
    target: Target
    lead_text: str
    cooperating_text: str
    leader_name: str
    deadline: Deadline
    acceptance: str
    named: list[tuple[str, Named, str]]  # (role, what it names, the text as written)
    location: Location
    targets: tuple[Target, ...] = ()  # every target of the cell, the first as ``target`` reads it


@dataclass
class PlanSpec:
    file: str
    campaign: CampaignSpec
    actions: list[ActionSpec] = field(default_factory=list)
    items: list[ItemSpec] = field(default_factory=list)


def _limit(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def _too_long(text: str, model, field: str, what: str, example: str = "") -> str | None:
    """The problem with ``text`` if its column cannot hold it: said, rather than cut short or left to
    fail the whole import (PostgreSQL refuses an over-long value)."""
    limit = _limit(model, field)
    if len(text) <= limit:
        return None
    shown = text if len(text) <= 40 else text[:40] + "…"
    return f"{what}“{shown}”过长（{len(text)}个字）：应不超过{limit}个字{example}"


def _as_date(value: Any, location: Location, problems: list[Problem]) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    match = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?", text)
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            pass
    problems.append(Problem(location, f"日期“{text}”无法识别：应写作 2026-07-01"))
    return None


def campaign_spec(
    plan: RawPlan, *, name: str | None, code: str | None, start: Any, end: Any, owner: str | None, defaults: dict
) -> CampaignSpec:
    """Campaign fields from the options, else from the file, else from the campaign already stored."""
    problems: list[Problem] = []
    option = Location(plan.file, label="命令行选项")

    def pick(key: str, given: Any) -> tuple[Any, Location]:
        if given not in (None, ""):
            return given, option.at(label=f"--{key}")
        if key in plan.meta:
            return plan.meta[key].value, plan.meta[key].location
        return defaults.get(key), option.at(label=f"--{key}")

    values = {
        key: pick(key, given)
        for key, given in (("name", name), ("code", code), ("start", start), ("end", end), ("owner", owner))
    }
    for key, label in (
        ("name", "行动名称"),
        ("start", "开始日期"),
        ("end", "结束日期"),
        ("owner", "牵头指挥部单位编码"),
    ):
        if values[key][0] in (None, ""):
            problems.append(
                Problem(values[key][1], f"缺少{label}：用 --{key} 指定{'，或写在文件的 campaign 中' if key else ''}")
            )
    if problems:
        raise FileProblems(problems)
    start_d = _as_date(values["start"][0], values["start"][1], problems)
    end_d = _as_date(values["end"][0], values["end"][1], problems)
    if start_d and end_d and end_d < start_d:
        problems.append(Problem(values["end"][1], f"结束日期 {end_d} 早于开始日期 {start_d}"))
    for key, what in (("name", "行动名称"), ("code", "行动编号")):
        if message := _too_long(str(values[key][0] or "").strip(), Campaign, key, what):
            problems.append(Problem(values[key][1], message))
    owner_unit = Unit.objects.filter(code=str(values["owner"][0]).strip()).first()
    if owner_unit is None:
        problems.append(
            Problem(
                values["owner"][1], f"单位编码“{values['owner'][0]}”不存在：应为已导入单位的编码（先运行 import_units）"
            )
        )
    if problems:
        raise FileProblems(problems)
    return CampaignSpec(
        str(values["name"][0]).strip(), str(values["code"][0] or "").strip(), start_d, end_d, owner_unit
    )


def compile_plan(plan: RawPlan, campaign: CampaignSpec) -> PlanSpec:
    problems: list[Problem] = []
    spec = PlanSpec(plan.file, campaign)
    if not plan.items:
        raise FileProblems(
            [Problem(Location(plan.file), "没有找到任何清单项：表头下应逐行填写序号、工作任务、牵头单位、完成时限")]
        )

    # Lines of action: the number as written ("一" -> "1"), else their order.
    action_code: dict[str, str] = {}
    seen_codes: dict[str, Location] = {}
    for seq, raw in enumerate(plan.actions, start=1):
        code = raw.code or str(seq)
        if code in seen_codes:
            problems.append(
                Problem(raw.location, f"行动编号“{code}”重复（{seen_codes[code]} 已有）：每个行动的编号应不同")
            )
            continue
        seen_codes[code] = raw.location
        for value, fld, what in (
            (code, "code", "行动编号"),
            (raw.name, "name", "行动名称"),
            (raw.leader, "leader_name", "分管领导"),
        ):
            if message := _too_long(value, LineOfAction, fld, what):
                problems.append(Problem(raw.location, message))  # its items still belong to it: no more problems
        action_code[raw.key] = code
        if raw.name != raw.key:
            action_code.setdefault(raw.name, code)
        spec.actions.append(ActionSpec(code, seq, raw.name, raw.leader, raw.location))

    codes = _item_codes(plan, action_code)
    resolver = UnitResolver(campaign.owner)
    first_row: dict[str, Location] = {}
    for seq, (raw, code) in enumerate(zip(plan.items, codes, strict=False), start=1):
        item = _compile_item(raw, code, seq, action_code, resolver, campaign, problems)
        if item is None:
            continue
        if item.code in first_row:
            problems.append(
                Problem(
                    raw.where("code"),
                    f"序号“{item.code}”重复（{first_row[item.code]} 已有）：每个清单项的序号应唯一",
                    item.code,
                )
            )
            continue
        first_row[item.code] = raw.location
        spec.items.append(item)
    if problems:
        raise FileProblems(problems)
    return spec


def _item_codes(plan: RawPlan, action_code: dict[str, str]) -> list[str]:
    """Codes as written; plain numbers that restart in every section become "<action>.<n>"."""
    written = [raw.text("code") for raw in plan.items]
    plain = [c for c in written if re.fullmatch(r"\d+", c)]
    restart = plan.sections and any(n > 1 for n in Counter(plain).values())
    if not restart:
        return written
    return [
        f"{action_code.get(raw.action_key or '', '?')}.{code}" if re.fullmatch(r"\d+", code) else code
        for raw, code in zip(plan.items, written, strict=False)
    ]


def _compile_item(
    raw: RawItem,
    code: str,
    seq: int,
    action_code: dict[str, str],
    resolver: UnitResolver,
    campaign: CampaignSpec,
    problems: list[Problem],
) -> ItemSpec | None:
    before = len(problems)
    if not code:
        problems.append(Problem(raw.where("code"), "序号为空：每个清单项应有序号，如“3.12”"))
    elif message := _too_long(code, Item, "code", "序号", "，如“3.12”"):
        problems.append(Problem(raw.where("code"), message, code))
    title = raw.text("task")
    if not title:
        problems.append(Problem(raw.where("task"), "工作任务为空：应写明要完成的任务"))
    action = action_code.get(raw.action_key or "")
    if action is None:
        problems.append(
            Problem(raw.location, "不属于任何行动：应放在分节行（如“一、“清患”行动”）之下，或填写“所属行动”列")
        )
    lead_text, coop_text = raw.text("lead"), raw.text("cooperating")
    named: list[tuple[str, Named, str]] = []
    if not lead_text:
        problems.append(Problem(raw.where("lead"), "牵头单位为空：应至少写一个单位，如“治安支队”或“各派出所”"))
    keys: set[tuple] = set()
    for role, fld, text in (
        (AssignmentRole.LEAD, "lead", lead_text),
        (AssignmentRole.COOPERATING, "cooperating", coop_text),
    ):
        for token in split_units(text):
            try:
                target = resolver.resolve(token)
            except PhraseError as exc:
                problems.append(Problem(raw.where(fld), str(exc), text))
                continue
            key = (target.scope, target.unit_id, target.kind)
            if key in keys:
                continue  # named as lead already (or twice): the lead role wins
            keys.add(key)
            named.append((role, target, token))
    deadline = None
    try:
        deadline = parse_deadline(
            raw.values["deadline"].value if "deadline" in raw.values else "", campaign.start, campaign.end
        )
    except PhraseError as exc:
        problems.append(Problem(raw.where("deadline"), str(exc), raw.text("deadline")))
    if len(problems) > before:
        return None
    cell = raw.values["target"].value if "target" in raw.values else None
    target = parse_target(cell)
    return ItemSpec(
        code=code,
        seq=seq,
        action_code=action,
        title=title,
        measures=raw.text("measures"),
        target=target,
        lead_text=lead_text,
        cooperating_text=coop_text,
        leader_name=raw.text("leader"),
        deadline=_per_period(deadline, target),
        acceptance=raw.text("acceptance"),
        named=named,
        location=raw.location,
        targets=parse_targets(cell),
    )


def _per_period(deadline: Deadline, target: Target) -> Deadline:
    """每日巡逻不少于2次 throughout the campaign (行动期间): a daily check-in of 2, not 2 in all. A target
    written per day, week or month makes an item without a cadence of its own report on that cadence
    (weekly by Friday, monthly by the month's end, as 每周 and 每月 alone read)."""
    if not target.per or deadline.kind != "ongoing":
        return deadline
    weekday, day = (5, None) if target.per == "weekly" else (None, 0) if target.per == "monthly" else (None, None)
    return Deadline(deadline.text, target.per, None, weekday, day)
