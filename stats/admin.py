"""HQ keeps each campaign's statistics catalogue here: indicators (HQ can add its own) and rounds."""

from django.contrib import admin

from accounts import scope
from tasks.models import Campaign
from utilities.adminkit import AuditedAdminMixin, ScopedAdminMixin

from .models import Indicator, Round


class CatalogueAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Rows of the campaigns the user's HQ runs; a new one only for such a campaign."""

    scope_action = scope.Action.MANAGE
    list_filter = [("campaign", admin.RelatedOnlyFieldListFilter)]  # not every campaign: the rows' own

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "campaign":
            kwargs["queryset"] = Campaign.objects.visible_to(request.user, scope.Action.MANAGE)
        if db_field.name in ("numerator", "denominator"):  # a rate's parts: indicators of HQ's campaigns
            kwargs["queryset"] = Indicator.objects.visible_to(request.user, scope.Action.MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Indicator)
class IndicatorAdmin(CatalogueAdmin):
    kept_while = ("figures",)  # reported results are never deleted with their line
    list_display = ["name", "measure", "kind", "code", "campaign", "seq", "is_active"]
    list_editable = ["seq", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Round)
class RoundAdmin(CatalogueAdmin):
    list_display = ["name", "start", "end", "campaign"]
