"""The notifications pages: a user's inbox of reminders and own settings, HQ's outbox (what was
sent to whom and when, what failed, what is queued) with the retry of dead letters, and a campaign's
reminder rules (HQ over its owner: ``notifications.policies``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from notifications import inbox as notifications
from notifications import outbox, policies
from notifications.models import Audience, Message, MessageStatus
from tasks.models import Campaign, CampaignStatus

from .forms import WEEKDAYS, OutboxFilterForm, PolicyForm, PolicyResetForm, PreferenceForm, RetryForm
from .pages import submit

PAGE_SIZE = 50


# --- Inbox ----------------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's own reminders (督办提醒), newest first, the unread ones marked."""
    page = Paginator(notifications.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for m in page:
        m.link = notifications.link(m)
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a message: it is marked read and the user goes to what it is about."""
    message = notifications.inbox(request.user).filter(pk=pk).first()
    if message is None:
        raise Http404
    notifications.mark_read(messages=Message.objects.filter(pk=message.pk))
    return redirect(notifications.link(message) or reverse("web:notifications-inbox"))


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    notifications.mark_read(messages=notifications.inbox(request.user))
    return redirect("web:notifications-inbox")


# --- Settings and the outbox ------------------------------------------------------------------------


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    pref, weekly = outbox.preference(user), outbox.takes_weekly(user)

    def page(status: int = 200, form=None) -> HttpResponse:
        context = {
            "form": form or PreferenceForm(initial=PreferenceForm.initial_of(pref)),
            "weekly_offered": weekly,
            "webhook_ready": bool(settings.NOTIFY_WEBHOOK_URL),
        }
        return render(request, "notifications/preferences.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        choices = {k: data[k] for k in ("email", "webhook", "digest")}
        if weekly:
            choices["weekly"] = data["weekly"]
        outbox.save_preference(by=user, **choices)
        return _("Settings saved."), reverse("web:notifications-preferences")

    return submit(request, PreferenceForm(request.POST), call, page=page, key="form")


def _manager(request: HttpRequest) -> None:
    if not scope.scope_for(request.user, Action.MANAGE):
        raise PermissionDenied


def _filtered(request: HttpRequest):
    form = OutboxFilterForm(request.GET or None)
    rows = outbox.messages_for(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            rows = rows.filter(Q(recipient__name__icontains=data["q"]) | Q(recipient__username__icontains=data["q"]))
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["channel"]:
            rows = rows.filter(channel=data["channel"])
        if data["about"] == "digest":
            rows = rows.filter(digest__isnull=False)
        elif data["about"]:
            rows = rows.filter(reminder__subject_type=data["about"])
    return form, rows


@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """HQ's outbox over its units: counts per status, the messages newest first, filters."""
    _manager(request)
    form, rows = _filtered(request)
    context = {
        "form": form,
        "counts": outbox.status_counts(outbox.messages_for(request.user)),
        "statuses": MessageStatus,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "notifications/outbox.html", context)


@login_required
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    message = get_object_or_404(outbox.messages_for(request.user), pk=pk)
    context = {"m": message, "attempts": message.deliveries.all()}
    return render(request, "notifications/message.html", context)


@login_required
@require_POST
def outbox_retry(request: HttpRequest) -> HttpResponse:
    """Queue again the dead letters shown by the filter (or the one message posted as ``message``)."""
    _manager(request)
    _form, rows = _filtered(request)
    retry = RetryForm(request.POST)
    one = retry.cleaned_data["message"] if retry.is_valid() else None
    if one is not None:
        rows = rows.filter(pk=one)
    elif request.POST.get("message"):  # malformed: retry nothing rather than every message the filter shows
        rows = rows.none()
    n = outbox.retry_messages(messages=rows, by=request.user)
    messages.success(request, _("%(n)d message(s) queued again.") % {"n": n})
    if one is not None:
        return redirect("web:notifications-outbox-message", one)
    return redirect(f"{reverse('web:notifications-outbox')}?{request.GET.urlencode()}")


# --- A campaign's reminder rules ------------------------------------------------------------------------


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    """HQ over the campaign's owner (403 without the manage right anywhere; 404 for one it does not run)."""
    _manager(request)
    return get_object_or_404(Campaign.objects.visible_to(request.user, Action.MANAGE).select_related("owner"), pk=pk)


def _policy_page(request: HttpRequest, campaign: Campaign, status: int = 200, **bound) -> HttpResponse:
    rules, own = policies.in_force(campaign)
    values = policies.values_of(rules)
    weekdays = dict(WEEKDAYS)
    context = {
        "campaign": campaign,
        "own": own,
        "values": values,
        "ladder": [{"day": r["day"], "who": Audience(r["audience"]).label} for r in values["ladder"]],
        "weekday": weekdays.get(values["behind_weekday"], values["behind_weekday"]),
        "form": bound.get("form") or PolicyForm(initial=PolicyForm.initial_of(values)),
        "reset_form": bound.get("reset_form") or PolicyResetForm(),
        "closed": campaign.status == CampaignStatus.CLOSED,
    }
    return render(request, "notifications/policy.html", context, status=status)


@login_required
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign's reminder rules in force — its own, else the default's, said so — and the form that
    saves its own (``policies.save_policy``)."""
    campaign = _campaign(request, pk)
    if request.method != "POST":
        return _policy_page(request, campaign)
    form = PolicyForm(request.POST)

    def call(data):
        policies.save_policy(campaign=campaign, by=request.user, **form.rules())
        return _("Reminder rules saved: they apply from the next sweep."), reverse(
            "web:notifications-policy", args=[pk]
        )

    return submit(
        request, form, call, page=lambda status, **b: _policy_page(request, campaign, status, **b), key="form"
    )


@login_required
@require_POST
def policy_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Back to the default rules: the campaign's own are deleted (``policies.reset_policy``)."""
    campaign = _campaign(request, pk)

    def call(data):
        done = policies.reset_policy(campaign=campaign, by=request.user)
        message = (
            _("The campaign follows the default rules again.")
            if done
            else _("The campaign already follows the default rules.")
        )
        return message, reverse("web:notifications-policy", args=[pk])

    page = lambda status, **b: _policy_page(request, campaign, status, **b)  # noqa: E731
    return submit(request, PolicyResetForm(request.POST), call, page=page, key="reset_form")
