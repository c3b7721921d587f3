"""Records where each request came from (for the audit trail) and every refused authorisation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from . import origin
from .security import record_refusal

# 401/403 are refusals; a 404 from a view that matched (an object id out of scope looks exactly like
# one that does not exist) is one too when someone signed in asked: that is how guessing ids shows.
REFUSED = {401, 403}


class SecurityEventMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with origin.bound(origin.client_ip(request)):
            response = self.get_response(request)
        status = response.status_code
        if status in REFUSED or (
            status == 404 and request.resolver_match is not None and request.user.is_authenticated
        ):
            record_refusal(request, status)
        return response
