"""Refusals: the one family of the errors a service raises to refuse a request, and what each means in HTTP.

Every app's services raise a subclass of ``Refused`` with a message for the user. The class carries
its HTTP meaning — ``status_code`` (400 unless it says otherwise: 404 ``Missing``, 409 a stale version,
507 a full disk) and ``payload()``, the JSON body (``detail`` and the fields a client acts on: the
transitions allowed, the current version, the file at fault). A service refuses a right the caller
lacks with Django's ``PermissionDenied`` (403, also wherever nobody catches it), so ``REFUSALS`` is what a
view catches of a service, and ``status_of`` / ``payload_of`` answer for either.

Mapped once for the API (``ops.handlers.api_exception``, DRF's ``EXCEPTION_HANDLER``: views call the
services straight) and once for the pages (``web.views.refused``: the message, the form as typed, the
status).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


class Refused(ValueError):
    """The request is wrong by the rules (a bad state, a bad date, a unit outside the subtree …).

    A ``status_code`` of 500 or more says the server, not the request, is at fault (a full disk)."""

    status_code = 400

    def payload(self) -> dict[str, Any]:
        """The API's answer: ``detail`` says why; a subclass adds what a client acts on."""
        return {"detail": str(self)}


class Forbidden(Refused, PermissionDenied):
    """The caller lacks the right (403). Also a ``PermissionDenied``, so Django answers it as a 403
    wherever nobody catches it."""

    status_code = 403


class Missing(Refused):
    """Something the request names is missing or outside the caller's scope (the same answer for both)."""

    status_code = 404


# What a view catches of a service: the family, and the PermissionDenied services raise for a right.
REFUSALS = (Refused, PermissionDenied)


def status_of(exc: Exception) -> int:
    """The status a refusal (one of ``REFUSALS``) answers with."""
    return exc.status_code if isinstance(exc, Refused) else 403


def payload_of(exc: Exception) -> dict[str, Any]:
    """The JSON body a refusal (one of ``REFUSALS``) answers with."""
    return exc.payload() if isinstance(exc, Refused) else {"detail": str(exc)}


class InRow(Refused):
    """One row of a bulk request refused: the row's refusal with its place (its index in the body and its
    id). Raised inside the request's transaction, so that all of the request rolls back."""

    def __init__(self, refusal: Exception, *, index: int, id: int):
        super().__init__(str(refusal))
        self.refusal, self.index, self.id = refusal, index, id
        self.status_code = status_of(refusal)

    def payload(self) -> dict[str, Any]:
        body = payload_of(self.refusal)
        return {"detail": body.pop("detail"), "index": self.index, "id": self.id, **body}
