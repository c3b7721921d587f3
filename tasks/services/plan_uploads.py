"""HQ's plan upload (issue 17): the file checked and kept, a dry run shown, the import on confirmation.

The page keeps the file in a ``PlanUpload`` between the preview and the confirmation, so the import
runs on the very bytes previewed (their sha256 checked again) and never on what a client sends a
second time; the confirmation locks the row and checks its status, so a second click or a stale
preview cannot import twice. The API runs the same ``run_plan`` on the file it is sent.

A province's plan (≈120,000 assignments) takes longer than a request should: with ``background=True``
the dry run and the import are queued as the upload's job (``tasks.jobs.run_plan_upload`` →
``run_upload_job``), claimed with a conditional UPDATE and a lease as boards' exports are, its state on
the row and its progress in the cache (the import's one transaction would hide it on the row until the
end). ``in_background()`` says whether the pages and the API queue it: when a worker is configured.

Whoever uploads needs the manage right over the campaign's owner. The campaign's fields come from
the form (a new campaign) or from the campaign itself (a re-import): a YAML/JSON file's own
``campaign:`` block never decides which campaign is written or moves it to another owner.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from audit import services as audit
from tasks.models import Campaign, CampaignStatus, PlanJob, PlanJobState, PlanUpload, PlanUploadStatus
from tasks.services.plans import PlanImportResult, Progress, import_plan, result_json
from utilities.errors import Forbidden, Refused
from utilities.tables import FileProblems
from utilities.uploads import check_data_file

log = logging.getLogger(__name__)

UPLOADABLE = (CampaignStatus.DRAFT, CampaignStatus.PUBLISHED)
SOFT_TIME_LIMIT = 1500  # seconds: a province's import with publishing takes about a minute on 2 cores
TIME_LIMIT = 1560
STALE_AFTER = timedelta(seconds=TIME_LIMIT + 60)  # a running job older than this lost its worker


def in_background() -> bool:
    """Whether the pages and the API queue an upload's dry run and import: when a worker is configured
    (``PLAN_UPLOADS_IN_BACKGROUND``, by default not the embedded eager Celery, which would run it in the
    request anyway)."""
    return settings.PLAN_UPLOADS_IN_BACKGROUND


def _may_manage(by: User, owner: Unit) -> None:
    if not scope.can(by, scope.Action.MANAGE, owner):
        raise Forbidden("只有行动牵头的领导小组办公室可以导入方案")


def _fresh_code(owner: Unit, start: date) -> str:
    """A new campaign's code when the form leaves it blank, as ``import_plan`` would make it."""
    base = f"{owner.code}-{start:%Y%m%d}"
    code, n = base, 1
    while Campaign.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _check_target(
    *,
    by: User,
    campaign: Campaign | None,
    name: str,
    code: str,
    start: date | None,
    end: date | None,
    owner: Unit | None,
) -> Unit:
    """The campaign's owner, once ``by`` may write into it: manage right, a campaign still open to a
    plan, a new campaign's fields all given and its code free."""
    if campaign is not None:
        _may_manage(by, campaign.owner)
        if campaign.status not in UPLOADABLE:
            raise Refused(f"行动“{campaign.name}”已结束，不能再导入方案")
        return campaign.owner
    if owner is None or start is None or end is None or not name:
        raise Refused("新建行动应填写行动名称、开始日期、结束日期和牵头指挥部")
    _may_manage(by, owner)
    if code and Campaign.objects.filter(code=code).exists():
        raise Refused(f"行动编号“{code}”已被使用：请换一个编号，或选择该行动重新导入")
    return owner


def run_plan(
    *,
    path: Path | str,
    display_name: str,
    by: User,
    campaign: Campaign | None = None,
    name: str = "",
    code: str = "",
    start: date | None = None,
    end: date | None = None,
    owner: Unit | None = None,
    publish: bool = False,
    dry_run: bool = True,
    progress: Progress | None = None,
) -> PlanImportResult:
    """``import_plan`` for a user: into ``campaign`` (draft or published, its own fields kept), or into
    a new campaign of ``owner`` whose code no campaign has. Raises ``FileProblems`` with every problem."""
    owner = _check_target(by=by, campaign=campaign, name=name, code=code, start=start, end=end, owner=owner)
    if campaign is not None:
        fields = {"name": campaign.name, "code": campaign.code, "start": campaign.start, "end": campaign.end}
    else:
        fields = {"name": name, "code": code or _fresh_code(owner, start), "start": start, "end": end}
    return import_plan(
        path=path,
        owner=owner.code,
        publish=publish,
        dry_run=dry_run,
        by=by,
        display_name=display_name,
        progress=progress,
        **fields,
    )


def _options(upload: PlanUpload) -> dict:
    return {
        "campaign": upload.campaign,
        "name": upload.campaign_name,
        "code": upload.campaign_code,
        "start": upload.start,
        "end": upload.end,
        "owner": upload.owner,
    }


def preview_plan(
    *,
    upload: UploadedFile,
    by: User,
    campaign: Campaign | None = None,
    name: str = "",
    code: str = "",
    start: date | None = None,
    end: date | None = None,
    owner: Unit | None = None,
    background: bool = False,
) -> PlanUpload:
    """Keep the file and dry-run it (published if a draft, so the assignments publishing would make are
    counted). A file refused by its type or size (``UploadRejected``) is not kept; a plan with problems
    is, as ``failed`` with every problem located, so the page can show them. With ``background`` the
    dry run is queued as the upload's job (``pending`` until it ends) and the row returned at once."""
    return upload_plan(
        upload=upload,
        by=by,
        campaign=campaign,
        name=name,
        code=code,
        start=start,
        end=end,
        owner=owner,
        background=background,
        publish=True,
    )


def upload_plan(
    *,
    upload: UploadedFile,
    by: User,
    campaign: Campaign | None = None,
    name: str = "",
    code: str = "",
    start: date | None = None,
    end: date | None = None,
    owner: Unit | None = None,
    background: bool = False,
    dry_run: bool = True,
    publish: bool = False,
) -> PlanUpload:
    """``preview_plan``, or with ``dry_run=False`` the import straight away (the API's ``dry_run=false``:
    the upload kept, its job the import, confirmed by ``by``). ``publish``: the dry run or the import
    publishes a draft (the page's preview always does, to count the assignments)."""
    unit = _check_target(by=by, campaign=campaign, name=name, code=code, start=start, end=end, owner=owner)
    checked = check_data_file(upload)
    row = PlanUpload(
        name=checked.name,
        extension=checked.extension,
        size=checked.size,
        sha256=checked.sha256,
        campaign=campaign,
        campaign_name=name if campaign is None else "",
        campaign_code=code if campaign is None else "",
        start=start if campaign is None else None,
        end=end if campaign is None else None,
        owner=unit,
        uploaded_by=by,
        status=PlanUploadStatus.PENDING,
        job=PlanJob.PREVIEW if dry_run else PlanJob.IMPORT,
        job_state=PlanJobState.QUEUED,
        confirmed_by=None if dry_run else by,
        publish=publish,
    )
    with transaction.atomic():
        row.file.save(checked.name, upload, save=False)
        try:
            row.save()
            audit.record(
                [
                    audit.event(
                        row,
                        "plan.uploaded",
                        actor=by,
                        unit=unit,
                        source="web",
                        changes={"file": checked.name, "sha256": checked.sha256},
                    )
                ]
            )
        except BaseException:
            row.file.delete(save=False)
            raise
        if background:
            _queue(row.pk)
    if not background:
        _run(row.pk, reraise=False)
        row.refresh_from_db()
    return row


def _queue(upload_id: int) -> None:
    from tasks import jobs  # the job module imports this one: queued once the row is committed

    transaction.on_commit(partial(jobs.run_plan_upload.delay, upload_id))


def _sha256(upload: PlanUpload) -> str:
    digest = hashlib.sha256()
    with upload.file.open("rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def confirm_plan(*, upload: PlanUpload, by: User, publish: bool, background: bool = False) -> PlanImportResult | None:
    """Import the previewed file for real (and publish a draft if asked). Under the upload's row lock the
    confirmation is checked (an upload already imported, being imported, or whose preview failed, is
    refused) and the row marked as its import queued, so a second click is refused; the import then
    runs in one transaction with the row locked again (``_run_import``). With ``background`` it is
    queued as the upload's job and ``None`` returned; otherwise it runs here and its result returned."""
    with transaction.atomic():
        row = PlanUpload.objects.select_for_update(of=("self",)).select_related("owner").get(pk=upload.pk)
        _confirmable(row, by)
        PlanUpload.objects.filter(pk=row.pk).update(
            job=PlanJob.IMPORT,
            job_state=PlanJobState.QUEUED,
            confirmed_by=by,
            publish=publish,
            progress=0,
            message="",
            started_at=None,
            finished_at=None,
        )
        audit.record(
            [audit.event(row, "plan.confirmed", actor=by, unit=row.owner, source="web", changes={"publish": publish})]
        )
        if background:
            _queue(row.pk)
    if background:
        return None
    return _run(row.pk, reraise=True)[1]


def _confirmable(row: PlanUpload, by: User) -> None:
    _may_manage(by, row.owner)
    if row.status == PlanUploadStatus.IMPORTED:
        raise Refused(f"方案“{row.name}”已于 {timezone.localtime(row.imported_at):%Y-%m-%d %H:%M} 导入，不能重复导入")
    if row.is_pending:
        raise Refused(f"方案“{row.name}”正在{'导入' if row.job == PlanJob.IMPORT else '检查'}，请稍候，不能重复提交")
    if row.status != PlanUploadStatus.PREVIEWED:
        raise Refused(f"方案“{row.name}”预览有错误，未导入：请改正后重新上传")


# --- the job ------------------------------------------------------------------------------------------

STAGES = {  # stage → (percent at its start, percent at its end), what the user reads
    "reading": (0, 8, "正在读取文件"),
    "compiling": (8, 20, "正在检查方案（单位、时限、目标）"),
    "writing": (20, 30, "正在写入行动和清单项"),
    "assignments": (30, 95, "正在写入任务分配"),
    "counting": (95, 99, "正在统计"),
}


def _progress_key(upload_id: int) -> str:
    return f"tasks:plan-upload:{upload_id}:progress"


class _Reporter:
    """The progress callback the import gets: the stage and its percent, in the cache for the status view
    (a write on the row would wait for the import's commit), only while this run holds the lease."""

    def __init__(self, upload_id: int, lease: datetime):
        self.key, self.lease = _progress_key(upload_id), lease.isoformat()

    def __call__(self, stage: str, done: int, total: int) -> None:
        low, high, words = STAGES.get(stage, (0, 99, ""))
        percent = low + (high - low) * done // max(total, 1)
        if stage == "assignments" and total > 1:
            words = f"{words} {done:,}/{total:,}"
        try:
            cache.set(self.key, {"lease": self.lease, "progress": percent, "message": words}, timeout=TIME_LIMIT)
        except Exception:  # the bar is a courtesy: a cache that is down must not fail the import
            log.warning("plan upload progress not written to the cache", exc_info=True)


def job_progress(upload: PlanUpload) -> tuple[int, str]:
    """The job's progress and stage as the user should read them: the running job's last report."""
    if upload.job_state == PlanJobState.RUNNING and upload.started_at:
        try:
            seen = cache.get(_progress_key(upload.pk))
        except Exception:  # the cache down: the row's last word
            seen = None
        if seen and seen.get("lease") == upload.started_at.isoformat():
            return seen["progress"], seen["message"]
        return upload.progress, upload.message
    if upload.job_state == PlanJobState.QUEUED:
        return 0, "排队等待后台处理"
    return upload.progress, upload.message


def _failure(exc: BaseException) -> str:
    if isinstance(exc, Refused) and exc.status_code < 500:
        return str(exc)[:500]
    if isinstance(exc, (Http404, PermissionDenied)):
        return "您已不再负责该行动，方案未导入"
    return "处理失败，未写入任何数据；请稍后重试，仍然失败请联系系统管理员"


class _Superseded(Exception):
    """Another run took the job over (this one's lease expired)."""


def run_upload_job(*, upload_id: int) -> str:
    """The job's work: claim the upload's queued job, run the dry run or the import as the user who
    asked, keep the result. Returns done, failed, or skipped (already taken, finished, or gone)."""
    return _run(upload_id, reraise=False)[0]


def _run(upload_id: int, *, reraise: bool) -> tuple[str, PlanImportResult | None]:
    """``run_upload_job``, and the same in the request (``reraise``: the import's refusal or problems
    raised to the caller once the row says so, its result returned)."""
    lease = timezone.now()
    claimable = Q(job_state=PlanJobState.QUEUED) | Q(job_state=PlanJobState.RUNNING, started_at__lt=lease - STALE_AFTER)
    if not PlanUpload.objects.filter(claimable, pk=upload_id).update(
        job_state=PlanJobState.RUNNING, started_at=lease, progress=0, message=""
    ):
        return "skipped", None
    mine = PlanUpload.objects.filter(pk=upload_id, job_state=PlanJobState.RUNNING, started_at=lease)
    row = PlanUpload.objects.select_related("campaign", "owner").get(pk=upload_id)
    report = _Reporter(upload_id, lease)
    try:
        if row.job == PlanJob.PREVIEW:
            return _run_preview(row, mine, report), None
        return _run_import(row, mine, report, lease, reraise=reraise)
    except _Superseded:
        return "skipped", None
    except Exception as exc:  # every failure ends as a message for the user; the trace goes to the log
        message = _failure(exc)
        if not (isinstance(exc, (Refused, Http404, PermissionDenied))):
            log.exception("plan upload %s (%s) failed", upload_id, row.job)
        fields = {"job_state": PlanJobState.FAILED, "message": message, "finished_at": timezone.now()}
        if row.job == PlanJob.PREVIEW:
            fields["status"] = PlanUploadStatus.FAILED
        with transaction.atomic():
            if mine.update(**fields):
                audit.record([audit.event(row, "plan.job_failed", changes={"job": row.job, "message": message})])
        if reraise:
            raise
        return "failed", None
    finally:
        with contextlib.suppress(Exception):
            cache.delete(_progress_key(upload_id))


def _finished(outcome: PlanUploadStatus, result: dict, problems: int) -> dict:
    failed = outcome == PlanUploadStatus.FAILED
    return {
        "status": outcome,
        "result": result,
        "job_state": PlanJobState.FAILED if failed else PlanJobState.DONE,
        "progress": 100,
        "message": f"方案有 {problems} 处问题，未写入任何数据" if failed else "",
        "finished_at": timezone.now(),
    }


def _run_preview(row: PlanUpload, mine, report: _Reporter) -> str:
    by = User.objects.get(pk=row.uploaded_by_id)  # its rights as they are now
    try:
        result = run_plan(
            path=row.file.path,
            display_name=row.name,
            by=by,
            publish=row.publish,
            dry_run=True,
            progress=report,
            **_options(row),
        )
    except FileProblems as exc:
        done = _finished(PlanUploadStatus.FAILED, result_json(problems=exc.problems), len(exc.problems))
    else:
        done = _finished(PlanUploadStatus.PREVIEWED, result_json(result), 0)
    if not mine.update(**done):
        raise _Superseded
    return "failed" if done["status"] == PlanUploadStatus.FAILED else "done"


def _run_import(
    row: PlanUpload, mine, report: _Reporter, lease: datetime, *, reraise: bool
) -> tuple[str, PlanImportResult | None]:
    by = User.objects.get(pk=row.confirmed_by_id)
    problems = result = None
    with transaction.atomic():
        # the row locked for the whole import: another run waits, then finds the job no longer its own
        row = PlanUpload.objects.select_for_update(of=("self",)).select_related("campaign", "owner").get(pk=row.pk)
        if row.job_state != PlanJobState.RUNNING or row.started_at != lease:
            raise _Superseded
        _may_manage(by, row.owner)
        if row.status not in (PlanUploadStatus.PREVIEWED, PlanUploadStatus.PENDING):  # pending: uploaded to import
            raise Refused(f"方案“{row.name}”不在待导入状态，未导入")
        if _sha256(row) != row.sha256:
            raise Refused(f"方案“{row.name}”的文件已损坏，未导入：请重新上传")
        try:
            with transaction.atomic():
                result = run_plan(
                    path=row.file.path,
                    display_name=row.name,
                    by=by,
                    publish=row.publish,
                    dry_run=False,
                    progress=report,
                    **_options(row),
                )
        except FileProblems as exc:  # something changed since the preview (a unit renamed …): kept as failed
            problems = exc
            done = _finished(PlanUploadStatus.FAILED, result_json(problems=exc.problems), len(exc.problems))
        else:
            done = {**_finished(PlanUploadStatus.IMPORTED, result_json(result), 0), "imported_at": timezone.now()}
            done["campaign"] = Campaign.objects.get(code=result.campaign)
            # who confirmed which bytes (import_plan records what they changed)
            audit.record(
                [
                    audit.event(
                        row,
                        "plan.imported",
                        actor=by,
                        unit=row.owner,
                        source="web",
                        changes={"campaign": result.campaign, "published": result.published},
                    )
                ]
            )
        mine.update(**done)
    if problems is not None:
        if reraise:
            raise problems
        return "failed", None
    return "done", result


def stalled_uploads(*, now: datetime | None = None) -> list[int]:
    """The jobs whose message may be lost (Redis keeps nothing on disk: a restart loses the queue): every
    job still queued, and every running one whose lease is older than the hard time limit (its worker died).
    Sending their message again is safe: the claim lets one run take each job, and skips the others."""
    now = now or timezone.now()
    stalled = Q(job_state=PlanJobState.QUEUED) | Q(job_state=PlanJobState.RUNNING, started_at__lt=now - STALE_AFTER)
    return list(PlanUpload.objects.filter(stalled).order_by("pk").values_list("pk", flat=True))


# --- clearing old uploads -----------------------------------------------------------------------------


def purge_plan_uploads(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete the uploads never imported (failed, or previewed and left) older than ``days``
    (``PLAN_UPLOAD_KEEP_DAYS``), with their files: a plan names every unit's work and should not lie on
    disk for ever. Each deletion is audited; the files go after the commit. Imported ones stay (which
    bytes were imported, and by whom)."""
    days = settings.PLAN_UPLOAD_KEEP_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    storage = PlanUpload._meta.get_field("file").storage
    old = PlanUpload.objects.filter(uploaded_at__lt=cutoff).exclude(status=PlanUploadStatus.IMPORTED)
    old = old.exclude(job_state__in=[PlanJobState.QUEUED, PlanJobState.RUNNING])
    deleted = 0
    while batch := list(old.order_by("pk").select_related("owner")[:500]):
        with transaction.atomic():
            audit.record(
                audit.event(
                    u,
                    "plan.purged",
                    unit=u.owner,
                    source="tasks.purge_plan_uploads",
                    changes={"file": u.name, "status": u.status, "uploaded_at": u.uploaded_at.isoformat()},
                )
                for u in batch
            )
            PlanUpload.objects.filter(pk__in=[u.pk for u in batch]).delete()
            names = [u.file.name for u in batch if u.file]
            transaction.on_commit(lambda names=names: [storage.delete(name) for name in names])
        deleted += len(batch)
    if deleted:
        log.info("purged %s plan uploads older than %s days", deleted, days)
    return deleted
