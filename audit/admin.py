from django.contrib import admin

from ops.adminkit import ScopedAdminMixin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: the trail is written by the services, never edited."""

    list_display = ["at", "actor", "verb", "object_repr", "unit", "source"]
    list_filter = ["verb", "content_type"]
    search_fields = ["object_repr", "actor__username", "actor__name", "source"]
    date_hierarchy = "at"
    list_select_related = ["actor", "unit"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
