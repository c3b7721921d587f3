"""HQ's view of the reminders: what was sent to whom and when, what failed, what is queued; the
rules and the message texts, editable (and audited)."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from audit import services as audit
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
    # the message's own unit: what a reminder or an event is about, a digest's recipient's unit
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
    list_filter = ["status", "channel", "reminder__kind", "reminder__colour", "event__kind"]
    search_fields = ["recipient__username", "recipient__name", "unit__name"]
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


# --- the beat's schedule: what runs when (the reminder sweep, delivery, digests, purges) ----------------
# django-celery-beat's own admin, with every change in the audit trail like any other: saves and deletes
# through ``AuditedAdminMixin``, and its bulk actions one event per task, in the action's transaction.


def _audited_action(name: str, verb: str):
    inherited = getattr(beat_admin.PeriodicTaskAdmin, name)

    def action(self, request, queryset):
        with transaction.atomic():
            tasks = list(queryset)
            inherited(self, request, queryset)
            changed = {t.pk: t for t in PeriodicTask.objects.filter(pk__in=[t.pk for t in tasks])}
            audit.record(
                audit.event(
                    t,
                    verb,
                    actor=request.user,
                    changes={
                        "task": t.task,
                        "enabled": [t.enabled, changed[t.pk].enabled if t.pk in changed else None],
                    },
                    source="admin",
                )
                for t in tasks
            )

    action.__name__ = name
    action.short_description = inherited.short_description
    return action


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(AuditedAdminMixin, beat_admin.PeriodicTaskAdmin):
    enable_tasks = _audited_action("enable_tasks", "periodictask.enabled")
    disable_tasks = _audited_action("disable_tasks", "periodictask.disabled")
    toggle_tasks = _audited_action("toggle_tasks", "periodictask.toggled")
    run_tasks = _audited_action("run_tasks", "periodictask.run")


for _model, _base in (
    (CrontabSchedule, beat_admin.CrontabScheduleAdmin),
    (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    (ClockedSchedule, beat_admin.ClockedScheduleAdmin),
    (SolarSchedule, beat_admin.SolarScheduleAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, type(_base.__name__, (AuditedAdminMixin, _base), {}))
