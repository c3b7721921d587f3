"""What the API's viewsets over one kind of scoped row share (directives, documents, 约谈, risk letters):

- ``WHOLE``: the keywords of an action on one object (``@action(detail=True, **WHOLE)``) — no paging and
  none of the list's filters in its schema or its answer;
- ``DetailAnswers``: the list in its short serializer, every other action in the detail one, and each
  write answered with the object read again through ``get_queryset`` (the caller's scope: what the caller
  now sees of it, never the service's in-memory row).
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.serializers import Serializer

WHOLE = {"pagination_class": None, "filter_backends": []}


class DetailAnswers:
    # Mixed into a GenericViewSet, which sets ``list_serializer_class`` and ``detail_serializer_class``.
    # No docstring: drf-spectacular describes an operation by the first docstring of the view's classes,
    # and DirectiveViewSet has none of its own (its schema stays as it was).

    list_serializer_class: type[Serializer]
    detail_serializer_class: type[Serializer]

    def get_serializer_class(self) -> type[Serializer]:
        return self.list_serializer_class if self.action == "list" else self.detail_serializer_class

    def detail_response(self, obj, status: int = 200) -> Response:
        """``obj`` as the caller sees it now, in the detail serializer, with ``status``."""
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.detail_serializer_class(fresh, context=self.get_serializer_context()).data, status=status)
