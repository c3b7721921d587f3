"""Writes on people and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from rest_framework.authtoken.models import Token

from audit import services as audit

from . import scope, tokens
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
    "tasks": ["campaign", "lineofaction", "item", "assignment", "responsibility"],
    "audit": ["auditevent"],
    "stats": ["indicator", "round"],
}


# HQ also reads the security events and django-axes' sign-in locks, and lifts a lock by deleting it.
EXTRA_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.HQ: [("audit", "view_securityevent"), ("axes", "view_accessattempt"), ("axes", "delete_accessattempt")],
}


def ensure_group(*, role: str) -> Group:
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
        user.groups.add(ensure_group(role=role))
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
        user.groups.remove(ensure_group(role=role))
    audit.record(
        [
            audit.event(
                user, "role.revoked", actor=by, unit=unit, source=source, changes={"role": role, "unit": unit.code}
            )
        ]
    )
    scope.forget(user)


# --- API tokens and passwords -----------------------------------------------------------------------


def issue_token(*, user: User) -> Token:
    """The user's live API token: the one it holds, or a new one when it has none or it has expired."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and not tokens.is_expired(token):
            return token
        if token is not None:
            token.delete()
        return Token.objects.create(user=user)


def revoke_tokens(*, user: User, by: User | None, reason: str, source: str = "") -> int:
    """End the user's API tokens now, each recorded (``reason``: password_changed, deactivated,
    revoked_by_owner, admin). Returns how many there were."""
    with transaction.atomic():
        held = list(Token.objects.select_for_update().filter(user=user))
        if not held:
            return 0
        Token.objects.filter(pk__in=[t.pk for t in held]).delete()
        audit.record(
            audit.event(
                user,
                "token.revoked",
                actor=by,
                unit=user.unit,
                source=source,
                changes={"reason": reason, "created": t.created, "expires": tokens.expires(t)},
            )
            for t in held
        )
    return len(held)


@transaction.atomic
def change_password(*, user: User, password: str | None, by: User | None, source: str = "") -> User:
    """Set the user's password (``None``: no password sign-in at all); its API tokens end with the old one."""
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    password_changed(user=user, by=by, source=source)
    return user


def password_changed(*, user: User, by: User | None, source: str = "") -> None:
    """What follows every change of a password, wherever it was set (here, or by Django's
    ``changepassword`` command): the audit event, and the API tokens end with the old password."""
    audit.record([audit.event(user, "user.password_changed", actor=by, unit=user.unit, source=source)])
    revoke_tokens(user=user, by=by, reason="password_changed", source=source)
