"""Error answers outside the views: under ``/api/`` a JSON body like every other API answer, so a
client (and the schema, ``ops/openapi.py``) sees one kind of 404; elsewhere Django's own page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A path no route matches (/api/v1/units/1.5/) says what a missing id says: DRF's "未找到。"
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": str(NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.page_not_found(request, exception)
