"""Directives (督办事项) in the admin, for reading (a superuser's, unless a role is given their view
permission): registered, handed down, reviewed, closed and rated only through ``directives.services``,
their units' work being assignments, so nothing is added, changed or deleted here."""

from django.contrib import admin

from utilities.adminkit import ReadOnlyAdminMixin

from .models import Directive


@admin.register(Directive)
class DirectiveAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "source", "status", "level", "is_case", "leader_name", "rating", "created_at"]
    list_filter = ["status", "source", "level", "is_case", "rating"]
    search_fields = ["item__code", "item__title", "case_no", "instructed_by", "leader_name"]
    list_select_related = ["item"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # the directives' own scope (``DirectiveQuerySet.visible_to``): over the campaign's owner, or through
        # work the user sees — a secret one only from the named unit itself or HQ over the owner
        return super().get_queryset(request).visible_to(request.user)
