"""Scoped reads of documents, shared by the pages and the API: view rights over the issuing unit, or, for
an issued document, over one of its recipient units (``DocumentRecipient``)."""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse

from accounts import scope
from accounts.scope import Action
from utilities.uploads import download

from .models import Document, DocumentRecipient, DocumentState


def visible(qs: QuerySet[Document], user) -> QuerySet[Document]:
    """``qs`` narrowed to the documents ``user`` sees: the view right over the issuing unit
    (``scope.restrict``), or an issued document sent to a unit in the user's view (a recipient's people, and
    those over them) — one query, an EXISTS over the recipient rows."""
    view = scope.scope_for(user, Action.VIEW)
    if not view:
        return qs.none()
    if view.everything:
        return qs
    sent = DocumentRecipient.objects.filter(view.q("unit"), document=OuterRef("pk"))
    return qs.filter(view.q("issuing_unit") | (Q(state=DocumentState.ISSUED) & Exists(sent)))


def documents_for(user, *, campaign=None, kind: str = "", state: str = "") -> QuerySet[Document]:
    qs = visible(
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
    try:
        return visible(qs, user).get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None


def steps(document: Document):
    return document.steps.select_related("by").order_by("at", "id")


def bulletin_period(campaign, value: str = ""):
    """The bulletin's period named as the bulletin page names it (``boards.bulletin.parse_key``: a week, a
    round of the campaign — else 404 —, a month, the campaign so far, a range), or nothing or a malformed
    key: the last whole week."""
    from boards.bulletin import default_period, parse_key, period_of

    try:
        kind, parsed = parse_key(value)
    except ValueError:
        return default_period(campaign)
    period = period_of(campaign, kind, parsed)
    if period is None:
        raise Http404
    return period


def file_response(document: Document, ext: str) -> HttpResponse:
    """The issued document's stored PDF or DOCX (never made again); a draft has none: 404."""
    stored = document.pdf if ext == "pdf" else document.docx
    if not document.is_issued or not stored:
        raise Http404
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", document.number)
    response = FileResponse(stored.open("rb"), content_type=CONTENT_TYPES[ext])
    return download(response, f"{document.title}（{safe}）.{ext}", fallback=f"document-{document.pk}.{ext}")


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
