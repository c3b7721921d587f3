"""Importing the unit tree from CSV or XLSX (``manage.py import_units``).

Re-running with the same file changes nothing; a corrected file updates names and kinds, and moves
units whose parent changed. Every problem is reported with its row, and then nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from audit import services as audit
from utilities.tables import FileProblems, Location, Problem, describe_headers, find_header, read_tables

from .models import Unit, UnitKind, User

HEADERS = {
    "code": ("单位编码", "单位代码", "编码", "code"),
    "name": ("单位名称", "名称", "name"),
    "parent_code": ("上级单位编码", "上级单位代码", "上级编码", "parent_code", "parent"),
    "kind": ("单位类型", "类型", "kind", "type"),
    "short_name": ("单位简称", "简称", "short_name"),
}
REQUIRED = ("code", "name", "parent_code")


@dataclass
class UnitRow:
    location: Location
    code: str
    name: str
    parent_code: str
    kind: str
    short_name: str


@dataclass
class UnitImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "moved": len(self.moved),
            "unchanged": self.unchanged,
        }


class _DryRun(Exception):
    pass


def read_rows(path: Path | str, display_name: str | None = None) -> list[UnitRow]:
    tables = read_tables(path, display_name=display_name)
    kinds = UnitKind.lookup()
    for table in tables:
        header = find_header(table, HEADERS, REQUIRED)
        if header:
            break
    else:
        raise FileProblems(
            [
                Problem(
                    Location(tables[0].file if tables else str(path)),
                    f"找不到表头：应有列 {describe_headers(HEADERS, (*REQUIRED, 'kind'))}",
                )
            ]
        )
    problems: list[Problem] = []
    rows: list[UnitRow] = []
    start = table.rows.index(header.row) + 1
    for row in table.rows[start:]:
        if row.is_blank():
            continue

        def cell(fld: str, row=row) -> str:
            index = header.columns.get(fld)
            value = row.cells[index] if index is not None and index < len(row.cells) else None
            return str(value).strip() if value is not None else ""

        def where(fld: str, row=row) -> Location:
            return row.location.at(column=header.columns.get(fld), label=header.labels.get(fld, fld))

        code, name, kind_text = cell("code"), cell("name"), cell("kind")
        if not code:
            problems.append(Problem(where("code"), "单位编码为空：每个单位都要有唯一的编码"))
        if not name:
            problems.append(Problem(where("name"), "单位名称为空：应填写单位全称，如“城东分局”"))
        kind = UnitKind.OTHER.value
        if kind_text:
            kind = kinds.get(kind_text) or kinds.get(kind_text.lower(), "")
            if not kind:
                problems.append(
                    Problem(
                        where("kind"),
                        f"无法识别的单位类型“{kind_text}”：应为 {'、'.join(str(k.label) for k in UnitKind)} 之一",
                    )
                )
        rows.append(UnitRow(row.location, code, name, cell("parent_code"), kind or UnitKind.OTHER, cell("short_name")))
    if not rows and not problems:
        problems.append(Problem(header.row.location, "表头下没有任何单位"))
    if problems:
        raise FileProblems(problems)
    _check_tree(rows, header)
    return rows


def _check_tree(rows: list[UnitRow], header) -> None:
    problems: list[Problem] = []
    col = header.columns
    by_code: dict[str, UnitRow] = {}
    for row in rows:
        if row.code in by_code:
            first = by_code[row.code].location.row
            problems.append(
                Problem(
                    row.location.at(column=col["code"], label=header.labels["code"]),
                    f"单位编码“{row.code}”重复（第{first}行已有）：编码必须唯一",
                )
            )
        else:
            by_code[row.code] = row
    existing = dict(Unit.objects.values_list("code", "path"))
    path_to_code = {path: code for code, path in existing.items()}
    parent_of = {code: path_to_code.get(path[: -Unit.steplen], "") for code, path in existing.items()}
    for row in rows:
        parent_of[row.code] = row.parent_code
        if row.parent_code and row.parent_code not in by_code and row.parent_code not in existing:
            problems.append(
                Problem(
                    row.location.at(column=col["parent_code"], label=header.labels["parent_code"]),
                    f"上级单位编码“{row.parent_code}”不存在：应为本文件或系统中已有单位的编码，根单位留空",
                )
            )
    for row in rows:
        seen = {row.code}
        code = row.parent_code
        while code:
            if code in seen:
                problems.append(
                    Problem(
                        row.location.at(column=col["parent_code"], label=header.labels["parent_code"]),
                        f"上级关系成环（{row.code} → … → {code}）：单位不能是自己的下级",
                    )
                )
                break
            seen.add(code)
            code = parent_of.get(code, "")
    if problems:
        raise FileProblems(problems)


def _depth(code: str, parent_of: dict[str, str]) -> int:
    depth = 0
    while code := parent_of.get(code, ""):
        depth += 1
    return depth


def import_units(
    *, path: Path | str, by: User | None = None, dry_run: bool = False, display_name: str | None = None
) -> UnitImportResult:
    """Create, rename and move units as the file says, audited; ``by`` ``None`` is the system (the command
    line, the demo). A dry run does it all and rolls it back."""
    rows = read_rows(path, display_name)
    result = UnitImportResult()
    source = f"import_units {display_name or Path(path).name}"
    try:
        with transaction.atomic():
            _apply(rows, result, by, source)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _apply(rows: list[UnitRow], result: UnitImportResult, by: User | None, source: str) -> None:
    """Set-based: the tree is read once, new units' materialised paths are computed here (treebeard's
    steps) and inserted one statement per level, their parents' ``numchild`` and the renames written in
    one statement each; only a move goes through treebeard, unit by unit (moves are rare)."""
    units = {u.code: u for u in Unit.objects.select_for_update().all()}
    by_path = {u.path: u for u in units.values()}
    parent_of = {r.code: r.parent_code for r in rows}
    ordered = sorted(rows, key=lambda r: _depth(r.code, parent_of))
    created = _create(ordered, units, by_path)
    events, renamed = [], []
    for row in ordered:
        fields = {"name": row.name, "kind": row.kind, "short_name": row.short_name}
        unit = units[row.code]
        if row.code in created:
            result.created.append(row.code)
            events.append(audit.event(unit, "unit.created", actor=by, changes=fields, unit=unit, source=source))
            continue
        changes = audit.diff({k: getattr(unit, k) for k in fields}, fields)
        parent = by_path.get(unit.path[: -Unit.steplen]) if unit.depth > 1 else None
        current = parent.code if parent else ""
        if current != row.parent_code:
            _move(unit, units.get(row.parent_code) if row.parent_code else None)
            changes["parent_code"] = [current, row.parent_code]
            result.moved.append(row.code)
        if changes:
            for key, value in fields.items():
                setattr(unit, key, value)
            renamed.append(unit)
            if set(changes) - {"parent_code"}:
                result.updated.append(row.code)
            events.append(audit.event(unit, "unit.updated", actor=by, changes=changes, unit=unit, source=source))
        else:
            result.unchanged += 1
    if renamed:
        Unit.objects.bulk_update(renamed, ["name", "kind", "short_name"], batch_size=1000)
    audit.record(events)


def _create(ordered: list[UnitRow], units: dict[str, Unit], by_path: dict[str, Unit]) -> set[str]:
    """Insert the units the tree lacks, parents first: each gets the path treebeard's ``add_child`` /
    ``add_root`` would give it (after its parent's last child); one INSERT per level, then one UPDATE
    of the parents' ``numchild``. Returns the codes created; ``units`` and ``by_path`` gain them."""
    last: dict[str, str] = {}  # parent path ("" for the roots) -> its last child's path
    for path in by_path:
        parent = path[: -Unit.steplen]
        if path > last.get(parent, ""):
            last[parent] = path
    levels: dict[int, list[Unit]] = {}
    grown: dict[str, int] = {}  # parent path -> children added
    for row in ordered:
        if row.code in units:
            continue
        parent_path = units[row.parent_code].path if row.parent_code else ""
        depth = len(parent_path) // Unit.steplen + 1
        after = last.get(parent_path)
        path = Unit(path=after)._inc_path() if after else Unit._get_path(parent_path, depth, 1)
        last[parent_path] = path
        unit = Unit(code=row.code, name=row.name, kind=row.kind, short_name=row.short_name, path=path, depth=depth)
        units[row.code] = by_path[path] = unit
        levels.setdefault(depth, []).append(unit)
        if parent_path:
            grown[parent_path] = grown.get(parent_path, 0) + 1
    for depth in sorted(levels):
        Unit.objects.bulk_create(levels[depth], batch_size=2000)
    parents = []
    for parent_path, added in grown.items():
        parent = by_path[parent_path]
        parent.numchild += added
        parents.append(parent)
    if parents:
        Unit.objects.bulk_update(parents, ["numchild"], batch_size=1000)
    return {u.code for level in levels.values() for u in level}


def _move(unit: Unit, parent: Unit | None) -> None:
    """Move ``unit`` (and its subtree) under ``parent``, or to the last root, through treebeard."""
    unit.refresh_from_db(fields=["path", "depth", "numchild"])
    if parent is None:
        Unit.objects.move(unit, Unit.objects.get_last_root_node(), "last-sibling")
    else:
        parent.refresh_from_db(fields=["path", "depth", "numchild"])
        Unit.objects.move(unit, parent, "last-child")
