"""Writing a checked plan into a campaign, publishing it, and keeping assignments in step.

Everything runs in one transaction: a plan with any error writes nothing, and a dry run does the
whole import and then rolls it back, so what it reports is exactly what a real run would do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from audit import services as audit
from notifications import events as tell
from tasks.models import (
    Assignment,
    AssignmentRole,
    Campaign,
    CampaignStatus,
    Item,
    ItemKind,
    LineOfAction,
    ProgressReport,
    Responsibility,
    ResponsibilityScope,
    Target,
    amount_fits,
)
from tasks.planfile.compiler import ItemSpec, PlanSpec, campaign_spec, compile_plan
from tasks.planfile.reader import read_plan
from tasks.services.items import follow_deadline
from tasks.targets import indicator_for
from utilities.db import bulk_insert
from utilities.errors import Forbidden, Refused
from utilities.tables import FileProblems, Location, Problem

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: "reading", "compiling", "writing" (the items), "assignments" (rows
written of all), "counting". Called a handful of times per import, never per row."""

ASSIGNMENT_CHUNK = 20_000  # new assignments written per COPY when someone watches the progress


def _silent(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class PlanImportResult:
    campaign: str = ""
    actions: int = 0
    items: int = 0
    assignments: int = 0
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    withdrawn: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    changes: list[str] = field(default_factory=list)
    published: bool = False
    dry_run: bool = False
    by_unit_kind: dict[str, int] = field(default_factory=dict)  # active assignments per unit kind

    def as_dict(self) -> dict:
        return {
            "campaign": self.campaign,
            "actions": self.actions,
            "items": self.items,
            "assignments": self.assignments,
            "by_unit_kind": dict(self.by_unit_kind),
            "created": dict(self.created),
            "updated": dict(self.updated),
            "withdrawn": dict(self.withdrawn),
            "published": self.published,
            "dry_run": self.dry_run,
            "changes": self.changes,
            "errors": [],
        }


def result_json(result: PlanImportResult | None = None, problems: Iterable[Problem] = ()) -> dict:
    """The JSON of an import: ``import_plan --format json`` prints it, the API answers it, an upload
    keeps it. A refused file (``problems``) has no counts, only its ``errors``, each located."""
    if result is not None:
        return result.as_dict()
    return {
        "campaign": None,
        "actions": 0,
        "items": 0,
        "assignments": 0,
        "by_unit_kind": {},
        "created": {},
        "updated": {},
        "errors": [p.as_dict() for p in problems],
    }


class _Rollback(Exception):
    pass


def import_plan(
    *,
    path: Path | str,
    name: str | None = None,
    code: str | None = None,
    start=None,
    end=None,
    owner: str | None = None,
    publish: bool = False,
    dry_run: bool = False,
    by: User | None = None,
    display_name: str | None = None,
    progress: Progress | None = None,
) -> PlanImportResult:
    """Read, check and write a plan file. Raises ``FileProblems`` (nothing written) on any error.

    ``by`` is who imports; ``None`` is the system (the command line, the demo), which checks no right.
    ``progress`` hears each stage (a background job shows it as a bar)."""
    watched = progress  # the assignments go in chunks only for someone watching (``apply_assignments``)
    progress = progress or _silent
    progress("reading", 0, 1)
    raw = read_plan(path, display_name=display_name)
    progress("compiling", 0, 1)
    meta_code = code or (str(raw.meta["code"].value) if "code" in raw.meta else None)
    meta_name = name or (str(raw.meta["name"].value) if "name" in raw.meta else None)
    existing = _find_campaign(meta_code, meta_name)
    defaults = (
        {
            "name": existing.name,
            "code": existing.code,
            "start": existing.start,
            "end": existing.end,
            "owner": existing.owner.code,
        }
        if existing
        else {}
    )
    spec = compile_plan(
        raw, campaign_spec(raw, name=name, code=code, start=start, end=end, owner=owner, defaults=defaults)
    )
    if by is not None and not all(
        scope.can(by, scope.Action.MANAGE, unit) for unit in (spec.campaign.owner, existing and existing.owner) if unit
    ):
        raise Forbidden("只有行动牵头的领导小组办公室可以导入方案")
    result = PlanImportResult(dry_run=dry_run)
    source = f"import_plan {display_name or Path(path).name}"
    try:
        with transaction.atomic():
            progress("writing", 0, len(spec.items))
            campaign, old_due = _write(spec, existing, result, by, source)
            if publish and campaign.status == CampaignStatus.DRAFT:
                publish_campaign(campaign=campaign, by=by, source=source, result=result, progress=watched)
                campaign.refresh_from_db(fields=["status", "published_at"])
            elif campaign.status == CampaignStatus.PUBLISHED:
                sync_assignments(
                    campaign=campaign, by=by, source=source, result=result, old_due=old_due, progress=watched
                )
            progress("counting", 0, 1)
            result.campaign = campaign.code
            result.actions = campaign.actions.count()
            result.items = campaign.items.in_plan().filter(is_active=True).count()
            kinds = campaign.assignments.filter(is_active=True).values_list("unit__kind").annotate(n=Count("id"))
            result.by_unit_kind = dict(sorted(kinds.order_by()))
            result.assignments = sum(result.by_unit_kind.values())
            result.published = campaign.status == CampaignStatus.PUBLISHED
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return result


def _find_campaign(code: str | None, name: str | None) -> Campaign | None:
    if code:
        return Campaign.objects.filter(code=code).select_related("owner").first()
    if name:
        return Campaign.objects.filter(name=name).select_related("owner").order_by("-start").first()
    return None


def _new_code(spec: PlanSpec) -> str:
    base = spec.campaign.code or f"{spec.campaign.owner.code}-{spec.campaign.start:%Y%m%d}"
    code, n = base, 1
    while Campaign.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _leaders(names: set[str]) -> dict[str, User]:
    """Leader accounts by full name, where the name is unique among users."""
    found: dict[str, list[User]] = defaultdict(list)
    for user in User.objects.filter(name__in=names - {""}):
        found[user.name].append(user)
    return {n: users[0] for n, users in found.items() if len(users) == 1}


def _write(
    spec: PlanSpec, existing: Campaign | None, result: PlanImportResult, by: User | None, source: str
) -> tuple[Campaign, dict[int, date]]:
    """Upsert the campaign, actions, items and named responsibilities; return the items' previous due dates."""
    events = []
    c = spec.campaign

    def update(obj, fields: dict, verb: str, quiet: frozenset[str] | set[str] = frozenset()) -> dict:
        """Write the fields that differ and queue their audit event; the changes, or {} when none."""
        changes = audit.diff({k: getattr(obj, k) for k in fields}, fields)
        if not changes:
            return {}
        for key, value in fields.items():
            setattr(obj, key, value)
        obj.save()
        changes = {k: v for k, v in changes.items() if k not in quiet}
        if changes:
            events.append(audit.event(obj, verb, actor=by, changes=changes, unit=campaign.owner, source=source))
        return changes

    if existing:
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("owner").get(pk=existing.pk)
        if campaign.status == CampaignStatus.CLOSED:
            raise FileProblems([Problem(Location(spec.file), f"行动“{campaign.name}”已结束，不能再导入方案")])
        if campaign.status == CampaignStatus.PUBLISHED and campaign.owner_id != c.owner.pk:
            raise FileProblems([Problem(Location(spec.file, label="--owner"), "已发布的行动不能更换牵头指挥部")])
        new = {"name": c.name, "start": c.start, "end": c.end, "owner": c.owner}
        if changes := update(campaign, new, "campaign.updated"):
            result.updated["campaign"] += 1
            result.changes.append(f"修改行动信息：{', '.join(changes)}")
    else:
        campaign = Campaign.objects.create(
            code=_new_code(spec),
            name=c.name,
            start=c.start,
            end=c.end,
            owner=c.owner,
            source_name=spec.file,
            created_by=by,
        )
        result.created["campaign"] += 1
        result.changes.append(f"新建行动“{campaign.name}”（{campaign.code}）")
        events.append(
            audit.event(
                campaign,
                "campaign.created",
                actor=by,
                unit=campaign.owner,
                source=source,
                changes={"name": c.name, "start": c.start, "end": c.end},
            )
        )
    leaders = _leaders({a.leader_name for a in spec.actions} | {i.leader_name for i in spec.items})

    actions = {a.code: a for a in campaign.actions.all()}
    for a in spec.actions:
        fields = {"seq": a.seq, "name": a.name, "leader_name": a.leader_name, "leader": leaders.get(a.leader_name)}
        action = actions.get(a.code)
        if action is None:
            actions[a.code] = LineOfAction.objects.create(campaign=campaign, code=a.code, **fields)
            result.created["actions"] += 1
            result.changes.append(f"新增行动 {a.code} {a.name}")
            continue
        if changes := update(action, fields, "action.updated"):
            result.updated["actions"] += 1
            result.changes.append(f"修改行动 {a.code}：{', '.join(changes)}")

    # the plan's items only: a directive's item (督办事项) is never updated nor withdrawn by a plan
    items = {i.code: i for i in campaign.items.in_plan().select_related("action", "leader")}
    named = defaultdict(set)
    for r in Responsibility.objects.filter(item__campaign=campaign, item__kind=ItemKind.PLAN):
        named[r.item_id].add((r.role, r.scope, r.unit_id, r.unit_kind, r.text))
    old_due = {i.pk: i.assignment_due() for i in items.values()}
    wanted_named: dict[int, set] = {}
    new_items: list[tuple[Item, ItemSpec]] = []
    for spec_item in spec.items:
        fields = _item_fields(spec_item, actions, leaders, campaign)
        item = items.get(spec_item.code)
        rules = {(role, n.scope, n.unit_id, n.kind, text) for role, n, text in spec_item.named}
        if item is None:
            item = Item(campaign=campaign, code=spec_item.code, **fields)
            new_items.append((item, spec_item))
            items[item.code] = item
            continue
        # where the item sits in this file is refreshed quietly: it is not a change of the plan
        if changes := update(item, fields, "item.updated", quiet={"source_location"}):
            result.updated["items"] += 1
            result.changes.append(f"修改清单项 {item.code}：{', '.join(sorted(changes))}")
        if named[item.pk] != rules:
            wanted_named[item.pk] = rules
    Item.objects.bulk_create([i for i, _ in new_items])
    for item, spec_item in new_items:
        wanted_named[item.pk] = {(role, n.scope, n.unit_id, n.kind, text) for role, n, text in spec_item.named}
        result.created["items"] += 1
        result.changes.append(f"新增清单项 {item.code} {item.title[:30]}")
    Responsibility.objects.filter(item_id__in=list(wanted_named)).delete()
    Responsibility.objects.bulk_create(
        Responsibility(item_id=pk, role=role, scope=scope, unit_id=unit_id, unit_kind=kind or "", text=text[:100])
        for pk, rules in wanted_named.items()
        for role, scope, unit_id, kind, text in rules
    )

    in_file = {i.code for i in spec.items}
    gone = [i for code, i in items.items() if code not in in_file and i.is_active]
    back = [i for code, i in items.items() if code in in_file and not i.is_active]
    for item, active, verb in [(i, False, "item.withdrawn") for i in gone] + [(i, True, "item.restored") for i in back]:
        Item.objects.filter(pk=item.pk).update(is_active=active)
        item.is_active = active
        events.append(audit.event(item, verb, actor=by, unit=campaign.owner, source=source))
        result.changes.append(f"{'撤销' if not active else '恢复'}清单项 {item.code}")
    result.withdrawn["items"] += len(gone)
    result.updated["items"] += len(back)
    _write_targets(campaign, spec, items, result, events, by, source)
    audit.record(events)
    return campaign, old_due


TARGET_FIELDS = ("text", "metric", "comparator", "value", "unit", "basis", "direction", "per")


def _target_fields(spec_item: ItemSpec) -> list[dict]:
    """The Target rows an item's cell makes: the first with the item's own reading (``target``), the
    words of each as written."""
    found = spec_item.targets or (spec_item.target,)
    rows = []
    for seq, t in enumerate(found, start=1):
        parsed = spec_item.target if seq == 1 else t
        rows.append(
            {
                "text": (t.text if len(found) > 1 else spec_item.target.text)[:500],
                "metric": parsed.metric[:100],
                "comparator": parsed.comparator,
                "value": _fit_decimal(parsed.value),
                "unit": parsed.unit[:20],
                "basis": parsed.basis,
                "direction": parsed.direction,
                "per": parsed.per,
            }
        )
    return rows


def _write_targets(campaign, spec: PlanSpec, items: dict, result, events: list, by, source: str) -> None:
    """Every item's targets as its cell reads now, set-based: one read of the stored ones and of the
    campaign's indicators, then only what differs written (an unchanged file writes nothing). A target
    keeps the indicator it is linked to (HQ's choice); an unlinked one is linked when its metric names
    an indicator of the campaign. A target the cell no longer has goes, unless reports name it."""
    from stats.models import Indicator  # stats imports the tasks models

    stored = {(t.item_id, t.seq): t for t in Target.objects.filter(item__campaign=campaign)}
    indicators = list(Indicator.objects.filter(campaign=campaign))
    new, changed = [], []
    wanted: set[tuple[int, int]] = set()
    for spec_item in spec.items:
        item = items[spec_item.code]
        for seq, fields in enumerate(_target_fields(spec_item), start=1):
            wanted.add((item.pk, seq))
            row = stored.get((item.pk, seq))
            if row is None:
                row = Target(item_id=item.pk, seq=seq, **fields)
                row.indicator = indicator_for(row, indicators)
                new.append(row)
                continue
            differs = {k: v for k, v in fields.items() if getattr(row, k) != v}
            for key, value in differs.items():
                setattr(row, key, value)
            if row.indicator_id is None and (found := indicator_for(row, indicators)) is not None:
                row.indicator = found
                differs["indicator"] = found.pk
            if differs:
                changed.append(row)
                events.append(
                    audit.event(
                        item,
                        "item.target_updated",
                        actor=by,
                        unit=campaign.owner,
                        source=source,
                        changes={"seq": seq, **differs},
                    )
                )
    Target.objects.bulk_create(new)
    if changed:
        Target.objects.bulk_update(changed, [*TARGET_FIELDS, "indicator"])
    in_file = {items[i.code].pk for i in spec.items}  # a withdrawn item keeps its targets, as its assignments
    gone = [t.pk for key, t in stored.items() if key not in wanted and key[0] in in_file]
    if gone:
        named = set(ProgressReport.objects.filter(target_id__in=gone).values_list("target_id", flat=True))
        Target.objects.filter(pk__in=[pk for pk in gone if pk not in named]).delete()


def _item_fields(
    spec_item: ItemSpec, actions: dict[str, LineOfAction], leaders: dict[str, User], campaign: Campaign
) -> dict:
    d, t = spec_item.deadline, spec_item.target
    return {
        "action": actions[spec_item.action_code],
        "seq": spec_item.seq,
        "title": spec_item.title,
        "measures": spec_item.measures,
        "target_text": t.text[:500],
        "target_metric": t.metric[:100],
        "target_comparator": t.comparator,
        "target_value": _fit_decimal(t.value),
        "target_unit": t.unit[:20],
        "target_basis": t.basis,
        "target_direction": t.direction,
        "target_per": t.per,
        "lead_text": spec_item.lead_text[:500],
        "cooperating_text": spec_item.cooperating_text[:500],
        "leader_name": spec_item.leader_name[:100],
        "leader": leaders.get(spec_item.leader_name),
        "deadline_text": d.text[:200],
        "deadline_kind": d.kind,
        "due_date": d.due,
        "cadence_weekday": d.weekday,
        "cadence_day": d.day,
        "milestones": [m.isoformat() for m in d.milestones],
        "acceptance": spec_item.acceptance,
        "source_location": str(spec_item.location)[:200],
        "is_active": True,
    }


def _fit_decimal(value: Decimal | None) -> Decimal | None:
    """The parsed number as the column stores it (2 places), or None when it cannot fit; the text is kept."""
    # too big for the column, and for quantize too (1E+26 to 0.01 needs more than its 28 digits: it raised)
    if value is None or not amount_fits(value):
        return None
    value = value.quantize(Decimal("0.01"))
    return value if amount_fits(value) else None


def publish_campaign(
    *,
    campaign: Campaign,
    by: User | None,
    source: str = "",
    result: PlanImportResult | None = None,
    progress: Progress | None = None,
) -> PlanImportResult:
    """Draft → published: every item's named units get their assignments.

    ``by`` needs the manage right over the campaign's owner (``Forbidden``); ``None`` is the
    system, as in ``import_plan``: the command line and the demo, which run as no user. A campaign
    that is no longer a draft is refused (``Refused``)."""
    result = result or PlanImportResult()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("owner").get(pk=campaign.pk)
        if by is not None and not scope.can(by, scope.Action.MANAGE, campaign.owner):
            raise Forbidden("只有行动牵头的领导小组办公室可以发布方案")
        if campaign.status != CampaignStatus.DRAFT:
            raise Refused(f"行动“{campaign.name}”当前为“{campaign.get_status_display()}”，只有草稿可以发布")
        campaign.status = CampaignStatus.PUBLISHED
        campaign.published_at = timezone.now()
        campaign.save(update_fields=["status", "published_at", "updated_at"])
        sync_assignments(campaign=campaign, by=by, source=source, result=result, progress=progress)
        audit.record(
            [
                audit.event(
                    campaign,
                    "campaign.published",
                    actor=by,
                    unit=campaign.owner,
                    source=source,
                    changes={"assignments": result.created.get("assignments", 0)},
                )
            ]
        )
    return result


def expand(campaign: Campaign, items: Collection[int] | None = None) -> dict[tuple[int, int], str]:
    """(item id, unit id) → role for every active item (or those of ``items``): what the plan's names
    cover today.

    One query per distinct unit group (a kind, or the owner's children), not per item or unit.
    """
    owner = campaign.owner
    groups: dict[tuple[str, str], list[int]] = {}

    def group(scope: str, kind: str) -> list[int]:
        if (scope, kind) not in groups:
            units = Unit.objects.filter(path__startswith=owner.path, is_active=True).exclude(pk=owner.pk)
            units = (
                units.filter(kind=kind) if scope == ResponsibilityScope.KIND else units.filter(depth=owner.depth + 1)
            )
            groups[(scope, kind)] = list(units.values_list("id", flat=True))
        return groups[(scope, kind)]

    wanted: dict[tuple[int, int], str] = {}
    rules = Responsibility.objects.filter(item__campaign=campaign, item__is_active=True)
    if items is not None:
        rules = rules.filter(item_id__in=list(items))
    rules = rules.values_list("item_id", "role", "scope", "unit_id", "unit_kind")
    # Leads first, so a unit named both lead and cooperating stays lead.
    for item_id, role, reach, unit_id, kind in sorted(rules, key=lambda r: r[1] != AssignmentRole.LEAD):
        unit_ids = [unit_id] if reach == ResponsibilityScope.UNIT else group(reach, kind)
        for uid in unit_ids:
            wanted.setdefault((item_id, uid), role)
    return wanted


@dataclass
class AssignmentPlan:
    """What bringing the assignments in step with the plan would do, worked out before anything is
    written, so that a caller may look at it (and refuse it) first: ``plan_assignments``, then
    ``apply_assignments``."""

    campaign: Campaign
    due: dict[int, date]  # item id → the due date a new assignment starts with
    new: dict[tuple[int, int], str]  # (item id, unit id) → role, for the units named without an assignment
    withdraw: list[int]  # assignment ids no longer named
    restore: list[int]  # withdrawn assignment ids named again
    roles: dict[str, list[int]]  # role → assignment ids whose role changes to it


def plan_assignments(campaign: Campaign, items: Collection[int] | None = None) -> AssignmentPlan:
    """Compare what the plan's names cover (``expand``) with the assignments of the campaign (or of the
    items in ``items`` only): a fixed number of queries, whatever the number of units."""
    wanted = expand(campaign, items)
    item_rows = campaign.items.all() if items is None else campaign.items.filter(pk__in=list(items))
    due = {pk: d or campaign.end for pk, d in item_rows.values_list("id", "due_date")}
    rows = campaign.assignments.all() if items is None else campaign.assignments.filter(item_id__in=list(items))
    # Shares a unit passed down itself (parent set) are the unit's business, not the plan's: they are
    # never withdrawn or re-roled here, only kept from being created twice.
    existing = {
        (item_id, unit_id): (pk, role, active, parent_id)
        for pk, item_id, unit_id, role, active, parent_id in rows.values_list(
            "id", "item_id", "unit_id", "role", "is_active", "parent_id"
        )
    }
    plan = AssignmentPlan(
        campaign=campaign,
        due=due,
        new={key: role for key, role in wanted.items() if key not in existing},
        withdraw=[],
        restore=[],
        roles=defaultdict(list),
    )
    for key, (pk, role, active, parent_id) in existing.items():
        if parent_id is not None:
            continue
        want = wanted.get(key)
        if want is None and active:
            plan.withdraw.append(pk)
        elif want is not None and not active:
            plan.restore.append(pk)
        if want is not None and want != role:
            plan.roles[want].append(pk)
    return plan


def sync_assignments(
    *,
    campaign: Campaign,
    by: User | None = None,
    source: str = "",
    result: PlanImportResult | None = None,
    old_due: dict[int, date] | None = None,
    progress: Progress | None = None,
) -> PlanImportResult:
    """Create, update, withdraw or restore assignments so they match the plan. Progress is never lost.

    ``old_due`` (item id → due date before this import) lets a changed deadline move the assignments
    that were still on the old date, leaving individually extended ones alone.
    """
    return apply_assignments(
        plan_assignments(campaign),
        by=by,
        source=source,
        result=result or PlanImportResult(),
        old_due=old_due,
        progress=progress,
    )


def apply_assignments(
    plan: AssignmentPlan,
    *,
    by: User | None,
    source: str,
    result: PlanImportResult,
    old_due: dict[int, date] | None = None,
    progress: Progress | None = None,
) -> PlanImportResult:
    """Write ``plan``: new assignments in bulk, withdrawals and restorations keeping status and progress,
    role changes, each audited; then a changed deadline (``old_due``) moves what was still on it.
    With ``progress`` the new rows go in chunks of ``ASSIGNMENT_CHUNK``, each reported."""
    old_due = old_due or {}
    now = timezone.now()
    campaign = plan.campaign
    new = plan.new.items()
    if progress:
        # In chunks, in unit order: the board rollup's keys (campaign, unit, line of action, due date) of
        # one chunk are then not those of another, so each statement's triggers insert their counts
        # instead of updating the previous chunk's (boards 0005/0006).
        new = sorted(new, key=lambda entry: (entry[0][1], entry[0][0]))
    new_rows = [(item_id, unit_id, role, plan.due[item_id]) for (item_id, unit_id), role in new]
    same = {
        "campaign": campaign.pk,
        "status": "pending",
        "is_active": True,
        "progress": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    step = ASSIGNMENT_CHUNK if progress else max(len(new_rows), 1)
    for done in range(0, len(new_rows), step):
        if progress:
            progress("assignments", done, len(new_rows))
        bulk_insert(Assignment, ["item", "unit", "role", "due_date"], new_rows[done : done + step], constants=same)
    if progress:
        progress("assignments", len(new_rows), len(new_rows))
    result.created["assignments"] += len(new_rows)

    # A unit's shares of withdrawn work go with it, and come back with it.
    withdraw = plan.withdraw + _shares_below(plan.withdraw, active=True)
    restore = plan.restore + _shares_below(plan.restore, active=False)
    events = []
    for role, pks in plan.roles.items():
        Assignment.objects.filter(pk__in=pks).update(role=role, updated_at=now)
        events += _assignment_events(pks, "assignment.role_changed", {"role": role}, by, source)
    for pks, active, verb in ((withdraw, False, "assignment.withdrawn"), (restore, True, "assignment.restored")):
        if pks:
            Assignment.objects.filter(pk__in=pks).update(is_active=active, updated_at=now)
            events += _assignment_events(pks, verb, {"is_active": active}, by, source)
    audit.record(events)
    tell.assigned(campaign=campaign, by=by, since=now, restored=restore)  # one message per unit's lead
    # A new deadline moves the assignments still on the old one; individually extended ones stay.
    moved = sum(
        follow_deadline(item_id=item_id, before=old_due[item_id], after=due, by=by, source=source)
        for item_id, due in plan.due.items()
        if old_due.get(item_id)
    )
    result.updated["assignments"] += len({pk for pks in plan.roles.values() for pk in pks} | set(restore)) + moved
    result.withdrawn["assignments"] += len(withdraw)
    if new_rows:
        result.changes.append(f"新增任务分配 {len(new_rows)} 条")
    if withdraw:
        result.changes.append(f"撤销任务分配 {len(withdraw)} 条（已填报的进度保留）")
    return result


def _shares_below(pks: list[int], *, active: bool) -> list[int]:
    """The shares passed down from ``pks``, at every depth, that are (``active``) or are not active: one
    query per level of the chain (a city's chain is at most three deep)."""
    found: list[int] = []
    level = pks
    while level:
        level = list(Assignment.objects.filter(parent_id__in=level, is_active=active).values_list("id", flat=True))
        found += level
    return found


def _assignment_events(pks: list[int], verb: str, changes: dict, by: User | None, source: str):
    rows = Assignment.objects.filter(pk__in=pks).select_related("item", "unit")
    return [audit.event(a, verb, actor=by, changes=changes, unit=a.unit, source=source) for a in rows]
