"""The risk letters (风险提示函): the list, issuing one (from an inspection, a finding, or analysis), one
letter with its receipt, answer, close and return forms and its history, its print page and PDF. Reads
through the scope (404 outside it); every form posts to one service of ``inspections.letters`` through
``pages.submit``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from inspections import letter_pdf
from inspections import letters as svc
from inspections.models import LetterStatus, RiskLetter
from inspections.queries import findings_for, inspections_for

from .. import labels
from ..forms import (
    AcknowledgeForm,
    LetterAnswerForm,
    LetterCloseForm,
    LetterFilter,
    LetterForm,
    LetterQuery,
    LetterReturnForm,
)
from ..pages import paged, submit
from .common import _events, _open_campaigns, _require, _unit_picker

LS = LetterStatus


def _get_letter(request: HttpRequest, pk: int) -> RiskLetter:
    qs = RiskLetter.objects.select_related(
        "issuing_unit", "unit", "inspection", "finding", "campaign", "issued_by", "acknowledged_by", "answered_by"
    )
    return scope.get_or_404(qs, request.user, pk=pk)  # view over the addressee; 404 outside the scope


@login_required
def letters(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Action.VIEW)
    asked = LetterFilter.parsed(request.GET)
    qs = scope.restrict(RiskLetter.objects.select_related("unit", "issuing_unit", "acknowledged_by"), user)
    if status := asked.get("status"):
        qs = qs.filter(status=status)
    if code := asked.get("unit"):
        unit = scope.units(user).filter(code=code).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    if asked.get("overdue"):
        qs = qs.filter(RiskLetter.overdue_q())
    context = {
        "page": paged(request, qs.order_by("-issued_at", "-id")),
        "asked": asked,
        "statuses": LS.choices,
        "today": timezone.localdate(),
        "may_issue": bool(scope.scope_for(user, Action.INSPECT)),
    }
    return render(request, "inspections/letters.html", context)


def _letter_page(request: HttpRequest, letter: RiskLetter, status: int = 200, **bound) -> HttpResponse:
    user = request.user
    lead = scope.can(user, Action.REPORT, letter.unit)
    judge = letter.status == LS.ANSWERED and scope.judges(user, Action.INSPECT, letter.unit)
    context = {
        "letter": letter,
        "files": letter.files.order_by("round", "id"),
        "events": _events(letter),
        "today": timezone.localdate(),
        "can_acknowledge": lead and letter.acknowledged_at is None,
        "can_answer": lead and letter.status in (LS.ISSUED, LS.ACKNOWLEDGED),
        "can_judge": judge,
        "answer_form": bound.get("answer_form") or LetterAnswerForm(),
        "close_form": bound.get("close_form") or LetterCloseForm(),
        "return_form": bound.get("return_form") or LetterReturnForm(),
    }
    return render(request, "inspections/letter.html", context, status=status)


@login_required
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    return _letter_page(request, _get_letter(request, pk))


def _on_letter(request: HttpRequest, letter: RiskLetter, form, key: str, call) -> HttpResponse:
    return submit(
        request,
        form,
        lambda data: (call(data), reverse("web:inspections-letter", args=[letter.pk])),
        page=lambda status, **bound: _letter_page(request, letter, status, **bound),
        key=key,
    )


@login_required
@require_POST
def letter_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收 by the addressee: one tap; acknowledged before, the page says by whom and when."""
    n = _get_letter(request, pk)

    def call(data):
        done = svc.acknowledge_letter(letter=n, by=request.user)
        return labels.acknowledged_before(done) if n.acknowledged_at is not None else _("Receipt acknowledged.")

    return _on_letter(request, n, AcknowledgeForm(request.POST), "acknowledge_form", call)


@login_required
@require_POST
def letter_answer(request: HttpRequest, pk: int) -> HttpResponse:
    n = _get_letter(request, pk)

    def call(data):
        svc.answer_letter(letter=n, by=request.user, text=data["text"], files=[*data["camera"], *data["files"]])
        return _("Answer sent; the issuer reviews it next.")

    return _on_letter(request, n, LetterAnswerForm(request.POST, request.FILES), "answer_form", call)


@login_required
@require_POST
def letter_close(request: HttpRequest, pk: int) -> HttpResponse:
    n = _get_letter(request, pk)

    def call(data):
        svc.close_letter(letter=n, by=request.user, note=data["note"])
        return _("Risk letter closed.")

    return _on_letter(request, n, LetterCloseForm(request.POST), "close_form", call)


@login_required
@require_POST
def letter_return(request: HttpRequest, pk: int) -> HttpResponse:
    n = _get_letter(request, pk)

    def call(data):
        svc.return_letter(letter=n, by=request.user, reason=data["reason"], reply_by=data["reply_by"])
        return _("Answer returned; the unit answers again.")

    return _on_letter(request, n, LetterReturnForm(request.POST), "return_form", call)


@login_required
def letter_new(request: HttpRequest) -> HttpResponse:
    """风险提示: the unit (pre-chosen from a finding or an inspection, its source), the risk, the measures
    required, the reply-by date; the number is drawn when it is issued."""
    user = request.user
    _require(user, Action.INSPECT)
    asked = LetterQuery.parsed(request.GET)
    finding = inspection = None
    if wanted := asked.get("finding"):
        finding = get_object_or_404(findings_for(user, Action.INSPECT), pk=wanted)
    if wanted := asked.get("inspection"):
        inspection = get_object_or_404(inspections_for(user), pk=wanted)
    units = scope.units(user, Action.INSPECT)
    if finding is not None:
        units = units.filter(pk=finding.unit_id)
    elif inspection is not None:
        units = units.filter(inspections=inspection)
    datalist, options = _unit_picker(units)
    campaigns = _open_campaigns(user)
    source = finding.campaign_id if finding else (inspection.campaign_id if inspection else None)
    initial = {
        "unit": finding.unit.code if finding else asked.get("unit"),
        "reply_by": timezone.localdate() + timedelta(days=7),
        "campaign": source or (campaigns[0].pk if len(campaigns) == 1 else None),
        "risk": f"{finding.place}：{finding.description}" if finding else "",
    }

    def form_for(data=None):
        return LetterForm(data, units=units, campaigns=campaigns, datalist=datalist, initial=initial)

    def page(status=200, letter_form=None):
        context = {
            "form": letter_form or form_for(),
            "unit_options": options if datalist else [],
            "finding": finding,
            "inspection": inspection,
            "query": request.GET.urlencode(),
        }
        return render(request, "inspections/letter_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        campaign = next((c for c in campaigns if c.pk == data["campaign"]), None)
        made = svc.issue_letter(
            by=user,
            unit=data["unit"],
            title=data["title"],
            risk=data["risk"],
            requirements=data["requirements"],
            reply_by=data["reply_by"],
            campaign=campaign,
            inspection=inspection,
            finding=finding,
        )
        message = _("Risk letter %(number)s issued.") % {"number": made.number}
        return message, reverse("web:inspections-letter", args=[made.pk])

    return submit(request, form_for(request.POST), call, page=page, key="letter_form")


@login_required
def letter_print(request: HttpRequest, pk: int) -> HttpResponse:
    """风险提示函 as a printable page laid out like the paper form."""
    pdf_url = reverse("web:inspections-letter-pdf", args=[pk])
    return letter_pdf.print_response(request, _get_letter(request, pk), pdf_url)


@login_required
def letter_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return letter_pdf.pdf_response(_get_letter(request, pk))
