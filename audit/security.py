"""Security events: sign-ins and refusals. Sign-ins reach us only through Django's and django-axes'
signals, so those are the hooks here (connected in ``AuditConfig.ready``)."""

from __future__ import annotations

from django.http import HttpRequest

from .models import SecurityEvent
from .origin import client_ip

Kind = SecurityEvent.Kind


def record(kind: str, request: HttpRequest | None, *, user=None, username: str = "", status: int | None = None):
    meta = request.META if request is not None else {}
    if user is not None and not user.is_authenticated:
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        unit_id=getattr(user, "unit_id", None),
        address=(client_ip(request) if request is not None else "")[:64],
        method=getattr(request, "method", "") or "",
        path=(getattr(request, "path", "") or "")[:300],
        status=status,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:200],
    )


def record_refusal(request: HttpRequest, status: int) -> SecurityEvent:
    return record(Kind.REFUSED, request, user=request.user, status=status)


def signed_in(sender, request, user, **kwargs):
    record(Kind.SIGNED_IN, request, user=user)


def signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(Kind.SIGNED_OUT, request, user=user)


def sign_in_failed(sender, credentials, request=None, **kwargs):
    record(Kind.SIGN_IN_FAILED, request, username=credentials.get("username", ""))


def locked_out(sender, request, username, ip_address, **kwargs):
    record(Kind.LOCKED_OUT, request, username=username or "", status=429)
