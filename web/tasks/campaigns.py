"""HQ's campaigns: the list of those it runs, and one campaign's summary with its actions — copy it
into a new draft (this year's from last year's), publish a draft, close it with its final figures,
reopen it.

HQ only (the manage right somewhere, else 403); a campaign HQ does not manage is a 404, as the plans
are. Every form posts through ``web.pages.submit`` to one service of ``tasks.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from tasks.models import Campaign, CampaignStatus
from tasks.queries import progress_counts
from tasks.services.campaigns import close_campaign, copy_campaign, reopen_campaign
from tasks.services.plans import publish_campaign
from utilities.params import DateField

from ..pages import submit


class CopyForm(forms.Form):
    name = forms.CharField(max_length=200, label=gettext_lazy("New campaign's name"))
    code = forms.CharField(max_length=40, label=gettext_lazy("Code"))
    start = DateField(label=gettext_lazy("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(label=gettext_lazy("End"), widget=forms.DateInput(attrs={"type": "date"}))


class PublishForm(forms.Form):
    pass


class CloseForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=2000, label=gettext_lazy("Note (optional)"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=2000, label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


def _hq(request: HttpRequest) -> None:
    if not scope.scope_for(request.user, Action.MANAGE):
        raise PermissionDenied


def _managed(request: HttpRequest):
    return Campaign.objects.visible_to(request.user, Action.MANAGE).select_related("owner", "compare_to")


def _get(request: HttpRequest, pk: int) -> Campaign:
    _hq(request)
    return get_object_or_404(_managed(request), pk=pk)


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    """The campaigns HQ runs (those of the units it manages): status, period, the campaign compared with."""
    _hq(request)
    rows = _managed(request).order_by("-start", "code")[:200]
    return render(request, "tasks/campaigns.html", {"rows": rows})


def _page(request: HttpRequest, campaign: Campaign, status: int = 200, **bound) -> HttpResponse:
    campaign.refresh_from_db()
    work = campaign.assignments.all()
    context = {
        "campaign": campaign,
        "items": campaign.items.in_plan().filter(is_active=True).count(),
        "actions": campaign.actions.count(),
        "totals": progress_counts(work) if campaign.status != CampaignStatus.DRAFT else None,
        "summary": campaign.final_summary or None,
        "copy_form": bound.get("copy_form") or CopyForm(),
        "publish_form": bound.get("publish_form") or PublishForm(),
        "close_form": bound.get("close_form") or CloseForm(),
        "reopen_form": bound.get("reopen_form") or ReopenForm(),
        "draft": campaign.status == CampaignStatus.DRAFT,
        "published": campaign.status == CampaignStatus.PUBLISHED,
        "closed": campaign.status == CampaignStatus.CLOSED,
    }
    return render(request, "tasks/campaign.html", context, status=status)


@login_required
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign: counts, status, the campaign it is compared with, the final figures once closed,
    and the forms that copy, publish, close or reopen it."""
    return _page(request, _get(request, pk))


def _post(request: HttpRequest, campaign: Campaign, form, key: str, call) -> HttpResponse:
    """``submit`` on the campaign page: ``call(data)`` returns (message, url)."""
    return submit(request, form, call, page=lambda status, **bound: _page(request, campaign, status, **bound), key=key)


@login_required
@require_POST
def copy(request: HttpRequest, pk: int) -> HttpResponse:
    source = _get(request, pk)

    def call(data):
        new = copy_campaign(source=source, by=request.user, **data)
        message = _("Campaign %(code)s created as a draft: check its items, then publish it.") % {"code": new.code}
        return message, reverse("web:tasks-campaign", args=[new.pk])

    return _post(request, source, CopyForm(request.POST), "copy_form", call)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get(request, pk)

    def call(data):
        result = publish_campaign(campaign=campaign, by=request.user, source="web")
        message = _("Campaign published: %(n)d assignments created.") % {"n": result.created.get("assignments", 0)}
        return message, reverse("web:tasks-campaign", args=[campaign.pk])

    return _post(request, campaign, PublishForm(request.POST), "publish_form", call)


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get(request, pk)

    def call(data):
        close_campaign(campaign=campaign, by=request.user, note=data["note"])
        return _("Campaign closed: its final figures are below."), reverse("web:tasks-campaign", args=[campaign.pk])

    return _post(request, campaign, CloseForm(request.POST), "close_form", call)


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get(request, pk)

    def call(data):
        reopen_campaign(campaign=campaign, by=request.user, reason=data["reason"])
        return _("Campaign reopened."), reverse("web:tasks-campaign", args=[campaign.pk])

    return _post(request, campaign, ReopenForm(request.POST), "reopen_form", call)
