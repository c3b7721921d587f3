"""Progress reports with evidence, and comments, on an assignment.

A report locks the assignment, adds its value to the running total, stores its files through
Django's storage API (so S3-compatible storage can replace the disk) and records one audit event,
all in one transaction; files already stored are removed again if anything fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts import scope
from accounts.models import Role, User
from accounts.scope import Action
from audit import services as audit
from notifications import events as tell
from tasks.models import Assignment, AssignmentStatus, Comment, CommentKind, Evidence, ProgressReport, Target
from utilities.errors import Forbidden
from utilities.uploads import Checked, check_upload

from . import checkins, receipts
from .cascade import lock_chain, lock_from_the_top, lock_target_chain, roll_up, roll_up_target
from .errors import LinkedTarget, ReportError, refuse_closed
from .workflow import TransitionError, VersionConflict, allowed_transitions

OPEN_FOR_REPORTS = {AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED}


def report_progress(
    *,
    assignment: Assignment,
    by: User,
    value: Decimal | None = None,
    text: str = "",
    files: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
    period: date | None = None,
    target: Target | None = None,
) -> ProgressReport:
    """Record what the unit did; a first report on a pending assignment puts it in progress.

    For an item with a cadence the report answers one check-in period: ``period`` (its due date),
    by default the period running today. ``target``: which of the item's targets the amount counts
    toward, by default its first (``Assignment.progress``); another one's running total is its
    ``TargetProgress`` row. Either rolls up the chain of shares in this transaction. A target linked to an indicator takes its
    progress from the results statistics: an amount reported on it is refused (``LinkedTarget``).
    """
    text = (text or "").strip()
    if value is None and not text and not files:
        raise ReportError("请填写完成数量、情况说明或上传佐证材料")
    if value is not None and value < 0:
        raise ReportError("完成数量不能为负数")
    checked: list[tuple[UploadedFile, Checked]] = [(f, check_upload(f)) for f in files]  # before any write
    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            lock_from_the_top(assignment)  # a share: its parents first, as a pass-down locks them
            locked = (
                Assignment.objects.select_for_update(of=("self",))
                .select_related("unit", "campaign", "item")  # the item: the period's and the target's checks
                # whether the first target is linked to an indicator, in the same statement (``_check_target``)
                .annotate(first_linked=first_linked())
                .get(pk=assignment.pk)
            )
            if not scope.can(by, Action.REPORT, locked.unit):
                raise Forbidden("无权为该单位填报进度")
            refuse_closed(locked.campaign)
            if expected_version is not None and locked.version != expected_version:
                raise VersionConflict(locked.version)
            if not locked.is_active or locked.status not in OPEN_FOR_REPORTS:
                raise TransitionError(
                    f"当前状态为“{AssignmentStatus(locked.status).label}”，不能填报进度",
                    allowed_transitions(by, locked),
                )
            now = timezone.now()
            period = _check_period(locked, period, timezone.localdate(now))
            target = _check_target(locked, target, value)
            first = target is None or target.seq == 1
            # every running total checked before anything is written: the first target's on the rows, a
            # later one's in ``TargetProgress``, each up the chain of shares
            ancestors = lock_chain(locked, value) if first else []
            totals = [] if first else lock_target_chain(locked, target, value)
            report = ProgressReport.objects.create(
                assignment=locked,
                value=value,
                text=text,
                reported_by=by,
                reported_at=now,
                period=period,
                target=None if first else target,
            )
            for upload, info in checked:
                evidence = Evidence(
                    assignment=locked,
                    report=report,
                    name=info.name,
                    content_type=info.content_type,
                    extension=info.extension,
                    size=info.size,
                    sha256=info.sha256,
                    uploaded_by=by,
                    uploaded_at=now,
                )
                evidence.file.save(info.name, upload, save=False)
                stored.append(evidence)
                evidence.save()
            before = {"status": locked.status, "progress": locked.progress}
            if value and first:
                locked.progress += value
                roll_up(ancestors, value)
            roll_up_target(totals)
            if locked.status == AssignmentStatus.PENDING:
                locked.status = AssignmentStatus.IN_PROGRESS
            locked.version += 1
            locked.updated_at = now
            acknowledged = receipts.stamp(locked, by, now)  # a report is a receipt too
            fields = [*receipts.FIELDS] if acknowledged else []
            locked.save(update_fields=["progress", "status", "version", "updated_at", *fields])
            changes = audit.diff(before, {"status": locked.status, "progress": locked.progress})
            if acknowledged:
                changes["acknowledged_at"] = now
            changes.update({"report": report.pk, "value": value, "text": text, "files": [e.name for e in stored]})
            if period:
                changes["period"] = period
            if not first:
                changes["target"] = target.seq
                if totals:  # the later target's running total, before → after
                    total = totals[0].progress
                    changes.update(audit.diff({"target_progress": total - value}, {"target_progress": total}))
            audit.record([audit.event(locked, "assignment.reported", actor=by, changes=changes, unit=locked.unit)])
    except BaseException:
        for evidence in stored:
            evidence.file.delete(save=False)
        raise
    _known_evidence(report, stored)
    return report


def _known_evidence(report: ProgressReport, stored: list[Evidence]) -> None:
    """The report's evidence is what was just stored: kept as if prefetched (what Django's
    ``prefetch_related`` leaves), so showing the new report reads none back."""
    found = report.evidence.all()
    found._result_cache, found._prefetch_done = stored, True
    report._prefetched_objects_cache = {"evidence": found}


def _check_period(assignment: Assignment, period: date | None, today: date) -> date | None:
    if not checkins.has_cadence(assignment.item):
        if period is not None:
            raise ReportError("该事项没有周期性报送要求，不能指定报送周期")
        return None
    if period is None:
        current = checkins.current_period(assignment, today)
        return current.due if current else None
    found = {p.due: p for p in checkins.assignment_periods(assignment)}
    if period not in found:
        listed = "、".join(f"{d.month}月{d.day}日" for d in list(found)[:6])
        more = "等" if len(found) > 6 else ""
        raise ReportError(f"{period.month}月{period.day}日不是该任务的报送截止日，应为：{listed}{more}")
    if found[period].start > today:
        start = found[period].start
        raise ReportError(f"该报送周期自{start.month}月{start.day}日开始，尚不能报送")
    return period


def first_linked() -> RawSQL:
    """The indicator of the assignment's item's first target (null: none, or not linked), read with the row
    ``report_progress`` locks. Written without parameters, so that statement is kept by shape like the
    others (``utilities.backends.kept``: a subquery with its ``seq = 1`` would be written anew each time)."""
    q = connection.ops.quote_name
    target, assignment = q(Target._meta.db_table), q(Assignment._meta.db_table)
    return RawSQL(  # noqa: S611 (no value in it: table and column names from the models)
        f"SELECT t.{q('indicator_id')} FROM {target} t "  # noqa: S608 (table names only, from the models)
        f"WHERE t.{q('item_id')} = {assignment}.{q('item_id')} AND t.{q('seq')} = 1",
        (),
        output_field=IntegerField(),
    )


def _check_target(assignment: Assignment, target: Target | None, value: Decimal | None) -> Target | None:
    """The target the amount counts toward, one of the item's; an amount on one linked to an indicator
    is refused: its progress is what the unit and its subtree report in the results statistics."""
    if target is not None and target.item_id != assignment.item_id:
        raise ReportError("所选量化指标不属于该任务")
    if value is None:
        return target
    if target is None:  # the first: whether it is linked was read with the row (``first_linked``), if it was
        if not getattr(assignment, "first_linked", True):
            return None
        target = Target.objects.filter(item_id=assignment.item_id, seq=1).first()
        if target is not None and target.indicator_id:
            raise LinkedTarget(target)
        return None
    if target.indicator_id:
        raise LinkedTarget(target)
    return target


def add_comment(*, assignment: Assignment, by: User, text: str) -> Comment:
    text = (text or "").strip()
    if not text:
        raise ReportError("批注内容不能为空")
    if not scope.can(by, Action.VIEW, assignment.unit):
        raise Forbidden("无权查看该任务")
    refuse_closed(assignment.campaign)  # a closed campaign's record is final, its conversations too
    with transaction.atomic():
        comment = Comment.objects.create(assignment=assignment, author=by, text=text)
        audit.record(
            [
                audit.event(
                    assignment,
                    "assignment.commented",
                    actor=by,
                    unit=assignment.unit,
                    changes={"comment": comment.pk, "text": text},
                )
            ]
        )
        tell.commented(comment, by=by)
    return comment


# --- 报请领导批示 and 批示: the smallest honest form of a leader's instruction (issue 21 builds directives) ---


def default_leader(assignment: Assignment) -> User | None:
    """Whom a request for instruction goes to by default: the item's leader, else its line of action's."""
    item = assignment.item
    return item.leader or (item.action.leader if item.action_id else None)


def request_instruction(*, assignment: Assignment, by: User, text: str, leader: User | None = None) -> Comment:
    """报请领导批示: the unit (report rights) or HQ over it (manage) asks ``leader`` — by default the
    item's, else the line's — for an instruction on the assignment. It stays open until a leader's
    instruction on the assignment answers it; the leader hears of it, and the comment's usual
    audience (the reviewers for the unit's own, else the unit) too."""
    text = (text or "").strip()
    if not text:
        raise ReportError("请填写报请批示的事项")
    unit = assignment.unit
    if not (scope.can(by, Action.REPORT, unit) or scope.can(by, Action.MANAGE, unit)):
        raise Forbidden("只有任务单位或领导小组办公室可以报请领导批示")
    refuse_closed(assignment.campaign)
    leader = leader or default_leader(assignment)
    if leader is None:
        raise ReportError("该任务未关联分管领导账号，无法报请批示")
    if not leader.is_active or not scope.of_role(leader, Role.LEADER).contains(unit):
        raise ReportError(f"{leader.get_full_name() or leader.username}不是该单位的分管领导，无法报请批示")
    with transaction.atomic():
        comment = Comment.objects.create(
            assignment=assignment, author=by, text=text, kind=CommentKind.REQUEST, addressed_to=leader
        )
        audit.record(
            [
                audit.event(
                    assignment,
                    "assignment.instruction_requested",
                    actor=by,
                    unit=unit,
                    changes={"comment": comment.pk, "text": text, "addressed_to": leader.pk},
                )
            ]
        )
        tell.commented(comment, by=by, leader=leader)
    return comment


def give_instruction(*, assignment: Assignment, by: User, text: str) -> Comment:
    """批示: a leader over the unit (a ``leader`` grant covering it) instructs on the assignment; the
    instruction answers every request for instruction still open on it, and the unit's leads hear of
    it through the comment's message. Returns the instruction (``answered``: the requests it closed)."""
    text = (text or "").strip()
    if not text:
        raise ReportError("批示内容不能为空")
    unit = assignment.unit
    if not scope.of_role(by, Role.LEADER).contains(unit):
        raise Forbidden("只有分管该单位的领导可以作出批示")
    refuse_closed(assignment.campaign)
    with transaction.atomic():
        # the open requests locked, so two leaders answering at once do not both close them
        open_ids = list(
            Comment.objects.select_for_update()
            .filter(assignment=assignment, kind=CommentKind.REQUEST, answer__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        comment = Comment.objects.create(assignment=assignment, author=by, text=text, kind=CommentKind.INSTRUCTION)
        Comment.objects.filter(pk__in=open_ids).update(answer=comment)
        audit.record(
            [
                audit.event(
                    assignment,
                    "assignment.instructed",
                    actor=by,
                    unit=unit,
                    changes={"comment": comment.pk, "text": text, "answers": open_ids},
                )
            ]
        )
        tell.commented(comment, by=by)
    comment.closed = open_ids
    return comment


def timeline(assignment: Assignment):
    """Everything that happened to the assignment, oldest first: the recorded events."""
    return audit.history(assignment)
