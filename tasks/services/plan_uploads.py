"""HQ's plan upload (issue 17): the file checked and kept, a dry run shown, the import on confirmation.

The page keeps the file in a ``PlanUpload`` between the preview and the confirmation, so the import
runs on the very bytes previewed (their sha256 checked again) and never on what a client sends a
second time; the confirmation locks the row and checks its status, so a second click or a stale
preview cannot import twice. The API runs the same ``run_plan`` on the file it is sent.

Whoever uploads needs the manage right over the campaign's owner. The campaign's fields come from
the form (a new campaign) or from the campaign itself (a re-import): a YAML/JSON file's own
``campaign:`` block never decides which campaign is written or moves it to another owner.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from audit import services as audit
from tasks.models import Campaign, CampaignStatus, PlanUpload, PlanUploadStatus
from tasks.services.plans import PlanImportResult, import_plan, result_json
from utilities.errors import Forbidden, Refused
from utilities.tables import FileProblems
from utilities.uploads import check_data_file

UPLOADABLE = (CampaignStatus.DRAFT, CampaignStatus.PUBLISHED)


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
) -> PlanUpload:
    """Keep the file and dry-run it (published if a draft, so the assignments publishing would make are
    counted). A file refused by its type or size (``UploadRejected``) is not kept; a plan with problems
    is, as ``failed`` with every problem located, so the page can show them."""
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
    try:
        result = run_plan(path=row.file.path, display_name=row.name, by=by, publish=True, dry_run=True, **_options(row))
    except FileProblems as exc:
        row.status, row.result = PlanUploadStatus.FAILED, result_json(problems=exc.problems)
    else:
        row.status, row.result = PlanUploadStatus.PREVIEWED, result_json(result)
    PlanUpload.objects.filter(pk=row.pk).update(status=row.status, result=row.result)
    return row


def _sha256(upload: PlanUpload) -> str:
    digest = hashlib.sha256()
    with upload.file.open("rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def confirm_plan(*, upload: PlanUpload, by: User, publish: bool) -> PlanImportResult:
    """Import the previewed file for real (and publish a draft if asked), in one transaction with the
    upload's row locked: an upload already imported, or whose preview failed, is refused."""
    problems = None
    with transaction.atomic():
        row = PlanUpload.objects.select_for_update(of=("self",)).select_related("campaign", "owner").get(pk=upload.pk)
        _may_manage(by, row.owner)
        if row.status == PlanUploadStatus.IMPORTED:
            raise Refused(
                f"方案“{row.name}”已于 {timezone.localtime(row.imported_at):%Y-%m-%d %H:%M} 导入，不能重复导入"
            )
        if row.status != PlanUploadStatus.PREVIEWED:
            raise Refused(f"方案“{row.name}”预览有错误，未导入：请改正后重新上传")
        if _sha256(row) != row.sha256:
            raise Refused(f"方案“{row.name}”的文件已损坏，未导入：请重新上传")
        try:
            result = run_plan(
                path=row.file.path, display_name=row.name, by=by, publish=publish, dry_run=False, **_options(row)
            )
        except FileProblems as exc:  # something changed since the preview (a unit renamed …): kept as failed
            problems = exc
            row.status, row.result = PlanUploadStatus.FAILED, result_json(problems=exc.problems)
        else:
            row.status, row.result = PlanUploadStatus.IMPORTED, result_json(result)
            row.campaign = Campaign.objects.get(code=result.campaign)
            row.imported_at = timezone.now()
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
        row.save(update_fields=["status", "result", "campaign", "imported_at"])
    if problems is not None:
        raise problems
    return result
