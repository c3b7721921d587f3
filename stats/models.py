"""Results statistics (战果统计): the numbers each unit reports upward during a campaign.

A campaign has a catalogue of indicators (出动警力人次, 检查场所家次 …) and may have rounds of
concentrated operations (集中统一行动, fixed date windows). A unit reports one figure per indicator and
day; during a round it reports the round's totals once, dated the round's last day (see
``stats.services``). Totals roll up the unit tree by path prefix (``stats.queries``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ScopedQuerySet, Unit
from tasks.models import Campaign


class Indicator(models.Model):
    """One line of the results statistics of a campaign, e.g. 查处违法行为 (起)."""

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

    scope_via = "campaign__owner"
    scope_seen_from_below = True  # as its campaign

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["campaign", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="uniq_indicator_code"),
            models.UniqueConstraint(fields=["campaign", "name"], name="uniq_indicator_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.measure}）"


class Round(models.Model):
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
        ordering = ["campaign", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="round_period"),
            models.UniqueConstraint(fields=["campaign", "name"], name="uniq_round_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Figure(models.Model):
    """One unit's number for one indicator on one day (or, dated its last day, for one round)."""

    # campaign is the indicator's, copied so the totals filter one indexed column instead of a join
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, editable=False)
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="figures", db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="figures", db_index=False)
    day = models.DateField(_("day"))
    value = models.PositiveIntegerField(_("value"))
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
        constraints = [models.UniqueConstraint(fields=["unit", "indicator", "day"], name="uniq_figure")]
        indexes = [
            models.Index(fields=["campaign", "day"], name="figure_campaign_day"),
            # the few figures HQ entered for a unit (含代填 on the totals): counted without reading the rest
            models.Index(fields=["campaign", "day"], condition=models.Q(on_behalf=True), name="figure_on_behalf"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.indicator} · {self.day}: {self.value}"
