"""The inspections pages (督导检查): the inspector's own and every inspection in scope, one inspection
(its units, findings, notices, a joint acceptance's verdicts), planning, starting and completing one.
Reads through the scope (404 outside it); each form posts to one service of ``inspections.services``
through ``pages.submit``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from inspections import services as svc
from inspections.models import Hotspot, Inspection, InspectionKind, InspectionStatus
from inspections.queries import hotspots_for, inspections_for

from ..forms import CompleteForm, Form, InspectionForm, InspectionQuery
from ..pages import PAGE_SIZE, submit
from .common import FS, LIST_LIMIT, _events, _inspection_rows, _one, _open_campaigns, _require


@login_required
def inspections(request: HttpRequest) -> HttpResponse:
    """The inspector's own planned and running inspections first, then every inspection in scope."""
    user = request.user
    _require(user, Action.VIEW)
    visible = inspections_for(user)
    mine = _inspection_rows(visible.filter(team=user).exclude(status=InspectionStatus.COMPLETED), user)
    status = request.GET.get("status", "")
    listed = visible.filter(status=status) if status in InspectionStatus.values else visible
    page = Paginator(_inspection_rows(listed, user).order_by("-planned_on", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "mine": mine.order_by("planned_on", "id")[:LIST_LIMIT],
        "page": page,
        "status": status,
        "statuses": InspectionStatus.choices,
        "can_plan": bool(scope.scope_for(user, Action.INSPECT)),
    }
    return render(request, "inspections/inspections.html", context)


def _get_inspection(request: HttpRequest, pk: int) -> Inspection:
    return _one(inspections_for(request.user).select_related("issuing_unit", "hotspot", "campaign", "created_by"), pk)


def _inspection_page(request: HttpRequest, i: Inspection, status: int = 200, **bound) -> HttpResponse:
    user = request.user
    # A tour may visit units of several branches: the user sees the inspection through one of them,
    # but the others, their findings and notices stay out of its scope, as on their own pages.
    units = list(scope.units(user).filter(inspections=i).order_by("path"))
    found = list(
        scope.restrict(i.findings.select_related("unit", "notice"), user).order_by("unit__path", "found_at", "id")
    )
    may_act = svc.may_act_for(user, i)
    criteria = list(i.hotspot.criteria.all()) if i.kind == InspectionKind.JOINT and i.hotspot_id else []
    for unit in units:
        unit.open_findings = sum(1 for f in found if f.unit_id == unit.pk and f.status == FS.OPEN)
    context = {
        "i": i,
        "units": units,
        "team": i.team.order_by("username"),
        "findings": found,
        "notices": scope.restrict(i.notices.select_related("unit"), user).order_by("seq"),
        "verdicts": i.verdicts.select_related("criterion").order_by("criterion__seq"),
        "may_act": may_act,
        "running": i.status == InspectionStatus.IN_PROGRESS,
        "complete_form": bound.get("complete_form") or CompleteForm(criteria=criteria),
        "events": _events(i),
    }
    return render(request, "inspections/inspection.html", context, status=status)


@login_required
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    return _inspection_page(request, _get_inspection(request, pk))


@login_required
@require_POST
def inspection_start(request: HttpRequest, pk: int) -> HttpResponse:
    i = _get_inspection(request, pk)

    def call(_data):
        svc.start_inspection(inspection=i, by=request.user)
        return _("Inspection started."), reverse("web:inspections-inspection", args=[i.pk])

    return submit(
        request,
        Form({}),
        call,
        key="start_form",
        page=lambda status, **bound: _inspection_page(request, i, status),
    )


@login_required
@require_POST
def inspection_complete(request: HttpRequest, pk: int) -> HttpResponse:
    i = _get_inspection(request, pk)
    criteria = list(i.hotspot.criteria.all()) if i.kind == InspectionKind.JOINT and i.hotspot_id else []

    def call(data):
        verdicts = [svc.Judgement(c.pk, data[f"passed_{c.pk}"], data[f"note_{c.pk}"]) for c in criteria]
        done = svc.complete_inspection(
            inspection=i,
            by=request.user,
            summary=data["summary"],
            verdicts=verdicts,
            extend_to=data.get("extend_to"),
            reason=data.get("reason", ""),
        )
        if done.passed is True:
            message = _("Joint acceptance passed: the hotspot is de-listed.")
        elif done.passed is False:
            message = _("Joint acceptance failed: the hotspot's deadline is extended.")
        else:
            message = _("Inspection completed.")
        return message, reverse("web:inspections-inspection", args=[i.pk])

    return submit(
        request,
        CompleteForm(request.POST, criteria=criteria),
        call,
        key="complete_form",
        page=lambda status, **bound: _inspection_page(request, i, status, **bound),
    )


@login_required
def inspection_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Action.INSPECT)
    campaigns = _open_campaigns(user)
    units = scope.units(user, Action.INSPECT).order_by("path")
    hotspots = list(hotspots_for(user).filter(status=Hotspot.Status.LISTED, campaign__in=campaigns))
    asked = InspectionQuery.parsed(request.GET)
    hotspot = next((h for h in hotspots if h.pk == asked.get("hotspot")), None)
    initial = {"planned_on": timezone.localdate(), "kind": asked.get("kind") or InspectionKind.ROUTINE}
    if hotspot is not None:
        initial.update(hotspot=hotspot.pk, units=[hotspot.unit.code], campaign=hotspot.campaign_id)

    def form_for(data=None):
        return InspectionForm(data, units=units, hotspots=hotspots, campaigns=campaigns, initial=initial)

    def page(status=200, inspection_form=None):
        context = {"form": inspection_form or form_for(), "no_campaign": not campaigns}
        return render(request, "inspections/inspection_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        made = svc.plan_inspection(
            by=user,
            campaign=next(c for c in campaigns if c.pk == data["campaign"]),
            units=data["units"],
            planned_on=data["planned_on"],
            kind=data["kind"],
            hotspot=next((h for h in hotspots if h.pk == data.get("hotspot")), None),
        )
        return _("Inspection planned."), reverse("web:inspections-inspection", args=[made.pk])

    return submit(request, form_for(request.POST), call, page=page, key="inspection_form")
