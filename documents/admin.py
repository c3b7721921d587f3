"""The documents' rows the admin shows for reading (a superuser's, unless a role is given their view
permission): a document's distribution (分发, 签收, 催办), the 约谈 and what was committed at them. Each
changes only through its service — ``distribution.set_recipients`` / ``acknowledge`` / ``chase`` /
``record_sent``, ``summons.summon_units`` / ``hold_summons`` / ``cancel_summons`` — so nothing is added,
changed or deleted here; the lists are scoped like every admin list (``utilities.adminkit``)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from utilities.adminkit import ReadOnlyAdminMixin, ScopedAdminMixin

from .models import DocumentRecipient, Summons, SummonsCommitment


@admin.register(DocumentRecipient)
class DocumentRecipientAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """One recipient of a document: a unit with its receipt and chases, or an outside body recorded as sent
    (seen through the issuing unit, the model's ``scope_via``)."""

    list_display = [
        "document",
        "recipient",
        "role",
        "acknowledged_at",
        "acknowledged_by",
        "chased",
        "chased_at",
        "channel",
        "sent_on",
    ]
    list_filter = ["role", ("acknowledged_at", admin.EmptyFieldListFilter), "document__kind"]
    search_fields = ["document__number", "document__title", "unit__name", "unit__code", "body"]
    list_select_related = ["document", "unit", "acknowledged_by"]

    @admin.display(description=_("recipient"))
    def recipient(self, obj: DocumentRecipient) -> str:
        return obj.name


class CommitmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SummonsCommitment
    extra = 0
    fields = ["seq", "text", "deadline", "directive"]
    show_change_link = True


@admin.register(Summons)
class SummonsAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """约谈 of a unit named in an issued bulletin: seen with the view right over the unit summoned."""

    list_display = ["unit", "campaign", "bulletin", "state", "scheduled_at", "held_on", "chaired_by"]
    list_filter = ["state", ("campaign", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["unit__name", "unit__code", "reasons", "bulletin__number", "place"]
    list_select_related = ["unit", "campaign", "bulletin"]
    date_hierarchy = "scheduled_at"
    inlines = [CommitmentInline]


@admin.register(SummonsCommitment)
class SummonsCommitmentAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """What a summoned unit committed to, and the directive it became (seen through the summons' unit)."""

    list_display = ["summons", "seq", "text", "deadline", "directive"]
    search_fields = ["text", "summons__unit__name"]
    list_select_related = ["summons", "summons__unit", "directive__item"]
