"""Refusals: the one family of the errors a service raises to refuse a request, and what each means in HTTP.

Every app's services raise a subclass of ``Refused`` with a message for the user. The class carries
its HTTP meaning — ``status_code`` (400 unless it says otherwise: 404 ``Missing``, 409 a stale version,
507 a full disk) and ``payload()``, the JSON body (``detail`` and the fields a client acts on: the
transitions allowed, the current version, the file at fault). A right the caller lacks is ``Forbidden``
(403), which is also Django's ``PermissionDenied``, so it is a 403 wherever nobody catches it. A view
catches ``Refused`` of a service, and nothing else.

Mapped once for the API (``ops.handlers.api_exception``, DRF's ``EXCEPTION_HANDLER``: views call the
services straight) and once for the pages (``web.pages.refused``: the message, the form as typed, the
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


class InRow(Refused):
    """One row of a bulk request refused: the row's refusal with its place (its index in the body and its
    id). Raised inside the request's transaction, so that all of the request rolls back."""

    def __init__(self, refusal: Refused, *, index: int, id: int):
        super().__init__(str(refusal))
        self.refusal, self.index, self.id = refusal, index, id
        self.status_code = refusal.status_code

    def payload(self) -> dict[str, Any]:
        body = self.refusal.payload()
        return {"detail": body.pop("detail"), "index": self.index, "id": self.id, **body}


class RowsRefused(InRow):
    """Several rows of a bulk request refused, all of them named: the first one's answer (its index, id and
    status, as ``InRow``) and every refused row under ``rows``, so a page can say what was wrong with each."""

    def __init__(self, rows: list[InRow]):
        first = rows[0]
        super().__init__(first.refusal, index=first.index, id=first.id)
        self.rows = rows

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "rows": [row.payload() for row in self.rows]}
