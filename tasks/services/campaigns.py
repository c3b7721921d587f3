"""A campaign's life as HQ runs it from the browser: copied from last year's, closed with its final
figures, reopened.

``copy_campaign`` makes this year's campaign a draft from last year's: its lines of action, its items
with their named responsibilities, and the hotspots still listed (with their acceptance criteria),
every date moved by the offset between the two starts — but an item's deadline phrase ("7月底前",
"6月30日前") is read again against the new period (``planfile.phrases``), so it lands on the new
July's end rather than a blind number of days later. HQ edits the draft, then publishes it
(``plans.publish_campaign``); ``compare_to`` links it to the source for 同比.

``close_campaign`` freezes a published campaign: every write on its work, figures and supervision
refuses (``errors.refuse_closed``), the reminder sweep reads published campaigns only, and the final
figures (``final_summary``) are stored on the campaign. ``reopen_campaign`` is HQ's, with a reason.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts import scope
from accounts.models import User
from audit import services as audit
from tasks.models import (
    DIRECTIVE_LINE,
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    Item,
    LineOfAction,
    Responsibility,
    ResponsibilityScope,
)
from tasks.planfile.phrases import PhraseError, parse_deadline
from tasks.queries import overdue_q, progress_counts
from utilities.errors import Forbidden, Refused

MANAGE_ONLY = "只有行动牵头的领导小组办公室可以办理"


def _require_manage(by: User, campaign: Campaign) -> None:
    if not scope.can(by, scope.Action.MANAGE, campaign.owner):
        raise Forbidden(MANAGE_ONLY)


# --- Copy ------------------------------------------------------------------------------------------


class Mover:
    """Moves a source campaign's dates into a new period: by the offset between the two starts, kept
    inside the new period; a deadline phrase is re-placed by reading it again against the new period."""

    def __init__(self, source: Campaign, start: date, end: date):
        self.source, self.start, self.end = source, start, end
        self.offset = start - source.start
        self.years = start.year - source.start.year

    def clamp(self, d: date) -> date:
        return min(max(d, self.start), self.end)

    def shift(self, d: date) -> date:
        """The offset, kept inside the new period (a date past the new end lands on the end)."""
        return self.clamp(d + self.offset)

    def same_day(self, d: date) -> date:
        """The same month and day in the new period's year (29 February → the 28th), else the offset."""
        year = d.year + self.years
        moved = date(year, d.month, min(d.day, calendar.monthrange(year, d.month)[1]))
        return moved if self.start <= moved <= self.end else self.shift(d)

    def deadline(self, item: Item) -> dict[str, Any]:
        """The item's deadline fields in the new period. The phrase read again wins (a year written in it
        moves by the years between the starts); a phrase that no longer fits (2月29日 in a common year)
        keeps its words and its dates move to the same day of the new year; a date without a phrase,
        by the offset."""
        text = item.deadline_text
        for candidate in (text, _shift_years(text, self.years)):
            if not candidate:
                continue
            try:
                parsed = parse_deadline(candidate, self.start, self.end)
            except PhraseError:
                continue
            return {
                "deadline_text": candidate,
                "deadline_kind": parsed.kind,
                "due_date": parsed.due,
                "cadence_weekday": parsed.weekday,
                "cadence_day": parsed.day,
                "milestones": [m.isoformat() for m in parsed.milestones],
            }
        move = self.same_day if text else self.shift
        return {
            "due_date": move(item.due_date) if item.due_date else None,
            "milestones": [move(date.fromisoformat(m)).isoformat() for m in item.milestones or []],
        }


_YEAR = re.compile(r"(?<!\d)(\d{4})(?=\s*(?:年|[-/.]\d))")


def _shift_years(text: str, years: int) -> str:
    """A phrase with its written years moved ("2025年7月31日前" → "2026年7月31日前"); "" when it has none."""
    if not years or not _YEAR.search(text or ""):
        return ""
    return _YEAR.sub(lambda m: str(int(m.group(1)) + years), text)


# the item fields a copy carries as they are; the deadline's are re-placed (``Mover.deadline``)
ITEM_FIELDS = [
    f.name
    for f in Item._meta.concrete_fields
    if f.name
    not in {"id", "campaign", "action", "source_location", "is_active", "created_at", "updated_at", "due_date"}
]


@transaction.atomic
def copy_campaign(*, source: Campaign, by: User, name: str, code: str, start: date, end: date) -> Campaign:
    """A new draft campaign from ``source`` for ``start``..``end``, owned by the same HQ, compared with the
    source (同比). Copies the lines of action, the items in the plan (not the withdrawn ones) with their
    named responsibilities (a unit no longer active is left out), and the hotspots still listed with
    their acceptance criteria — listed again on the new start, their deadline moved by the offset. Every
    date moves by the offset between the starts; deadline phrases are re-placed (``Mover``). Needs HQ
    over the source's owner (``Forbidden``). One transaction, one audit event per campaign and hotspot."""
    from inspections.models import Hotspot, HotspotCriterion  # inspections imports the tasks models

    name, code = (name or "").strip(), (code or "").strip()
    _require_manage(by, source)
    if not name or not code:
        raise Refused("请填写新行动的名称和代号")
    if start > end:
        raise Refused("行动的开始日期不能晚于结束日期")
    if Campaign.objects.filter(code=code).exists():
        raise Refused(f"行动代号“{code}”已被使用")
    mover = Mover(source, start, end)
    campaign = Campaign.objects.create(
        code=code,
        name=name,
        owner=source.owner,
        start=start,
        end=end,
        status=CampaignStatus.DRAFT,
        source_name=source.source_name,
        compare_to=source,
        created_by=by,
    )
    actions = {}
    for a in source.actions.exclude(code=DIRECTIVE_LINE).order_by("seq", "pk"):  # directives stay
        actions[a.pk] = LineOfAction.objects.create(
            campaign=campaign, code=a.code, seq=a.seq, name=a.name, leader_name=a.leader_name, leader=a.leader
        )
    old_items = list(source.items.in_plan().filter(is_active=True).order_by("seq", "pk"))
    new_items = [
        Item(
            campaign=campaign,
            action=actions[i.action_id],
            **{f: getattr(i, f) for f in ITEM_FIELDS},
            due_date=i.due_date,
            source_location=f"{source.code} {i.code}"[:200],
        )
        for i in old_items
    ]
    for new in new_items:
        for key, value in mover.deadline(new).items():
            setattr(new, key, value)
    Item.objects.bulk_create(new_items)
    by_old = {old.pk: new for old, new in zip(old_items, new_items, strict=True)}
    rules = Responsibility.objects.filter(item__in=old_items).filter(
        Q(unit__isnull=True) | Q(unit__is_active=True, unit__path__startswith=source.owner.path)
    )
    copied = Responsibility.objects.bulk_create(
        Responsibility(
            item=by_old[r.item_id], role=r.role, scope=r.scope, unit_id=r.unit_id, unit_kind=r.unit_kind, text=r.text
        )
        for r in rules.order_by("pk")
    )
    dropped = Responsibility.objects.filter(item__in=old_items, scope=ResponsibilityScope.UNIT).count() - sum(
        1 for r in copied if r.scope == ResponsibilityScope.UNIT
    )
    events = []
    hotspots = (
        Hotspot.objects.filter(campaign=source, status=Hotspot.Status.LISTED, unit__is_active=True)
        .select_related("unit")
        .prefetch_related("criteria")
        .order_by("pk")
    )
    for old in hotspots:
        new = Hotspot.objects.create(
            campaign=campaign,
            unit=old.unit,
            name=old.name,
            area=old.area,
            problems=old.problems,
            responsible_name=old.responsible_name,
            responsible=old.responsible,
            listed_on=start,
            deadline=mover.shift(old.deadline),
            inspect_every_days=old.inspect_every_days,
            listed_by=by,
        )
        criteria = [c.text for c in old.criteria.all()]
        HotspotCriterion.objects.bulk_create(
            HotspotCriterion(hotspot=new, seq=i, text=text) for i, text in enumerate(criteria, 1)
        )
        events.append(
            audit.event(
                new,
                "hotspot.listed",
                actor=by,
                unit=new.unit,
                source="copy",
                changes={"name": new.name, "deadline": new.deadline, "criteria": criteria, "copied_from": old.pk},
            )
        )
    # the statistics catalogue: indicators (their codes kept, so 同比 matches) and rounds, moved by the
    # offset (not kept inside the period: the catalogue clamps a round, or drops it when wholly outside)
    from stats.catalogue import copy_catalogue  # stats imports the tasks models

    stats = copy_catalogue(source=source, target=campaign, by=by, move=lambda d: d + mover.offset)
    summary = {
        "name": name,
        "start": start,
        "end": end,
        "copied_from": source.code,
        "actions": len(actions),
        "items": len(new_items),
        "responsibilities": len(copied),
        "hotspots": len(events),
        "indicators": stats.indicators,
        "rounds": stats.rounds,
    }
    if dropped:
        summary["units_left_out"] = dropped
    events.insert(0, audit.event(campaign, "campaign.copied", actor=by, unit=campaign.owner, changes=summary))
    audit.record(events)
    return campaign


# --- Close and reopen ----------------------------------------------------------------------------------


def final_summary(campaign: Campaign, by: User) -> dict[str, Any]:
    """The campaign's figures as the 总结 quotes them, as JSON: items total / completed / overdue,
    assignments per status, units at work, supervision (``inspections.services.counts``) and the
    results statistics per indicator with 同比 (``stats.queries.totals`` over the whole campaign)."""
    from inspections.services import counts as supervision_counts  # both import the tasks models
    from stats import numbers
    from stats.queries import totals, window

    work = Assignment.objects.filter(campaign=campaign)
    progress = progress_counts(work)
    statuses = dict(
        work.filter(is_active=True).order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    active = Q(assignments__is_active=True)
    items = (
        Item.objects.in_plan()
        .filter(campaign=campaign, is_active=True)
        .annotate(
            n=Count("assignments", filter=active),
            done=Count("assignments", filter=active & Q(assignments__status=AssignmentStatus.ACCEPTED)),
        )
    )
    late = Assignment.objects.filter(overdue_q(), item=OuterRef("pk"))
    rows = list(items.annotate(late=Exists(late)).values_list("n", "done", "late"))
    item_counts = {
        "total": len(rows),
        "completed": sum(1 for n, done, _ in rows if n and n == done),
        "overdue": sum(1 for *_, is_late in rows if is_late),
    }
    figures = totals(by, campaign, campaign.owner, window(campaign))
    return {
        "as_of": timezone.localdate().isoformat(),
        "items": item_counts,
        "assignments": {
            "total": progress["total"],
            "overdue": progress["overdue"],
            "by_status": {s.value: statuses.get(s.value, 0) for s in AssignmentStatus},
        },
        "units": work.filter(is_active=True).order_by().values("unit").distinct().count(),
        "supervision": supervision_counts(campaign, by),
        "figures": [
            {
                "code": line.indicator.code,
                "name": line.indicator.name,
                "measure": line.indicator.measure,
                "kind": line.indicator.kind,
                "total": numbers.raw(line.indicator, line.total),  # a count an int, else an exact string
                "text": line.text,
                "last_year": numbers.raw(line.indicator, line.last_year),
                "yoy": line.yoy,
            }
            for line in figures.lines
        ],
        "compared_with": figures.compared_with.code if figures.compared_with else None,
    }


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update(of=("self",)).select_related("owner").get(pk=campaign.pk)


@transaction.atomic
def close_campaign(*, campaign: Campaign, by: User, note: str = "") -> Campaign:
    """Published → closed: the final figures are computed and stored (``final_summary``), and from now on
    every write on the campaign's work, figures and supervision refuses (``errors.refuse_closed``) and no
    reminder is sent about it; everything stays readable. Needs HQ over the owner."""
    locked = _locked(campaign)
    _require_manage(by, locked)
    if locked.status != CampaignStatus.PUBLISHED:
        raise Refused(f"行动“{locked.name}”当前为“{locked.get_status_display()}”，只有已发布的行动可以结束")
    summary = final_summary(locked, by)
    locked.status = CampaignStatus.CLOSED
    locked.closed_at, locked.closed_by, locked.final_summary = timezone.now(), by, summary
    locked.save(update_fields=["status", "closed_at", "closed_by", "final_summary", "updated_at"])
    changes: dict[str, Any] = {"status": [CampaignStatus.PUBLISHED, CampaignStatus.CLOSED], "summary": summary}
    if note.strip():
        changes["note"] = note.strip()
    audit.record([audit.event(locked, "campaign.closed", actor=by, unit=locked.owner, changes=changes)])
    return locked


@transaction.atomic
def reopen_campaign(*, campaign: Campaign, by: User, reason: str) -> Campaign:
    """Closed → published again, with a reason: reports, figures and reminders resume. The final figures
    stored at closing are cleared (the trail keeps them in ``campaign.closed``); closing again computes
    them anew. Needs HQ over the owner."""
    reason = (reason or "").strip()
    locked = _locked(campaign)
    _require_manage(by, locked)
    if locked.status != CampaignStatus.CLOSED:
        raise Refused(f"行动“{locked.name}”当前为“{locked.get_status_display()}”，只有已结束的行动可以重新开启")
    if not reason:
        raise Refused("重新开启行动须写明理由")
    closed_at = locked.closed_at
    locked.status = CampaignStatus.PUBLISHED
    locked.closed_at, locked.closed_by, locked.final_summary = None, None, {}
    locked.save(update_fields=["status", "closed_at", "closed_by", "final_summary", "updated_at"])
    changes = {"status": [CampaignStatus.CLOSED, CampaignStatus.PUBLISHED], "reason": reason, "closed_at": closed_at}
    audit.record([audit.event(locked, "campaign.reopened", actor=by, unit=locked.owner, changes=changes)])
    return locked
