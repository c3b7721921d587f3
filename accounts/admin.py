from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from ops.adminkit import AuditedAdminMixin, ScopedAdminMixin

from .models import RoleGrant, Unit, User


@admin.register(Unit)
class UnitAdmin(AuditedAdminMixin, ScopedAdminMixin, TreeAdmin):
    scope_via = ""
    form = movenodeform_factory(Unit, exclude=["path", "depth", "numchild"])
    list_display = ["name", "code", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "short_name"]


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, ScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "name", "unit", "title", "roles", "is_active", "last_login"]
    list_filter = ["grants__role", "is_active", "is_staff", "unit__kind"]
    search_fields = ["username", "name", "unit__name", "phone"]
    autocomplete_fields = ["unit"]
    inlines = [RoleGrantInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["name", "unit", "title", "phone", "email"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "name", "unit", "password1", "password2"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit").prefetch_related("grants__unit")

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return "；".join(f"{g.get_role_display()}@{g.unit.name}" for g in obj.grants.all())


@admin.register(RoleGrant)
class RoleGrantAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "unit", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__name", "unit__name"]
    autocomplete_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]
