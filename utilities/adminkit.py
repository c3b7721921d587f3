"""What every admin page shares: rows scoped by ``accounts.scope`` and edits kept in the audit trail."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import scope
from accounts.models import Unit
from audit import services as audit


class ManagedChoicesMixin:
    """Forms offer only the units and people the user is HQ over: a unit above or beside its own is
    not a choice (otherwise HQ over a sub-bureau could grant itself a role over the city, or file a
    campaign under it, by posting that unit's id)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from accounts.models import User  # the app registry is ready when a form is built

        if db_field.related_model is Unit:
            kwargs["queryset"] = scope.units(request.user, scope.Action.MANAGE)
        elif db_field.related_model is User:
            kwargs["queryset"] = scope.restrict(User.objects.all(), request.user, scope.Action.MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ManagedWritesMixin(ManagedChoicesMixin):
    """Changing or deleting a row from the admin needs HQ over the row's unit (reached through the
    model's ``scope_via``, or ``write_via`` when set), whatever the row's visibility: a row seen from
    below (the city's campaign, seen by HQ over a sub-bureau) opens read-only."""

    write_via: str | None = None  # None: the model's own path to its unit

    def _manages(self, request, obj) -> bool:
        rows = type(obj)._default_manager.filter(pk=obj.pk)
        return scope.restrict(rows, request.user, scope.Action.MANAGE, via=self.write_via).exists()

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._manages(request, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._manages(request, obj))


class ScopedAdminMixin(ManagedWritesMixin):
    """Admin lists show only what ``accounts.scope`` lets the signed-in user see, through the model's
    ``scope_via`` unless the admin's ``scope_via`` names another path; writes need HQ over the row
    (``ManagedWritesMixin``, through the same path)."""

    scope_via: str | None = None  # None: the model's own path to its unit
    scope_action = scope.Action.VIEW

    @property
    def write_via(self) -> str | None:
        return self.scope_via

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return scope.restrict(qs, request.user, self.scope_action, via=self.scope_via)


def _unit_of(obj) -> Unit | None:
    if isinstance(obj, Unit):
        return obj
    if unit := getattr(obj, "unit", None):
        return unit
    campaign = getattr(obj, "campaign", None)
    return campaign.owner if campaign is not None else getattr(obj, "owner", None)


class AuditedDeletesMixin:
    """Deletes from the admin leave a trail, one event per object in the deleting transaction, and
    spare what the domain keeps: while an object has rows in one of ``kept_while`` (related names: a
    campaign's assignments, an indicator's figures) no one deletes it here, not even a superuser."""

    kept_while: tuple[str, ...] = ()

    def audit_unit(self, obj) -> Unit | None:
        return _unit_of(obj)

    def _kept(self, obj) -> bool:
        return any(getattr(obj, name).exists() for name in self.kept_while)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or not self._kept(obj))

    def _deleted(self, request, obj):
        return audit.event(
            obj, f"{obj._meta.model_name}.deleted", actor=request.user, unit=self.audit_unit(obj), source="admin"
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record([self._deleted(request, obj)])  # before the row goes: the event needs its id
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """The bulk "delete selected" action: the same rule and trail as one by one."""
        with transaction.atomic():
            rows = list(queryset)
            if any(self._kept(obj) for obj in rows):
                raise PermissionDenied
            audit.record([self._deleted(request, obj) for obj in rows])
            super().delete_queryset(request, queryset)


class AuditedAdminMixin(AuditedDeletesMixin):
    """Saves and deletes from the admin are recorded like any other change: who, when, before → after."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = {name: form.initial.get(name) for name in form.changed_data}
            super().save_model(request, obj, form, change)
            after = {name: form.cleaned_data.get(name) for name in form.changed_data}
            changes = audit.diff(before, after) if change else after
            if changes:
                verb = f"{obj._meta.model_name}.{'updated' if change else 'created'}"
                audit.record(
                    [audit.event(obj, verb, actor=request.user, changes=changes, unit=_unit_of(obj), source="admin")]
                )


class ReadOnlyAdminMixin:
    """Rows the domain keeps and changes only through its services (a document's distribution, a 约谈 and
    its commitments, a directive): shown in the admin for reading, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
