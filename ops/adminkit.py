"""What every admin page shares: rows scoped by ``accounts.scope`` and edits kept in the audit trail."""

from django.db import transaction

from accounts import scope
from accounts.models import Unit
from audit import services as audit


class ScopedAdminMixin:
    """Admin lists show only what ``accounts.scope`` lets the signed-in user see."""

    scope_via = "unit"
    scope_action = scope.Action.VIEW

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


class AuditedAdminMixin:
    """Saves from the admin are recorded like any other change: who, when, before → after."""

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
