"""What every page module shares: the landing page, the page size, and ``submit`` — the one way a
page's form reaches its service (a refusal is shown on the page with what was typed kept, never a 500).

The pages themselves are one module (or package) per domain, named after its app: ``tasks``,
``inspections/``, ``notifications``, ``stats``, ``boards``, ``accounts``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts import scope
from accounts.models import Role
from accounts.scope import Action
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
