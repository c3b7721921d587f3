"""Official documents (公文): the bulletin (通报), the rectification notice (责令整改通知书), the risk letter
(风险提示函), the summons (约谈通知) and a free notice (通知), written as a draft, checked (核稿), signed
(签发) and issued under a number, then frozen. See docs/documents.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Role, ScopedQuerySet, Unit
from tasks.models import Campaign


class DocumentKind(models.TextChoices):
    BULLETIN = "bulletin", _("Bulletin")  # 工作通报
    RECTIFICATION = "rectification", _("Rectification notice")  # 责令整改通知书
    RISK_LETTER = "risk_letter", _("Risk letter")  # 风险提示函
    SUMMONS = "summons", _("Summons")  # 约谈通知
    NOTICE = "notice", _("Notice")  # 通知


class DocumentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CHECKING = "checking", _("Awaiting check")  # 待核稿
    SIGNING = "signing", _("Awaiting signature")  # 待签发
    ISSUED = "issued", _("Issued")


def document_path(document: Document, filename: str) -> str:
    return f"documents/{document.issued_at:%Y/%m}/{document.pk}-{filename}"


class Document(models.Model):
    """One official document of a campaign: what the clerk wrote beside what the system generated (the
    bulletin's figures, a notice's findings), its sign-off, and once issued its number, frozen content,
    files and hash. Seen by view rights over the issuing unit."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=DocumentState.choices, default=DocumentState.DRAFT)
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))
    # what the generated part covers: a bulletin's unit (its subtree), a notice's addressee
    subject_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("about"))
    notice = models.ForeignKey(
        "inspections.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    round = models.ForeignKey("stats.Round", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    recipients = models.TextField(_("addressees"), blank=True)  # 主送
    cc = models.TextField(_("copies to"), blank=True)  # 抄送
    attachments = models.TextField(_("attachments"), blank=True)  # 附件, one a line
    # the clerk's paragraphs (one a line): before the generated part, requirements and next steps after it
    opening = models.TextField(_("opening"), blank=True)
    requirements = models.TextField(_("requirements"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    generated = models.JSONField(default=dict)  # {"head": …, "blocks": […]} as of generated_at
    generated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # sign-off
    returned_note = models.TextField(blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=60, blank=True)
    # issue: the number, the issue (第N期) of a bulletin, what was frozen
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("number"), max_length=60, blank=True)
    issue_no = models.PositiveIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    content = models.JSONField(null=True, blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to=document_path, max_length=200, blank=True)
    docx = models.FileField(upload_to=document_path, max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    scope_via = "issuing_unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["campaign", "kind", "-created_at"], name="document_campaign_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_unit", "number"], condition=~models.Q(number=""), name="one_document_per_number"
            )
        ]

    def __str__(self) -> str:
        return self.number or self.title

    @property
    def is_issued(self) -> bool:
        return self.state == DocumentState.ISSUED


class DocumentStep(models.Model):
    """One step of a document's sign-off: drafted, edited, submitted, checked, signed (issued), returned."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=12)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    scope_via = "document__issuing_unit"

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.document_id} {self.action}"


class DocumentSequence(models.Model):
    """The numbers a unit takes at issue, never reused: 发文字号 per (issuing unit, kind, year) — ``series``
    the kind — and a bulletin's 第N期 per (issuing unit, campaign) — ``series`` "issue:<campaign id>", year 0."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=30)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "series", "year"], name="one_document_sequence")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.series}/{self.year}: {self.last}"


class SignOffStep(models.TextChoices):
    CHECK = "check", _("Check")  # 核稿
    SIGN = "sign", _("Sign")  # 签发


class SignOffRule(models.Model):
    """Who may check or sign a kind of document of a campaign: a named user, or a role held over the issuing
    unit. Without a rule for the step, the default: HQ over the issuing unit checks, a leader over it signs."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="signoff_rules")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    step = models.CharField(max_length=8, choices=SignOffStep.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)

    scope_via = "campaign__owner"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(role=""), name="signoff_rule_names_someone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.step}: {self.user_id or self.role}"


# --- 约谈 (issue 22.5): a laggard named in an issued bulletin, summoned ---------------------------------


class SummonsState(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("summons", "Planned")  # 拟约谈
    HELD = "held", _("Held")  # 已约谈
    CANCELLED = "cancelled", _("Cancelled")  # 已取消


class Summons(models.Model):
    """约谈: a unit named among the laggards of an issued bulletin, called in. The reasons are the bulletin's
    own line for the unit, frozen when the summons is made; its 约谈通知 is a ``summons`` document; once held,
    the record (date, who attended, who chaired, what was said) and the commitments, each followed up as a
    directive handed down to the unit. Seen with the view right over the unit summoned (HQ above it too)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="summonses")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="summonses", verbose_name=_("unit"))
    bulletin = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="summonses", verbose_name=_("bulletin")
    )
    notice = models.OneToOneField(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="summons",
        verbose_name=_("summons notice"),
    )
    reasons = models.TextField(_("reasons"))  # the bulletin's laggard line for the unit, as issued
    as_of = models.DateField(_("figures as of"))
    scheduled_at = models.DateTimeField(_("scheduled at"))
    place = models.CharField(_("place"), max_length=200)
    attendance = models.CharField(_("who must attend"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=SummonsState.choices, default=SummonsState.PLANNED)
    # the record of the 约谈 held
    held_on = models.DateField(_("held on"), null=True, blank=True)
    attendees = models.TextField(_("attendees"), blank=True)
    chaired_by = models.CharField(_("chaired by"), max_length=100, blank=True)
    minutes = models.TextField(_("what was said"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    cancelled_note = models.TextField(_("why cancelled"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "state", "held_on"], name="summons_campaign_held")]
        constraints = [
            models.UniqueConstraint(
                fields=["bulletin", "unit"],
                condition=~models.Q(state="cancelled"),
                name="one_summons_per_bulletin_unit",
            )
        ]

    def __str__(self) -> str:
        return f"约谈 {self.unit_id} ({self.bulletin_id})"


class SummonsCommitment(models.Model):
    """One thing the summoned unit committed to at the 约谈, with its deadline: registered and handed down
    to the unit as a directive (``directive``), so its follow-up is the directives' own."""

    summons = models.ForeignKey(Summons, on_delete=models.CASCADE, related_name="commitments")
    seq = models.PositiveSmallIntegerField()
    text = models.TextField(_("commitment"))
    deadline = models.DateField(_("deadline"))
    directive = models.OneToOneField(
        "directives.Directive", null=True, blank=True, on_delete=models.PROTECT, related_name="commitment"
    )

    scope_via = "summons__unit"

    class Meta:
        ordering = ["seq", "id"]
        constraints = [models.UniqueConstraint(fields=["summons", "seq"], name="one_commitment_per_seq")]

    def __str__(self) -> str:
        return f"{self.summons_id}.{self.seq}"


class RecipientRole(models.TextChoices):
    MAIN = "main", _("Addressed (主送)")
    COPY = "copy", _("Copied (抄送)")


class DocumentRecipient(models.Model):
    """Where a document goes (分发): a unit of the tree — it receives the issued document in its inbox and
    acknowledges it (签收), HQ seeing who has not and chasing them (催办) — or a named outside body (区市党委、
    政府 for a 双通报), recorded as sent with the channel and the date. Chosen on the draft, fixed at issue."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="distribution")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.CharField(_("outside body"), max_length=100, blank=True)
    role = models.CharField(_("sent as"), max_length=4, choices=RecipientRole.choices, default=RecipientRole.MAIN)
    # an outside body: how and when it was sent (机要交换, 传真, 电子公文系统 …)
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # a unit: its receipt (签收) and the chases (催办) while it has none
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    chased = models.PositiveIntegerField(default=0)
    chased_at = models.DateTimeField(null=True, blank=True)
    seq = models.PositiveIntegerField(default=0)  # the order printed

    scope_via = "document__issuing_unit"

    class Meta:
        ordering = ["document", "seq", "id"]
        indexes = [models.Index(fields=["unit", "document"], name="recipient_unit")]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "unit"], condition=models.Q(unit__isnull=False), name="one_recipient_per_unit"
            ),
            models.UniqueConstraint(
                fields=["document", "body"], condition=models.Q(unit__isnull=True), name="one_recipient_per_body"
            ),
            models.CheckConstraint(
                condition=(models.Q(unit__isnull=False) & models.Q(body=""))
                | (models.Q(unit__isnull=True) & ~models.Q(body="")),
                name="recipient_unit_or_body",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} → {self.unit_id or self.body}"

    @property
    def name(self) -> str:
        return self.unit.name if self.unit_id else self.body
