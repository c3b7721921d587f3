"""Risk letters (风险提示函): issuing one, its receipt (签收), the unit's answer, closing or returning it.

Each call is one transaction with its audit events, as ``inspections.services``. Rights follow
``accounts.scope``: inspecting (inspector, HQ) over the addressee issues; reporting (the unit's lead)
acknowledges and answers; the issuer's side (inspecting over the unit, never the unit's own lead)
closes or returns an answer for a fuller one. A letter is numbered in its issuing unit's own letter
sequence (``services._next_number`` with ``DocumentKind.LETTER``: 江公风险提示〔2026〕3号).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import Action
from audit import services as audit
from notifications import events as tell
from tasks.models import Campaign
from tasks.services import receipts
from tasks.services.errors import refuse_closed
from utilities.cn import cn_date as _d
from utilities.errors import Forbidden

from .models import DocumentKind, Finding, Inspection, LetterFile, LetterSource, LetterStatus, RiskLetter
from .services import InspectionError, _Files, _next_number, _require, may_act_for

LS = LetterStatus


def issue_letter(
    *,
    by: User,
    unit: Unit,
    title: str,
    risk: str,
    requirements: str,
    reply_by: date,
    campaign: Campaign | None = None,
    inspection: Inspection | None = None,
    finding: Finding | None = None,
    issuing_unit: Unit | None = None,
) -> RiskLetter:
    """风险提示: warn ``unit`` of ``risk`` with the measures required, to be answered by ``reply_by``.
    Its source is the inspection or finding named (their campaign is the letter's), else 分析研判."""
    _require(by, Action.INSPECT, unit, "向该单位下发风险提示函")
    title, risk, requirements = title.strip(), risk.strip(), requirements.strip()
    if not title or not risk or not requirements:
        raise InspectionError("请填写标题、发现的风险和防范要求")
    if reply_by < timezone.localdate():
        raise InspectionError(f"反馈期限{_d(reply_by)}早于今天")
    if finding is not None:
        if finding.unit_id != unit.pk:
            raise InspectionError(f"问题“{finding}”属于其他单位，不能作为给{unit.name}的风险提示函的来源")
        if inspection is not None and finding.inspection_id not in (None, inspection.pk):
            raise InspectionError("所列问题不是该次检查发现的")
        inspection = inspection or finding.inspection
    if inspection is not None:
        if not may_act_for(by, inspection):
            raise Forbidden("无权以该检查的名义下发风险提示函：检查涉及您职责范围以外的单位")
        if not inspection.units.filter(pk=unit.pk).exists():
            raise InspectionError(f"该次检查没有检查{unit.name}")
    source_campaign = inspection.campaign if inspection else (finding.campaign if finding else None)
    if campaign is not None and source_campaign is not None and campaign.pk != source_campaign.pk:
        raise InspectionError("所选专项行动与该次检查不一致")
    campaign = campaign or source_campaign
    issuing_unit = issuing_unit or (inspection.issuing_unit if inspection else by.unit)
    if issuing_unit is None:
        raise InspectionError("请指定发文单位")
    source = LetterSource.INSPECTION if inspection or finding else LetterSource.ANALYSIS
    year = timezone.localdate().year
    with transaction.atomic():
        refuse_closed(campaign)  # inside: the campaign's row is read FOR SHARE (tasks.services.errors)
        seq, number = _next_number(issuing_unit, year, DocumentKind.LETTER)
        letter = RiskLetter.objects.create(
            campaign=campaign,
            number=number,
            issuing_unit=issuing_unit,
            year=year,
            seq=seq,
            unit=unit,
            title=title,
            risk=risk,
            source=source,
            inspection=inspection,
            finding=finding,
            requirements=requirements,
            reply_by=reply_by,
            issued_by=by,
        )
        changes = {
            "number": number,
            "title": title,
            "source": source,
            "inspection": inspection.pk if inspection else None,
            "finding": finding.pk if finding else None,
            "reply_by": reply_by,
        }
        audit.record([audit.event(letter, "letter.issued", actor=by, unit=unit, changes=changes)])
        tell.letter_issued(letter, by=by)
    return letter


def _locked(letter: RiskLetter) -> RiskLetter:
    locked = (
        RiskLetter.objects.select_for_update(of=("self",))
        .select_related("unit", "campaign", "acknowledged_by")
        .get(pk=letter.pk)
    )
    refuse_closed(locked.campaign)
    return locked


def acknowledge_letter(*, letter: RiskLetter, by: User) -> RiskLetter:
    """签收 for the addressee (report rights over it); already acknowledged, returned as it is (who, when)."""
    with transaction.atomic():
        locked = _locked(letter)
        _require(by, Action.REPORT, locked.unit, "签收该单位的风险提示函")
        now = timezone.now()
        if receipts.stamp(locked, by, now):
            before = locked.status
            if locked.status == LS.ISSUED:
                locked.status = LS.ACKNOWLEDGED
            locked.version += 1
            locked.save(update_fields=[*receipts.FIELDS, "status", "version"])
            changes = {"acknowledged_at": now, "status": [before, locked.status]}
            audit.record([audit.event(locked, "letter.acknowledged", actor=by, unit=locked.unit, changes=changes)])
    return locked


def answer_letter(*, letter: RiskLetter, by: User, text: str, files: Sequence[UploadedFile] = ()) -> RiskLetter:
    """The unit's answer: the measures it took (text and evidence). An answer is a receipt too."""
    if not text.strip():
        raise InspectionError("请填写采取的防范措施")
    uploads = _Files(files)
    try:
        with transaction.atomic():
            locked = _locked(letter)
            _require(by, Action.REPORT, locked.unit, "答复该单位的风险提示函")
            if locked.status not in (LS.ISSUED, LS.ACKNOWLEDGED):
                raise InspectionError(f"风险提示函当前为“{locked.get_status_display()}”，不需要答复")
            now = timezone.now()
            before = locked.status
            receipts.stamp(locked, by, now)
            locked.status, locked.answer, locked.answered_at, locked.answered_by = LS.ANSWERED, text.strip(), now, by
            locked.rounds += 1
            locked.version += 1
            locked.save(
                update_fields=[
                    *receipts.FIELDS,
                    "status",
                    "answer",
                    "answered_at",
                    "answered_by",
                    "rounds",
                    "version",
                ]
            )
            names = uploads.store(
                lambda info, at: LetterFile(
                    letter=locked,
                    round=locked.rounds,
                    name=info.name,
                    content_type=info.content_type,
                    extension=info.extension,
                    size=info.size,
                    sha256=info.sha256,
                    uploaded_by=by,
                    uploaded_at=at,
                )
            )
            changes = {"status": [before, LS.ANSWERED], "round": locked.rounds, "text": locked.answer, "files": names}
            audit.record([audit.event(locked, "letter.answered", actor=by, unit=locked.unit, changes=changes)])
    except BaseException:
        uploads.discard()
        raise
    return locked


def _judged(letter: RiskLetter, by: User) -> RiskLetter:
    locked = _locked(letter)
    if not scope.judges(by, Action.INSPECT, locked.unit):  # never one's own unit's answer
        raise Forbidden("无权审核该单位的答复")
    if locked.status != LS.ANSWERED:
        raise InspectionError(f"风险提示函当前为“{locked.get_status_display()}”，没有待审核的答复")
    return locked


def close_letter(*, letter: RiskLetter, by: User, note: str = "") -> RiskLetter:
    """The issuer's side accepts the answer: the letter is closed (办结)."""
    with transaction.atomic():
        locked = _judged(letter, by)
        locked.status, locked.closed_at, locked.closed_by = LS.CLOSED, timezone.now(), by
        locked.version += 1
        locked.save(update_fields=["status", "closed_at", "closed_by", "version"])
        changes = {"status": [LS.ANSWERED, LS.CLOSED], "note": note.strip()}
        audit.record([audit.event(locked, "letter.closed", actor=by, unit=locked.unit, changes=changes)])
        tell.letter_judged(locked, by=by, closed=True, note=note)
    return locked


def return_letter(*, letter: RiskLetter, by: User, reason: str, reply_by: date | None = None) -> RiskLetter:
    """The answer is not enough: back to the unit (acknowledged, to answer again) with the reason, and
    a new reply-by date if one is given."""
    if not reason.strip():
        raise InspectionError("退回须写明理由")
    if reply_by is not None and reply_by < timezone.localdate():
        raise InspectionError(f"新的反馈期限{_d(reply_by)}早于今天")
    with transaction.atomic():
        locked = _judged(letter, by)
        changes: dict = {"status": [LS.ANSWERED, LS.ACKNOWLEDGED], "reason": reason.strip()}
        if reply_by is not None and reply_by != locked.reply_by:
            changes["reply_by"] = [locked.reply_by, reply_by]
            locked.reply_by = reply_by
        locked.status, locked.returned_reason = LS.ACKNOWLEDGED, reason.strip()
        locked.version += 1
        locked.save(update_fields=["status", "returned_reason", "reply_by", "version"])
        audit.record([audit.event(locked, "letter.returned", actor=by, unit=locked.unit, changes=changes)])
        tell.letter_judged(locked, by=by, closed=False, note=reason)
    return locked
