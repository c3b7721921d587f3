"""What every page module shares: the landing page, the page size, a list page's start (``list_query``) and
its page (``paged``), and ``submit`` — the one way a page's form reaches its service (a refusal is shown on
the page with what was typed kept, never a 500).

The pages themselves are one module (or package) per domain, named after its app: ``tasks``,
``inspections/``, ``notifications``, ``stats``, ``boards``, ``accounts``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts import scope
from accounts.models import Role
from accounts.scope import Action
from tasks.models import Campaign
from tasks.queries import campaigns_for
from utilities.errors import Refused

from . import labels

PAGE_SIZE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own work: leads on their tasks, HQ on what awaits acceptance, leaders on
    their landing page (领导首页), inspectors on their inspections."""
    user = request.user
    if scope.scope_for(user, Action.REPORT):
        return redirect("web:tasks-my")
    if scope.scope_for(user, Action.MANAGE):
        return redirect("web:tasks-review")
    if scope.of_role(user, Role.LEADER):
        return redirect("web:boards-leader")
    if scope.scope_for(user, Action.INSPECT):
        return redirect("web:inspections")
    return redirect("web:tasks-items")


def list_query(request: HttpRequest, query: type[forms.Form]) -> tuple[dict, list[Campaign], Campaign | None]:
    """A list page's start (the documents, 约谈, the archive): 403 to a user who sees no unit; what the
    ``query`` form reads of ``?…`` (nothing at all when a field is malformed); the campaigns the user sees,
    newest first (the page's picker); and the one ``?campaign=`` names among them, else None."""
    user = request.user
    if not scope.scope_for(user, Action.VIEW):
        raise PermissionDenied
    form = query(request.GET)
    asked = form.cleaned_data if form.is_valid() else {}
    campaigns = list(campaigns_for(user).order_by("-start", "-id"))
    campaign = next((c for c in campaigns if c.pk == asked.get("campaign")), None)
    return asked, campaigns, campaign


def paged(request: HttpRequest, rows) -> Page:
    """The page of ``rows`` that ``?page=`` names, ``PAGE_SIZE`` rows a page (Django's ``get_page``: the
    first for a malformed number, the last past the end)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def refused(request: HttpRequest, exc: Refused) -> int:
    """A service's refusal (``utilities.errors.Refused``) on a page: its words as the page's error message.
    Returns the status the page answers with, the refusal's own: 400, 403 without the right, 409 on a
    stale version, 507 on a full disk (the form comes back as typed)."""
    messages.error(request, labels.refusal(exc))
    return exc.status_code


def submit(request: HttpRequest, form, call, *, page, key: str) -> HttpResponse:
    """Validate ``form`` and run ``call(data)``, which returns ``(message, url)``. A refusal renders
    ``page(status, **{key: form})`` again with the message and the form as typed; success redirects
    to ``url`` with the message. Every form of the pages posts through here."""
    if not form.is_valid():
        return page(400, **{key: form})
    try:
        message, url = call(form.cleaned_data)
    except Refused as exc:
        return page(refused(request, exc), **{key: form})
    messages.success(request, message)
    return redirect(url)
