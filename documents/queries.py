"""Scoped reads of documents, shared by the pages and the API: view rights over the issuing unit."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts import scope

from .models import Document


def documents_for(user, *, campaign=None, kind: str = "", state: str = "") -> QuerySet[Document]:
    qs = scope.restrict(
        Document.objects.select_related("campaign", "issuing_unit", "subject_unit", "signed_by", "created_by"), user
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def get_document(user, pk: int) -> Document:
    """The document ``pk`` if the user may see it, else 404 (missing or out of scope alike)."""
    qs = Document.objects.select_related(
        "campaign", "issuing_unit", "subject_unit", "notice", "round", "signed_by", "checked_by", "created_by"
    )
    return scope.get_or_404(qs, user, pk=pk)


def steps(document: Document):
    return document.steps.select_related("by").order_by("at", "id")
