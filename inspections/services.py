"""Writing inspections, findings, notices and hotspots: each call one transaction with its history.

Who may do what follows ``accounts.scope``: inspecting (inspector, HQ) over the unit concerned for
inspections, notices, verification and hotspots; reporting (the unit's lead) for self-reported
findings and rectification answers. A refusal raises ``Forbidden`` or ``InspectionError``
before anything is written; files already stored are removed again if the transaction fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F, Model, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import Action
from audit import services as audit
from notifications import events as tell
from tasks.models import Campaign, Item
from tasks.services import receipts
from tasks.services.errors import refuse_closed
from utilities.cn import cn_date as _d
from utilities.errors import Forbidden, Refused
from utilities.uploads import Checked, check_upload

from .models import (
    Answer,
    DocumentKind,
    Finding,
    FindingStatus,
    Hotspot,
    HotspotCriterion,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Notice,
    NoticeSequence,
    NoticeStatus,
    Photo,
    Verdict,
)

FS = FindingStatus


class InspectionError(Refused):
    """A request the rules refuse (bad state, bad date, wrong unit); the message says why."""


def _require(user, action: Action, unit: Unit, what: str) -> None:
    if not scope.can(user, action, unit):
        raise Forbidden(f"无权{what}：{unit.name}不在您的职责范围内")


class _Files:
    """Checks uploads before the transaction, stores them inside it, deletes them if it fails."""

    def __init__(self, files: Sequence[UploadedFile]):
        self.checked = [(f, check_upload(f, images_and_pdf=True)) for f in files]
        self.stored: list = []

    def store(self, make: Callable[[Checked, datetime], Model]) -> list[str]:
        """One row per upload, made by ``make(info, now)`` (a ``Photo``, a ``LetterFile``), its file saved."""
        now = timezone.now()
        for upload, info in self.checked:
            row = make(info, now)
            row.file.save(info.name, upload, save=False)
            self.stored.append(row)
            row.save()
        return [row.name for row in self.stored]

    def save(self, finding: Finding, by: User, answer: Answer | None = None) -> list[str]:
        return self.store(
            lambda info, now: Photo(
                finding=finding,
                answer=answer,
                name=info.name,
                content_type=info.content_type,
                extension=info.extension,
                size=info.size,
                sha256=info.sha256,
                uploaded_by=by,
                uploaded_at=now,
            )
        )

    def discard(self) -> None:
        for photo in self.stored:
            photo.file.delete(save=False)


# --- Inspections ---------------------------------------------------------------------------------


def plan_inspection(
    *,
    by: User,
    campaign: Campaign,
    units: Iterable[Unit],
    planned_on: date,
    kind: str = InspectionKind.ROUTINE,
    team: Iterable = (),
    items: Iterable[Item] = (),
    hotspot: Hotspot | None = None,
    issuing_unit: Unit | None = None,
) -> Inspection:
    units = list(units)
    if hotspot is not None and not units:
        units = [hotspot.unit]
    if not units:
        raise InspectionError("请选择被检查单位")
    for unit in units:
        _require(by, Action.INSPECT, unit, "检查该单位")
    if kind == InspectionKind.JOINT and hotspot is None:
        raise InspectionError("联合验收须针对一个挂牌整治点")
    if hotspot is not None and hotspot.status != Hotspot.Status.LISTED:
        raise InspectionError("该整治点已摘牌")
    refuse_closed(campaign)
    issuing_unit = issuing_unit or by.unit
    if issuing_unit is None:
        raise InspectionError("请指定检查单位（您的账号没有所属单位）")
    with transaction.atomic():
        inspection = Inspection.objects.create(
            campaign=campaign,
            kind=kind,
            planned_on=planned_on,
            hotspot=hotspot,
            issuing_unit=issuing_unit,
            created_by=by,
        )
        inspection.units.set(units)
        inspection.team.set({by, *team})
        inspection.items.set(items)
        audit.record(
            [
                audit.event(
                    inspection,
                    "inspection.planned",
                    actor=by,
                    unit=units[0],
                    changes={
                        "kind": kind,
                        "planned_on": planned_on,
                        "units": [u.code for u in units],
                        "hotspot": hotspot.pk if hotspot else None,
                    },
                )
            ]
        )
    return inspection


def may_act_for(by: User, inspection: Inspection) -> bool:
    """Acting for an inspection (start, complete, issue under its office's number) needs the inspect
    right over every unit it visits, as planning it did."""
    return all(scope.can(by, Action.INSPECT, u) for u in inspection.units.all())


def _locked_inspection(inspection: Inspection, by: User) -> Inspection:
    locked = Inspection.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=inspection.pk)
    if not may_act_for(by, locked):
        raise Forbidden("无权办理该检查：检查涉及您职责范围以外的单位")
    refuse_closed(locked.campaign)
    return locked


def start_inspection(*, inspection: Inspection, by: User) -> Inspection:
    with transaction.atomic():
        locked = _locked_inspection(inspection, by)
        if locked.status != InspectionStatus.PLANNED:
            raise InspectionError(f"检查当前为“{locked.get_status_display()}”，不能开始")
        locked.status, locked.started_at = InspectionStatus.IN_PROGRESS, timezone.now()
        locked.version += 1
        locked.save(update_fields=["status", "started_at", "version"])
        audit.record(
            [
                audit.event(
                    locked,
                    "inspection.started",
                    actor=by,
                    changes={"status": [InspectionStatus.PLANNED, locked.status]},
                )
            ]
        )
    return locked


@dataclass(frozen=True)
class Judgement:
    criterion: int  # HotspotCriterion id
    passed: bool
    note: str = ""


def complete_inspection(
    *,
    inspection: Inspection,
    by: User,
    summary: str = "",
    verdicts: Sequence[Judgement] = (),
    extend_to: date | None = None,
    reason: str = "",
) -> Inspection:
    """Close the inspection. A joint acceptance judges every criterion of its hotspot: all passed
    de-lists it; otherwise the hotspot's deadline moves to ``extend_to`` (required, with a reason)."""
    with transaction.atomic():
        locked = _locked_inspection(inspection, by)
        if locked.status == InspectionStatus.COMPLETED:
            raise InspectionError("该检查已结束")
        before = locked.status
        changes: dict = {"status": [before, InspectionStatus.COMPLETED]}
        events = []
        if locked.kind == InspectionKind.JOINT:
            hotspot = Hotspot.objects.select_for_update().select_related("unit").get(pk=locked.hotspot_id)
            if not scope.judges(by, Action.INSPECT, hotspot.unit):  # no one accepts their own unit's hotspot
                raise Forbidden(f"不能验收本单位的挂牌整治点：{hotspot.unit.name}")
            passed = _judge(locked, hotspot, verdicts)
            locked.passed = passed
            changes["passed"] = passed
            events.append(_hotspot_outcome(hotspot, by, passed, extend_to, reason, locked))
        now = timezone.now()
        locked.status, locked.completed_at = InspectionStatus.COMPLETED, now
        locked.started_at = locked.started_at or now
        locked.summary = summary.strip() or locked.summary
        locked.version += 1
        locked.save(update_fields=["status", "completed_at", "started_at", "summary", "passed", "version"])
        events.append(audit.event(locked, "inspection.completed", actor=by, changes=changes))
        audit.record(events)
    return locked


def _judge(inspection: Inspection, hotspot: Hotspot, verdicts: Sequence[Judgement]) -> bool:
    criteria = {c.pk: c for c in hotspot.criteria.all()}
    given = {v.criterion: v for v in verdicts}
    if unknown := set(given) - set(criteria):
        raise InspectionError(f"验收标准 {sorted(unknown)} 不属于该整治点")
    if missing := [c.text for pk, c in criteria.items() if pk not in given]:
        raise InspectionError(f"请对每项验收标准作出结论，尚缺：{'；'.join(missing)}")
    Verdict.objects.bulk_create(
        Verdict(inspection=inspection, criterion=criteria[v.criterion], passed=v.passed, note=v.note.strip())
        for v in given.values()
    )
    return all(v.passed for v in given.values())


def _hotspot_outcome(hotspot: Hotspot, by: User, passed: bool, extend_to: date | None, reason: str, inspection):
    if hotspot.status != Hotspot.Status.LISTED:
        raise InspectionError("该整治点已摘牌")
    if passed:
        hotspot.status, hotspot.delisted_on = Hotspot.Status.DELISTED, timezone.localdate()
        hotspot.version += 1
        hotspot.save(update_fields=["status", "delisted_on", "version"])
        return audit.event(
            hotspot,
            "hotspot.delisted",
            actor=by,
            unit=hotspot.unit,
            changes={"status": ["listed", "delisted"], "inspection": inspection.pk},
        )
    if extend_to is None or not reason.strip():
        raise InspectionError("验收未通过：须确定新的整治期限并写明理由")
    if extend_to <= hotspot.deadline:
        raise InspectionError(f"新的整治期限应晚于原期限{_d(hotspot.deadline)}")
    before = hotspot.deadline
    hotspot.deadline = extend_to
    hotspot.extensions += 1
    hotspot.version += 1
    hotspot.save(update_fields=["deadline", "extensions", "version"])
    return audit.event(
        hotspot,
        "hotspot.extended",
        actor=by,
        unit=hotspot.unit,
        changes={
            "deadline": [before, extend_to],
            "reason": reason.strip(),
            "inspection": inspection.pk,
        },
    )


# --- Findings --------------------------------------------------------------------------------------


def log_finding(
    *,
    by: User,
    unit: Unit,
    place: str,
    description: str,
    campaign: Campaign | None = None,
    inspection: Inspection | None = None,
    category: str = "order",
    severity: str = "general",
    item: Item | None = None,
    hotspot: Hotspot | None = None,
    photos: Sequence[UploadedFile] = (),
) -> Finding:
    """Record a problem: by an inspection (inspect right over the unit) or self-reported by the unit."""
    if not place.strip() or not description.strip():
        raise InspectionError("请填写地点和问题描述")
    inspector = scope.can(by, Action.INSPECT, unit)
    if inspection is not None:
        _require(by, Action.INSPECT, unit, "登记该单位的问题")
        if inspection.status == InspectionStatus.COMPLETED:
            raise InspectionError("该检查已结束，不能再登记问题")
        campaign = inspection.campaign
    elif not inspector:
        _require(by, Action.REPORT, unit, "登记该单位的自查问题")
    if campaign is None:
        raise InspectionError("请指定专项行动")
    refuse_closed(campaign)
    files = _Files(photos)
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                campaign=campaign,
                inspection=inspection,
                unit=unit,
                item=item,
                hotspot=hotspot,
                category=category,
                severity=severity,
                place=place.strip(),
                description=description.strip(),
                reported_by=by,
            )
            names = files.save(finding, by)
            audit.record(
                [
                    audit.event(
                        finding,
                        "finding.logged",
                        actor=by,
                        unit=unit,
                        changes={
                            "inspection": inspection.pk if inspection else None,
                            "self_reported": not inspector,
                            "severity": severity,
                            "category": category,
                            "place": finding.place,
                            "photos": names,
                        },
                    )
                ]
            )
    except BaseException:
        files.discard()
        raise
    return finding


def notice_number(issuing_unit: Unit, year: int, seq: int) -> str:
    """江公督〔2026〕1号: the unit's 发文代字 (doc_prefix, else its short name + 督), year and number."""
    prefix = issuing_unit.doc_prefix or (issuing_unit.short_name or issuing_unit.name).removesuffix("公安局") + "督"
    return f"{prefix}〔{year}〕{seq}号"


def letter_number(issuing_unit: Unit, year: int, seq: int) -> str:
    """江公风险提示〔2026〕3号: the notices' 发文代字 without its 督 (else the short name), 风险提示, year, number."""
    base = issuing_unit.doc_prefix.removesuffix("督") or (issuing_unit.short_name or issuing_unit.name).removesuffix(
        "公安局"
    )
    return f"{base}风险提示〔{year}〕{seq}号"


NUMBERED_AS = {DocumentKind.NOTICE: notice_number, DocumentKind.LETTER: letter_number}


def _next_number(issuing_unit: Unit, year: int, kind: str = DocumentKind.NOTICE) -> tuple[int, str]:
    """The next number of the office sequence of ``kind``; the row stays locked until the caller commits,
    so concurrent issuers queue, and a failed issue rolls its number back with it (no gap)."""
    NoticeSequence.objects.get_or_create(unit=issuing_unit, year=year, kind=kind)
    NoticeSequence.objects.filter(unit=issuing_unit, year=year, kind=kind).update(last=F("last") + 1)
    seq = NoticeSequence.objects.get(unit=issuing_unit, year=year, kind=kind).last
    return seq, NUMBERED_AS[kind](issuing_unit, year, seq)


def issue_notice(
    *,
    by: User,
    unit: Unit,
    findings: Sequence[Finding],
    deadline: date,
    requirements: str,
    inspection: Inspection | None = None,
    issuing_unit: Unit | None = None,
) -> Notice:
    """责令整改: order ``unit`` to fix ``findings`` by ``deadline``, under the next office number."""
    _require(by, Action.INSPECT, unit, "向该单位下发整改通知")
    if not findings:
        raise InspectionError("整改通知书应至少列明一个问题")
    if not requirements.strip():
        raise InspectionError("请填写整改要求")
    today = timezone.localdate()
    if deadline < today:
        raise InspectionError(f"整改期限{_d(deadline)}早于今天")
    if inspection is not None and not may_act_for(by, inspection):
        raise Forbidden("无权以该检查的名义下发通知书：检查涉及您职责范围以外的单位")
    if inspection is not None and deadline < inspection.planned_on:
        raise InspectionError(f"整改期限{_d(deadline)}早于检查日期{_d(inspection.planned_on)}")
    issuing_unit = issuing_unit or (inspection.issuing_unit if inspection else by.unit)
    if issuing_unit is None:
        raise InspectionError("请指定发文单位")
    with transaction.atomic():
        locked = list(
            Finding.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(pk__in=[f.pk for f in findings])
            .order_by("pk")
        )
        if len(locked) != len({f.pk for f in findings}):
            raise InspectionError("所列问题不存在")
        for finding in locked:
            if finding.unit_id != unit.pk:
                raise InspectionError(f"问题“{finding}”属于其他单位，不能列入给{unit.name}的通知书")
            if finding.status != FS.OPEN:
                raise InspectionError(f"问题“{finding}”已在整改中，不能重复下发")
        campaign = locked[0].campaign
        refuse_closed(campaign)
        seq, number = _next_number(issuing_unit, today.year)
        notice = Notice.objects.create(
            campaign=campaign,
            number=number,
            issuing_unit=issuing_unit,
            year=today.year,
            seq=seq,
            unit=unit,
            inspection=inspection,
            requirements=requirements.strip(),
            deadline=deadline,
            issued_by=by,
        )
        Finding.objects.filter(pk__in=[f.pk for f in locked]).update(
            status=FS.ORDERED, notice=notice, deadline=deadline, rounds=1, version=F("version") + 1
        )
        events = [
            audit.event(
                notice,
                "notice.issued",
                actor=by,
                unit=unit,
                changes={
                    "number": number,
                    "deadline": deadline,
                    "findings": [f.pk for f in locked],
                },
            )
        ]
        events += [
            audit.event(
                f,
                "finding.ordered",
                actor=by,
                unit=unit,
                changes={"status": [FS.OPEN, FS.ORDERED], "notice": number, "deadline": deadline},
            )
            for f in locked
        ]
        audit.record(events)
        tell.notice_issued(notice, by=by, findings=len(locked))
    return notice


def acknowledge_notice(*, notice: Notice, by: User) -> Notice:
    """签收 the notice for its addressee (report rights over it); already acknowledged, it is returned
    as it is (who, when). The unit's first answer to one of its findings acknowledges it too."""
    with transaction.atomic():
        locked = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("unit", "campaign", "acknowledged_by")
            .get(pk=notice.pk)
        )
        _require(by, Action.REPORT, locked.unit, "签收该单位的整改通知")
        refuse_closed(locked.campaign)
        now = timezone.now()
        if receipts.stamp(locked, by, now):
            locked.save(update_fields=receipts.FIELDS)
            audit.record(
                [
                    audit.event(
                        locked, "notice.acknowledged", actor=by, unit=locked.unit, changes={"acknowledged_at": now}
                    )
                ]
            )
    return locked


def _locked_finding(finding: Finding) -> Finding:
    locked = Finding.objects.select_for_update(of=("self",)).select_related("unit", "campaign").get(pk=finding.pk)
    refuse_closed(locked.campaign)
    return locked


def _sync_notice(notice_id: int | None) -> None:
    """A notice is answered when none of its findings waits for the unit, closed when all are verified."""
    if notice_id is None:
        return
    states = set(Finding.objects.filter(notice_id=notice_id).values_list("status", flat=True))
    status = (
        NoticeStatus.CLOSED
        if states == {FS.CLOSED}
        else (NoticeStatus.ISSUED if FS.ORDERED in states else NoticeStatus.ANSWERED)
    )
    Notice.objects.filter(pk=notice_id).exclude(status=status).update(status=status)


def answer_finding(*, finding: Finding, by: User, text: str, files: Sequence[UploadedFile] = ()) -> Answer:
    """The unit says what it did to fix the finding, with evidence; the inspector verifies next."""
    if not text.strip():
        raise InspectionError("请填写整改情况")
    uploads = _Files(files)
    try:
        with transaction.atomic():
            locked = _locked_finding(finding)
            _require(by, Action.REPORT, locked.unit, "答复该单位的整改")
            if locked.status != FS.ORDERED:
                raise InspectionError(f"问题当前为“{locked.get_status_display()}”，不需要答复")
            answer = Answer.objects.create(finding=locked, round=locked.rounds, text=text.strip(), answered_by=by)
            names = uploads.save(locked, by, answer)
            locked.status = FS.SUBMITTED
            locked.version += 1
            locked.save(update_fields=["status", "version"])
            _sync_notice(locked.notice_id)
            if locked.notice_id:  # an answer is a receipt of its notice too
                Notice.objects.filter(pk=locked.notice_id, acknowledged_at__isnull=True).update(
                    acknowledged_at=answer.answered_at, acknowledged_by=by
                )
            audit.record(
                [
                    audit.event(
                        locked,
                        "finding.answered",
                        actor=by,
                        unit=locked.unit,
                        changes={
                            "status": [FS.ORDERED, FS.SUBMITTED],
                            "round": answer.round,
                            "text": answer.text,
                            "files": names,
                        },
                    )
                ]
            )
    except BaseException:
        uploads.discard()
        raise
    return answer


def verify_finding(
    *, finding: Finding, by: User, accept: bool, note: str = "", new_deadline: date | None = None
) -> Finding:
    """The inspector checks the fix: closed, or rejected back to the unit with a new deadline."""
    with transaction.atomic():
        locked = _locked_finding(finding)
        if not scope.judges(by, Action.INSPECT, locked.unit):  # never one's own unit's rectification
            raise Forbidden("无权验证该单位的整改")
        if locked.status != FS.SUBMITTED:
            raise InspectionError(f"问题当前为“{locked.get_status_display()}”，没有待验证的整改")
        answer = locked.answers.select_for_update().get(round=locked.rounds)
        now = timezone.now()
        changes: dict = {}
        if accept:
            locked.status, locked.closed_at = FS.CLOSED, now
            changes["status"] = [FS.SUBMITTED, FS.CLOSED]
        else:
            if not note.strip():
                raise InspectionError("整改不合格须写明理由")
            if new_deadline is None or new_deadline < timezone.localdate():
                raise InspectionError("整改不合格须重新确定整改期限（不早于今天）")
            changes.update(
                {
                    "status": [FS.SUBMITTED, FS.ORDERED],
                    "deadline": [locked.deadline, new_deadline],
                    "rounds": [locked.rounds, locked.rounds + 1],
                }
            )
            locked.status, locked.deadline = FS.ORDERED, new_deadline
            locked.rounds += 1
        if note.strip():
            changes["note"] = note.strip()
        answer.accepted, answer.verified_by, answer.verified_at, answer.verdict_note = accept, by, now, note.strip()
        answer.save(update_fields=["accepted", "verified_by", "verified_at", "verdict_note"])
        locked.version += 1
        locked.save(update_fields=["status", "closed_at", "deadline", "rounds", "version"])
        _sync_notice(locked.notice_id)
        verb = "finding.verified" if accept else "finding.rejected"
        audit.record([audit.event(locked, verb, actor=by, unit=locked.unit, changes=changes)])
        tell.finding_verified(locked, by=by, accept=accept, note=note)
    return locked


# --- Hotspots --------------------------------------------------------------------------------------


def list_hotspot(
    *,
    by: User,
    campaign: Campaign,
    unit: Unit,
    name: str,
    problems: str,
    responsible_name: str,
    deadline: date,
    criteria: Sequence[str],
    area: str = "",
    listed_on: date | None = None,
    inspect_every_days: int = 7,
    responsible=None,
) -> Hotspot:
    _require(by, Action.INSPECT, unit, "对该单位辖区挂牌整治")
    refuse_closed(campaign)
    listed_on = listed_on or timezone.localdate()
    criteria = [c.strip() for c in criteria if c and c.strip()]
    if not name.strip() or not problems.strip() or not responsible_name.strip():
        raise InspectionError("请填写整治点名称、存在问题和整治责任人")
    if deadline < listed_on:
        raise InspectionError(f"整治期限{_d(deadline)}早于挂牌日期{_d(listed_on)}")
    if not criteria:
        raise InspectionError("请列出至少一项验收标准")
    if not 1 <= inspect_every_days <= 90:
        raise InspectionError("督导检查周期应为1至90天")
    with transaction.atomic():
        hotspot = Hotspot.objects.create(
            campaign=campaign,
            unit=unit,
            name=name.strip(),
            area=area.strip(),
            problems=problems.strip(),
            responsible_name=responsible_name.strip(),
            responsible=responsible,
            listed_on=listed_on,
            deadline=deadline,
            inspect_every_days=inspect_every_days,
            listed_by=by,
        )
        HotspotCriterion.objects.bulk_create(
            HotspotCriterion(hotspot=hotspot, seq=i, text=text) for i, text in enumerate(criteria, 1)
        )
        audit.record(
            [
                audit.event(
                    hotspot,
                    "hotspot.listed",
                    actor=by,
                    unit=unit,
                    changes={
                        "name": hotspot.name,
                        "deadline": deadline,
                        "responsible": hotspot.responsible_name,
                        "criteria": criteria,
                    },
                )
            ]
        )
    return hotspot


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    inspected: bool


COMPLETED_VISITS = Prefetch(
    "inspections",
    queryset=Inspection.objects.filter(status=InspectionStatus.COMPLETED).only("completed_at", "hotspot_id"),
    to_attr="completed_visits",
)


def inspection_windows(hotspot: Hotspot, today: date | None = None) -> list[Window]:
    """The hotspot's required inspection windows (every ``inspect_every_days`` from listing) up to
    today or de-listing, each with whether a completed inspection of the hotspot fell in it."""
    today = today or timezone.localdate()
    last = min(today, hotspot.delisted_on or today)
    # prefetched by lists (COMPLETED_VISITS), else one query for this hotspot
    visits = getattr(hotspot, "completed_visits", None)
    if visits is None:
        visits = hotspot.inspections.filter(status=InspectionStatus.COMPLETED).only("completed_at")
    done = sorted(timezone.localdate(v.completed_at) for v in visits)
    step = timedelta(days=hotspot.inspect_every_days)
    windows, start = [], hotspot.listed_on
    while start <= last:
        end = start + step - timedelta(days=1)
        windows.append(Window(start, end, any(start <= d <= end for d in done)))
        start = end + timedelta(days=1)
    return windows


def missed(windows: Sequence[Window], today: date) -> int:
    """Windows already over with no inspection (the running one is not missed yet)."""
    return sum(1 for w in windows if not w.inspected and w.end < today)


def missed_inspections(hotspot: Hotspot, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return missed(inspection_windows(hotspot, today), today)


# --- Counts people quote -------------------------------------------------------------------------------


def counts(campaign: Campaign, user, unit: Unit | None = None) -> dict[str, int]:
    """检查单位X个、发现问题X处、整改X处 … for a campaign over the user's scope (optionally one
    unit's subtree), in one query: each figure a scalar subquery of the same statement."""
    reach = scope.scope_for(user, Action.VIEW)
    if not reach:
        return dict.fromkeys(COUNT_NAMES, 0)

    def within(field: str) -> Q:
        q = reach.q(field)
        if unit is not None:
            q &= Q(**{f"{field}__path__startswith": unit.path})
        return q

    def total(qs, group: str = "campaign", counted: str = "pk"):
        per = qs.order_by().values(group).annotate(n=Count(counted, distinct=True)).values("n")
        return Coalesce(Subquery(per[:1]), 0)

    today = timezone.localdate()
    done = InspectionStatus.COMPLETED
    findings = Finding.objects.filter(within("unit"), campaign=OuterRef("pk"))
    visits = Inspection.units.through.objects.filter(
        within("unit"), inspection__campaign=OuterRef("pk"), inspection__status=done
    )
    notices = Notice.objects.filter(within("unit"), campaign=OuterRef("pk"))
    hotspots = Hotspot.objects.filter(within("unit"), campaign=OuterRef("pk"))
    figures = {
        "inspections": total(visits, "inspection__campaign", "inspection"),
        "units_inspected": total(visits, "inspection__campaign", "unit"),
        "findings": total(findings),
        "rectified": total(findings.filter(status=FS.CLOSED)),
        "overdue": total(findings.filter(Finding.overdue_q(today))),
        "notices": total(notices),
        "hotspots_listed": total(hotspots),
        "hotspots_delisted": total(hotspots.filter(status=Hotspot.Status.DELISTED)),
    }
    # aliased: Campaign has relations named like some figures
    row = Campaign.objects.filter(pk=campaign.pk).values(**{f"n_{k}": v for k, v in figures.items()}).get()
    return {name: row[f"n_{name}"] for name in COUNT_NAMES}


COUNT_NAMES = (
    "inspections",
    "units_inspected",
    "findings",
    "rectified",
    "overdue",
    "notices",
    "hotspots_listed",
    "hotspots_delisted",
)
