"""The rectification notices (责令整改通知书): the list, one notice, issuing one from an inspection or
a finding, its print page and PDF. Reads through the scope (404 outside it); issuing posts to
``inspections.services.issue_notice`` through ``pages.submit``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from documents.models import DocumentKind
from documents.services import may_draft
from inspections import notice_pdf as notice_doc
from inspections import services as svc
from inspections.models import Notice, NoticeStatus
from inspections.queries import findings_for, inspections_for

from .. import labels
from ..forms import AcknowledgeForm, NoticeForm, NoticeQuery
from ..pages import paged, submit
from .common import FS, _events, _require


def _get_notice(request: HttpRequest, pk: int) -> Notice:
    qs = Notice.objects.select_related("issuing_unit", "unit", "inspection", "issued_by", "campaign", "acknowledged_by")
    return scope.get_or_404(qs, request.user, pk=pk)  # view over the addressee; 404 outside the scope


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Action.VIEW)
    qs = scope.restrict(Notice.objects.select_related("unit", "issuing_unit", "acknowledged_by"), user)
    status = request.GET.get("status", "")
    if status in NoticeStatus.values:
        qs = qs.filter(status=status)
    qs = qs.annotate(n_findings=Count("findings")).order_by("-issued_at", "-id")
    context = {
        "page": paged(request, qs),
        "status": status,
        "statuses": NoticeStatus.choices,
        "today": timezone.localdate(),
    }
    return render(request, "inspections/notices.html", context)


def _notice_page(request: HttpRequest, n: Notice, status: int = 200, **bound) -> HttpResponse:
    rows = n.findings.select_related("unit").order_by("id")
    context = {
        "n": n,
        "findings": rows,
        "events": _events(n),
        "today": timezone.localdate(),
        "can_acknowledge": n.acknowledged_at is None and scope.can(request.user, Action.REPORT, n.unit),
        # its official document (documents): the one drafted, or the button to draft it
        "document": n.documents.visible_to(request.user).first(),
        "may_draft_document": may_draft(request.user, DocumentKind.RECTIFICATION, n.issuing_unit),
    }
    return render(request, "inspections/notice.html", context, status=status)


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    return _notice_page(request, _get_notice(request, pk))


@login_required
@require_POST
def notice_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收 of the notice by its addressee: one tap (POST); acknowledged before, the page says by whom
    and when and changes nothing. Back to the page it was tapped on (the notice, or ``next``: the
    rectification list)."""
    n = _get_notice(request, pk)
    back = reverse("web:inspections-notice", args=[n.pk])
    if request.POST.get("next") == "rectification":
        back = reverse("web:inspections-rectification")

    def call(data):
        done = svc.acknowledge_notice(notice=n, by=request.user)
        message = labels.acknowledged_before(done) if n.acknowledged_at is not None else _("Receipt acknowledged.")
        return message, back

    page = lambda status, **bound: _notice_page(request, n, status, **bound)  # noqa: E731
    return submit(request, AcknowledgeForm(request.POST), call, page=page, key="acknowledge_form")


@login_required
def notice_new(request: HttpRequest) -> HttpResponse:
    """责令整改: pick the unit's open findings (from an inspection or one finding), a deadline, the
    requirements; the number is drawn when it is issued."""
    user = request.user
    _require(user, Action.INSPECT)
    asked = NoticeQuery.parsed(request.POST if request.method == "POST" else request.GET)
    unit = get_object_or_404(scope.units(user, Action.INSPECT), code=asked.get("unit") or "")
    inspection = None
    if wanted := asked.get("inspection"):
        inspection = get_object_or_404(inspections_for(user), pk=wanted)
    candidates = list(findings_for(user, Action.INSPECT).filter(unit=unit, status=FS.OPEN).order_by("found_at", "id"))
    if one := NoticeQuery.parsed(request.GET).get("finding"):
        picked = [one]
    elif inspection is not None:
        picked = [f.pk for f in candidates if f.inspection_id == inspection.pk]
    else:
        picked = [f.pk for f in candidates]
    initial = {
        "findings": picked,
        "deadline": timezone.localdate() + timedelta(days=7),
        "requirements": _(
            "Rectify the problems above at once and report what was done, with evidence, by the deadline."
        ),
    }

    def page(status=200, notice_form=None):
        context = {
            "form": notice_form or NoticeForm(findings=candidates, initial=initial),
            "unit": unit,
            "inspection": inspection,
            "candidates": candidates,
        }
        return render(request, "inspections/notice_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        chosen = [f for f in candidates if f.pk in set(data["findings"])]
        made = svc.issue_notice(
            by=user,
            unit=unit,
            findings=chosen,
            deadline=data["deadline"],
            requirements=data["requirements"],
            inspection=inspection,
        )
        message = _("Notice %(number)s issued.") % {"number": made.number}
        return message, reverse("web:inspections-notice", args=[made.pk])

    return submit(request, NoticeForm(request.POST, findings=candidates), call, page=page, key="notice_form")


@login_required
def notice_print(request: HttpRequest, pk: int) -> HttpResponse:
    """责令整改通知书 as a printable page laid out like the paper form."""
    pdf_url = reverse("web:inspections-notice-pdf", args=[pk])
    return notice_doc.print_response(request, _get_notice(request, pk), pdf_url)


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return notice_doc.pdf_response(_get_notice(request, pk))
