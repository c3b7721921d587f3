import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit, UnitKind
from utilities.models import FastLoad

# Every amount (a target, a share of one, a report, a running total) is numeric(14, 2): at most
# 999,999,999,999.99. PostgreSQL refuses more with "numeric field overflow"; SQLite stores it and then
# fails to read it back (decimal.InvalidOperation), on every page that shows the row. So whatever adds
# to an amount checks the result with ``amount_fits`` before writing.
AMOUNT_DIGITS = 14
AMOUNT_PLACES = 2
AMOUNT_MAX = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES) - Decimal(10) ** -AMOUNT_PLACES
AMOUNT_LIMIT = f"{AMOUNT_MAX:,}"  # as messages write it
AMOUNT_TOO_LARGE = format_lazy(_("An amount may be at most {limit}"), limit=AMOUNT_LIMIT)


def amount_fits(value: Decimal | int) -> bool:
    """``value`` can be stored in an amount column (sign aside: a negative amount is refused elsewhere)."""
    value = Decimal(value)
    return value.is_finite() and abs(value) <= AMOUNT_MAX


def amount_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class Campaign(FastLoad, models.Model):
    """A time-boxed special operation (专项行动) run by a headquarters, e.g. a 100-day summer campaign."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        Unit, verbose_name=_("owning headquarters"), on_delete=models.PROTECT, related_name="campaigns"
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    source_name = models.CharField(_("plan file"), max_length=255, blank=True)
    compare_to = models.ForeignKey(
        "self",
        verbose_name=_("compare with"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Last year's campaign for year-over-year figures (同比), matched by day of the campaign"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # the final figures as the 总结 quotes them, computed once when the campaign is closed
    # (``tasks.services.campaigns.final_summary``); empty while it runs
    final_summary = models.JSONField(_("final figures"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_via = "owner"
    scope_seen_from_below = True  # a campaign concerns every unit under its owner: a station sees its city's

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start", "code"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="campaign_period")]

    def __str__(self) -> str:
        return self.name

    def latest_due(self) -> date:
        """The latest due date an extension may set: one year after the campaign's end. Work that slips
        further belongs to another campaign (and a date like 9999-12-31 would only be a typo)."""
        try:
            return self.end.replace(year=self.end.year + 1)
        except ValueError:  # 29 February
            return self.end.replace(year=self.end.year + 1, day=28)


class LineOfAction(FastLoad, models.Model):
    """A line of action (e.g. “清患”行动) of a campaign, with the leader in charge (分管领导)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="actions", verbose_name=_("campaign"))
    code = models.CharField(_("number"), max_length=20)
    seq = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    leader_name = models.CharField(_("leader in charge"), max_length=100, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("line of action")
        verbose_name_plural = _("lines of action")
        ordering = ["-campaign_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="uniq_action_code")]

    def __str__(self) -> str:
        return self.name


class Comparator(models.TextChoices):
    GE = "ge", "≥"
    GT = "gt", ">"
    LE = "le", "≤"
    LT = "lt", "<"
    EQ = "eq", "="


RATES = ("%", "‰")  # 回复率100%: a level reached, not an amount done day by day — no linear pace (序时进度)


class DeadlineKind(models.TextChoices):
    DATE = "date", _("By a date")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    DAILY = "daily", _("Daily")
    ONGOING = "ongoing", _("Throughout the campaign")


class ItemKind(models.TextChoices):
    PLAN = "plan", _("Checklist item")
    DIRECTIVE = "directive", _("Directive")  # 督办事项: ``directives.Directive.item``


# the line of action a campaign's directives sit under, created on demand (``directives.services``)
DIRECTIVE_LINE = "督"


class ItemQuerySet(ScopedQuerySet):
    def in_plan(self) -> "ItemQuerySet":
        """The checklist's items: not the directives' (the plan import, the checklist and its exports,
        the copy and the final figures read these only)."""
        return self.filter(kind=ItemKind.PLAN)


class Item(FastLoad, models.Model):
    """A numbered entry of the responsibility checklist (量化责任清单): a task with a measurable target.

    The plan's own words are kept beside what was parsed from them (``*_text`` fields). A directive
    (督办事项, ``kind`` directive) is an item too, outside the plan, so that its work per unit is the
    assignments' one mechanism (``docs/directives.md``).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items", verbose_name=_("campaign"))
    action = models.ForeignKey(
        LineOfAction, on_delete=models.PROTECT, related_name="items", verbose_name=_("line of action")
    )
    code = models.CharField(_("number"), max_length=20)
    seq = models.PositiveIntegerField(_("order"), default=0)
    title = models.TextField(_("task"))
    measures = models.TextField(_("measures"), blank=True)
    target_text = models.CharField(_("target"), max_length=500, blank=True)
    target_metric = models.CharField(_("target metric"), max_length=100, blank=True)
    target_comparator = models.CharField(_("comparator"), max_length=2, choices=Comparator.choices, blank=True)
    target_value = amount_field(_("target value"), null=True, blank=True)
    target_unit = models.CharField(_("target unit"), max_length=20, blank=True)
    target_basis = models.CharField(_("target basis"), max_length=8, blank=True, help_text=_("yoy / mom"))
    target_direction = models.CharField(_("direction"), max_length=8, blank=True, help_text=_("up / down"))
    target_per = models.CharField(
        _("target per"),
        max_length=8,
        blank=True,
        default="",
        choices=[(k.value, k.label) for k in (DeadlineKind.DAILY, DeadlineKind.WEEKLY, DeadlineKind.MONTHLY)],
        help_text=_("The target value is per day, week or month (每日巡逻不少于2次); empty: for the whole campaign"),
    )
    lead_text = models.CharField(_("lead units"), max_length=500)
    cooperating_text = models.CharField(_("cooperating units"), max_length=500, blank=True)
    leader_name = models.CharField(_("responsible leader"), max_length=100, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deadline_text = models.CharField(_("deadline"), max_length=200)
    deadline_kind = models.CharField(_("deadline kind"), max_length=8, choices=DeadlineKind.choices)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    cadence_weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True, help_text=_("1 = Monday"))
    cadence_day = models.PositiveSmallIntegerField(
        _("day of month"), null=True, blank=True, help_text=_("0 = last day of the month")
    )
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    acceptance = models.TextField(_("acceptance criteria"), blank=True)
    source_location = models.CharField(_("location in the plan file"), max_length=200, blank=True)
    is_active = models.BooleanField(
        _("in the plan"), default=True, help_text=_("Cleared when a re-imported plan no longer has the item.")
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.PLAN, db_default=ItemKind.PLAN
    )
    # a secret directive's work is seen only from the named units themselves and by HQ over the owner
    # (``accounts.scope.restrict``, through the models' ``scope_secret``); kept here, on the row every
    # assignment list joins already, rather than on the directive one join further
    secret = models.BooleanField(_("secret"), default=False, db_default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_via = "campaign__owner"
    scope_seen_from_below = True  # as its campaign

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["-campaign_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="uniq_item_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:40]}"

    def assignment_due(self) -> date:
        """The due date every unit's assignment starts with: the item's date, else the campaign's end."""
        return self.due_date or self.campaign.end


class TargetBasis(models.TextChoices):
    YOY = "yoy", _("year over year")  # 同比
    MOM = "mom", _("period over period")  # 环比


class Target(FastLoad, models.Model):
    """One target of an item as the plan writes it (盗窃警情同比下降15%，拥挤踩踏事故0起: two rows),
    in the cell's order. The first is also held on the item's ``target_*`` fields, which everything
    before issue 20 reads (a share splits it, the lists show it). ``indicator``: the results
    statistics' line it counts (检查场所 for 检查场所不少于3000家次), whose figures reported by a unit
    and its subtree are then that unit's progress toward it (``tasks.targets``)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="targets", verbose_name=_("item"))
    seq = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("as written"), max_length=500)
    metric = models.CharField(_("target metric"), max_length=100, blank=True)
    comparator = models.CharField(_("comparator"), max_length=2, choices=Comparator.choices, blank=True)
    value = amount_field(_("target value"), null=True, blank=True)
    unit = models.CharField(_("target unit"), max_length=20, blank=True)
    basis = models.CharField(_("target basis"), max_length=8, choices=TargetBasis.choices, blank=True)
    direction = models.CharField(_("direction"), max_length=8, blank=True, help_text=_("up / down"))
    per = models.CharField(
        _("target per"),
        max_length=8,
        blank=True,
        default="",
        choices=[(k.value, k.label) for k in (DeadlineKind.DAILY, DeadlineKind.WEEKLY, DeadlineKind.MONTHLY)],
    )
    indicator = models.ForeignKey(
        "stats.Indicator",
        verbose_name=_("indicator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
        help_text=_("Progress comes from the results statistics of the unit and its subtree"),
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="uniq_target_seq")]
        # the targets read apart from the assignment row (a later one, a linked first): the sweep's behind-pace
        # EXISTS probes an item's by this, not the item's every target (``notifications.sweep._behind``)
        indexes = [
            models.Index(
                fields=["item"],
                name="target_apart",
                condition=models.Q(seq__gt=1) | models.Q(indicator__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def at_least(self) -> bool:
        """An amount to reach (≥ or >, not a change against last year): it can fall short, and has a pace."""
        return self.value is not None and self.comparator in (Comparator.GE, Comparator.GT) and not self.basis


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    COOPERATING = "coop", _("Cooperating")


class ResponsibilityScope(models.TextChoices):
    UNIT = "unit", _("A named unit")
    KIND = "kind", _("Every unit of a kind under the owner")
    CHILDREN = "children", _("The owner's direct subordinates")


class Responsibility(models.Model):
    """One unit, or one group of units, that the plan names for an item ("治安支队", "各派出所").

    Expanded into assignments when the campaign is published, so the plan keeps the office's own
    wording and the unit tree can change until then.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="responsibilities")
    role = models.CharField(_("role"), max_length=4, choices=AssignmentRole.choices)
    scope = models.CharField(_("scope"), max_length=8, choices=ResponsibilityScope.choices)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("unit"))
    unit_kind = models.CharField(_("unit kind"), max_length=16, choices=UnitKind.choices, blank=True)
    text = models.CharField(_("as written"), max_length=100)

    class Meta:
        verbose_name = _("named responsibility")
        verbose_name_plural = _("named responsibilities")

    def __str__(self) -> str:
        return self.text


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class Assignment(FastLoad, models.Model):
    """One checklist item as one unit's work: the row a unit lead updates and HQ tracks.

    ``is_active`` is cleared, never deleted, when a corrected plan stops naming the unit, so the
    unit's reported progress and history survive and come back if the unit is named again.
    """

    # No single-column indexes: the composite indexes and the unique constraint below lead with these
    # columns, and every extra index slows the 100,000-row publish. No row-by-row foreign keys for the
    # three either: on PostgreSQL statement triggers check that the item is an item of the campaign and
    # that the unit exists, one anti-join per statement instead of three lookups per row at COMMIT
    # (migration tasks 0017); SQLite keeps its keys.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="assignments",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    item = models.ForeignKey(
        Item,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("item"),
        db_index=False,
        db_constraint=False,
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("unit"),
        db_index=False,
        db_constraint=False,
    )
    role = models.CharField(_("role"), max_length=4, choices=AssignmentRole.choices)
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    is_active = models.BooleanField(_("in the plan"), default=True)
    progress = amount_field(_("progress"), default=0, help_text=_("Sum of the reported values"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("passed down from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The superior unit's assignment this share was split from (逐级分解)"),
        # checked per statement on PostgreSQL, as the acknowledged-by below (migration tasks 0024): empty on
        # every row a publish writes, yet a row key queued a check of each for COMMIT; SQLite keeps its key
        db_constraint=False,
    )
    target_share = amount_field(_("share of the target"), null=True, blank=True)
    extensions = models.PositiveSmallIntegerField(_("extensions granted"), default=0, db_default=0)
    submitted_on = models.DateField(
        _("submitted on"), null=True, blank=True, help_text=_("When the work last went for acceptance (on time?)")
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # 签收: the unit has seen the work (a tap, or its first report or start); null until then
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never looked up by; an index would only slow the publish
        db_constraint=False,  # checked per statement on PostgreSQL (tasks 0024); SQLite keeps its key
    )

    scope_via = "unit"
    scope_secret = "item"  # the path to the item whose ``secret`` narrows who sees the row

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["due_date", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "unit"], name="uniq_assignment")]
        indexes = [
            models.Index(fields=["unit", "status", "due_date"]),
            models.Index(fields=["campaign", "status", "due_date"]),
            # the lists' order: HQ's first page walks it and stops after 50 rows
            models.Index(fields=["due_date", "id"], name="assignment_due_order"),
            # ?ordering=-updated_at ("what changed lately"), walked backwards; the id breaks ties
            models.Index(fields=["updated_at", "id"], name="assignment_updated_order"),
            # a bulletin's oldest overdue work (``boards.bulletin.overdue_as_of``): the open work in due order
            models.Index(
                fields=["campaign", "due_date", "id"],
                name="assignment_open_due",
                condition=~models.Q(status="accepted") & models.Q(is_active=True, parent__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} · {self.unit}"

    @property
    def target(self) -> Decimal | None:
        """The amount this unit must reach: its passed-down share, else the item's target — a target
        written per period (每日巡逻不少于2次) times the periods of the assignment's window."""
        if self.target_share is not None:
            return self.target_share
        value = self.item.target_value
        if value is None or not self.item.target_per:
            return value
        from tasks.services.checkins import target_periods  # the services import the models

        return value * target_periods(self.item, self.campaign.start, self.due_date)

    def expected_share(self, today: date | None = None) -> Decimal:
        """序时进度: the share of the target due by ``today``, linear from the campaign start to the due date."""
        today = today or timezone.localdate()
        start, end = self.campaign.start, self.due_date
        if today >= end:
            return Decimal(1)
        if today <= start or end <= start:
            return Decimal(0)
        return Decimal((today - start).days) / Decimal((end - start).days)

    def is_behind_pace(self, today: date | None = None) -> bool:
        """Behind the planned pace: less done than the linear share of a "at least" target by today."""
        target = self.target
        if not target or self.item.target_comparator not in (Comparator.GE, Comparator.GT) or self.item.target_basis:
            return False
        if self.item.target_per:  # a target per period is checked at each check-in, not on a line
            return False
        if self.item.target_unit in RATES:  # a rate has no linear pace (``tasks.targets._behind``)
            return False
        if self.status == AssignmentStatus.ACCEPTED or not self.is_active:
            return False
        return self.progress < (target * self.expected_share(today)).quantize(Decimal("0.01"))

    def shortfall(self) -> tuple[Decimal, Decimal] | None:
        """``(progress, target)`` when the work falls short of an "at least" target (检查场所 ≥ 800 家, 85
        done), else None: no numeric target, a "no more than" or year-over-year target, or a target per
        period or a cadence (每周五前报送), whose check-ins say how it went rather than one total."""
        target = self.target
        item = self.item
        if not target or item.target_comparator not in (Comparator.GE, Comparator.GT) or item.target_basis:
            return None
        if item.target_per or item.deadline_kind in (DeadlineKind.DAILY, DeadlineKind.WEEKLY, DeadlineKind.MONTHLY):
            return None
        short = self.progress <= target if item.target_comparator == Comparator.GT else self.progress < target
        return (self.progress, target) if short else None

    @property
    def is_overdue(self) -> bool:
        """``tasks.queries.overdue_q`` for this row: an on-time submission waiting for acceptance is not."""
        from tasks.queries import is_overdue  # the queries import the models

        return is_overdue(self)


class TargetShare(FastLoad, models.Model):
    """A share's amount of a later target of its item (分解 of every target): the first target's share is
    ``Assignment.target_share``; without a row here the share carries the item's whole value of that
    target. Written by ``tasks.services.cascade.pass_down``, read by ``tasks.targets``."""

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="target_shares",
        verbose_name=_("assignment"),
        db_index=False,  # the unique constraint leads with it
    )
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="shares", verbose_name=_("target"))
    amount = amount_field(_("share of the target"))

    class Meta:
        verbose_name = _("share of a target")
        verbose_name_plural = _("shares of a target")
        constraints = [models.UniqueConstraint(fields=["assignment", "target"], name="uniq_target_share")]

    def __str__(self) -> str:
        return f"{self.assignment_id} · {self.target_id}: {self.amount}"


class TargetProgress(FastLoad, models.Model):
    """The running total of a later target (seq 2, 3, …) of an assignment: what its unit reported on it
    and what its shares did, at every level below (bureau → sub-bureau → station), as
    ``Assignment.progress`` is for the first target. Written with each report in its transaction
    (``tasks.services.cascade.lock_target_chain`` / ``roll_up_target``), read by ``tasks.targets``; no
    row is no progress. ``recount_targets`` rebuilds it from the reports."""

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="target_progress",
        verbose_name=_("assignment"),
        db_index=False,  # the unique constraint leads with it
    )
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+", verbose_name=_("target"))
    progress = amount_field(_("progress"), default=0)

    class Meta:
        verbose_name = _("progress of a target")
        verbose_name_plural = _("progress of targets")
        constraints = [models.UniqueConstraint(fields=["assignment", "target"], name="uniq_target_progress")]

    def __str__(self) -> str:
        return f"{self.assignment_id} · {self.target_id}: {self.progress}"


class ProgressReport(FastLoad, models.Model):
    """A unit's report on its assignment: how much more was done toward the target, and what."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reports")
    value = amount_field(_("amount done"), null=True, blank=True, help_text=_("Since the last report"))
    text = models.TextField(_("what was done"), blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("reported by"))
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    target = models.ForeignKey(
        Target,
        verbose_name=_("target"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The item's target this amount counts toward; empty: its first"),
    )
    period = models.DateField(
        _("check-in period"),
        null=True,
        blank=True,
        help_text=_("For items with a cadence: the due date of the period this report answers"),
    )

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["assignment_id", "reported_at", "id"]
        indexes = [models.Index(fields=["assignment", "period"], name="report_period")]

    def __str__(self) -> str:
        return f"{self.assignment} @ {self.reported_at:%Y-%m-%d}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    # The stored name is ours (a random stem and the extension of the detected type), never the user's.
    return f"evidence/{instance.assignment.campaign_id}/{instance.assignment_id}/{uuid.uuid4().hex}{instance.extension}"


class Evidence(FastLoad, models.Model):
    """A file proving the work (photo, PDF, Office document). Served only through a permission check."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="evidence")
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence")
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("type"), max_length=100)
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    scope_via = "assignment__unit"
    scope_secret = "assignment__item"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class CommentKind(models.TextChoices):
    REMARK = "remark", _("Comment")
    REQUEST = "request", _("Request for instruction")  # 报请领导批示
    INSTRUCTION = "instruction", _("Leader's instruction")  # 批示


class Comment(FastLoad, models.Model):
    """A remark on an assignment by anyone who can see it (HQ's question, the unit's answer); or a request
    for a leader's instruction (报请领导批示, addressed to one leader) made by the unit or HQ, open until
    a leader's instruction (批示) on the same assignment answers it (``tasks.services.progress``)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("author"))
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    kind = models.CharField(
        _("kind"), max_length=12, choices=CommentKind.choices, default=CommentKind.REMARK, db_default="remark"
    )
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("addressed to"),
    )
    answer = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="answered",
        verbose_name=_("answered by the instruction"),
    )

    scope_via = "assignment__unit"
    scope_secret = "assignment__item"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["assignment_id", "created_at", "id"]
        indexes = [
            # the requests still waiting, by the leader they are addressed to (his landing page)
            models.Index(
                fields=["addressed_to", "created_at"],
                condition=models.Q(kind="request", answer__isnull=True),
                name="comment_open_requests",
            )
        ]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def is_open_request(self) -> bool:
        return self.kind == CommentKind.REQUEST and self.answer_id is None


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ExtensionRequest(FastLoad, models.Model):
    """A unit's request for a later deadline (延期申请), decided by HQ or the item's lead unit."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extension_requests")
    requested_due = models.DateField(_("requested due date"))
    previous_due = models.DateField(_("due date when requested"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    scope_via = "assignment__unit"
    scope_secret = "assignment__item"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        constraints = [
            # one open request per assignment at a time
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(status="pending"), name="one_pending_extension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment} → {self.requested_due}"


class PlanUploadStatus(models.TextChoices):
    PENDING = "pending", _("being checked")  # kept; its dry run waits for, or runs in, the background job
    PREVIEWED = "previewed", _("previewed")  # the dry run passed: awaiting HQ's confirmation
    FAILED = "failed", _("failed")  # the dry run (or the confirmed run) found problems: nothing written
    IMPORTED = "imported", _("imported")


class PlanJob(models.TextChoices):
    """What the upload's background job does: the dry run, or the import on confirmation."""

    PREVIEW = "preview", _("dry run")
    IMPORT = "import", _("import")


class PlanJobState(models.TextChoices):
    IDLE = "", _("no job")
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def plan_path(instance: "PlanUpload", filename: str) -> str:
    # Ours, never the user's name: a random stem and the extension of the type found in the bytes,
    # which is what the plan readers go by.
    return f"plans/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class PlanUpload(models.Model):
    """A plan file HQ uploaded, kept between the preview (a dry run) and the confirmation, so that the
    import runs on the very bytes previewed and never on what a client sends again. The campaign
    fields are the form's; ``campaign`` is set when the upload re-imports an existing one (and after a
    new one is imported). ``result`` is the JSON of the last run (``tasks.services.plans.result_json``)."""

    file = models.FileField(upload_to=plan_path, max_length=200)
    name = models.CharField(max_length=200)  # the name it was uploaded under (safe), shown in problems
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="uploads")
    campaign_name = models.CharField(max_length=200, blank=True)
    campaign_code = models.CharField(max_length=40, blank=True)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=PlanUploadStatus.choices, default=PlanUploadStatus.FAILED)
    result = models.JSONField(default=dict)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # The background job (tasks/jobs.py): which, its state, its lease (``started_at``, as boards' exports),
    # its last progress and what the user reads (the stage, or why it failed). The progress of a running
    # import is in the cache (``plan_uploads.job_progress``): the import's transaction hides row writes.
    job = models.CharField(max_length=10, choices=PlanJob.choices, blank=True)
    job_state = models.CharField(max_length=10, choices=PlanJobState.choices, blank=True, default=PlanJobState.IDLE)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    publish = models.BooleanField(default=False)  # asked with the confirmation
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scope_via = "owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="planupload_progress_le_100")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pending(self) -> bool:
        """Its job waits or runs: the page polls."""
        return self.job_state in (PlanJobState.QUEUED, PlanJobState.RUNNING)
