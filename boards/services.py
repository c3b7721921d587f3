"""The boards' writes: HQ's settings (the ranking's weights), and a user's request for an export, audited.

The request queues the export's job, so this module imports ``boards.jobs``, which imports
``boards.exports`` (the kinds and the job's work): the dependency runs one way.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from accounts import scope
from accounts.models import User
from audit import services as audit
from tasks.models import Campaign
from utilities.errors import Forbidden, Refused

from . import jobs
from .exports import KINDS, MAX_PENDING, ExportError, exports_of
from .models import Export, ExportStatus, Weights


def save_weights(*, campaign: Campaign, by: User, values: dict[str, int]) -> Weights:
    """Set the ranking weights (0–100 each, not all 0) and how many laggards the bulletin names; a weight
    not given (None or absent) keeps its value."""
    if not scope.can(by, scope.Action.MANAGE, campaign.owner):
        raise Forbidden("只有行动牵头的领导小组办公室可以设置排名权重")
    fields = [*Weights.MEASURES, "laggards"]
    given = {f: values[f] for f in fields if values.get(f) is not None}
    if any(not 0 <= int(v) <= 100 for v in given.values()):
        raise Refused("权重应为0至100的整数")
    with transaction.atomic():
        weights, _ = Weights.objects.select_for_update().get_or_create(campaign=campaign)
        if not any(int(given.get(m, getattr(weights, m))) for m in Weights.MEASURES):
            raise Refused("权重不能全部为0")
        before = {f: getattr(weights, f) for f in fields}
        for f, v in given.items():
            setattr(weights, f, int(v))
        weights.updated_by = by
        weights.save()
        changes = audit.diff(before, {f: getattr(weights, f) for f in fields})
        if changes:
            audit.record([audit.event(weights, "ranking.weights", actor=by, changes=changes, unit=campaign.owner)])
    return weights


def request_export(*, by: User, kind: str, params: dict | None = None) -> Export:
    """Queue an export of ``kind`` for ``by`` (whose export it is, and who may download it): the
    parameters are checked now, against ``by``'s scope (a campaign or unit out of it: ``Http404``;
    malformed: ``ExportError``), and the job is queued when the transaction commits."""
    found = KINDS.get(kind)
    if found is None:
        raise ExportError(f"没有这种导出：{str(kind)[:40]}")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ExportError("导出参数应为键值对象")
    kept = found.validate(by, params) if found.validate else {}
    with transaction.atomic():
        if exports_of(by).filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).count() >= MAX_PENDING:
            raise ExportError(f"您已有{MAX_PENDING}个导出正在生成，请等其完成后再导出")
        export = Export.objects.create(user=by, kind=kind, params=kept)
        audit.record(
            [
                audit.event(
                    export,
                    "export.requested",
                    actor=by,
                    unit=getattr(by, "unit", None),
                    changes={"kind": kind, "params": kept},
                )
            ]
        )
        transaction.on_commit(partial(jobs.run_export.delay, export.pk))
    return export
