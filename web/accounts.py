"""The signed-in user's own account page: its API tokens, seen and revoked."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts import services, tokens


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """GET: the user's API tokens (first characters, issued, expiry); POST: revoke them (audited)."""
    if request.method == "POST":
        n = services.revoke_tokens(user=request.user, by=request.user, reason="revoked_by_owner", source="page")
        messages.success(request, _("API token revoked.") if n else _("You have no API token."))
        return redirect("web:accounts-tokens")
    rows = [
        {"prefix": t.key[:6], "created": t.created, "expires": tokens.expires(t), "expired": tokens.is_expired(t)}
        for t in Token.objects.filter(user=request.user).order_by("created")
    ]
    return render(request, "accounts/tokens.html", {"tokens": rows, "ttl_hours": settings.API_TOKEN_TTL_HOURS})
