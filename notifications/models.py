"""Reminders (what was decided, once per key) and their messages (the outbox, one per channel).

See docs/reminders.md: a sweep inserts ``Reminder`` rows set-based, unique on (kind, subject,
occurrence, recipient); the same transaction adds one ``Message`` per channel; a drain delivers
messages and logs every ``DeliveryAttempt``.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit
from tasks.models import Campaign
from utilities.models import FastLoad


class Kind(models.TextChoices):
    DUE_SOON = "due_soon", _("Due soon")
    DUE_TODAY = "due_today", _("Due today")
    OVERDUE = "overdue", _("Overdue")
    BEHIND = "behind", _("Behind the planned pace")
    UNACKED = "unacked", _("Not acknowledged")


class Subject(models.TextChoices):
    """What a reminder is about (see ``sweep.sources``)."""

    ASSIGNMENT = "assignment", _("Checklist item deadline")
    CHECKIN = "checkin", _("Periodic check-in")
    FINDING = "finding", _("Rectification deadline")
    HOTSPOT = "hotspot", _("Hotspot inspection")
    ROUND = "round", _("Round statistics")
    UNACKED = "unacked", _("Assignment not acknowledged")
    NOTICE_UNACKED = "notice_unack", _("Rectification notice not acknowledged")
    LETTER_UNACKED = "letter_unack", _("Risk letter not acknowledged")
    DOC_UNACKED = "doc_unack", _("Document not acknowledged")
    EVENT = "event", _("Event (work reaches people)")


class Audience(models.TextChoices):
    LEAD = "lead", _("Unit lead")
    LEADER = "leader", _("Responsible leader")
    SUPERIOR = "superior", _("Superior unit")
    HQ = "hq", _("Headquarters")
    INSPECTOR = "inspector", _("Inspector")
    REVIEWER = "reviewer", _("Reviewer (HQ over the unit)")
    REQUESTER = "requester", _("Requester")


class Colour(models.TextChoices):
    """三色督办: blue when a deadline is near, yellow when behind or returned, red when overdue."""

    BLUE = "blue", _("Blue: deadline near")
    YELLOW = "yellow", _("Yellow: behind or returned")
    RED = "red", _("Red: overdue")


class Channel(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook (SMS gateway, messaging bot)")


def default_before() -> list[int]:
    return [3, 1]


def default_ladder() -> list[dict]:
    return [
        {"day": 1, "audience": Audience.LEAD},
        {"day": 3, "audience": Audience.LEADER},
        {"day": 3, "audience": Audience.SUPERIOR},
        {"day": 7, "audience": Audience.HQ},
    ]


class Policy(models.Model):
    """The reminder rules of a campaign (the one with no campaign is the default for all others)."""

    campaign = models.OneToOneField(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminder_policy",
        verbose_name=_("campaign"),
        help_text=_("Empty: the default for campaigns without their own rules"),
    )
    before_days = models.JSONField(
        _("days before the due date"), default=default_before, help_text=_("e.g. [3, 1]: three days and one day before")
    )
    on_the_day = models.BooleanField(_("remind on the due date"), default=True)
    ladder = models.JSONField(
        _("escalation ladder"),
        default=default_ladder,
        help_text=_('Days overdue from which each audience is reminded daily, e.g. {"day": 3, "audience": "superior"}'),
    )
    behind_weekday = models.PositiveSmallIntegerField(
        _("behind-pace reminder on"),
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(7)],
        help_text=_("Weekday of the weekly yellow reminder to units behind the planned pace (1 = Monday, 0 = never)"),
    )
    receipt_hours = models.PositiveSmallIntegerField(
        _("acknowledge within (working hours)"),
        default=7,
        validators=[MaxValueValidator(999)],
        help_text=_(
            "Work or a notice not acknowledged (签收) after this many working hours reminds the unit's leads; "
            "after twice as many, the superior unit's leads (7 = one working day, 0 = never)"
        ),
    )
    quiet_start = models.TimeField(_("quiet hours from"), default=time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=time(7, 30))

    class Meta:
        verbose_name = _("reminder rules")
        verbose_name_plural = _("reminder rules")
        constraints = [  # one default (no campaign); a campaign has at most one by its one-to-one key
            models.UniqueConstraint(
                models.functions.Coalesce("campaign", 0),
                name="one_default_policy",
                violation_error_message=_("There are already default rules."),
            )
        ]

    def __str__(self) -> str:
        return str(self.campaign) if self.campaign_id else str(_("Default rules"))


class Reminder(models.Model):
    """One decided reminder: about what (subject), to whom, for which occurrence. Never twice."""

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    subject_type = models.CharField(_("about"), max_length=12, choices=Subject.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    occurrence = models.CharField(_("occurrence"), max_length=40)
    # its keys are checked per statement on PostgreSQL (notifications/0016, ``utilities.statement_keys``)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("recipient"),
        db_constraint=False,
    )
    audience = models.CharField(_("as"), max_length=10, choices=Audience.choices)
    colour = models.CharField(_("colour"), max_length=6, choices=Colour.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("unit"), db_constraint=False
    )
    # none for a risk letter of no campaign (reminded under the default rules)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("campaign"),
        db_constraint=False,
    )
    due_date = models.DateField(_("due date"))
    batch = models.CharField(max_length=32, db_index=True, editable=False)
    created_at = models.DateTimeField(_("decided at"), default=timezone.now)
    digest = models.ForeignKey(
        "Digest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
        editable=False,
        verbose_name=_("in digest"),
        db_constraint=False,
    )

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id", "occurrence", "recipient"], name="reminder_once"
            )
        ]
        indexes = [models.Index(fields=["subject_type", "subject_id", "recipient"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}#{self.subject_id} {self.occurrence} → {self.recipient_id}"


class DigestKind(models.TextChoices):
    DAILY = "daily", _("Daily digest of reminders")
    WEEKLY = "weekly", _("Weekly summary of the scope")


class Digest(models.Model):
    """One message gathering many: a user's reminders of a day, or the weekly summary of a scope.
    Written once per (recipient, kind, period) with its words; delivered like any message."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    kind = models.CharField(_("kind"), max_length=8, choices=DigestKind.choices)
    period = models.CharField(_("period"), max_length=12, help_text=_("2026-07-16, or 2026-W29"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("unit"))
    colour = models.CharField(_("colour"), max_length=6, choices=Colour.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [models.UniqueConstraint(fields=["recipient", "kind", "period"], name="digest_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} → {self.recipient_id}"


class EventKind(models.TextChoices):
    """What happened to someone's work (docs/events.md): each tells the people concerned, once."""

    ASSIGNED = "assigned", _("Work assigned")
    RETURNED = "returned", _("Work returned")
    ACCEPTED = "accepted", _("Work accepted")
    REOPENED = "reopened", _("Work reopened")
    NOTICE = "notice", _("Rectification notice issued")
    REJECTED = "rejected", _("Rectification rejected")
    VERIFIED = "verified", _("Rectification verified")
    EXT_ASKED = "ext_asked", _("Extension requested")
    EXT_APPROVED = "ext_approved", _("Extension approved")
    EXT_REFUSED = "ext_refused", _("Extension refused")
    PASSED_DOWN = "passed_down", _("Share passed down")
    COMMENTED = "commented", _("Comment on the work")
    CHASED = "chased", _("Work chased up")
    SUBMITTED = "submitted", _("Share submitted for review")
    LETTER = "letter", _("Risk letter issued")
    LETTER_CLOSED = "letter_done", _("Risk letter closed")
    LETTER_BACK = "letter_back", _("Risk letter answer returned")
    DOCUMENT = "document", _("Document received")  # 公文下发: a recipient unit's copy of an issued document
    DOC_CHASED = "doc_chased", _("Document receipt chased")  # 催签收


class EventSubject(models.TextChoices):
    """What an event's link opens."""

    CAMPAIGN = "campaign", _("Campaign (my tasks)")
    ASSIGNMENT = "assignment", _("Assignment")
    NOTICE = "notice", _("Rectification notice")
    FINDING = "finding", _("Finding")
    LETTER = "letter", _("Risk letter")
    DOCUMENT = "document", _("Document")


class Event(FastLoad, models.Model):
    """Something done to a unit's work that its people must hear of (returned, accepted, a notice…):
    one row per unit concerned and action, its messages one per recipient and channel. Never sent to
    the one who acted (``actor``)."""

    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    subject_type = models.CharField(_("about"), max_length=12, choices=EventSubject.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("unit"))
    # empty for work of no campaign (a risk letter by analysis): the default rules' quiet hours apply
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("also told"),
        help_text=_("e.g. who asked for the extension"),
    )
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why, or the words of a comment"))
    payload = models.JSONField(_("facts"), default=dict, blank=True, help_text=_("e.g. the dates asked for"))
    count = models.PositiveIntegerField(_("how many"), default=1)
    batch = models.CharField(max_length=32, db_index=True, editable=False)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}#{self.subject_id} ({self.unit_id})"


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Failed (dead letter)")
    SUPERSEDED = "superseded", _("Superseded")


class Message(FastLoad, models.Model):
    """The outbox: one reminder on one channel. Marked sent only after the send."""

    # its keys are checked per statement on PostgreSQL (notifications/0016, ``utilities.statement_keys``)
    reminder = models.ForeignKey(
        Reminder, null=True, blank=True, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    unit = models.ForeignKey(
        Unit,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("unit"),
        help_text=_("The unit the message is about (for HQ's scoped view)"),
        db_constraint=False,
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    lease = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True, help_text=_("As sent"))
    body = models.TextField(_("body"), blank=True, help_text=_("As sent"))
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    scope_via = "unit"  # what a reminder is about, or a digest's recipient's unit

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["reminder", "channel"], name="message_once_per_channel"),
            models.UniqueConstraint(fields=["digest", "channel"], name="digest_once_per_channel"),
            models.UniqueConstraint(fields=["event", "recipient", "channel"], name="event_once_per_recipient"),
            models.CheckConstraint(  # exactly one of the three
                condition=(
                    models.Q(reminder__isnull=False, digest__isnull=True, event__isnull=True)
                    | models.Q(reminder__isnull=True, digest__isnull=False, event__isnull=True)
                    | models.Q(reminder__isnull=True, digest__isnull=True, event__isnull=False)
                ),
                name="message_of_one_thing",
            ),
        ]
        indexes = [
            # the drain's queue: only queued and leased rows, in id order (sent ones pile up for ever)
            models.Index(
                fields=["id"],
                name="message_queue",
                condition=models.Q(status__in=[MessageStatus.PENDING, MessageStatus.SENDING]),
            ),
            models.Index(fields=["recipient", "channel", "status", "read_at"], name="message_inbox"),
        ]

    def __str__(self) -> str:
        if self.event_id:
            return f"{self.channel}:event {self.event_id}"
        return f"{self.channel}:{self.reminder_id or f'digest {self.digest_id}'}"

    @property
    def idempotency_key(self) -> str:
        """Stable across retries: what a receiver uses to drop a repeat."""
        if self.digest_id:
            return f"digest-{self.digest_id}-{self.channel}"
        if self.event_id:  # one event reaches many people: the recipient is part of the key
            return f"event-{self.event_id}-{self.recipient_id}-{self.channel}"
        return f"reminder-{self.reminder_id}-{self.channel}"

    @property
    def colour(self) -> str:
        if self.event_id:
            return ""
        return self.reminder.colour if self.reminder_id else self.digest.colour


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    detail = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["message", "at", "id"]

    def __str__(self) -> str:
        return f"{self.message_id} {'ok' if self.ok else 'failed'} {self.at:%Y-%m-%d %H:%M:%S}"


class Preference(models.Model):
    """How a user wants reminders: the inbox always; email and webhook by choice."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference")
    email = models.BooleanField(_("by email"), default=True)
    webhook = models.BooleanField(_("by SMS / messaging bot"), default=False)
    digest = models.BooleanField(
        _("one daily digest"),
        null=True,
        blank=True,
        help_text=_("Empty: single messages as a unit lead, one daily digest as a leader or HQ"),
    )
    weekly = models.BooleanField(_("weekly summary"), default=True, help_text=_("For HQ and leaders: their scope"))

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        return str(self.user)


class MessageTemplate(models.Model):
    """The words of a reminder or an event (subject "event"), editable by HQ: Django template syntax
    over its facts."""

    subject_type = models.CharField(_("about"), max_length=12, choices=Subject.choices, default=Subject.ASSIGNMENT)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices + EventKind.choices)
    audience = models.CharField(_("to"), max_length=10, choices=Audience.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "kind", "audience"], name="one_template_per_kind_audience")
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_type_display()} · {self.get_kind_display()} · {self.get_audience_display()}"


class SweepChange(models.Model):
    """A write to a table the reminder sweep reads, since the last sweep: one row per statement, written
    by a statement-level trigger (PostgreSQL, migration 0011) in the writer's transaction, and consumed
    by the next sweep (``sweep.changed_since_last``), which re-runs only the subjects that read the
    table. Being rows, not a counter, they never make two writers wait on each other, and a write not
    yet committed is neither seen nor consumed: the sweep after its commit picks it up."""

    table = models.CharField(max_length=63)

    class Meta:
        verbose_name = _("change since the last sweep")

    def __str__(self) -> str:
        return self.table


class SweepDay(models.Model):
    """The day of the last reminder sweep (one row): a sweep on another day runs in full."""

    day = models.DateField()
    swept_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day}"
