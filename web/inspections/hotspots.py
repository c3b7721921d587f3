"""The listed hotspots (挂牌整治): the board with each area's required inspections (missed in red), one
hotspot, and listing one. Reads through the scope (404 outside it); listing posts to
``inspections.services.list_hotspot`` through ``pages.submit``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import scope
from accounts.scope import Action
from inspections import services as svc
from inspections.models import Hotspot
from inspections.queries import hotspots_for

from ..forms import HotspotForm
from ..pages import PAGE_SIZE, submit
from .common import LIST_LIMIT, _events, _inspection_rows, _one, _open_campaigns, _require, _unit_picker

WINDOWS_SHOWN = 12


@login_required
def hotspots(request: HttpRequest) -> HttpResponse:
    """The hotspots board: each listed area, its deadline, its required inspections (missed in red)."""
    user = request.user
    _require(user, Action.VIEW)
    status = request.GET.get("status") or Hotspot.Status.LISTED
    qs = hotspots_for(user)
    if status in Hotspot.Status.values:
        qs = qs.filter(status=status)
    today = timezone.localdate()
    # 50 a page as every list (all 300 of a province in one page were 320 KB, 0.5 s), the filter kept
    # in the pager's links
    page = Paginator(qs.order_by("deadline", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    days: dict = {}  # a date's words, formatted once: the hotspots' windows share their days
    for h in rows:
        windows = svc.inspection_windows(h, today)
        h.missed = svc.missed(windows, today)
        h.days_late = max(0, (today - h.deadline).days)
        # the windows' class and dates here, once: in the template they were most of the page's time
        h.cells = [(_cell_class(w, today), _span(w, days)) for w in windows[-WINDOWS_SHOWN:]]
    context = {
        "rows": rows,
        "page": page,
        "status": status,
        "statuses": Hotspot.Status.choices,
        "today": today,
        "can_list": bool(scope.scope_for(user, Action.INSPECT)),
    }
    return render(request, "inspections/hotspots.html", context)


def _cell_class(window: svc.Window, today) -> str:
    return "done" if window.inspected else "missed" if window.end < today else "now"


def _span(window: svc.Window, days: dict) -> str:
    for day in (window.start, window.end):
        if day not in days:
            days[day] = date_format(day, "MONTH_DAY_FORMAT")
    return f"{days[window.start]}–{days[window.end]}"


@login_required
def hotspot(request: HttpRequest, pk: int) -> HttpResponse:
    h = _one(hotspots_for(request.user).select_related("listed_by"), pk)
    today = timezone.localdate()
    windows = svc.inspection_windows(h, today)
    context = {
        "h": h,
        "today": today,
        "windows": windows[::-1],
        "missed": svc.missed(windows, today),
        "inspections": _inspection_rows(h.inspections.all(), request.user).order_by("-planned_on", "-id"),
        "findings": h.findings.select_related("unit").order_by("-found_at", "-id")[:LIST_LIMIT],
        "can_inspect": h.status == Hotspot.Status.LISTED and scope.can(request.user, Action.INSPECT, h.unit),
        "events": _events(h),
    }
    return render(request, "inspections/hotspot.html", context)


@login_required
def hotspot_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Action.INSPECT)
    campaigns = _open_campaigns(user)
    units = scope.units(user, Action.INSPECT)
    datalist, options = _unit_picker(units)
    today = timezone.localdate()
    initial = {"listed_on": today, "deadline": today + timedelta(days=30), "inspect_every_days": 7}

    def form_for(data=None):
        return HotspotForm(data, units=units, campaigns=campaigns, datalist=datalist, initial=initial)

    def page(status=200, hotspot_form=None):
        context = {
            "form": hotspot_form or form_for(),
            "unit_options": options if datalist else [],
            "no_campaign": not campaigns,
        }
        return render(request, "inspections/hotspot_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        made = svc.list_hotspot(
            by=user,
            campaign=next(c for c in campaigns if c.pk == data["campaign"]),
            unit=data["unit"],
            name=data["name"],
            area=data["area"],
            problems=data["problems"],
            responsible_name=data["responsible_name"],
            deadline=data["deadline"],
            listed_on=data["listed_on"],
            inspect_every_days=data["inspect_every_days"],
            criteria=data["criteria"].splitlines(),
        )
        return _("Hotspot listed."), reverse("web:inspections-hotspot", args=[made.pk])

    return submit(request, form_for(request.POST), call, page=page, key="hotspot_form")
