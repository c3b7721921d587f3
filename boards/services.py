"""HQ's settings for its boards: the ranking's weights, audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import scope
from audit import services as audit
from ops.errors import Refused
from tasks.models import Campaign

from .models import Weights


def weights_save(*, campaign: Campaign, by, values: dict[str, int]) -> Weights:
    """Set the ranking weights (0–100 each, not all 0) and how many laggards the bulletin names."""
    if not scope.can(by, scope.Action.MANAGE, campaign.owner):
        raise PermissionDenied("只有行动牵头的领导小组办公室可以设置排名权重")
    fields = [*Weights.MEASURES, "laggards"]
    if any(not 0 <= int(values[f]) <= 100 for f in fields):
        raise Refused("权重应为0至100的整数")
    if not any(int(values[m]) for m in Weights.MEASURES):
        raise Refused("权重不能全部为0")
    with transaction.atomic():
        weights, _ = Weights.objects.select_for_update().get_or_create(campaign=campaign)
        before = {f: getattr(weights, f) for f in fields}
        for f in fields:
            setattr(weights, f, int(values[f]))
        weights.updated_by = by
        weights.save()
        changes = audit.diff(before, {f: getattr(weights, f) for f in fields})
        if changes:
            audit.record([audit.event(weights, "ranking.weights", actor=by, changes=changes, unit=campaign.owner)])
    return weights
