"""HQ's view of the reminders: what was sent to whom and when, what failed, what is queued; the
rules and the message texts, editable (and audited)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from utilities.adminkit import AuditedAdminMixin, ScopedAdminMixin

from . import delivery
from .models import DeliveryAttempt, Message, MessageTemplate, Policy, Preference, Reminder


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "ok", "detail", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_via = "reminder__unit"
    list_display = [
        "id",
        "recipient",
        "channel",
        "status",
        "attempts",
        "not_before",
        "sent_at",
        "read_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "reminder__kind", "reminder__colour"]
    search_fields = ["recipient__username", "recipient__name", "reminder__unit__name"]
    list_select_related = ["recipient", "reminder"]
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_dead"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the delivery history: kept, like the audit trail

    @admin.action(description=_("Retry the selected dead letters"))
    def retry_dead(self, request, queryset):
        n = delivery.retry(queryset)
        self.message_user(request, _("%(n)d message(s) queued again.") % {"n": n}, messages.SUCCESS)


@admin.register(Reminder)
class ReminderAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "colour",
        "unit",
        "subject_id",
        "due_date",
        "occurrence",
        "recipient",
        "audience",
        "created_at",
    ]
    list_filter = ["kind", "colour", "audience"]
    search_fields = ["unit__name", "recipient__username", "recipient__name", "occurrence"]
    list_select_related = ["unit", "recipient"]
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a reminder is the key that keeps it from being sent twice: deleting it would resend


@admin.register(Policy)
class PolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "before_days", "on_the_day", "ladder", "receipt_hours", "quiet_start", "quiet_end"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "audience", "subject"]
    list_filter = ["kind", "audience"]


@admin.register(Preference)
class PreferenceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "email", "webhook"]
    search_fields = ["user__username", "user__name"]
