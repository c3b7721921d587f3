"""A campaign's reminder rules (``Policy``), kept by HQ over the campaign's owner (page
``web:notifications-policy``, ``GET/PUT /api/v1/campaigns/{id}/reminder-policy/``).

The rules in force are the campaign's own, else the default (the one with no campaign, kept in the admin),
else the model's defaults. ``save_policy`` writes the campaign's own, starting from those in force;
``reset_policy`` deletes them, so the default applies again. Both audited before → after on the campaign.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts import scope
from accounts.models import User
from accounts.scope import Action
from audit import services as audit
from tasks.models import Campaign
from tasks.services.errors import refuse_closed
from utilities.errors import Forbidden, Refused

from .models import Audience, Policy

FIELDS = ("before_days", "on_the_day", "ladder", "behind_weekday", "receipt_hours", "quiet_start", "quiet_end")
# who the sweep can remind at a rung of the ladder (``sweep.RECIPIENTS``; the inspector is a hotspot's own)
LADDER_AUDIENCES = (Audience.LEAD, Audience.LEADER, Audience.SUPERIOR, Audience.HQ)
MAX_DAYS = 365  # a day before or overdue: within a year
MAX_RUNGS = 10
MAX_RECEIPT_HOURS = 999
MANAGE_ONLY = "只有行动牵头的领导小组办公室可以设置提醒规则"


class PolicyRefused(Refused):
    """Rules that do not hold: every problem by its field (``problems``: field → words)."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("提醒规则有误：" + "；".join(problems.values()))

    def payload(self) -> dict[str, Any]:
        return {"detail": str(self), "problems": self.problems}


def in_force(campaign: Campaign) -> tuple[Policy, bool]:
    """The rules the sweep applies to ``campaign`` and whether they are its own (else the default's)."""
    rules = {p.campaign_id: p for p in Policy.objects.filter(Q(campaign=campaign) | Q(campaign=None))}
    own = rules.get(campaign.pk)
    return (own, True) if own else (rules.get(None) or Policy(), False)


def values_of(policy: Policy) -> dict[str, Any]:
    """The rules as JSON values (times "22:00"), as the audit trail and the API keep them."""
    out = {name: getattr(policy, name) for name in FIELDS}
    for name in ("quiet_start", "quiet_end"):
        out[name] = out[name].strftime("%H:%M")
    out["ladder"] = [{"day": int(r["day"]), "audience": str(r["audience"])} for r in out["ladder"]]
    return out


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def problems_of(fields: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the rules given (only the fields given), by field, in the office's words."""
    out: dict[str, str] = {}
    if "before_days" in fields:
        days = fields["before_days"]
        if not isinstance(days, list | tuple) or any(_int(d) is None or not 1 <= d <= MAX_DAYS for d in days):
            out["before_days"] = f"提前提醒天数须为1至{MAX_DAYS}之间的整数"
        elif len(set(days)) != len(days):
            out["before_days"] = "提前提醒天数有重复"
    if "on_the_day" in fields and not isinstance(fields["on_the_day"], bool):
        out["on_the_day"] = "到期当日提醒须为是或否"
    if "ladder" in fields:
        ladder = fields["ladder"]
        if not isinstance(ladder, list | tuple) or len(ladder) > MAX_RUNGS:
            out["ladder"] = f"逾期升级提醒最多{MAX_RUNGS}级"
        else:
            for i, rung in enumerate(ladder, start=1):
                day = rung.get("day") if isinstance(rung, dict) else None
                audience = rung.get("audience") if isinstance(rung, dict) else None
                if _int(day) is None or not 1 <= day <= MAX_DAYS:
                    out["ladder"] = f"第{i}级：逾期天数须为1至{MAX_DAYS}之间的整数"
                elif audience not in LADDER_AUDIENCES:
                    out["ladder"] = f"第{i}级：请选择提醒对象"
                elif sum(1 for r in ladder if r == rung) > 1:
                    out["ladder"] = f"第{i}级：与其他级重复"
                if "ladder" in out:
                    break
    if "behind_weekday" in fields and (
        _int(fields["behind_weekday"]) is None or not 0 <= fields["behind_weekday"] <= 7
    ):
        out["behind_weekday"] = "进度滞后提醒日须为星期一至星期日，或不提醒"
    if "receipt_hours" in fields and (
        _int(fields["receipt_hours"]) is None or not 0 <= fields["receipt_hours"] <= MAX_RECEIPT_HOURS
    ):
        out["receipt_hours"] = f"签收时限须为0至{MAX_RECEIPT_HOURS}之间的工作小时数"
    for name, words in (("quiet_start", "免打扰开始时间"), ("quiet_end", "免打扰结束时间")):
        if name in fields and not isinstance(fields[name], time):
            out[name] = f"{words}须为时:分"
    start, end = fields.get("quiet_start"), fields.get("quiet_end")
    if "quiet_start" not in out and "quiet_end" not in out and start is not None and start == end:
        out["quiet_end"] = "免打扰开始与结束时间不能相同"
    return out


def rules_for(*, campaign: Campaign, by: User) -> dict[str, Any]:
    """What HQ over the campaign's owner reads: the rules in force as ``values_of``, and ``own``."""
    if not scope.can(by, Action.MANAGE, campaign.owner):
        raise Forbidden(MANAGE_ONLY)
    rules, own = in_force(campaign)
    return {**values_of(rules), "own": own}


def _check(campaign: Campaign, by: User) -> Campaign:
    locked = Campaign.objects.select_for_update().select_related("owner").get(pk=campaign.pk)
    refuse_closed(locked)
    if not scope.can(by, Action.MANAGE, locked.owner):
        raise Forbidden(MANAGE_ONLY)
    return locked


@transaction.atomic
def save_policy(*, campaign: Campaign, by: User, **fields) -> Policy:
    """The campaign's own rules: those in force (its own, else the default's) with ``fields`` changed.
    HQ over the campaign's owner; not on a closed campaign; every problem at once (``PolicyRefused``)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise PolicyRefused({name: f"未知的规则项“{name}”" for name in unknown})
    locked = _check(campaign, by)
    problems = problems_of(fields)
    if problems:
        raise PolicyRefused(problems)
    current, own = in_force(locked)
    before = values_of(current)
    policy = current if own else Policy(campaign=locked, **{name: getattr(current, name) for name in FIELDS})
    for name, value in fields.items():
        setattr(policy, name, list(value) if name in ("before_days", "ladder") else value)
    policy.before_days = sorted(set(policy.before_days), reverse=True)
    policy.ladder = sorted(
        ({"day": r["day"], "audience": str(r["audience"])} for r in policy.ladder),
        key=lambda r: (r["day"], LADDER_AUDIENCES.index(r["audience"])),
    )
    policy.save()
    after = values_of(policy)
    changes: dict[str, Any] = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
    if not own:
        changes["own"] = [False, True]
    if changes:
        audit.record([audit.event(locked, "campaign.reminder_policy", actor=by, unit=locked.owner, changes=changes)])
    return policy


@transaction.atomic
def reset_policy(*, campaign: Campaign, by: User) -> bool:
    """Back to the default: the campaign's own rules deleted (audited with what they were). False when it
    had none."""
    locked = _check(campaign, by)
    own = Policy.objects.filter(campaign=locked).first()
    if own is None:
        return False
    before = values_of(own)
    own.delete()
    after = values_of(in_force(locked)[0])
    changes: dict[str, Any] = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
    changes["own"] = [True, False]
    audit.record([audit.event(locked, "campaign.reminder_policy_reset", actor=by, unit=locked.owner, changes=changes)])
    return True
