"""The OpenAPI schema's refusals, declared once for every operation (``DEFAULT_SCHEMA_CLASS``).

drf-spectacular documents what a view answers when it succeeds. The refusals are the same all over
the API, because they come from DRF and from the project's rules: 400 naming the fields at fault (or
the rule, ``utilities.errors.Refused``), 403 when not signed in or without the right, 404 for an id or page
that does not exist or lies outside the caller's scope (the same answer for both, so nothing is
disclosed), 415 for a body in a media type the operation does not read. ``AutoSchema`` adds each of them to the operations where it can happen, with its body,
so that every answer the API gives is declared (``tests/fuzz/test_api_fuzz.py`` holds it to that).
A view declares the rest itself (409 on a stale version, a 404 for a campaign named in the body …)
with ``extend_schema(responses=…)``; a declared refusal without a body gets the standard one here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from utilities import uploads

# What a stored upload is served as: the type utilities.uploads.sniff found in its bytes.
IMAGE_AND_PDF_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf")
UPLOAD_TYPES = (
    *IMAGE_AND_PDF_TYPES,
    *uploads.OLE_TYPES.values(),
    *(content_type for content_type, _extension in uploads.OOXML.values()),
)

# The answer of every refusal but a 400: one sentence for the user, sometimes with what to do next
# (the transitions allowed, the current version, the row of a bulk request that was refused).
ERROR_SCHEMA = {
    "type": "object",
    "description": "A refusal: ``detail`` says why, in the user's language.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}
# A 400: the fields at fault with their messages (``{"field": ["…"]}``, nested for nested fields),
# ``detail`` for a rule, ``problems`` for a file; a list of those for a list body (bulk requests), or
# of bare messages when the query is at fault as a whole (a search term with a NUL character).
VALIDATION_SCHEMA = {
    "description": "The request is wrong: each field at fault with its messages, or ``detail`` for a rule.",
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]}},
    ],
}
DESCRIPTIONS = {
    "400": "请求有误 · The request is invalid: the fields at fault, or the rule refusing it",
    "403": "未登录或无权操作 · Not signed in, or in scope without the right",
    "404": "不存在或不在您的职责范围内 · Missing, or out of the caller's scope (the same answer)",
    "409": "已被他人修改或尚未就绪 · Changed meanwhile (stale version), or not ready",
    "415": "不支持的请求格式 · A body in a media type the operation does not read (or none given)",
    "429": "尝试过于频繁 · Too many attempts: locked for a while",
}
UNCHECKED = {"page", "ordering"}  # query parameters that never make a 400 (a bad page is a 404, a bad order ignored)


def refusal(code: int, description: str = "") -> OpenApiResponse:
    """A refusal a view declares itself (409, a 404 for a reference in the body …), with its reason."""
    return OpenApiResponse(description=description or DESCRIPTIONS[str(code)])


def download_responses(content_types: Iterable[str]) -> dict:
    """The answer of a download: the file as an attachment, in the type it was stored with."""
    return {(200, *content_types): OpenApiTypes.BINARY}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        codes = set()
        if "requestBody" in operation or query - UNCHECKED:
            codes.add("400")
        if "requestBody" in operation:
            codes.add("415")
        if self.view.get_permissions():
            codes.add("403")
        if any(p["in"] == "path" for p in parameters) or "page" in query:
            codes.add("404")
        responses = operation["responses"]
        for code in sorted(codes | {c for c in responses if c in DESCRIPTIONS}):
            answer = responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            if not answer.get("content"):
                schema = self._component("ValidationError" if code == "400" else "Error")
                answer["content"] = {"application/json": {"schema": schema}}
        return operation

    def _component(self, name: str) -> dict[str, Any]:
        schema = VALIDATION_SCHEMA if name == "ValidationError" else ERROR_SCHEMA
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref
