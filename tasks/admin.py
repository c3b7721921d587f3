from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from accounts import scope
from utilities.adminkit import AuditedAdminMixin, ManagedWritesMixin, ScopedAdminMixin
from utilities.errors import Refused
from utilities.paging import BoundedPaginator

from .models import (
    Assignment,
    Campaign,
    CampaignStatus,
    Comment,
    Evidence,
    Item,
    LineOfAction,
    ProgressReport,
    Responsibility,
)
from .queries import campaigns_for
from .services.items import EDITABLE, update_item
from .services.plans import publish_campaign


class LineOfActionInline(admin.TabularInline):
    model = LineOfAction
    extra = 0
    fields = ["code", "name", "leader_name", "leader"]
    raw_id_fields = ["leader"]


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent for reading; they change through imports and services."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class ItemInline(ReadOnlyInline):
    model = Item
    fields = ["code", "action", "title", "target_text", "lead_text", "deadline_text", "is_active"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).in_plan()  # the checklist: not the directives' items


@admin.register(Campaign)
class CampaignAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    kept_while = ("assignments",)  # a draft may go; published work is never deleted
    list_display = ["name", "code", "owner", "start", "end", "status", "item_count", "assignment_count"]
    list_filter = ["status", "start"]
    search_fields = ["name", "code", "owner__name"]
    autocomplete_fields = ["owner"]
    readonly_fields = [
        "status",
        "published_at",
        "closed_at",
        "closed_by",
        "final_summary",
        "created_by",
        "created_at",
        "updated_at",
        "source_name",
    ]
    inlines = [LineOfActionInline, ItemInline]
    actions = ["publish"]

    def get_queryset(self, request):
        # seen from below the owner too (a station sees its city's campaign), changed only by HQ over the
        # owner: ``Campaign.scope_seen_from_below``
        qs = super().get_queryset(request).select_related("owner")
        return qs.annotate(
            n_items=Count("items", filter=Q(items__is_active=True, items__kind="plan"), distinct=True),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "compare_to":  # last year's campaign: one of those the user sees
            kwargs["queryset"] = Campaign.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("items"), ordering="n_items")
    def item_count(self, obj):
        return obj.n_items

    @admin.display(description=_("assignments"))
    def assignment_count(self, obj):
        return obj.assignments.filter(is_active=True).count()

    @admin.action(description=_("Publish: create every unit's assignments"))
    def publish(self, request, queryset):
        for campaign in queryset.filter(status=CampaignStatus.DRAFT):
            try:  # the service checks the right (manage over the owner) and that it is still a draft
                result = publish_campaign(campaign=campaign, by=request.user, source="admin")
            except PermissionDenied:
                self.message_user(request, _("You may not publish %s.") % campaign, messages.ERROR)
                continue
            except Refused as exc:  # published meanwhile by someone else
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request, _("%(c)s published: %(n)d assignments.") % {"c": campaign, "n": result.created["assignments"]}
            )


class ResponsibilityInline(ReadOnlyInline):
    model = Responsibility
    fields = ["role", "scope", "unit", "unit_kind", "text"]


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["unit", "role", "due_date", "status", "is_active"]
    show_change_link = True

    def get_queryset(self, request):
        return scope.restrict(super().get_queryset(request).select_related("unit"), request.user)


class ItemAdminForm(forms.ModelForm):
    """The item's fields, and the confirmation ``update_item`` asks for before it withdraws work units
    have already reported (the item taken out of the plan)."""

    confirm = forms.BooleanField(label=_("Withdraw work already reported"), required=False)

    class Meta:
        model = Item
        fields = sorted(EDITABLE)


@admin.register(Item)
class ItemAdmin(AuditedAdminMixin, ManagedWritesMixin, admin.ModelAdmin):
    kept_while = ("assignments",)  # once published an item is withdrawn by the plan (is_active), not deleted
    list_display = [
        "code",
        "title",
        "action",
        "campaign",
        "target_text",
        "lead_text",
        "deadline_text",
        "due_date",
        "is_active",
    ]
    list_display_links = ["code", "title"]
    # only the campaigns and lines of action of the rows shown: a plain filter would list them all
    list_filter = [
        ("campaign", admin.RelatedOnlyFieldListFilter),
        ("action", admin.RelatedOnlyFieldListFilter),
        "deadline_kind",
        "is_active",
    ]
    search_fields = ["code", "title", "measures", "lead_text", "cooperating_text", "leader_name"]
    list_select_related = ["action", "campaign"]
    raw_id_fields = ["leader"]
    readonly_fields = ["campaign", "source_location", "created_at", "updated_at"]
    inlines = [ResponsibilityInline, AssignmentInline]
    form = ItemAdminForm
    fieldsets = [
        (None, {"fields": ["campaign", "action", "code", "title", "measures", "acceptance", "is_active", "confirm"]}),
        (
            _("Target"),
            {
                "fields": [
                    "target_text",
                    "target_metric",
                    "target_comparator",
                    "target_value",
                    "target_unit",
                    "target_basis",
                    "target_direction",
                ]
            },
        ),
        (_("Responsibility"), {"fields": ["lead_text", "cooperating_text", "leader_name", "leader"]}),
        (
            _("Deadline"),
            {"fields": ["deadline_text", "deadline_kind", "due_date", "cadence_weekday", "cadence_day", "milestones"]},
        ),
        (_("Source"), {"fields": ["source_location", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # seen from below, as its campaign; the checklist's items only: a directive's item (督办事项) is seen
        # through its assignments' scope, on the directive's page (a secret one from its named units only)
        return super().get_queryset(request).in_plan().visible_to(request.user)

    def save_model(self, request, obj, form, change):
        """A change goes through ``update_item``: a new deadline moves the item's assignments too."""
        if not change:
            return super().save_model(request, obj, form, change)
        changes = {name: getattr(obj, name) for name in form.changed_data if name != "confirm"}
        confirm = form.cleaned_data.get("confirm", False)
        saved = update_item(item=obj, by=request.user, source="admin", confirm=confirm, **changes)
        obj.updated_at = saved.updated_at

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A change the service refuses (work already reported, a deadline out of the campaign) comes back
        as the admin's error message; its transaction has rolled back with the admin's own."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReportInline(ReadOnlyInline):
    model = ProgressReport
    fields = ["reported_at", "reported_by", "value", "text"]


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["uploaded_at", "uploaded_by", "name", "content_type", "size"]


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "text"]


class CampaignListFilter(admin.SimpleListFilter):
    """The campaigns the user sees (``campaigns_for``): Django's "related only" filter found them with a
    DISTINCT over every assignment in scope on every page."""

    title = _("campaign")
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        return [(c.pk, str(c)) for c in campaigns_for(request.user).order_by("-start", "id")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(campaign_id=value) if value and value.isdigit() else queryset


class ActionListFilter(admin.SimpleListFilter):
    """The lines of action of the campaigns the user sees (no DISTINCT over the assignments)."""

    title = _("line of action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = LineOfAction.objects.filter(campaign__in=campaigns_for(request.user)).select_related("campaign")
        return [(a.pk, str(a)) for a in actions.order_by("campaign_id", "id")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(item__action_id=value) if value and value.isdigit() else queryset


@admin.register(Assignment)
class AssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    inlines = [ReportInline, EvidenceInline, CommentInline]
    list_display = ["item", "unit", "role", "due_date", "status", "progress", "is_active", "updated_at"]
    list_filter = [
        CampaignListFilter,
        "status",
        "role",
        "is_active",
        ActionListFilter,
        "unit__kind",
        # the date drill-down (date_hierarchy) read the years, months and days with DISTINCT and
        # MIN/MAX over every assignment; these ranges cost nothing to offer
        ("due_date", admin.DateFieldListFilter),
    ]
    # exact up to 10,000 rows, else the estimate ("约 114,000"): no COUNT(*) over the province per page
    paginator = BoundedPaginator
    search_fields = ["item__code", "item__title", "unit__name", "unit__code"]
    list_select_related = ["item", "unit"]
    raw_id_fields = ["item", "unit"]
    readonly_fields = ["campaign", "item", "unit", "role", "is_active", "created_at", "updated_at"]
    show_full_result_count = False

    # Status and progress change only through the workflow services, which keep the history.
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
