"""The findings pages: inspectors log findings (phone first) and verify fixes; unit leads answer
their findings on ``/rectification/``; HQ reads every finding and the counts.

Reading goes through ``accounts.scope`` / ``inspections.queries`` (out of scope is a 404) and each
form posts to one service of ``inspections.services`` through ``pages.submit``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from audit.services import history
from inspections import services as svc
from inspections.models import Finding, Inspection, InspectionStatus, Notice, NoticeStatus
from inspections.queries import findings_for, inspections_for
from tasks.queries import campaigns_for

from .. import labels
from ..forms import AnswerForm, CampaignQuery, FindingFilterForm, FindingForm, PickQuery, VerifyForm
from ..pages import PAGE_SIZE, submit
from .common import FS, LIST_LIMIT, _open_campaigns, _require, _unit_picker


@login_required
def findings(request: HttpRequest) -> HttpResponse:
    """Every finding in the user's scope, filtered; the campaign's counts on top (HQ's view)."""
    user = request.user
    _require(user, Action.VIEW)
    campaigns = list(campaigns_for(user).exclude(status="draft"))
    form = FindingFilterForm(request.GET or None, campaigns=campaigns)
    data = form.cleaned_data if form.is_valid() else {}
    qs = findings_for(user)
    if q := (data.get("q") or "").strip():
        qs = qs.filter(Q(place__icontains=q) | Q(description__icontains=q) | Q(unit__name__icontains=q))
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("overdue"):
        qs = qs.filter(Finding.overdue_q())
    if data.get("mine"):
        qs = qs.mine(user)
    campaign = next((c for c in campaigns if c.pk == data.get("campaign")), None)
    if campaign:
        qs = qs.filter(campaign=campaign)
    page = Paginator(qs.order_by("-found_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "counts_campaign": campaign or (campaigns[0] if campaigns else None),
        "can_log": bool(scope.scope_for(user, Action.INSPECT) or scope.scope_for(user, Action.REPORT)),
    }
    return render(request, "inspections/findings.html", context)


@login_required
def finding_counts(request: HttpRequest) -> HttpResponse:
    """The campaign's figures over the user's scope, as a fragment the findings page loads after
    itself (htmx): the list does not wait for eight counts over the province."""
    user = request.user
    _require(user, Action.VIEW)
    wanted = CampaignQuery.parsed(request.GET).get("campaign")
    campaign = get_object_or_404(campaigns_for(user).exclude(status="draft"), pk=wanted)
    context = {"counts_campaign": campaign, "counts": svc.counts(campaign, user)}
    return render(request, "inspections/_counts.html", context)


@login_required
def rectification(request: HttpRequest) -> HttpResponse:
    """A unit lead's open findings and notices: what to answer, what waits for verification."""
    user = request.user
    _require(user, Action.REPORT)
    open_findings = findings_for(user, Action.REPORT).filter(status__in=[FS.ORDERED, FS.SUBMITTED, FS.OPEN])
    rows = list(open_findings.order_by("deadline", "-found_at", "id")[: LIST_LIMIT + 1])
    notices = scope.restrict(
        Notice.objects.exclude(status=NoticeStatus.CLOSED).select_related("issuing_unit", "unit"), user, Action.REPORT
    ).annotate(n_findings=Count("findings"))
    groups = [
        (key, title, [f for f in rows[:LIST_LIMIT] if f.status == key])
        for key, title in (
            (FS.ORDERED, _("To rectify and answer")),
            (FS.SUBMITTED, _("Answered, awaiting verification")),
            (FS.OPEN, _("Found, rectification not yet ordered")),
        )
    ]
    context = {
        "groups": groups,
        "notices": notices.order_by("deadline", "id")[:LIST_LIMIT],
        "truncated": len(rows) > LIST_LIMIT,
        "limit": LIST_LIMIT,
        "today": timezone.localdate(),
    }
    return render(request, "inspections/rectification.html", context)


def _running_inspections(user) -> list[Inspection]:
    return list(
        inspections_for(user)
        .filter(status=InspectionStatus.IN_PROGRESS, team=user)
        .select_related("campaign")
        .order_by("-planned_on", "-id")
    )


@login_required
def finding_new(request: HttpRequest) -> HttpResponse:
    """Log a finding: an inspector on the spot (camera photo), or a unit's self-inspection (自查)."""
    user = request.user
    inspector = bool(scope.scope_for(user, Action.INSPECT))
    if not inspector:
        _require(user, Action.REPORT)
    campaigns = _open_campaigns(user)
    running = _running_inspections(user) if inspector else []
    asked = PickQuery.parsed(request.GET)
    wanted = PickQuery.parsed(request.POST).get("inspection") or asked.get("inspection")
    chosen = next((i for i in running if i.pk == wanted), running[0] if len(running) == 1 and not wanted else None)
    if chosen is not None:
        units = scope.units(user, Action.INSPECT).filter(inspections=chosen)
    else:
        units = scope.units(user, Action.INSPECT if inspector else Action.REPORT)
    datalist, options = _unit_picker(units)

    def form_for(data=None, files=None):
        return FindingForm(
            data,
            files,
            units=units,
            datalist=datalist,
            campaigns=campaigns,
            inspections=[
                (i.pk, f"{i.get_kind_display()} {date_format(i.planned_on, 'MONTH_DAY_FORMAT')}") for i in running
            ],
            initial={"inspection": chosen.pk if chosen else None, "unit": asked.get("unit")},
        )

    def page(status=200, finding_form=None):
        context = {
            "form": finding_form or form_for(),
            "unit_options": options if datalist else [],
            "inspection": chosen,
            "no_campaign": not campaigns,
        }
        return render(request, "inspections/finding_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        inspection = next((i for i in running if i.pk == data.get("inspection")), None)
        campaign = next(c for c in campaigns if c.pk == data["campaign"])
        finding = svc.log_finding(
            by=user,
            unit=data["unit"],
            place=data["place"],
            description=data["description"],
            campaign=campaign,
            inspection=inspection,
            category=data["category"],
            severity=data["severity"],
            photos=form.files_chosen,
        )
        return _("Finding logged."), reverse("web:inspections-finding", args=[finding.pk])

    form = form_for(request.POST, request.FILES)
    return submit(request, form, call, page=page, key="finding_form")


def _get_finding(request: HttpRequest, pk: int) -> Finding:
    qs = Finding.objects.select_related("unit", "notice", "inspection", "campaign", "reported_by", "item")
    return scope.get_or_404(qs, request.user, pk=pk)


def _finding_page(request: HttpRequest, f: Finding, status: int = 200, **bound) -> HttpResponse:
    user = request.user
    answers = list(f.answers.select_related("answered_by", "verified_by").prefetch_related("photos"))
    recorded = list(history(f))
    logged = next((e for e in recorded if e.verb == "finding.logged"), None)
    context = {
        "f": f,
        "today": timezone.localdate(),
        "found_photos": [p for p in f.photos.all() if p.answer_id is None],
        "answers": answers,
        "can_answer": f.status == FS.ORDERED and scope.can(user, Action.REPORT, f.unit),
        "can_verify": f.status == FS.SUBMITTED and scope.judges(user, Action.INSPECT, f.unit),
        "can_order": f.status == FS.OPEN and scope.can(user, Action.INSPECT, f.unit),
        "answer_form": bound.get("answer_form") or AnswerForm(),
        "verify_form": bound.get("verify_form") or VerifyForm(),
        "self_reported": bool(logged and logged.changes.get("self_reported")),
        "events": [labels.event(e) for e in recorded],
    }
    return render(request, "inspections/finding.html", context, status=status)


@login_required
def finding(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, _get_finding(request, pk))


def _on_finding(request: HttpRequest, f: Finding, form, key: str, call) -> HttpResponse:
    return submit(
        request,
        form,
        lambda data: (call(data), reverse("web:inspections-finding", args=[f.pk])),
        page=lambda status, **bound: _finding_page(request, f, status, **bound),
        key=key,
    )


@login_required
@require_POST
def finding_answer(request: HttpRequest, pk: int) -> HttpResponse:
    f = _get_finding(request, pk)

    def call(data):
        files = [*data["camera"], *data["files"]]
        svc.answer_finding(finding=f, by=request.user, text=data["text"], files=files)
        return _("Rectification answered; the inspector verifies it next.")

    return _on_finding(request, f, AnswerForm(request.POST, request.FILES), "answer_form", call)


@login_required
@require_POST
def finding_verify(request: HttpRequest, pk: int) -> HttpResponse:
    f = _get_finding(request, pk)

    def call(data):
        svc.verify_finding(finding=f, by=request.user, **data)
        return _("Verified and closed.") if data["accept"] else _("Rejected; the unit rectifies again.")

    return _on_finding(request, f, VerifyForm(request.POST), "verify_form", call)
