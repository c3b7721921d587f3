"""Reading a plan file (XLSX, DOCX, CSV, YAML, JSON) into raw rows that keep their locations.

Nothing here interprets units, deadlines or targets: ``compiler`` does, so every format gets the
same rules and the same messages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from utilities.tables import (
    Cell,
    FileProblems,
    Location,
    Problem,
    Table,
    describe_headers,
    find_header,
    normalise_header,
    read_tables,
)

from .phrases import section_heading

HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("序号", "编号", "no", "number"),
    "action": ("行动", "所属行动", "行动名称", "行动类别"),
    "task": ("工作任务", "工作内容", "任务内容", "任务", "title"),
    "measures": ("工作措施", "具体措施", "措施", "主要措施"),
    "target": ("量化指标", "目标任务", "量化目标", "指标", "目标"),
    "lead": ("牵头单位", "责任单位", "主责单位", "lead_units"),
    "cooperating": ("配合单位", "协办单位", "协作单位", "cooperating_units", "coop"),
    "leader": ("责任领导", "分管领导", "责任人", "responsible_leader"),
    "deadline": ("完成时限", "时间节点", "完成时间", "时限", "due"),
    "acceptance": ("验收标准", "评价标准", "考核标准", "完成标准"),
}
REQUIRED = ("code", "task", "lead", "deadline")
FIELD_LABELS = {f: words[0] for f, words in HEADERS.items()}
_KEY_LOOKUP = {normalise_header(w): f for f, words in HEADERS.items() for w in (*words, f)}


@dataclass
class RawValue:
    value: Any
    location: Location


@dataclass
class RawAction:
    key: str  # code as written, or the name when the file gives no number
    name: str
    leader: str
    location: Location
    code: str = ""  # normalised number, "1".."n"


@dataclass
class RawItem:
    location: Location
    values: dict[str, RawValue]
    action_key: str | None  # the section the row stands in, or the action column's text

    def text(self, fld: str) -> str:
        raw = self.values.get(fld)
        if raw is None or raw.value is None:
            return ""
        return raw.value.isoformat() if isinstance(raw.value, date) else str(raw.value).strip()

    def where(self, fld: str) -> Location:
        raw = self.values.get(fld)
        return raw.location if raw else self.location.at(label=FIELD_LABELS.get(fld, fld))


@dataclass
class RawPlan:
    file: str
    meta: dict[str, RawValue] = field(default_factory=dict)  # campaign fields a YAML/JSON file carries
    actions: list[RawAction] = field(default_factory=list)
    items: list[RawItem] = field(default_factory=list)
    sections: bool = False  # lines of action came from section rows


def read_plan(path: Path | str, *, display_name: str | None = None) -> RawPlan:
    path = Path(path)
    name = display_name or path.name
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        return _read_structured(path, name)
    tables = read_tables(path, display_name=name)
    for table in tables:
        header = find_header(table, HEADERS, REQUIRED)
        if header:
            return _read_table(table, header)
    where = "、".join(f"“{t.name}”" for t in tables if t.kind == "sheet") or ""
    expected = describe_headers(HEADERS, REQUIRED)
    scope = f"（已查看工作表 {where}）" if where else ""
    kind = "表格" if path.suffix.lower() == ".docx" else "表头"
    return _fail(Location(name), f"找不到责任清单的{kind}{scope}：表头应包含 {expected} 等列")


def _fail(location: Location, message: str):
    raise FileProblems([Problem(location, message)])


def _read_table(table: Table, header) -> RawPlan:
    plan = RawPlan(table.file)
    header_cells = [normalise_header(c) for c in header.row.cells]
    current: RawAction | None = None
    start = table.rows.index(header.row) + 1
    code_col = header.columns["code"]
    for row in table.rows[start:]:
        if row.is_blank():
            continue
        if [normalise_header(c) for c in row.cells] == header_cells:
            continue  # Word repeats the header row on every page
        texts = [c for c in row.cells if c not in (None, "")]
        distinct = {str(c) for c in texts}
        if len(distinct) == 1:
            text = texts[0]
            heading = section_heading(str(text))
            spans = len(texts) > 1 or row.cells[code_col] in (None, "")
            if heading or spans:
                number, action_name, leader = heading or ("", str(text), "")
                current = RawAction(number or action_name, action_name, leader, row.location)
                plan.actions.append(current)
                plan.sections = True
                continue
        values = {}
        for fld, index in header.columns.items():
            value: Cell = row.cells[index] if index < len(row.cells) else None
            values[fld] = RawValue(value, row.location.at(column=index, label=header.labels[fld]))
        item = RawItem(row.location, values, None)
        column_action = item.text("action")
        item.action_key = column_action or (current.key if current else None)
        plan.items.append(item)
    _actions_from_column(plan)
    return plan


def _actions_from_column(plan: RawPlan) -> None:
    """With an action column, each distinct value is a line of action, in order of appearance."""
    known = {a.key for a in plan.actions}
    for item in plan.items:
        key = item.action_key
        if key and key not in known:
            heading = section_heading(key)
            number, name, leader = heading or ("", key, "")
            plan.actions.append(RawAction(key, name, leader, item.where("action"), number))
            known.add(key)


# --- YAML / JSON ---------------------------------------------------------------------------


class _AliasRefused(yaml.YAMLError):
    def __init__(self, mark):
        super().__init__("YAML 别名（*引用）不受支持：请把内容直接写出")
        self.problem = str(self)
        self.problem_mark = mark


class _LineLoader(yaml.SafeLoader):
    """Records the line of every mapping so problems can say where they are, and refuses aliases: an
    office's plan never needs one, and nested aliases (a "billion laughs") would make a small file expand
    into millions of items when its rows are walked."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _read_structured(path: Path, name: str) -> RawPlan:
    from utilities.tables import decode_text

    text = decode_text(path.read_bytes(), name)
    kind = "json" if path.suffix.lower() == ".json" else "yaml"
    try:
        # _LineLoader is a SafeLoader subclass.
        data = json.loads(text) if kind == "json" else yaml.load(text, Loader=_LineLoader)  # noqa: S506
    except json.JSONDecodeError as exc:
        _fail(Location(name, kind, row=exc.lineno), f"JSON 格式错误：{exc.msg}（第{exc.colno}列）")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        _fail(
            Location(name, kind, row=mark.line + 1 if mark else None), f"YAML 格式错误：{getattr(exc, 'problem', exc)}"
        )
    if not isinstance(data, dict):
        _fail(Location(name, kind), "文件顶层应为一个对象，包含 campaign、actions（或 items）")
    plan = RawPlan(name)

    def loc(obj: Any, label: str) -> Location:
        line = obj.get("__line__") if isinstance(obj, dict) else None
        return Location(name, kind, row=line, label=label)

    campaign = data.get("campaign") or {}
    if not isinstance(campaign, dict):
        _fail(loc(data, "campaign"), "campaign 应为对象：name、code、start、end、owner")
    for key in ("name", "code", "start", "end", "owner"):
        if campaign.get(key) not in (None, ""):
            plan.meta[key] = RawValue(campaign[key], loc(campaign, f"campaign.{key}"))

    def add_item(entry: Any, path: str, action_key: str | None) -> None:
        if not isinstance(entry, dict):
            _fail(loc(entry, path), "每个清单项应为对象：code、task、lead、deadline ……")
        values = {}
        for key, value in entry.items():
            fld = _KEY_LOOKUP.get(normalise_header(key)) if key != "__line__" else None
            if fld:
                if isinstance(value, list):
                    value = "、".join(str(v) for v in value)
                values[fld] = RawValue(value, loc(entry, f"{path}.{key}"))
        item = RawItem(loc(entry, path), values, action_key)
        if not action_key and item.text("action"):
            item.action_key = item.text("action")
        plan.items.append(item)

    def items_of(parent: dict, path: str) -> list:
        # items: true, or a number, is a mistake to point at, not a list to walk
        items = parent.get("items") or []
        if not isinstance(items, list):
            _fail(loc(parent, path), f"{path} 应为列表，每项为一个清单项：code、task、lead、deadline ……")
        return items

    actions = data.get("actions") or []
    if not isinstance(actions, list):
        _fail(loc(data, "actions"), "actions 应为列表")
    for a_index, entry in enumerate(actions):
        if not isinstance(entry, dict) or not entry.get("name"):
            _fail(loc(entry, f"actions[{a_index}]"), "每个行动应为对象，至少有 name（行动名称）")
        key = str(entry.get("code") or entry["name"]).strip()
        heading = section_heading(f"{key}、{entry['name']}") if entry.get("code") else None
        number = heading[0] if heading else (key if re.fullmatch(r"\d+", key) else "")
        plan.actions.append(
            RawAction(
                key,
                str(entry["name"]).strip(),
                str(entry.get("leader") or "").strip(),
                loc(entry, f"actions[{a_index}]"),
                number,
            )
        )
        for i_index, item in enumerate(items_of(entry, f"actions[{a_index}].items")):
            add_item(item, f"actions[{a_index}].items[{i_index}]", key)
    for i_index, item in enumerate(items_of(data, "items")):
        add_item(item, f"items[{i_index}]", None)
    _actions_from_column(plan)
    return plan
