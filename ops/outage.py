"""Outages answered cleanly: the database out of reach is a 503 with Retry-After, a full disk a 507.

While PostgreSQL restarts or fails over, a request cannot connect or has its connection cut. Django
would answer 500 (an HTML page, even to the API); here it is 503 — JSON ``{"detail": …}`` under
``/api/``, a short Chinese page elsewhere — with ``Retry-After``, so clients and monitoring can tell
an outage from a bug and nothing of the error leaves the server (the trace goes to the log).

Only the errors of an unreachable or restarting server: ``OperationalError`` (cannot connect,
connection terminated, server shutting down) and ``InterfaceError`` (connection already closed).
The transaction of a cut request is rolled back by PostgreSQL, so nothing of it was written — except
when the connection broke during COMMIT itself, or on a read after the service committed (the answer's
serializer): then the write is there and the client cannot know (tests/faults/test_db_restart.py counts
these: 2–6 of ~1,000 refusals in its long run), so the message asks to look before sending again. The app
reconnects by itself once the server is back: ``CONN_MAX_AGE`` with ``conn_health_checks`` drops a dead
persistent connection at the start of the next request.

A full disk is refused where files are stored (``utilities.storage.StorageFull``: the services and forms
show the message, 507); what escapes them — the upload's temporary file on a full ``/tmp``, read by
the view — gets the same 507 and message here.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from utilities.storage import FULL, StorageFull

log = logging.getLogger("ops.outage")

RETRY_AFTER_SECONDS = 5
# not "nothing was saved": a write whose connection broke at COMMIT, or on a read after it, may be there
DATABASE_DOWN = "数据库暂时无法访问，请稍后重试。如刚才提交过内容，请先刷新查看是否已保存，再决定是否重新提交。"
PAGE = (
    '<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1><p>{message}</p><p>如持续出现，请联系系统管理员。</p></body></html>"
)


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return outage_answer(request, exc)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: what escaped the views and ``process_exception`` — the database lost in a
    middleware (the session saved, a refusal recorded), the form read by the CSRF check before any view
    onto a full ``/tmp`` — gets the same answers; anything else is Django's plain 500."""
    exc = sys.exc_info()[1]
    return (outage_answer(request, exc) if isinstance(exc, Exception) else None) or defaults.server_error(request)


def outage_answer(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    if isinstance(exc, (OperationalError, InterfaceError)):
        log.warning("database unavailable: %s %s", request.method, request.path, exc_info=exc)
        response = _answer(request, 503, "服务暂时不可用", DATABASE_DOWN)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, StorageFull) or (isinstance(exc, OSError) and exc.errno in FULL):
        log.error("storage full: %s %s", request.method, request.path, exc_info=exc)
        return _answer(request, 507, "存储空间已满", StorageFull().message)
    return None


def _answer(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = HttpResponse(PAGE.format(title=title, message=message), status=status)
    response["Cache-Control"] = "no-store"
    return response
