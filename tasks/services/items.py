"""Changing one checklist item after publishing (HQ's item page, the API, the admin), and the rule its
assignments' deadlines follow.

One service, ``update_item``: the item's fields and the units it names change in one transaction, and
the assignments follow — a unit newly named gets its assignment, a unit no longer named is withdrawn with
its status and progress kept (and comes back if named again), the due dates move unless an approved
extension set them. Withdrawing work a unit has already reported is refused unless confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from audit import services as audit
from tasks.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CampaignStatus,
    Item,
    ProgressReport,
    Responsibility,
    ResponsibilityScope,
    Target,
    amount_fits,
)
from tasks.planfile.phrases import PhraseError, parse_deadline, parse_targets
from utilities.errors import Forbidden, Refused

# What HQ may change on an item; its campaign, where it came from and the timestamps are not its to set.
EDITABLE = frozenset(
    f.name
    for f in Item._meta.concrete_fields
    if f.name not in {"id", "campaign", "source_location", "created_at", "updated_at"}
)

# the trail names a role's units as the API's body does
UNITS_FIELD = {AssignmentRole.LEAD: "lead_units", AssignmentRole.COOPERATING: "cooperating_units"}


class ReportedWorkRefused(Refused):
    """The change would withdraw work units have already reported (progress, reports, a status past
    pending): refused unless the caller confirms, naming the units so that HQ knows what it drops."""

    status_code = 409

    def __init__(self, units: list[dict[str, Any]]):
        names = "、".join(u["name"] for u in units)
        super().__init__(f"以下单位已开展工作，撤销其任务须确认（进度和记录保留）：{names}")
        self.units = units

    def payload(self) -> dict[str, Any]:
        return {"detail": str(self), "units": self.units, "confirm": True}


@transaction.atomic
def update_item(
    *,
    item: Item,
    by: User,
    source: str = "",
    lead_units: Iterable[Unit] | None = None,
    cooperating_units: Iterable[Unit] | None = None,
    confirm: bool = False,
    indicators: dict[int, Any] | None = None,
    **changes,
) -> Item:
    """Change ``item``'s fields (``changes``) and the units it names one by one for a role (``lead_units``,
    ``cooperating_units``: the units named individually become exactly these; groups the plan named —
    "各派出所" — stay; ``None`` leaves the role alone). Needs HQ over the campaign's owner (``Forbidden``).

    On a published campaign the item's assignments follow in the same transaction (``plans``'s own
    expansion, item by item): new units get theirs, dropped ones are withdrawn keeping status and progress,
    and when the deadline moves (due date, kind or text) the assignments still on the old date follow it
    (``follow_deadline``); one an approved extension moved keeps its date. A new deadline phrase is read
    as the import reads it (its date, kind and cadence, unless given beside it; an unreadable one refused). Withdrawing work already
    reported is refused (``ReportedWorkRefused``, naming the units) unless ``confirm``. One audit event
    ``item.updated`` says before → after and which assignments were created, withdrawn, restored, moved.

    The item's targets follow (``Target`` rows): a new ``target_text`` is read into its targets as the
    import reads it, the first carrying the item's ``target_*`` fields; ``indicators`` (target seq →
    an indicator of the campaign, or None) links a target to the results statistics or unlinks it."""
    from tasks.services.plans import PlanImportResult, apply_assignments, plan_assignments  # plans imports us

    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not an editable field of an item: {', '.join(sorted(unknown))}")
    locked = Item.objects.select_for_update(of=("self",)).select_related("campaign__owner").get(pk=item.pk)
    campaign, owner = locked.campaign, locked.campaign.owner
    if not scope.can(by, scope.Action.MANAGE, owner):
        raise Forbidden("只有行动牵头的领导小组办公室可以修改清单项")
    if changes.get("deadline_text") not in (None, locked.deadline_text):
        changes = {**_read_deadline(locked, changes["deadline_text"]), **changes}
    diff = audit.diff({name: getattr(locked, name) for name in changes}, changes)
    named, units = _rename(locked, lead_units, cooperating_units)
    if named and campaign.status == CampaignStatus.CLOSED:
        raise Refused(f"行动“{campaign.name}”已结束，不能再调整责任单位")
    if "due_date" in changes and changes["due_date"] is not None:
        _check_due(locked, changes["due_date"])
    if not diff and not named and not indicators:
        return locked
    old_due = locked.assignment_due()
    for name, value in changes.items():
        setattr(locked, name, value)
    if diff:
        locked.save(update_fields=[*changes, "updated_at"])
    linked = _write_targets(locked, rewrite=bool(set(diff) & TARGET_FIELDS), indicators=indicators or {})
    if not diff and not named and not linked:
        return locked
    _write_names(locked, units)
    new_due = locked.assignment_due()
    done: dict[str, Any] = {}
    if campaign.status == CampaignStatus.PUBLISHED:
        plan = plan_assignments(campaign, [locked.pk])
        reported = _reported(plan.withdraw)
        if reported and not confirm:
            raise ReportedWorkRefused(reported)
        apply_assignments(plan, by=by, source=source, result=PlanImportResult())
        done = _assignment_summary(plan)
    moved = follow_deadline(item_id=locked.pk, before=old_due, after=new_due, by=by, source=source)
    if moved:
        done["moved"] = moved
    changed = {**diff, **{UNITS_FIELD[role]: codes for role, codes in named.items()}}
    if linked:
        changed["indicators"] = linked
    if done:
        changed["assignments"] = done
    audit.record([audit.event(locked, "item.updated", actor=by, changes=changed, unit=owner, source=source)])
    return locked


TARGET_FIELDS = {f.name for f in Item._meta.concrete_fields if f.name.startswith("target_")}


def _write_targets(item: Item, *, rewrite: bool, indicators: dict[int, Any]) -> dict[int, list]:
    """The item's Target rows after a change: read again from the cell when a target field changed (the
    first from the item's fields, an indicator kept by position), then the indicators HQ chose. Returns
    the links changed, seq → [before, after] (indicator ids)."""
    if not rewrite and not indicators:
        return {}
    rows = {t.seq: t for t in Target.objects.select_for_update().filter(item=item)}
    if rewrite:
        found = parse_targets(item.target_text)
        wanted = []
        for seq, t in enumerate(found, start=1):
            fields = {
                "text": (t.text if len(found) > 1 else item.target_text)[:500],
                "metric": t.metric[:100],
                "comparator": t.comparator,
                "value": t.value if t.value is not None and amount_fits(t.value) else None,
                "unit": t.unit[:20],
                "basis": t.basis,
                "direction": t.direction,
                "per": t.per,
            }
            if seq == 1:
                fields.update(
                    {k.removeprefix("target_"): getattr(item, k) for k in TARGET_FIELDS if k != "target_text"}
                )
            wanted.append(fields)
        for seq, fields in enumerate(wanted, start=1):
            row = rows.get(seq) or Target(item=item, seq=seq)
            for key, value in fields.items():
                setattr(row, key, value)
            row.save()
            rows[seq] = row
        extra = [t.pk for seq, t in rows.items() if seq > len(wanted)]
        named = set(ProgressReport.objects.filter(target_id__in=extra).values_list("target_id", flat=True))
        Target.objects.filter(pk__in=[pk for pk in extra if pk not in named]).delete()
        rows = {seq: t for seq, t in rows.items() if seq <= len(wanted) or t.pk in named}
    linked: dict[int, list] = {}
    for seq, indicator in indicators.items():
        row = rows.get(seq)
        if row is None:
            raise Refused(f"该清单项没有第{seq}项量化指标")
        if indicator is not None and (indicator.campaign_id != item.campaign_id or not indicator.summed):
            raise Refused(f"“{indicator.name}”不是本行动可累计的战果统计指标")
        after = indicator.pk if indicator is not None else None
        if row.indicator_id != after:
            linked[seq] = [row.indicator_id, after]
            row.indicator_id = after
            row.save(update_fields=["indicator"])
    return linked


def _read_deadline(item: Item, text: str) -> dict[str, Any]:
    """A new deadline phrase read as the plan import reads it, against the campaign's period: the due
    date, kind and cadence it says (a due date or cadence given beside it wins, as the caller's own)."""
    campaign = item.campaign
    try:
        parsed = parse_deadline(text, campaign.start, campaign.end)
    except PhraseError as exc:
        raise Refused(f"完成时限：{exc}") from None
    return {
        "deadline_kind": parsed.kind,
        "due_date": parsed.due,
        "cadence_weekday": parsed.weekday,
        "cadence_day": parsed.day,
        "milestones": [m.isoformat() for m in parsed.milestones],
    }


def _check_due(item: Item, due: date) -> None:
    campaign = item.campaign
    if not campaign.start <= due <= campaign.latest_due():
        raise Refused(f"完成时限须在行动开始（{campaign.start}）之后、结束后一年（{campaign.latest_due()}）之内")


def _rename(
    item: Item, lead: Iterable[Unit] | None, cooperating: Iterable[Unit] | None
) -> tuple[dict[str, list[list[str]]], dict[str, list[Unit]]]:
    """The roles whose individually named units change: role → [codes before, codes after] (for the
    trail), and role → the units to name. A unit must be an active unit under the campaign's owner; an
    item keeps at least one lead."""
    asked = {AssignmentRole.LEAD: lead, AssignmentRole.COOPERATING: cooperating}
    wanted = {role: {u.pk: u for u in units} for role, units in asked.items() if units is not None}
    if not wanted:
        return {}, {}
    owner = item.campaign.owner
    outside = [u.name for units in wanted.values() for u in units.values() if not _under(u, owner)]
    if outside:
        raise Refused(f"不在行动牵头单位辖区内的单位不能承担任务：{'、'.join(outside)}")
    rules = list(item.responsibilities.select_related("unit"))
    lead_groups = any(r.role == AssignmentRole.LEAD and r.scope != ResponsibilityScope.UNIT for r in rules)
    if AssignmentRole.LEAD in wanted and not wanted[AssignmentRole.LEAD] and not lead_groups:
        raise Refused("清单项至少要有一个牵头单位")
    named: dict[str, list[list[str]]] = {}
    units: dict[str, list[Unit]] = {}
    for role, chosen in wanted.items():
        before = sorted(r.unit.code for r in rules if r.role == role and r.scope == ResponsibilityScope.UNIT)
        after = sorted(u.code for u in chosen.values())
        if before != after:
            named[role] = [before, after]
            units[role] = list(chosen.values())
    return named, units


def _under(unit: Unit, owner: Unit) -> bool:
    return unit.is_active and unit.path.startswith(owner.path)


def _write_names(item: Item, units: dict[str, list[Unit]]) -> None:
    """Replace the individually named units of the roles that change (the groups the plan named stay)."""
    if not units:
        return
    Responsibility.objects.filter(item=item, role__in=list(units), scope=ResponsibilityScope.UNIT).delete()
    Responsibility.objects.bulk_create(
        Responsibility(item=item, role=role, scope=ResponsibilityScope.UNIT, unit=u, text=u.name[:100])
        for role, chosen in units.items()
        for u in chosen
    )


def _reported(pks: list[int]) -> list[dict[str, Any]]:
    """The assignments among ``pks`` with work done: progress, a report, or a status past pending."""
    if not pks:
        return []
    has_report = Exists(ProgressReport.objects.filter(assignment=OuterRef("pk")))
    rows = Assignment.objects.filter(pk__in=pks).filter(
        ~Q(progress=0) | ~Q(status=AssignmentStatus.PENDING) | has_report
    )
    return [
        {"id": pk, "unit": code, "name": name, "status": status, "progress": str(progress)}
        for pk, code, name, status, progress in rows.order_by("unit__path").values_list(
            "pk", "unit__code", "unit__name", "status", "progress"
        )
    ]


def _assignment_summary(plan) -> dict[str, list[str]]:
    """Unit codes of the assignments the plan creates, withdraws and restores (two queries)."""
    codes = dict(Unit.objects.filter(pk__in=[uid for _, uid in plan.new]).values_list("pk", "code"))
    by_pk = dict(Assignment.objects.filter(pk__in=plan.withdraw + plan.restore).values_list("pk", "unit__code"))
    summary = {
        "created": sorted(codes.values()),
        "withdrawn": sorted(by_pk[pk] for pk in plan.withdraw),
        "restored": sorted(by_pk[pk] for pk in plan.restore),
    }
    return {key: value for key, value in summary.items() if value}


def follow_deadline(*, item_id: int, before: date, after: date, by: User | None = None, source: str = "") -> int:
    """Move an item's assignments from its old deadline to the new one, audited; returns how many moved.

    Only those still on the old date and never extended move: a date an approved extension set, or one a
    unit gave a share it passed down, is the unit's own. Withdrawn assignments move too, so one that comes
    back with a later plan has the item's date. Call inside the transaction that changed the item."""
    if before == after:
        return 0
    rows = Assignment.objects.filter(item_id=item_id, due_date=before, extensions=0)
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    Assignment.objects.filter(pk__in=pks).update(due_date=after, version=F("version") + 1, updated_at=timezone.now())
    moved = Assignment.objects.filter(pk__in=pks).select_related("unit")
    audit.record(
        audit.event(
            a, "assignment.due_changed", actor=by, changes={"due_date": [before, after]}, unit=a.unit, source=source
        )
        for a in moved
    )
    return len(pks)


@transaction.atomic
def link_targets(*, campaign, by: User | None, source: str = "") -> int:
    """Link every unlinked target of ``campaign`` whose metric names one of its indicators (as the plan
    import does for the indicators that exist then): for a catalogue made after the plan. ``by`` needs
    HQ over the owner; None is the system (the demo, a command). Returns how many were linked; one audit
    event per item."""
    from stats.models import Indicator  # stats imports the tasks models
    from tasks.targets import indicator_for

    if by is not None and not scope.can(by, scope.Action.MANAGE, campaign.owner):
        raise Forbidden("只有行动牵头的领导小组办公室可以关联战果统计指标")
    indicators = list(Indicator.objects.filter(campaign=campaign))
    changed = []
    for target in Target.objects.select_for_update().filter(item__campaign=campaign, indicator__isnull=True):
        if (found := indicator_for(target, indicators)) is not None:
            target.indicator = found
            changed.append(target)
    Target.objects.bulk_update(changed, ["indicator"])
    by_item: dict[int, dict] = {}
    for target in changed:
        by_item.setdefault(target.item_id, {})[target.seq] = [None, target.indicator_id]
    items = Item.objects.in_bulk(list(by_item))
    audit.record(
        [
            audit.event(
                items[pk], "item.updated", actor=by, unit=campaign.owner, source=source, changes={"indicators": links}
            )
            for pk, links in by_item.items()
        ]
    )
    return len(changed)
