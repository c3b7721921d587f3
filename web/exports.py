"""The user's exports (导出): the list with progress (refreshed by htmx while any is being made), the
request from a board's "export" button, and the download — the owner's only; anyone else gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from boards.exports import ExportError, download_response, exports_of, title_of
from boards.models import ExportStatus
from boards.services import request_export

LIST_LIMIT = 50
BOARD_PARAMS = ("campaign", "unit", "action", "due_by", "round", "start", "end")  # a board's, and the statistics' window


def _context(user) -> dict:
    rows = list(exports_of(user)[:LIST_LIMIT])
    for e in rows:
        e.title = title_of(e.kind)
    return {"exports": rows, "polling": any(e.is_pending for e in rows)}


@login_required
def exports(request: HttpRequest) -> HttpResponse:
    return render(request, "boards/exports.html", _context(request.user))


@login_required
def export_status(request: HttpRequest) -> HttpResponse:
    """The rows alone, for the list's polling; without pending exports it stops polling."""
    return render(request, "boards/_export_rows.html", _context(request.user))


@login_required
@require_POST
def export_new(request: HttpRequest) -> HttpResponse:
    """Queue an export of ``kind`` with the board's parameters (out of scope: 404, as on the board)."""
    params = {k: request.POST[k] for k in BOARD_PARAMS if request.POST.get(k)}
    try:
        request_export(by=request.user, kind=request.POST.get("kind", ""), params=params)
    except ExportError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The export is being prepared; it can be downloaded here when ready."))
    return redirect("web:exports")


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(exports_of(request.user), pk=pk, status=ExportStatus.DONE)
    return download_response(export)
