"""Where a change or a sign-in came from: the client's address, kept for the length of a request so the
audit trail records it without every service taking a ``source`` argument."""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest

_origin: ContextVar[str] = ContextVar("audit_origin", default="")


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the address the
    nearest untrusted hop gave (each proxy appends the address it saw, so the right end is trusted)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def current() -> str:
    """The address of the request being served in this thread, or "" (a command, a Celery job)."""
    return _origin.get()


class bound:
    """``with bound(ip): …`` — the origin for the changes made inside."""

    def __init__(self, origin: str):
        self.origin = origin

    def __enter__(self):
        self.token = _origin.set(self.origin)

    def __exit__(self, *exc):
        _origin.reset(self.token)
