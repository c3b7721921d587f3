"""Supervision (督导检查): inspections, findings, rectification notices and listed hotspots.

A finding (发现问题/隐患) belongs to the unit that must fix it. A rectification notice (责令整改通知书)
orders one unit to fix one or more findings by a deadline, under a number from its issuing unit's
office sequence. A listed hotspot (挂牌整治) stays on the list until a joint acceptance passes it.
Every change is written by ``inspections.services`` and recorded in the audit trail.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit
from tasks.models import Campaign, Item
from utilities.models import FastLoad


class InspectionKind(models.TextChoices):
    ROUTINE = "routine", _("Routine supervision")
    SPECIAL = "special", _("Special inspection")
    NIGHT = "night", _("Night inspection")
    JOINT = "joint", _("Joint acceptance")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class Hotspot(FastLoad, models.Model):
    """A listed area (挂牌整治点) with its problems, a responsible unit and person, and a deadline."""

    class Status(models.TextChoices):
        LISTED = "listed", _("Listed")
        DELISTED = "delisted", _("De-listed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="hotspots", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=200)
    area = models.CharField(_("area"), max_length=300, blank=True)
    problems = models.TextField(_("problems"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="hotspots", verbose_name=_("responsible unit")
    )
    responsible_name = models.CharField(_("responsible person"), max_length=50)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible account"),
    )
    listed_on = models.DateField(_("listed on"))
    deadline = models.DateField(_("deadline"))
    inspect_every_days = models.PositiveSmallIntegerField(_("inspect every (days)"), default=7)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LISTED)
    delisted_on = models.DateField(_("de-listed on"), null=True, blank=True)
    extensions = models.PositiveSmallIntegerField(_("deadline extensions"), default=0)
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("listed hotspot")
        verbose_name_plural = _("listed hotspots")
        ordering = ["status", "deadline", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(deadline__gte=models.F("listed_on")), name="hotspot_period")
        ]

    def __str__(self) -> str:
        return self.name


class HotspotCriterion(models.Model):
    """One acceptance criterion of a hotspot (e.g. 警情同比下降30%), judged at the joint acceptance."""

    hotspot = models.ForeignKey(Hotspot, on_delete=models.CASCADE, related_name="criteria")
    seq = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(_("criterion"), max_length=300)

    class Meta:
        verbose_name = _("acceptance criterion")
        verbose_name_plural = _("acceptance criteria")
        ordering = ["hotspot_id", "seq", "id"]

    def __str__(self) -> str:
        return self.text


class Inspection(FastLoad, models.Model):
    """A supervision visit by a team of inspectors to one or more units (督导检查)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("campaign")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices, default=InspectionKind.ROUTINE)
    status = models.CharField(
        _("status"), max_length=12, choices=InspectionStatus.choices, default=InspectionStatus.PLANNED
    )
    issuing_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspecting unit"),
        help_text=_("The office the inspectors act for; its notices are numbered in its sequence"),
    )
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="inspections", verbose_name=_("team"))
    units = models.ManyToManyField(Unit, related_name="inspections", verbose_name=_("units inspected"))
    items = models.ManyToManyField(Item, blank=True, related_name="inspections", verbose_name=_("checklist items"))
    hotspot = models.ForeignKey(
        Hotspot, null=True, blank=True, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("hotspot")
    )
    planned_on = models.DateField(_("planned on"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    passed = models.BooleanField(_("accepted"), null=True, blank=True, help_text=_("Joint acceptance: the verdict"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_via = "units"  # the units it visits: in scope when one of them is

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-planned_on", "-id"]
        indexes = [models.Index(fields=["campaign", "status", "planned_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.planned_on}"


class Verdict(models.Model):
    """The joint acceptance's pass/fail on one criterion of the hotspot."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="verdicts")
    criterion = models.ForeignKey(HotspotCriterion, on_delete=models.PROTECT, related_name="verdicts")
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("verdict")
        verbose_name_plural = _("verdicts")
        constraints = [models.UniqueConstraint(fields=["inspection", "criterion"], name="one_verdict_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion}: {'✓' if self.passed else '✗'}"


class DocumentKind(models.TextChoices):
    """The kinds of numbered documents an office issues, each in its own sequence with its own 发文代字."""

    NOTICE = "notice", _("Rectification notice")
    LETTER = "letter", _("Risk letter")


class NoticeSequence(models.Model):
    """The office sequence of document numbers, per issuing unit, year and kind (notices, risk letters).
    Numbers are never reused."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=DocumentKind.choices, default=DocumentKind.NOTICE)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "year", "kind"], name="one_sequence_per_unit_year_kind")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.year}/{self.kind}: {self.last}"


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Notice(FastLoad, models.Model):
    """责令整改通知书: one unit ordered to fix the listed findings by a deadline."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="notices")
    number = models.CharField(_("number"), max_length=60, unique=True)
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))
    year = models.PositiveSmallIntegerField()
    seq = models.PositiveIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="notices", verbose_name=_("addressee"))
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    requirements = models.TextField(_("requirements"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # 签收: the addressee has received the notice (a tap, or its first answer); null until then
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_via = "unit"  # the addressee

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification notice")
        verbose_name_plural = _("rectification notices")
        ordering = ["-issued_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["issuing_unit", "year", "seq"], name="notice_number_once")]

    def __str__(self) -> str:
        return self.number


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ORDERED = "ordered", _("Rectification ordered")
    SUBMITTED = "submitted", _("Rectification submitted")
    CLOSED = "closed", _("Verified and closed")


class Severity(models.TextChoices):
    GENERAL = "general", _("General")
    SERIOUS = "serious", _("Serious")
    MAJOR = "major", _("Major")


class Category(models.TextChoices):
    PUBLIC_ORDER = "order", _("Public order hazard")
    FIRE = "fire", _("Fire safety hazard")
    DANGEROUS = "dangerous", _("Dangerous goods")
    MANAGEMENT = "management", _("Management gap")
    RECORDS = "records", _("Records incomplete")
    OTHER = "other", _("Other")


class Finding(FastLoad, models.Model):
    """A problem found (发现问题/隐患), by an inspection or self-reported by the unit (自查)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="findings")
    inspection = models.ForeignKey(
        Inspection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("inspection"),
        help_text=_("Empty for a unit's self-inspection"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="findings", verbose_name=_("responsible unit")
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings", verbose_name=_("item")
    )
    hotspot = models.ForeignKey(
        Hotspot, null=True, blank=True, on_delete=models.PROTECT, related_name="findings", verbose_name=_("hotspot")
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.PUBLIC_ORDER)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.GENERAL)
    place = models.CharField(_("place"), max_length=200)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.PROTECT, related_name="findings", verbose_name=_("notice")
    )
    deadline = models.DateField(_("rectification deadline"), null=True, blank=True)
    rounds = models.PositiveSmallIntegerField(
        _("rectification rounds"), default=0, help_text=_("Raised each time a rectification is rejected")
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-found_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "status", "deadline"]),
            models.Index(fields=["unit", "status"]),
            # Lists show the newest first: read backwards, the first page stops after 50 rows
            # instead of sorting every finding that matches (HQ's province-wide lists).
            models.Index(fields=["found_at", "id"], name="finding_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.place}：{self.description[:30]}"

    @property
    def is_overdue(self) -> bool:
        return self.status in UNFIXED and self.deadline is not None and self.deadline < timezone.localdate()

    @staticmethod
    def overdue_q(today=None) -> models.Q:
        """Overdue, derived: not yet fixed and past its rectification deadline (lists and counts)."""
        return models.Q(status__in=UNFIXED, deadline__lt=today or timezone.localdate())


UNFIXED = (FindingStatus.OPEN, FindingStatus.ORDERED)


class Answer(FastLoad, models.Model):
    """The unit's account of a rectification (整改情况), one per round; the inspector's verdict on it."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="answers")
    round = models.PositiveSmallIntegerField()
    text = models.TextField(_("what was done"))
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)
    accepted = models.BooleanField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verdict_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("rectification answer")
        verbose_name_plural = _("rectification answers")
        ordering = ["finding_id", "round"]
        constraints = [models.UniqueConstraint(fields=["finding", "round"], name="one_answer_per_round")]

    def __str__(self) -> str:
        return f"{self.finding_id} #{self.round}"


def photo_path(instance: Photo, filename: str) -> str:
    return f"findings/{instance.finding.campaign_id}/{instance.finding_id}/{uuid.uuid4().hex}{instance.extension}"


class StoredFile(models.Model):
    """What every stored upload keeps beside its file (``utilities.uploads``: checked, named, hashed): the
    name as uploaded, its type, size and SHA-256, who uploaded it and when. Each kind declares its own
    ``file`` (where it is stored) and what it belongs to."""

    name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Photo(StoredFile):
    """A photo or PDF of a finding (at discovery) or of its rectification (with an answer)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="photos")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200)

    scope_via = "finding__unit"

    class Meta(StoredFile.Meta):
        verbose_name = _("photo")
        verbose_name_plural = _("photos")


class LetterStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class LetterSource(models.TextChoices):
    INSPECTION = "inspection", _("Found in an inspection")
    ANALYSIS = "analysis", _("Analysis and assessment")


class RiskLetter(models.Model):
    """风险提示函: a unit warned of a risk found (in an inspection, or by analysis), with the measures
    required (防范要求) and a reply-by date; acknowledged (签收), answered with the measures taken, then
    closed by the issuer or returned for a fuller answer. Numbered in the issuing unit's letter sequence."""

    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_letters",
        verbose_name=_("campaign"),
    )
    number = models.CharField(_("number"), max_length=60, unique=True)
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))
    year = models.PositiveSmallIntegerField()
    seq = models.PositiveIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="risk_letters", verbose_name=_("addressee"))
    title = models.CharField(_("title"), max_length=200)
    risk = models.TextField(_("risk found"))
    source = models.CharField(_("source"), max_length=10, choices=LetterSource.choices, default=LetterSource.ANALYSIS)
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="risk_letters"
    )
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="risk_letters")
    requirements = models.TextField(_("measures required"))
    reply_by = models.DateField(_("reply by"))
    status = models.CharField(_("status"), max_length=12, choices=LetterStatus.choices, default=LetterStatus.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("measures taken"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rounds = models.PositiveSmallIntegerField(_("answer rounds"), default=0)
    returned_reason = models.TextField(_("returned because"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_via = "unit"  # the addressee

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("risk letter")
        verbose_name_plural = _("risk letters")
        ordering = ["-issued_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["issuing_unit", "year", "seq"], name="letter_number_once")]
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["status", "reply_by"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_overdue(self) -> bool:
        return self.status in UNANSWERED and self.reply_by < timezone.localdate()

    @staticmethod
    def overdue_q(today=None) -> models.Q:
        """Overdue, derived: past its reply-by date without an answer (lists and counts)."""
        return models.Q(status__in=UNANSWERED, reply_by__lt=today or timezone.localdate())


UNANSWERED = (LetterStatus.ISSUED, LetterStatus.ACKNOWLEDGED)


def letter_file_path(instance: LetterFile, filename: str) -> str:
    return f"letters/{instance.letter.year}/{instance.letter_id}/{uuid.uuid4().hex}{instance.extension}"


class LetterFile(StoredFile):
    """An attachment of a risk letter's answer (measures taken): an image or a PDF, per answer round."""

    letter = models.ForeignKey(RiskLetter, on_delete=models.CASCADE, related_name="files")
    round = models.PositiveSmallIntegerField(default=1)
    file = models.FileField(upload_to=letter_file_path, max_length=200)

    scope_via = "letter__unit"

    class Meta(StoredFile.Meta):
        verbose_name = _("risk letter attachment")
        verbose_name_plural = _("risk letter attachments")
