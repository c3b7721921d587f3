"""Every write on a directive (督办事项): keyword-only, ``by: User``, one transaction, audited.

The units' work is the assignments of the directive's item, so the steps a unit takes and HQ's review
call the tasks services (``docs/directives.md``): 交办 is ``items.update_item`` (the item comes into
force and ``plans.plan_assignments``/``apply_assignments`` write the assignments), 签收 is
``receipts.acknowledge_assignment``, 反馈 ``progress.report_progress``, 办结报告 the lead unit's ``submit``,
销号/退回 HQ's ``accept``/``return`` (``workflow.transition_assignment``), 延期 ``extensions``. What is the
directive's own — registering it, its closing in step with the accept, the rating — is here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import Action
from audit import services as audit
from tasks.models import (
    DIRECTIVE_LINE,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    DeadlineKind,
    ExtensionRequest,
    Item,
    ItemKind,
    LineOfAction,
    ProgressReport,
    Responsibility,
    ResponsibilityScope,
)
from tasks.services.errors import refuse_closed
from tasks.services.extensions import request_extension
from tasks.services.items import update_item
from tasks.services.progress import report_progress
from tasks.services.receipts import acknowledge_assignment
from tasks.services.workflow import transition_assignment
from utilities.errors import Forbidden, Refused

from .models import Directive, Level, Outcome, Rating, Source, Status

LINE_NAME = "督办事项"
CODE_PREFIX = "督"


class DirectiveError(Refused):
    """The request is wrong by a directive's rules (no lead unit, a closed one rated, a unit not named …)."""


def may_manage(user, directive: Directive) -> bool:
    """HQ over the campaign's owner: registers, hands down, reviews, rates."""
    return scope.can(user, Action.MANAGE, directive.item.campaign.owner)


def _require_manage(by: User, owner: Unit) -> None:
    if not scope.can(by, Action.MANAGE, owner):
        raise Forbidden("只有行动牵头的领导小组办公室可以办理督办事项")


@dataclass(frozen=True)
class Case:
    """A listed major case's fields (挂牌督办案件)."""

    case_no: str = ""
    case_type: str = ""
    crime_date: date | None = None


WEEKDAYS = "一二三四五六日"


def _deadline_text(due_date: date, feedback_weekday: int | None) -> str:
    """As a plan writes it: "9月30日前", with a cadence "每周五前反馈，9月30日前办结"."""
    due = f"{due_date.month}月{due_date.day}日前"
    if feedback_weekday is None:
        return due
    return f"每周{WEEKDAYS[feedback_weekday - 1]}前反馈，{due}办结"


def register_directive(
    *,
    campaign: Campaign,
    by: User,
    title: str,
    source: str,
    lead_units: Sequence[Unit],
    due_date: date,
    cooperating_units: Sequence[Unit] = (),
    text: str = "",
    instruction: str = "",
    instructed_by: str = "",
    instructed_on: date | None = None,
    level: str = "",
    leader: User | None = None,
    leader_name: str = "",
    secret: bool = False,
    case: Case | None = None,
    milestones: Iterable[date] = (),
    feedback_weekday: int | None = None,
) -> Directive:
    """立项: a directive in ``campaign`` with its item (督N, under the line "督办事项", created on demand)
    naming the lead and cooperating units, out of force until handed down. HQ over the campaign's owner
    (``Forbidden``); a unit must be active and under the owner; at least one lead; the deadline inside the
    campaign's reach. A ``case`` makes it a listed major case whose solve-by date is ``due_date``.
    ``feedback_weekday`` (1 = Monday … 7) asks the units for 每周反馈 by that weekday: the item's weekly
    cadence, i.e. its check-ins (``tasks.services.checkins``, counted from the day the work is handed
    down) reminded by the reminder sweep like any cadence item's."""
    title = (title or "").strip()
    if not title:
        raise DirectiveError("请填写督办事项的标题")
    if source not in Source.values:
        raise DirectiveError("请选择督办事项的来源")
    if level not in Level.values:
        raise DirectiveError("挂牌级别不正确")
    lead = list(dict.fromkeys(lead_units))
    cooperating = [u for u in dict.fromkeys(cooperating_units) if u not in lead]
    if not lead:
        raise DirectiveError("请至少指定一个牵头单位")
    if feedback_weekday is not None and feedback_weekday not in range(1, 8):
        raise DirectiveError("每周反馈的星期不正确")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update(of=("self",)).select_related("owner").get(pk=campaign.pk)
        _require_manage(by, locked.owner)
        refuse_closed(locked)
        outside = [u.name for u in lead + cooperating if not (u.is_active and u.path.startswith(locked.owner.path))]
        if outside:
            raise DirectiveError(f"不在行动牵头单位辖区内的单位不能承办：{'、'.join(outside)}")
        if not locked.start <= due_date <= locked.latest_due():
            raise DirectiveError(f"办结时限须在行动开始（{locked.start}）之后、结束后一年（{locked.latest_due()}）之内")
        stages = sorted({d for d in milestones if d <= due_date})
        item = Item.objects.create(
            campaign=locked,
            action=_line(locked),
            code=_next_code(locked),
            seq=_next_seq(locked),
            kind=ItemKind.DIRECTIVE,
            secret=secret,
            is_active=False,  # in force when handed down (交办)
            title=title[:2000],
            measures=text,
            lead_text="、".join(u.name for u in lead)[:500],
            cooperating_text="、".join(u.name for u in cooperating)[:500],
            leader_name=(leader_name or (leader.get_full_name() if leader else ""))[:100],
            leader=leader,
            deadline_text=_deadline_text(due_date, feedback_weekday),
            deadline_kind=DeadlineKind.DATE if feedback_weekday is None else DeadlineKind.WEEKLY,
            cadence_weekday=feedback_weekday,
            due_date=due_date,
            milestones=[d.isoformat() for d in stages],
        )
        Responsibility.objects.bulk_create(
            Responsibility(item=item, role=role, scope=ResponsibilityScope.UNIT, unit=u, text=u.name[:100])
            for role, units in ((AssignmentRole.LEAD, lead), (AssignmentRole.COOPERATING, cooperating))
            for u in units
        )
        case = case if case is not None else (Case() if source == Source.CASE else None)
        directive = Directive.objects.create(
            item=item,
            source=source,
            text=text,
            instruction=instruction,
            instructed_by=instructed_by[:100],
            instructed_on=instructed_on,
            level=level,
            leader=leader,
            leader_name=item.leader_name,
            is_case=case is not None,
            case_no=(case.case_no if case else "")[:60],
            case_type=(case.case_type if case else "")[:60],
            crime_date=case.crime_date if case else None,
            created_by=by,
        )
        changes = {
            "code": item.code,
            "title": title,
            "source": source,
            "lead_units": [u.code for u in lead],
            "cooperating_units": [u.code for u in cooperating],
            "due_date": due_date,
            "secret": secret,
        }
        if case is not None:
            changes["case_no"] = directive.case_no
        if feedback_weekday is not None:
            changes["feedback_weekday"] = feedback_weekday
        audit.record([audit.event(directive, "directive.registered", actor=by, changes=changes, unit=locked.owner)])
    return directive


def _line(campaign: Campaign) -> LineOfAction:
    """The campaign's line of action "督办事项" (the board's and the ranking's row), made on first use."""
    line = LineOfAction.objects.filter(campaign=campaign, code=DIRECTIVE_LINE).first()
    if line is None:
        last = LineOfAction.objects.filter(campaign=campaign).aggregate(n=Max("seq"))["n"] or 0
        line = LineOfAction.objects.create(campaign=campaign, code=DIRECTIVE_LINE, seq=last + 1, name=LINE_NAME)
    return line


def _next_code(campaign: Campaign) -> str:
    """督1, 督2 … per campaign (the caller holds the campaign's row lock, so two registrations queue)."""
    codes = Item.objects.filter(campaign=campaign, kind=ItemKind.DIRECTIVE).values_list("code", flat=True)
    numbers = [int(m.group(1)) for c in codes if (m := re.fullmatch(rf"{CODE_PREFIX}(\d+)", c))]
    return f"{CODE_PREFIX}{max(numbers, default=0) + 1}"


def _next_seq(campaign: Campaign) -> int:
    return (Item.objects.filter(campaign=campaign).aggregate(n=Max("seq"))["n"] or 0) + 1


def _locked(directive: Directive) -> Directive:
    return (
        Directive.objects.select_for_update(of=("self",)).select_related("item__campaign__owner").get(pk=directive.pk)
    )


def hand_down(*, directive: Directive, by: User) -> Directive:
    """交办: the item comes into force through ``items.update_item``, which writes the named units'
    assignments as publishing does and tells the units (``notifications.events.assigned``). HQ over the
    owner; the campaign published (a draft's work is not yet the units' business); once."""
    with transaction.atomic():
        locked = _locked(directive)
        campaign = locked.item.campaign
        _require_manage(by, campaign.owner)
        refuse_closed(campaign)
        if locked.status != Status.REGISTERED:
            raise DirectiveError("该督办事项已交办")
        if campaign.status != CampaignStatus.PUBLISHED:
            raise DirectiveError(f"行动“{campaign.name}”尚未发布，督办事项不能交办")
        update_item(item=locked.item, by=by, source="directive", is_active=True)
        locked.status = Status.HANDED_DOWN
        locked.save(update_fields=["status"])
        units = list(
            Assignment.objects.filter(item=locked.item, is_active=True)
            .order_by("unit__path")
            .values_list("unit__code", flat=True)
        )
        audit.record(
            [
                audit.event(
                    locked,
                    "directive.handed_down",
                    actor=by,
                    changes={"status": [Status.REGISTERED, Status.HANDED_DOWN], "units": units},
                    unit=campaign.owner,
                )
            ]
        )
    locked.item.refresh_from_db()
    return locked


# --- the units' steps: on the unit's own assignment ------------------------------------------------


def unit_assignment(directive: Directive, by: User, *, unit: Unit | None = None, role: str | None = None) -> Assignment:
    """The assignment of the directive that ``by`` acts on for a unit: the one of ``unit``, else the only
    one ``by`` may report for. ``Forbidden`` when ``by`` reports for none of them (or not for ``unit``);
    ``DirectiveError`` when it reports for several and named none, or when ``role`` (lead) is not the
    unit's."""
    rows = Assignment.objects.filter(item_id=directive.item_id, is_active=True, parent__isnull=True)
    rows = scope.restrict(rows.select_related("unit", "campaign", "item"), by, Action.REPORT)
    if unit is not None:
        rows = rows.filter(unit=unit)
    found = list(rows.order_by("unit__path")[:2])
    if not found:
        raise Forbidden("无权为该单位办理此督办事项")
    if len(found) > 1:
        raise DirectiveError("您可为多个承办单位办理，请指定单位")
    if role is not None and found[0].role != role:
        raise DirectiveError("办结报告由牵头单位报送")
    return found[0]


def acknowledge_directive(*, directive: Directive, by: User, unit: Unit | None = None) -> Assignment:
    """签收 for the unit: ``receipts.acknowledge_assignment``."""
    return acknowledge_assignment(assignment=unit_assignment(directive, by, unit=unit), by=by)


def give_feedback(
    *,
    directive: Directive,
    by: User,
    text: str = "",
    files: Sequence[UploadedFile] = (),
    value: Decimal | None = None,
    unit: Unit | None = None,
) -> ProgressReport:
    """反馈: a dated progress report with its files on the unit's assignment (``progress.report_progress``)."""
    assignment = unit_assignment(directive, by, unit=unit)
    return report_progress(assignment=assignment, by=by, text=text, files=files, value=value)


def complete_directive(*, directive: Directive, by: User, report: str, unit: Unit | None = None) -> Assignment:
    """办结报告: the lead unit submits its assignment for acceptance, the report as the submit's note."""
    report = (report or "").strip()
    if not report:
        raise DirectiveError("请填写办结报告")
    assignment = unit_assignment(directive, by, unit=unit, role=AssignmentRole.LEAD)
    return transition_assignment(assignment=assignment, name="submit", by=by, note=report, confirm_shortfall=True)


def ask_extension(*, directive: Directive, by: User, due: date, reason: str, unit: Unit | None = None):
    """延期申请 for the unit's assignment (``extensions.request_extension``)."""
    return request_extension(assignment=unit_assignment(directive, by, unit=unit), by=by, due=due, reason=reason)


# --- HQ's review, the closing, the rating ----------------------------------------------------------


def review_directive(
    *,
    directive: Directive,
    by: User,
    accept: bool,
    reason: str = "",
    unit: Unit | None = None,
    outcome: str = "",
    outcome_on: date | None = None,
) -> Directive:
    """审核 the completion report: accept (销号) or return with the reason (退回) the lead unit's submitted
    assignment (``unit``'s, else the only one submitted), through ``workflow.transition_assignment``,
    whose accept closes the directive in the same transaction (``follow_transition``). A major case's
    outcome (破案/抓获/起诉) may be recorded with the accept. HQ over the owner."""
    if outcome not in Outcome.values:
        raise DirectiveError("案件结果不正确")
    with transaction.atomic():
        locked = _locked(directive)
        _require_manage(by, locked.item.campaign.owner)
        rows = Assignment.objects.filter(
            item_id=locked.item_id, role=AssignmentRole.LEAD, is_active=True, parent__isnull=True
        ).select_related("unit")
        rows = rows.filter(unit=unit) if unit is not None else rows.filter(status=AssignmentStatus.SUBMITTED)
        found = list(rows.order_by("unit__path")[:2])
        if len(found) != 1:
            raise DirectiveError("请指定要审核的牵头单位" if len(found) > 1 else "没有等待审核的办结报告")
        if accept and outcome:
            if not locked.is_case:
                raise DirectiveError("只有挂牌案件可以记录案件结果")
            before = [locked.outcome, locked.outcome_on]
            locked.outcome, locked.outcome_on = outcome, outcome_on or timezone.localdate()
            locked.save(update_fields=["outcome", "outcome_on"])
            audit.record(
                [
                    audit.event(
                        locked,
                        "directive.outcome",
                        actor=by,
                        changes={"outcome": [before[0], outcome], "outcome_on": [before[1], locked.outcome_on]},
                        unit=locked.item.campaign.owner,
                    )
                ]
            )
        transition_assignment(assignment=found[0], name="accept" if accept else "return", by=by, note=reason)
    return Directive.objects.select_related("item__campaign__owner").get(pk=directive.pk)


def follow_transition(assignment: Assignment, name: str, by: User) -> None:
    """Called by ``workflow.transition_assignment`` inside its transaction, for a directive's item: the
    accept of the last open lead assignment closes the directive (销号), a reopen of a lead's accepted
    work opens it again. Wherever the accept is made (the directive's page, the assignment page, HQ's
    review desk, the API), the directive is kept in step."""
    if name not in ("accept", "reopen") or assignment.role != AssignmentRole.LEAD or assignment.parent_id:
        return
    directive = Directive.objects.select_for_update(of=("self",)).filter(item_id=assignment.item_id).first()
    if directive is None:
        return
    owner = assignment.campaign.owner
    if name == "accept":
        open_leads = Assignment.objects.filter(
            item_id=assignment.item_id, role=AssignmentRole.LEAD, is_active=True, parent__isnull=True
        ).exclude(status=AssignmentStatus.ACCEPTED)
        if directive.status == Status.CLOSED or open_leads.exists():
            return
        before, directive.status, directive.closed_at = directive.status, Status.CLOSED, timezone.now()
        verb = "directive.closed"
    else:
        if directive.status != Status.CLOSED:
            return
        before, directive.status, directive.closed_at = directive.status, Status.HANDED_DOWN, None
        verb = "directive.reopened"
    directive.save(update_fields=["status", "closed_at"])
    changes = {"status": [before, directive.status], "assignment": assignment.pk}
    audit.record([audit.event(directive, verb, actor=by, changes=changes, unit=owner)])
    count_outcome(directive, assignment, by=by, delta=1 if name == "accept" else -1)


# a case's outcome counted in the results statistics: the campaign's indicator of this code, when HQ keeps one
OUTCOME_INDICATORS = {
    Outcome.SOLVED: "case_solved",
    Outcome.ARRESTED: "case_arrested",
    Outcome.PROSECUTED: "case_prosecuted",
}


def count_outcome(directive: Directive, assignment: Assignment, *, by: User, delta: int) -> bool:
    """A listed case closed with its outcome adds 1 to the lead unit's figure of the campaign's indicator
    for that outcome (``OUTCOME_INDICATORS``) on the outcome's day, through ``stats.services.write_figures``
    (locked, audited, HQ's 代填); reopened, it takes the 1 back. No such indicator (HQ has not named one),
    a computed rate, or a day outside the campaign: nothing is counted. True when a figure was written."""
    from stats.models import Figure, Indicator, Kind  # stats imports the tasks models
    from stats.services import Entry, write_figures

    if not directive.is_case or not directive.outcome or directive.outcome_on is None:
        return False
    campaign = assignment.campaign
    indicator = Indicator.objects.filter(
        campaign=campaign, code=OUTCOME_INDICATORS[directive.outcome], is_active=True
    ).first()
    day = directive.outcome_on
    if indicator is None or indicator.kind == Kind.RATE or not campaign.start <= day <= campaign.end:
        return False
    held = Figure.objects.select_for_update().filter(unit=assignment.unit, indicator=indicator, day=day).first()
    value = max((held.value if held else Decimal(0)) + delta, Decimal(0))
    entry = Entry(indicator, day, value)
    return write_figures(campaign=campaign, entries=[(assignment.unit, entry)], by=by, source="directive") > 0


def rate_directive(*, directive: Directive, by: User, rating: str, note: str = "") -> Directive:
    """评价 a closed directive: 满意 / 基本满意 / 不满意 and a note; HQ over the owner; may be changed."""
    if rating not in Rating.values or not rating:
        raise DirectiveError("请选择评价等次")
    with transaction.atomic():
        locked = _locked(directive)
        _require_manage(by, locked.item.campaign.owner)
        if locked.status != Status.CLOSED:
            raise DirectiveError("督办事项销号后才能评价")
        before = {"rating": locked.rating, "rating_note": locked.rating_note}
        locked.rating, locked.rating_note = rating, (note or "").strip()
        locked.rated_by, locked.rated_at = by, timezone.now()
        locked.save(update_fields=["rating", "rating_note", "rated_by", "rated_at"])
        changes = audit.diff(before, {"rating": locked.rating, "rating_note": locked.rating_note})
        audit.record(
            [audit.event(locked, "directive.rated", actor=by, changes=changes, unit=locked.item.campaign.owner)]
        )
    return locked


def extension_requests(directive: Directive, user) -> list[ExtensionRequest]:
    """The extension requests of the directive's assignments that ``user`` sees (the assignments' scope)."""
    rows = ExtensionRequest.objects.filter(assignment__item_id=directive.item_id).visible_to(user)
    return list(rows.select_related("requested_by", "decided_by", "assignment__unit").order_by("-requested_at"))
