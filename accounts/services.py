"""Writes on people and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit import services as audit

from . import scope
from .models import Role, RoleGrant, Unit, User

# Django-admin permissions that go with each role; what a user may *see* is still decided by scope.
ADMIN_GROUPS: dict[str, tuple[str, list[str]]] = {
    Role.HQ: ("总部办公室", ["view", "add", "change"]),
    Role.UNIT_LEAD: ("单位负责人", ["view"]),
    Role.INSPECTOR: ("督导检查", ["view"]),
    Role.LEADER: ("领导", ["view"]),
}
ADMIN_MODELS = {
    "accounts": ["unit", "user", "rolegrant"],
    "tasks": ["campaign", "action", "item", "assignment", "responsibility"],
    "audit": ["auditevent"],
    "stats": ["indicator", "round"],
}


def ensure_group(role: str) -> Group:
    """The admin group of a role, created with its permissions the first time it is needed."""
    name, verbs = ADMIN_GROUPS[role]
    group, created = Group.objects.get_or_create(name=name)
    if created or not group.permissions.filter(content_type__app_label="stats").exists():  # new apps' models too
        codenames = [f"{verb}_{model}" for models in ADMIN_MODELS.values() for model in models for verb in verbs]
        group.permissions.set(
            Permission.objects.filter(codename__in=codenames, content_type__app_label__in=ADMIN_MODELS)
        )
    return group


@transaction.atomic
def grant_role(*, user: User, role: str, unit: Unit, by: User | None = None, source: str = "") -> RoleGrant:
    """Give ``user`` ``role`` over ``unit``'s subtree (idempotent) and the admin access that goes with it."""
    grant, created = RoleGrant.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        user.groups.add(ensure_group(role))
        if not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
        audit.record(
            [
                audit.event(
                    user, "role.granted", actor=by, unit=unit, source=source, changes={"role": role, "unit": unit.code}
                )
            ]
        )
        scope.forget(user)
    return grant
