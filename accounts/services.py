"""Writes on people and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

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


# HQ also reads the security events and django-axes' sign-in locks, and lifts a lock by deleting it.
EXTRA_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.HQ: [("audit", "view_securityevent"), ("axes", "view_accessattempt"), ("axes", "delete_accessattempt")],
}


def ensure_group(role: str) -> Group:
    """The admin group of a role, with exactly its permissions (kept in step when models are added)."""
    name, verbs = ADMIN_GROUPS[role]
    group, _ = Group.objects.get_or_create(name=name)
    codenames = [f"{verb}_{model}" for models in ADMIN_MODELS.values() for model in models for verb in verbs]
    wanted = Q(codename__in=codenames, content_type__app_label__in=ADMIN_MODELS)
    for app, codename in EXTRA_PERMISSIONS.get(role, []):
        wanted |= Q(codename=codename, content_type__app_label=app)
    expected = set(Permission.objects.filter(wanted).values_list("pk", flat=True))
    if set(group.permissions.values_list("pk", flat=True)) != expected:
        group.permissions.set(expected)
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


@transaction.atomic
def revoke_role(*, grant: RoleGrant, by: User | None = None, source: str = "") -> None:
    """Take a role grant away; the role's admin group goes too when the user holds that role nowhere else."""
    user, role, unit = grant.user, grant.role, grant.unit
    RoleGrant.objects.filter(pk=grant.pk).delete()
    if not RoleGrant.objects.filter(user=user, role=role).exists():
        user.groups.remove(ensure_group(role))
    audit.record(
        [
            audit.event(
                user, "role.revoked", actor=by, unit=unit, source=source, changes={"role": role, "unit": unit.code}
            )
        ]
    )
    scope.forget(user)
