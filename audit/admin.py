from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import Q

from accounts import scope
from accounts.models import Unit, User
from utilities.adminkit import AuditedDeletesMixin, ScopedAdminMixin

from .models import AuditEvent, SecurityEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    """Every change, who/when/what/from where: written by the services, never edited."""

    list_display = ["at", "actor", "verb", "object_repr", "unit", "source"]
    list_filter = ["verb", "content_type"]
    search_fields = ["object_repr", "actor__username", "actor__name", "source", "verb"]
    date_hierarchy = "at"
    list_select_related = ["actor", "unit"]


def _covers_the_tree(user) -> bool:
    """HQ over a root unit (or a superuser) also sees what no unit owns: user names that do not
    exist, anonymous refusals, locks on them."""
    s = scope.scope_for(user, scope.Action.MANAGE)
    return s.everything or any(len(p) == Unit.steplen for p in s.paths)


def _security_rows(qs, user, *, unit_field: str):
    s = scope.scope_for(user, scope.Action.MANAGE)
    if s.everything:
        return qs
    visible = Q(s.q(unit_field)) if s else Q(pk__in=[])
    if _covers_the_tree(user):
        visible |= Q(**{f"{unit_field}__isnull": True})
    return qs.filter(visible)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Sign-ins, failed and locked-out sign-ins, refused requests: searchable by HQ over the units of
    the people involved, never editable."""

    list_display = ["at", "kind", "username", "user", "unit", "address", "method", "path", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["username", "user__name", "address", "path"]
    date_hierarchy = "at"
    list_select_related = ["user", "unit"]

    def get_queryset(self, request):
        return _security_rows(super().get_queryset(request), request.user, unit_field="unit")


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockAdmin(AuditedDeletesMixin, AccessAttemptAdmin):
    """django-axes' failed-sign-in counters, scoped like the security events: HQ sees who is locked
    out and lifts a lock by deleting its row (删除), which the audit trail records."""

    def audit_unit(self, obj) -> Unit | None:
        """The unit of the person the lock held (none for a user name that does not exist)."""
        user = User.objects.filter(username=obj.username).select_related("unit").first()
        return user.unit if user else None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        s = scope.scope_for(user, scope.Action.MANAGE)
        if s.everything:
            return qs
        own = User.objects.filter(s.q("unit") if s else Q(pk__in=[])).values("username")
        visible = Q(username__in=own)
        if _covers_the_tree(user):
            visible |= ~Q(username__in=User.objects.values("username"))
        return qs.filter(visible)
