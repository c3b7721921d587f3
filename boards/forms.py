"""What a board is asked for (campaign, unit, action, due by), checked once for the page and the API:
out of scope is a 404, malformed (a date outside ``utilities.params``' range included) is a 400 saying which
parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import forms
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import scope
from accounts.models import Unit
from stats.models import Round
from stats.queries import MONTH, SINCE, WEEK, Window, period_window, window
from tasks.models import Campaign, CampaignStatus, LineOfAction
from tasks.queries import campaigns_for
from utilities.params import CodeField, DateField, IdField

from .queries import default_unit


class BoardForm(forms.Form):
    campaign = IdField(label=_("Campaign"))
    unit = CodeField(label=_("Unit"), help_text=_("Unit code"))
    action = IdField(label=_("Line of action"))
    due_by = DateField(label=_("Due by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class StatsForm(BoardForm):
    """The statistics' window: a round, a period (行动以来 to ``end``, the week or the month holding
    ``end``), or from–to (default: the campaign so far)."""

    round = IdField(label=_("Operation round"))
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("", _("Dates below")),
            (SINCE, _("Since the campaign began")),
            (WEEK, _("Week")),
            (MONTH, _("Month")),
        ],
    )
    # bounded (utilities.params): 同比 reads a year before the window, 环比 the window before it
    start = DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end is before the start."))
        return data


@dataclass
class Asked:
    campaigns: list[Campaign]
    campaign: Campaign | None
    unit: Unit | None
    action: LineOfAction | None
    due_by: date | None
    window: Window | None = None


def _window(campaign: Campaign, d: dict) -> Window | None:
    if "round" not in d:
        return None
    if d["round"]:
        # the campaign's rounds at once (few): 环比 then finds the round before among them (``previous_window``);
        # in the model's order within one campaign, without its join of the campaign
        prefetch_related_objects([campaign], Prefetch("rounds", Round.objects.order_by("start", "pk")))
        chosen = next((r for r in campaign.rounds.all() if r.pk == d["round"]), None)
        if chosen is None:
            raise Http404
        return window(campaign, round=chosen)
    if d.get("period"):
        return period_window(campaign, d["period"], d["end"] or min(timezone.localdate(), campaign.end))
    return window(campaign, start=d["start"], end=d["end"], today=timezone.localdate())


def asked(user, data, form_class: type[BoardForm] = BoardForm) -> tuple[BoardForm, Asked | None]:
    """The form and what it asks, or ``None`` when it is malformed (see ``form.errors``)."""
    form = form_class(data)
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    campaigns = list(
        campaigns_for(user)
        .exclude(status=CampaignStatus.DRAFT)
        .select_related("owner", "compare_to")  # the owner's name on every board, 同比's campaign on the statistics
        .order_by("-start")
    )
    if d["campaign"]:
        campaign = next((c for c in campaigns if c.pk == d["campaign"]), None)
        if campaign is None:
            raise Http404
    else:
        campaign = campaigns[0] if campaigns else None
    if campaign is None:
        return form, Asked(campaigns, None, None, None, None)
    if d["unit"]:
        unit = scope.units(user).filter(code=d["unit"]).first()
        if unit is None:
            raise Http404
    else:
        unit = default_unit(user, campaign)
    action = None
    if d["action"]:
        action = campaign.actions.filter(pk=d["action"]).first()
        if action is None:
            raise Http404
    return form, Asked(campaigns, campaign, unit, action, d["due_by"], _window(campaign, d))
