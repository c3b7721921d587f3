"""The documents' archive page (归档, issue 22.6): a campaign's issued documents with number, kind, date,
signer and recipients, searched; the list as XLSX; the campaign's final archive ZIP asked for from here
and made by the exports' job (its status and download on the exports page). See documents/archive.py."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import scope
from accounts.scope import Action
from boards.exports import XLSX_TYPE, exports_of
from documents import archive
from tasks.queries import campaigns_for
from utilities.params import IdField
from utilities.uploads import download

from .pages import PAGE_SIZE


class ArchiveQuery(forms.Form):
    campaign = IdField(required=False)
    q = forms.CharField(required=False, max_length=100)


def _asked(request: HttpRequest):
    user = request.user
    if not scope.scope_for(user, Action.VIEW):
        raise PermissionDenied
    query = ArchiveQuery(request.GET)
    asked = query.cleaned_data if query.is_valid() else {}
    campaigns = list(campaigns_for(user).order_by("-start", "-id"))
    wanted = asked.get("campaign")
    campaign = next((c for c in campaigns if c.pk == wanted), None) if wanted else None
    if wanted and campaign is None:
        raise Http404  # a campaign out of the scope, or none
    if campaign is None and campaigns:
        campaign = campaigns[0]  # the newest the user sees
    q = (asked.get("q") or "").strip()
    found = archive.issued(user, campaign, q) if campaign else None
    return campaigns, campaign, q, found


@login_required
def documents_archive(request: HttpRequest) -> HttpResponse:
    campaigns, campaign, q, found = _asked(request)
    page = Paginator(found if found is not None else [], PAGE_SIZE).get_page(request.GET.get("page"))
    zips = []
    if campaign:
        zips = [
            e
            for e in exports_of(request.user).filter(kind="document_archive")[:20]
            if e.params.get("campaign") == campaign.pk
        ][:3]
    context = {
        "campaigns": campaigns,
        "campaign": campaign,
        "q": q,
        "page": page,
        "rows": archive.rows(page.object_list),
        "total": page.paginator.count,
        "zips": zips,
    }
    return render(request, "documents/archive.html", context)


@login_required
def documents_archive_xlsx(request: HttpRequest) -> HttpResponse:
    _campaigns, campaign, q, found = _asked(request)
    if campaign is None:
        raise Http404
    filename, data = archive.list_xlsx(campaign, archive.rows(found), q=q)
    return download(HttpResponse(data, content_type=XLSX_TYPE), filename, fallback="archive.xlsx")
