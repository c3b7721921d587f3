"""Who checks (核稿) and signs (签发) a kind of document of a campaign (issue 22.2): the ``SignOffRule``
rows, listed by whoever sees the campaign, added and removed by HQ over the campaign's owner, each change
audited (``document.rule_added``, ``document.rule_removed``). A rule names a user or a role held over the
document's issuing unit; a step with rules replaces the default (HQ checks, a leader signs)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from accounts import scope
from accounts.models import Role, User
from accounts.scope import Action
from audit import services as audit
from tasks.models import Campaign
from tasks.queries import campaigns_for
from utilities.errors import Forbidden, Refused

from .models import DocumentKind, SignOffRule, SignOffStep


class RuleError(Refused):
    """A rule the office cannot add (names no one, or two; a duplicate; an unknown kind or step)."""


def rules_for(user, campaign: Campaign | None = None) -> QuerySet[SignOffRule]:
    """The rules of the campaigns ``user`` sees (from inside and below the owner)."""
    qs = SignOffRule.objects.filter(campaign__in=campaigns_for(user)).select_related("campaign", "user")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.order_by("campaign_id", "kind", "step", "id")


def may_edit(user, campaign: Campaign) -> bool:
    return scope.can(user, Action.MANAGE, campaign.owner)


def _refuse(user, campaign: Campaign) -> None:
    if not may_edit(user, campaign):
        raise Forbidden(f"只有{campaign.owner.name}的指挥部可以设定核稿、签发人")


def describe(rule: SignOffRule) -> dict:
    return {
        "campaign": rule.campaign_id,
        "kind": rule.kind,
        "step": rule.step,
        "user": rule.user.username if rule.user_id else None,
        "role": rule.role,
    }


def add_rule(
    *, by: User, campaign: Campaign, kind: str, step: str, user: User | None = None, role: str = ""
) -> SignOffRule:
    """A rule: ``user`` (a person, active) or ``role`` (held over the issuing unit) checks or signs
    ``kind`` documents of ``campaign``."""
    _refuse(by, campaign)
    if kind not in DocumentKind.values or step not in SignOffStep.values:
        raise RuleError("请选择文种和环节（核稿或签发）")
    if bool(user) == bool(role):
        raise RuleError("请指定一名人员或一种角色（二者选一）")
    if role and role not in Role.values:
        raise RuleError("没有这种角色")
    if user is not None and not user.is_active:
        raise RuleError(f"{user.name or user.username}的账号已停用")
    with transaction.atomic():
        same = SignOffRule.objects.select_for_update().filter(campaign=campaign, kind=kind, step=step)
        if same.filter(user=user, role=role).exists():
            raise RuleError("该规则已存在")
        rule = SignOffRule.objects.create(campaign=campaign, kind=kind, step=step, user=user, role=role)
        audit.record([audit.event(rule, "document.rule_added", actor=by, unit=campaign.owner, changes=describe(rule))])
    return rule


def remove_rule(*, by: User, rule: SignOffRule) -> None:
    _refuse(by, rule.campaign)
    with transaction.atomic():
        audit.record(
            [audit.event(rule, "document.rule_removed", actor=by, unit=rule.campaign.owner, changes=describe(rule))]
        )
        rule.delete()
