"""Error answers: a service's refusal under the API (DRF's ``EXCEPTION_HANDLER``), and the answers outside
the views — under ``/api/`` a JSON body like every other API answer, so a client (and the schema,
``ops/openapi.py``) sees one kind of 404; elsewhere Django's own page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from utilities.errors import Refused


def api_exception(exc: Exception, context: dict) -> Response | None:
    """A refusal (``utilities.errors``) as its status and body, so the views call services straight; anything
    else (a bare PermissionDenied too) as DRF answers it."""
    if isinstance(exc, Refused):
        set_rollback()  # as DRF does for its own refusals: a no-op unless ATOMIC_REQUESTS
        return Response(exc.payload(), status=exc.status_code)
    return exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A path no route matches (/api/v1/units/1.5/) says what a missing id says: DRF's "未找到。"
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": str(NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.page_not_found(request, exception)
