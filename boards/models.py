"""What HQ sets for its boards (the ranking's weights), and the exports users ask for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit
from tasks.models import AssignmentStatus, Campaign, LineOfAction


class Weights(models.Model):
    """How HQ weighs the ranking of units (排名权重) in one campaign; the score is the weighted mean of
    each measure as a percentage (see ``boards.ranking``)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="weights")
    completion = models.PositiveSmallIntegerField(_("completion"), default=40)
    on_time = models.PositiveSmallIntegerField(_("on time"), default=20)
    overdue = models.PositiveSmallIntegerField(_("nothing overdue"), default=20)
    rectification = models.PositiveSmallIntegerField(_("rectified in time"), default=10)
    findings = models.PositiveSmallIntegerField(_("few findings"), default=10)
    # 督办事项按时办结: counted only for units holding directive work due (``boards.ranking``), so a campaign
    # without directives ranks as before
    directives = models.PositiveSmallIntegerField(_("directives done in time"), default=10)
    laggards = models.PositiveSmallIntegerField(
        _("laggards called in"), default=3, help_text=_("How many of the lowest-ranked units the bulletin names")
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    MEASURES = ("completion", "on_time", "overdue", "rectification", "findings", "directives")

    class Meta:
        verbose_name = _("ranking weights")
        verbose_name_plural = _("ranking weights")

    def __str__(self) -> str:
        return f"{self.campaign} · " + " ".join(f"{m}={getattr(self, m)}" for m in self.MEASURES)

    def as_dict(self) -> dict[str, int]:
        return {m: getattr(self, m) for m in self.MEASURES}


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")  # the file was cleared after EXPORT_KEEP_DAYS; the record stays


class Export(models.Model):
    """A spreadsheet a user asked for (导出: a board or a ledger as XLSX), made in the background.

    The file is the user's own: stored under ``exports/%Y/%m/`` with a random name, never served by a
    media URL, downloaded only by the one who asked (anyone else gets a 404). ``params`` are the
    request as checked against the user's scope; the job builds the file with the same user's scope.
    ``message`` is what the user is told when it fails (never a traceback).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports", verbose_name=_("requested by")
    )
    kind = models.SlugField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", max_length=200, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(
        _("started at"), null=True, blank=True, help_text=_("When the running job claimed it (its lease)")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_user_recent")]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_progress_le_100")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} · {self.filename or self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        """Still to come: waiting or being prepared."""
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)


class BoardCount(models.Model):
    """The board rollup (docs/boards.md, "The rollup"): a campaign's active, planned assignments
    (``tasks.queries.planned_q``: a share passed down is counted in its parent) that one unit holds in
    one line of action with one due date, counted per status, submitted on time (by the due date, and
    waiting or accepted since) and not yet acknowledged (签收). Overdue, on time and due-by for any day
    derive from these columns (``boards.rollup``). Kept exact in the writing transaction by database
    triggers on the assignments and items (migration 0004), whoever writes; ``manage.py check_rollup``
    recomputes it from the rows. A unit's own work only: a subtree is summed when read, by the units'
    materialised paths."""

    # no database foreign keys: the triggers write it inside every assignment write (a check per row
    # would slow the 100,000-row publish); Django still deletes the rows with their campaign, unit or action
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    action = models.ForeignKey(
        LineOfAction, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    due_date = models.DateField(_("due date"))
    total = models.IntegerField(_("assignments"))
    pending = models.IntegerField(AssignmentStatus.PENDING.label)
    in_progress = models.IntegerField(AssignmentStatus.IN_PROGRESS.label)
    submitted = models.IntegerField(AssignmentStatus.SUBMITTED.label)
    returned = models.IntegerField(AssignmentStatus.RETURNED.label)
    accepted = models.IntegerField(AssignmentStatus.ACCEPTED.label)
    submitted_on_time = models.IntegerField(_("submitted by the due date, waiting"))
    accepted_on_time = models.IntegerField(_("submitted by the due date, accepted"))
    unacknowledged = models.IntegerField(_("not acknowledged"))

    COUNTS = (
        "total",
        "pending",
        "in_progress",
        "submitted",
        "returned",
        "accepted",
        "submitted_on_time",
        "accepted_on_time",
        "unacknowledged",
    )

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("board count")
        verbose_name_plural = _("board counts")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "action", "due_date"], name="boardcount_key")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}/{self.action_id} {self.due_date}: {self.total}"


class BoardDelta(models.Model):
    """The board rollup's history (docs/boards.md, "As of a day"): how much each of ``BoardCount``'s
    columns changed on one day for one campaign × unit × line of action × due date (signed). Written by
    the rollup's own triggers (migration 0006) in the writing transaction: a change of an assignment adds
    −1 under its old key and +1 under its new one on the local day of the change. Summed over every day
    it equals the rollup; the counts as of the end of day X are the rollup minus the rows dated after X
    (``boards.rollup.sums_as_of``)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    action = models.ForeignKey(
        LineOfAction, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    due_date = models.DateField(_("due date"))
    day = models.DateField(_("day of the change"))
    total = models.IntegerField(_("assignments"))
    pending = models.IntegerField(AssignmentStatus.PENDING.label)
    in_progress = models.IntegerField(AssignmentStatus.IN_PROGRESS.label)
    submitted = models.IntegerField(AssignmentStatus.SUBMITTED.label)
    returned = models.IntegerField(AssignmentStatus.RETURNED.label)
    accepted = models.IntegerField(AssignmentStatus.ACCEPTED.label)
    submitted_on_time = models.IntegerField(_("submitted by the due date, waiting"))
    accepted_on_time = models.IntegerField(_("submitted by the due date, accepted"))
    unacknowledged = models.IntegerField(_("not acknowledged"))

    COUNTS = BoardCount.COUNTS

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("board change")
        verbose_name_plural = _("board changes")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "action", "due_date", "day"], name="boarddelta_key")
        ]
        # "what changed after day X" of a campaign: the as-of reads
        indexes = [models.Index(fields=["campaign", "day"], name="boarddelta_since")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}/{self.action_id} {self.due_date} @{self.day}: {self.total:+d}"
