"""Supervision pages: inspectors log findings (phone first), issue notices, verify fixes and run
inspections and listed hotspots; unit leads answer their findings; HQ reads every finding, the
counts and the hotspots board.

Reading goes through ``accounts.scope`` / ``inspections.queries`` (out of scope is a 404) and each
form posts to one service of ``inspections.services`` through ``views.submit``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from audit.services import history
from inspections import notice_pdf as notice_doc
from inspections import services as svc
from inspections.models import (
    Finding,
    FindingStatus,
    Hotspot,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Notice,
    NoticeStatus,
)
from inspections.queries import findings_for, hotspots_for, inspections_for
from tasks.queries import campaigns_for

from . import labels
from .forms import (
    AnswerForm,
    CampaignQuery,
    CompleteForm,
    FindingFilterForm,
    FindingForm,
    Form,
    HotspotForm,
    InspectionForm,
    InspectionQuery,
    NoticeForm,
    NoticeQuery,
    PickQuery,
    VerifyForm,
)
from .views import PAGE_SIZE, submit

FS = FindingStatus
LIST_LIMIT = 300
# A scope with more units than this picks the unit by typing (a datalist), not from a long select.
SELECT_MAX_UNITS = 30


def _require(user, action: Action) -> None:
    if not scope.scope_for(user, action):
        raise PermissionDenied


def _open_campaigns(user) -> list:
    return list(campaigns_for(user).filter(status="published").order_by("-start", "-id"))


def _events(obj) -> list[labels.Event]:
    return [labels.event(e) for e in history(obj)]


def _unit_picker(units) -> tuple[bool, list]:
    """Whether to type the unit (datalist), and the options to list."""
    options = list(units.only("code", "name", "path").order_by("path"))
    return len(options) > SELECT_MAX_UNITS, options


# --- Findings ------------------------------------------------------------------------------------


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
        qs = qs.filter(unit_id=user.unit_id)
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
    return render(request, "supervision/findings.html", context)


@login_required
def finding_counts(request: HttpRequest) -> HttpResponse:
    """The campaign's figures over the user's scope, as a fragment the findings page loads after
    itself (htmx): the list does not wait for eight counts over the province."""
    user = request.user
    _require(user, Action.VIEW)
    wanted = CampaignQuery.parsed(request.GET).get("campaign")
    campaign = get_object_or_404(campaigns_for(user).exclude(status="draft"), pk=wanted)
    context = {"counts_campaign": campaign, "counts": svc.counts(campaign, user)}
    return render(request, "supervision/_counts.html", context)


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
    return render(request, "supervision/rectification.html", context)


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
            data, files, units=units, datalist=datalist, campaigns=campaigns,
            inspections=[(i.pk, f"{i.get_kind_display()} {date_format(i.planned_on, 'MONTH_DAY_FORMAT')}") for i in running],
            initial={"inspection": chosen.pk if chosen else None, "unit": asked.get("unit")},
        )  # fmt: skip

    def page(status=200, finding_form=None):
        context = {
            "form": finding_form or form_for(),
            "unit_options": options if datalist else [],
            "inspection": chosen,
            "no_campaign": not campaigns,
        }
        return render(request, "supervision/finding_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        inspection = next((i for i in running if i.pk == data.get("inspection")), None)
        campaign = next(c for c in campaigns if c.pk == data["campaign"])
        finding = svc.log_finding(
            by=user, unit=data["unit"], place=data["place"], description=data["description"], campaign=campaign,
            inspection=inspection, category=data["category"], severity=data["severity"], photos=form.files_chosen,
        )  # fmt: skip
        return _("Finding logged."), reverse("web:finding", args=[finding.pk])

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
    return render(request, "supervision/finding.html", context, status=status)


@login_required
def finding(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, _get_finding(request, pk))


def _on_finding(request: HttpRequest, f: Finding, form, key: str, call) -> HttpResponse:
    return submit(
        request, form, lambda data: (call(data), reverse("web:finding", args=[f.pk])),
        page=lambda status, **bound: _finding_page(request, f, status, **bound), key=key,
    )  # fmt: skip


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


# --- Notices ---------------------------------------------------------------------------------------


def _get_notice(request: HttpRequest, pk: int) -> Notice:
    qs = Notice.objects.select_related("issuing_unit", "unit", "inspection", "issued_by", "campaign")
    return scope.get_or_404(qs, request.user, pk=pk)  # view over the addressee; 404 outside the scope


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Action.VIEW)
    qs = scope.restrict(Notice.objects.select_related("unit", "issuing_unit"), user)
    status = request.GET.get("status", "")
    if status in NoticeStatus.values:
        qs = qs.filter(status=status)
    qs = qs.annotate(n_findings=Count("findings")).order_by("-issued_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": NoticeStatus.choices, "today": timezone.localdate()}
    return render(request, "supervision/notices.html", context)


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    n = _get_notice(request, pk)
    rows = n.findings.select_related("unit").order_by("id")
    context = {"n": n, "findings": rows, "events": _events(n), "today": timezone.localdate()}
    return render(request, "supervision/notice.html", context)


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
        "requirements": _("Rectify the problems above at once and report what was done, with evidence, by the "
                          "deadline."),
    }  # fmt: skip

    def page(status=200, notice_form=None):
        context = {
            "form": notice_form or NoticeForm(findings=candidates, initial=initial),
            "unit": unit,
            "inspection": inspection,
            "candidates": candidates,
        }
        return render(request, "supervision/notice_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        chosen = [f for f in candidates if f.pk in set(data["findings"])]
        made = svc.issue_notice(
            by=user, unit=unit, findings=chosen, deadline=data["deadline"], requirements=data["requirements"],
            inspection=inspection,
        )  # fmt: skip
        return _("Notice %(number)s issued.") % {"number": made.number}, reverse("web:notice", args=[made.pk])

    return submit(request, NoticeForm(request.POST, findings=candidates), call, page=page, key="notice_form")


@login_required
def notice_print(request: HttpRequest, pk: int) -> HttpResponse:
    """责令整改通知书 as a printable page laid out like the paper form."""
    return notice_doc.print_response(request, _get_notice(request, pk), reverse("web:notice-pdf", args=[pk]))


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return notice_doc.pdf_response(_get_notice(request, pk))


# --- Inspections ---------------------------------------------------------------------------------


def _inspection_rows(qs, user):
    """An inspection list's rows: of the units each visited, those the user may see (``units_seen``), and
    the count of their findings only — a tour of two branches shows a station lead its own station."""
    reach = scope.scope_for(user, Action.VIEW)
    seen = Prefetch("units", queryset=scope.units(user).order_by("path"), to_attr="units_seen")
    counted = Count("findings", filter=reach.q("findings__unit") or None)
    return qs.select_related("issuing_unit", "hotspot").prefetch_related(seen).annotate(n_findings=counted)


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
    return render(request, "supervision/inspections.html", context)


def _one(qs, pk: int):
    """The row ``pk`` of an already scoped queryset, or 404."""
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


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
    return render(request, "supervision/inspection.html", context, status=status)


@login_required
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    return _inspection_page(request, _get_inspection(request, pk))


@login_required
@require_POST
def inspection_start(request: HttpRequest, pk: int) -> HttpResponse:
    i = _get_inspection(request, pk)

    def call(_data):
        svc.start_inspection(inspection=i, by=request.user)
        return _("Inspection started."), reverse("web:inspection", args=[i.pk])

    return submit(
        request, Form({}), call, key="start_form",
        page=lambda status, **bound: _inspection_page(request, i, status),
    )  # fmt: skip


@login_required
@require_POST
def inspection_complete(request: HttpRequest, pk: int) -> HttpResponse:
    i = _get_inspection(request, pk)
    criteria = list(i.hotspot.criteria.all()) if i.kind == InspectionKind.JOINT and i.hotspot_id else []

    def call(data):
        verdicts = [svc.Judgement(c.pk, data[f"passed_{c.pk}"], data[f"note_{c.pk}"]) for c in criteria]
        done = svc.complete_inspection(
            inspection=i, by=request.user, summary=data["summary"], verdicts=verdicts,
            extend_to=data.get("extend_to"), reason=data.get("reason", ""),
        )  # fmt: skip
        if done.passed is True:
            message = _("Joint acceptance passed: the hotspot is de-listed.")
        elif done.passed is False:
            message = _("Joint acceptance failed: the hotspot's deadline is extended.")
        else:
            message = _("Inspection completed.")
        return message, reverse("web:inspection", args=[i.pk])

    return submit(
        request, CompleteForm(request.POST, criteria=criteria), call, key="complete_form",
        page=lambda status, **bound: _inspection_page(request, i, status, **bound),
    )  # fmt: skip


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
        return render(request, "supervision/inspection_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        made = svc.plan_inspection(
            by=user, campaign=next(c for c in campaigns if c.pk == data["campaign"]), units=data["units"],
            planned_on=data["planned_on"], kind=data["kind"],
            hotspot=next((h for h in hotspots if h.pk == data.get("hotspot")), None),
        )  # fmt: skip
        return _("Inspection planned."), reverse("web:inspection", args=[made.pk])

    return submit(request, form_for(request.POST), call, page=page, key="inspection_form")


# --- Hotspots --------------------------------------------------------------------------------------

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
    rows = list(qs.order_by("deadline", "id")[:LIST_LIMIT])
    for h in rows:
        windows = svc.inspection_windows(h, today)
        h.windows = windows[-WINDOWS_SHOWN:]
        h.missed = svc.missed(windows, today)
        h.days_late = max(0, (today - h.deadline).days)
    context = {
        "rows": rows,
        "status": status,
        "statuses": Hotspot.Status.choices,
        "today": today,
        "can_list": bool(scope.scope_for(user, Action.INSPECT)),
    }
    return render(request, "supervision/hotspots.html", context)


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
    return render(request, "supervision/hotspot.html", context)


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
        context = {"form": hotspot_form or form_for(), "unit_options": options if datalist else [],
                   "no_campaign": not campaigns}  # fmt: skip
        return render(request, "supervision/hotspot_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        made = svc.list_hotspot(
            by=user, campaign=next(c for c in campaigns if c.pk == data["campaign"]), unit=data["unit"],
            name=data["name"], area=data["area"], problems=data["problems"], responsible_name=data["responsible_name"],
            deadline=data["deadline"], listed_on=data["listed_on"], inspect_every_days=data["inspect_every_days"],
            criteria=data["criteria"].splitlines(),
        )  # fmt: skip
        return _("Hotspot listed."), reverse("web:hotspot", args=[made.pk])

    return submit(request, form_for(request.POST), call, page=page, key="hotspot_form")
