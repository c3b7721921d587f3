"""Results statistics (战果统计): the numbers each unit reports upward during a campaign.

A campaign has a catalogue of indicators (出动警力人次, 检查场所家次 …) and may have rounds of
concentrated operations (集中统一行动, fixed date windows). A unit reports one figure per indicator and
day; during a round it reports the round's totals once, dated the round's last day (see
``stats.services``). Totals roll up the unit tree by path prefix (``stats.queries``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit
from tasks.models import Campaign
from utilities.models import FastLoad


class Kind(models.TextChoices):
    """What an indicator's figures are (docs/figures.md)."""

    COUNT = "count", _("count")  # whole numbers: 人次, 起, 名
    QUANTITY = "quantity", _("quantity")  # decimals in the unit of measure: 克, 公斤, 公里
    MONEY = "money", _("money")  # stored in 元, entered and shown in the measure: 元, 万元, 亿元
    RATE = "rate", _("rate")  # numerator ÷ denominator, or entered per unit in percent


# money: the display units an indicator may choose, and how many 元 each is
MONEY_UNITS = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


class Indicator(FastLoad, models.Model):
    """One line of the results statistics of a campaign, e.g. 查处违法行为 (起), 缴获毒品 (克),
    涉案资金 (万元), 破案率 (破案数 ÷ 立案数)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("campaign")
    )
    code = models.SlugField(
        _("code"), max_length=40, help_text=_("Matches the same indicator of an earlier campaign (同比)")
    )
    name = models.CharField(_("name"), max_length=60)
    measure = models.CharField(_("unit of measure"), max_length=10, help_text=_("人次, 家次, 起, 名, 处, 份 …"))
    seq = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("reported"), default=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COUNT)
    # a computed rate: numerator ÷ denominator, both indicators of the same campaign; none: entered per unit.
    # RESTRICT: a part is not deleted while a rate divides by it, but goes with its campaign (cascade)
    numerator = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="+", verbose_name=_("numerator")
    )
    denominator = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="+", verbose_name=_("denominator")
    )
    up_is_good = models.BooleanField(
        _("up is good"), default=True, help_text=_("查处, 抓获: yes; 警情, 发案: no (the 同比 words and colours)")
    )

    scope_via = "campaign__owner"
    scope_seen_from_below = True  # as its campaign

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["-campaign_id", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="uniq_indicator_code"),
            models.UniqueConstraint(fields=["campaign", "name"], name="uniq_indicator_name"),
            # a rate's parts come together, and only a rate has them
            models.CheckConstraint(
                condition=models.Q(numerator__isnull=True, denominator__isnull=True)
                | models.Q(kind="rate", numerator__isnull=False, denominator__isnull=False),
                name="indicator_rate_parts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.measure}）"

    @property
    def computed(self) -> bool:
        """A rate computed from its parts: never reported, never stored."""
        return self.kind == Kind.RATE and self.numerator_id is not None

    @property
    def summed(self) -> bool:
        """Its figures add up over units and days (not a rate)."""
        return self.kind != Kind.RATE

    @property
    def scale(self) -> Decimal:
        """How many stored units one entered/shown unit is (万元: 10,000 元); 1 but for money."""
        return MONEY_UNITS.get(self.measure, Decimal(1)) if self.kind == Kind.MONEY else Decimal(1)


class Round(FastLoad, models.Model):
    """A round of concentrated operations (集中统一行动), e.g. 第一轮 7月7日至9日: every unit acts at once
    and reports the round's totals."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("campaign"))
    name = models.CharField(_("name"), max_length=60)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))

    scope_via = "campaign__owner"
    scope_seen_from_below = True  # as its campaign

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-campaign_id", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="round_period"),
            models.UniqueConstraint(fields=["campaign", "name"], name="uniq_round_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Figure(FastLoad, models.Model):
    """One unit's number for one indicator on one day (or, dated its last day, for one round)."""

    # campaign is the indicator's, copied so the totals filter one indexed column instead of a join
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, editable=False)
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="figures", db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="figures", db_index=False)
    day = models.DateField(_("day"))
    # exact: a count's whole number, a quantity in its measure, money in 元, an entered rate in percent
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    # entered by HQ for the unit (代填: figures an office compiles from phone calls and paper), set by
    # the service from the reporter's rights, never by the client
    # db_default: rows written by COPY or raw SQL (the benchmarks, imports to come) are the unit's own
    on_behalf = models.BooleanField(_("entered by HQ"), default=False, db_default=False, editable=False)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        constraints = [
            models.UniqueConstraint(fields=["unit", "indicator", "day"], name="uniq_figure"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="figure_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["campaign", "day"], name="figure_campaign_day"),
            # the few figures HQ entered for a unit (含代填 on the totals): counted without reading the rest
            models.Index(fields=["campaign", "day"], condition=models.Q(on_behalf=True), name="figure_on_behalf"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.indicator} · {self.day}: {self.value}"
