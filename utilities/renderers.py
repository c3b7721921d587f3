"""The API's JSON written by orjson (docs/cpu.md, "JSON written by orjson").

DRF's ``JSONRenderer`` writes through the standard library's encoder, calling its Python ``default`` for
every date, decimal and lazy string: a lead's list of 50 rows (36 KB) took 0.33 ms to write, a tenth of
the request's CPU; orjson writes the same bytes in 0.05 ms. This renderer is DRF's with orjson doing the
writing: what orjson does not write itself — dates and times (passed through, so they read as DRF writes
them: ``Z`` for UTC, milliseconds), decimals, lazy strings, anything else — goes to DRF's encoder's
``default``; a subclass of a built-in type (a form's error list keeps its items apart from the list's own
storage, which orjson would read) as that type; U+2028/U+2029 escaped as DRF does; pretty-printing (``; indent=``, the browsable API) and
anything orjson refuses (an integer past 64 bits) written by DRF's own renderer. One difference: a float
that is not a number is written ``null`` where DRF refuses it.
"""

from __future__ import annotations

import orjson
from rest_framework import renderers

# subclasses of the built-in types come to ``_default``: orjson would read a list subclass's own storage, and
# Django's ErrorList (a UserList and a list) keeps its items elsewhere — a form's errors came out as []
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NON_STR_KEYS


def _default(encoder):
    """What orjson hands back: a built-in type's subclass as that type (a choice, an error's text, DRF's
    answers' dicts and lists, a form's errors, a named tuple), anything else as DRF's encoder writes it."""

    def default(value):
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, dict):
            return dict(value)
        if isinstance(value, (list, tuple)):
            return list(value)
        return encoder.default(value)

    return default


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=_default(self.encoder_class()), option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in written or b"\xe2\x80\xa9" in written:
            written = written.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return written
