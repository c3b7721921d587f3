"""The documents' archive page (归档, issue 22.6): a campaign's issued documents with number, kind, date,
signer and recipients, searched; the list as XLSX; the campaign's final archive ZIP asked for from here
and made by the exports' job (its status and download on the exports page). See documents/archive.py."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from boards.exports import XLSX_TYPE, exports_of
from documents import archive
from utilities.params import IdField
from utilities.uploads import download

from .pages import list_query, paged


class ArchiveQuery(forms.Form):
    campaign = IdField(required=False)
    q = forms.CharField(required=False, max_length=100)


def _asked(request: HttpRequest):
    asked, campaigns, campaign = list_query(request, ArchiveQuery)
    if asked.get("campaign") and campaign is None:
        raise Http404  # a campaign out of the scope, or none
    if campaign is None and campaigns:
        campaign = campaigns[0]  # the newest the user sees
    q = (asked.get("q") or "").strip()
    found = archive.issued(request.user, campaign, q) if campaign else None
    return campaigns, campaign, q, found


@login_required
def documents_archive(request: HttpRequest) -> HttpResponse:
    campaigns, campaign, q, found = _asked(request)
    page = paged(request, found if found is not None else [])
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
