"""Deadline extensions (延期申请): the unit asks with a reason; HQ or the item's lead unit decides."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext

from accounts import scope
from accounts.models import User
from accounts.scope import Action
from audit import services as audit
from notifications import events as tell
from tasks.models import Assignment, AssignmentStatus, ExtensionRequest, ExtensionStatus
from utilities.errors import Forbidden

from .errors import ReportError, refuse_closed
from .workflow import may_review


def request_extension(*, assignment: Assignment, by: User, due: date, reason: str) -> ExtensionRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ReportError("申请延期须写明理由")
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update(of=("self",)).select_related("unit", "campaign").get(pk=assignment.pk)
        )
        if not scope.can(by, Action.REPORT, locked.unit):
            raise Forbidden("无权为该单位申请延期")
        refuse_closed(locked.campaign)
        if locked.status == AssignmentStatus.ACCEPTED or not locked.is_active:
            raise ReportError("该任务已验收或已撤销，无需延期")
        if due <= locked.due_date:
            raise ReportError(f"申请的完成时限应晚于现在的 {locked.due_date}")
        _check_within_campaign(locked, due)
        try:
            with transaction.atomic():
                request = ExtensionRequest.objects.create(
                    assignment=locked, requested_due=due, previous_due=locked.due_date, reason=reason, requested_by=by
                )
        except IntegrityError:
            raise ReportError("已有一份延期申请在等待审批") from None
        audit.record(
            [
                audit.event(
                    locked,
                    "assignment.extension_requested",
                    actor=by,
                    unit=locked.unit,
                    changes={"request": request.pk, "due_date": [locked.due_date, due], "reason": reason},
                )
            ]
        )
        tell.extension_asked(request, by=by)
    return request


def _check_within_campaign(assignment: Assignment, due: date) -> None:
    latest = assignment.campaign.latest_due()
    if due > latest:
        raise ReportError(
            gettext("The new due date may be at most one year after the campaign's end (%(latest)s)")
            % {"latest": formats.date_format(latest)}
        )


def decide_extension(*, request: ExtensionRequest, by: User, approve: bool, note: str = "") -> ExtensionRequest:
    with transaction.atomic():
        request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("unit", "item", "campaign")
            .get(pk=request.assignment_id)
        )
        if not may_review(by, assignment):
            raise Forbidden("无权审批该延期申请")
        refuse_closed(assignment.campaign)
        if request.status != ExtensionStatus.PENDING:
            raise ReportError("该申请已审批")
        if not approve and not note.strip():
            raise ReportError("不同意延期须写明理由")
        if approve:  # a request made before the bound existed may still ask for too much
            _check_within_campaign(assignment, request.requested_due)
        now = timezone.now()
        request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
        request.decided_by, request.decided_at, request.decision_note = by, now, note.strip()
        request.save()
        changes = {"request": request.pk, "approved": approve, "note": request.decision_note}
        if approve:
            Assignment.objects.filter(pk=assignment.pk).update(
                due_date=request.requested_due, extensions=F("extensions") + 1, version=F("version") + 1, updated_at=now
            )
            changes["due_date"] = [assignment.due_date, request.requested_due]
        verb = "assignment.extension_approved" if approve else "assignment.extension_refused"
        audit.record([audit.event(assignment, verb, actor=by, unit=assignment.unit, changes=changes)])
        tell.extension_decided(request, by=by)
    return request
