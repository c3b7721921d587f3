"""``/api/schema/`` built once per process (issue 23): drf-spectacular generates the schema on every
request and has no setting to keep it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_LANGUAGES = {code for code, _name in settings.LANGUAGES}
_built: dict[tuple[str | None, str | None, str], tuple[bytes, str]] = {}  # (language, version, type)


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: drf-spectacular generates the schema on every request (0.25–0.42 s at province
    scale) and has no setting to keep it; it only changes with the code, so it is generated once per
    process per language (``?lang=``, the chosen language), API version and format (JSON, YAML),
    rendered, then served from memory.
    It is public (``SERVE_PUBLIC``): the same for every caller, so one copy serves all."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        language = translation.get_language()
        renderer = request.accepted_renderer
        key = (language, version, renderer.media_type)
        kept = _built.get(key)
        if kept is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            response = Response(data=generator.get_schema(request=request, public=self.serve_public))
            # rendered here, once: the YAML's rendering alone costs 100 ms
            response.accepted_renderer = renderer
            response.accepted_media_type = request.accepted_media_type
            response.renderer_context = self.get_renderer_context()
            response.render()
            kept = (response.content, response["Content-Type"])
            if language in _LANGUAGES:  # any ``?lang=`` is honoured, but only ours are kept
                _built[key] = kept
        content, content_type = kept
        answer = HttpResponse(content, content_type=content_type)
        answer["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return answer


@receiver(setting_changed)
def _forget_schema(**kwargs: Any) -> None:
    # a test that overrides a setting may change what the schema says
    _built.clear()
