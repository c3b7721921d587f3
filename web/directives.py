"""The directives pages (督办事项): HQ's desk, 立项, a directive's page with 交办, review and rating, and the
ledger as XLSX. Reads go through ``directives.queries`` (out of sight, and a secret directive outside its
named units and HQ over the owner: 404); every form posts through ``pages.submit`` to one service. The
units act on their assignment's own page (签收, 反馈, 办结报告 = submit), linked from here.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.models import User
from accounts.scope import Action
from directives import queries, services
from directives.models import Directive, Level, Outcome, Rating, Source, Status
from tasks.queries import campaigns_for, is_overdue
from tasks.services import checkins
from utilities.errors import Refused
from utilities.office import workbook_bytes
from utilities.uploads import download

from . import labels
from .forms import (
    WEEKDAYS,
    DirectiveCompleteForm,
    DirectiveFilterForm,
    DirectiveForm,
    DirectiveRateForm,
    DirectiveReviewForm,
    Form,
)
from .pages import PAGE_SIZE, submit

LEDGER_LIMIT = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filtered(request: HttpRequest):
    """The desk's rows and form: the directives the user sees, narrowed by the form's valid fields."""
    user = request.user
    campaigns = list(campaigns_for(user).filter(status__in=["published", "closed", "draft"]))
    form = DirectiveFilterForm(request.GET or None, campaigns=campaigns)
    data = form.cleaned_data if form.is_valid() else {}
    qs = queries.directives_for(user)
    if data.get("campaign"):
        qs = qs.filter(item__campaign_id=data["campaign"])
    for field in ("source", "level", "status"):
        if data.get(field):
            qs = qs.filter(**{field: data[field]})
    if code := data.get("unit"):
        units, _unknown = scope.units_by_code(user, Action.VIEW, [code])
        qs = queries.under_unit(qs, units[code]) if units else qs.none()
    if data.get("overdue"):
        qs = queries.overdue(qs)
    if q := (data.get("q") or "").strip():
        qs = qs.filter(Q(item__title__icontains=q) | Q(item__code__icontains=q) | Q(case_no__icontains=q))
    return form, qs.order_by("-created_at", "-id")


def _rows(directives) -> list[Directive]:
    """Each row's lead work (status, overdue), two queries for the page whatever its length."""
    from tasks.models import Assignment, AssignmentStatus

    rows = list(directives)
    leads: dict[int, list] = {}
    work = Assignment.objects.filter(item_id__in=[d.item_id for d in rows], role="lead", is_active=True)
    for a in work.select_related("unit").filter(parent__isnull=True).order_by("unit__path"):
        leads.setdefault(a.item_id, []).append(a)
    # the choices' labels translated once per page: ``get_FOO_display`` hashes every lazy label of the
    # field on each call (Django's make_hashable), a third of the desk's time for 50 rows
    labels = {
        name: {value: str(label) for value, label in choices}
        for name, choices in (
            ("source", Source.choices),
            ("level", Level.choices),
            ("status", Status.choices),
            ("work", AssignmentStatus.choices),
        )
    }
    for d in rows:
        d.leads = leads.get(d.item_id, [])
        d.late = any(is_overdue(a) for a in d.leads)
        d.source_label, d.level_label = labels["source"].get(d.source, d.source), labels["level"].get(d.level, "")
        d.status_label = labels["status"].get(d.status, d.status)
        for a in d.leads:
            a.status_label = labels["work"].get(a.status, a.status)
    return rows


@login_required
def directives(request: HttpRequest) -> HttpResponse:
    """HQ's desk (anyone sees the directives it may see; HQ registers)."""
    user = request.user
    if not scope.scope_for(user, Action.VIEW):
        raise PermissionDenied
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": _rows(page.object_list),
        "can_register": bool(scope.scope_for(user, Action.MANAGE)),
        "unit_datalist": unit_datalist(scope.units(user).order_by("path")[:2000]),
    }
    return render(request, "directives/directives.html", context)


def unit_datalist(units) -> str:
    """The unit picker's ``<datalist>`` (code, name), joined here: a province's 1,600 options through the
    template's loop cost more than the rest of the desk."""
    options = "".join(
        f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in units.values_list("code", "name")
    )
    return mark_safe(f'<datalist id="unit-options">{options}</datalist>')  # noqa: S308 (each value escaped)


def _one(request: HttpRequest, pk: int) -> Directive:
    found = queries.directives_for(request.user).filter(pk=pk).select_related("item__action", "created_by").first()
    if found is None:
        raise Http404
    return found


def _weekday_label(weekday: int | None) -> str:
    return str(dict(WEEKDAYS).get(weekday or 5, ""))


def _page(request: HttpRequest, d: Directive, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    work = queries.work(d, user)
    today = timezone.localdate()
    for a in work:
        a.late = is_overdue(a, today)
    # 每周反馈: each unit's check-ins (from the day its work was handed down), missed ones counted
    weekly = checkins.has_cadence(d.item)
    if weekly:
        reported = checkins.reported_periods(work)
        for a in work:
            series = checkins.checkins(a, reported=reported.get(a.pk, {}), today=today)
            a.missed = sum(c.status == checkins.CheckInStatus.MISSED for c in series)
            a.next_due = next((c.due for c in series if c.status == checkins.CheckInStatus.DUE), None)
    manage = services.may_manage(user, d)
    submitted = [a for a in work if a.role == "lead" and a.status == "submitted"]
    # the lead units' work the user reports for, open: its completion report (办结报告) is sent from here
    reach = scope.scope_for(user, Action.REPORT)
    to_complete = [
        a for a in work if a.role == "lead" and a.status in ("pending", "in_progress") and reach.contains(a.unit)
    ]
    context = {
        "d": d,
        "item": d.item,
        "work": work,
        "weekly": weekly,
        "feedback_weekday": _weekday_label(d.item.cadence_weekday) if weekly else "",
        "manage": manage,
        "submitted": submitted,
        "to_complete": to_complete,
        "complete_form": forms.get("complete_form") or DirectiveCompleteForm(),
        "events": [labels.event(e) for e in queries.timeline(d, work)],
        "review_form": forms.get("review_form")
        or DirectiveReviewForm(initial={"unit": submitted[0].unit.code if submitted else ""}),
        "rate_form": forms.get("rate_form") or DirectiveRateForm(initial={"rating": d.rating or Rating.SATISFIED}),
    }
    return render(request, "directives/directive.html", context, status=status)


@login_required
def directive(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _one(request, pk))


def _managed(request: HttpRequest, pk: int) -> Directive:
    d = _one(request, pk)
    if not services.may_manage(request.user, d):
        raise PermissionDenied
    return d


@login_required
@require_POST
def hand_down(request: HttpRequest, pk: int) -> HttpResponse:
    d = _managed(request, pk)

    def call(data):
        services.hand_down(directive=d, by=request.user)
        return _("Handed down to the units."), reverse("web:directives-directive", args=[d.pk])

    return submit(request, Form(request.POST), call, page=lambda status, **f: _page(request, d, status), key="form")


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    d = _managed(request, pk)
    form = DirectiveReviewForm(request.POST)

    def call(data):
        unit = None
        if data["unit"]:
            found, unknown = scope.units_by_code(request.user, Action.VIEW, [data["unit"]])
            if unknown:
                raise Refused(_("Unknown unit codes, or out of your scope: %s") % data["unit"])
            unit = found[data["unit"]]
        accept = data["decision"] == "accept"
        services.review_directive(
            directive=d, by=request.user, accept=accept, reason=data["reason"], unit=unit, outcome=data["outcome"]
        )
        words = _("Accepted: the directive is closed.") if accept else _("Returned to the lead unit.")
        return words, reverse("web:directives-directive", args=[d.pk])

    return submit(request, form, call, page=lambda status, **f: _page(request, d, status, **f), key="review_form")


@login_required
@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """办结报告: the lead unit submits its work for HQ's review, the report as the submit's note."""
    d = _one(request, pk)
    form = DirectiveCompleteForm(request.POST)

    def call(data):
        unit = None
        if data["unit"]:
            found, unknown = scope.units_by_code(request.user, Action.REPORT, [data["unit"]])
            if unknown:
                raise Refused(_("Unknown unit codes, or out of your scope: %s") % data["unit"])
            unit = found[data["unit"]]
        services.complete_directive(directive=d, by=request.user, report=data["report"], unit=unit)
        return _("Completion report sent for review."), reverse("web:directives-directive", args=[d.pk])

    return submit(request, form, call, page=lambda status, **f: _page(request, d, status, **f), key="complete_form")


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    d = _managed(request, pk)

    def call(data):
        services.rate_directive(directive=d, by=request.user, rating=data["rating"], note=data["note"])
        return _("Rating saved."), reverse("web:directives-directive", args=[d.pk])

    form = DirectiveRateForm(request.POST)
    return submit(request, form, call, page=lambda status, **f: _page(request, d, status, **f), key="rate_form")


@login_required
def directive_new(request: HttpRequest) -> HttpResponse:
    """立项 (and 交办 at once, ticked by default): HQ over the campaign's owner."""
    user = request.user
    if not scope.scope_for(user, Action.MANAGE):
        raise PermissionDenied
    manage = scope.scope_for(user, Action.MANAGE)
    campaigns = [
        c for c in campaigns_for(user).exclude(status="closed").select_related("owner") if manage.contains(c.owner)
    ]

    def page(status=200, form=None):
        context = {
            "form": form or DirectiveForm(campaigns=campaigns),
            "no_campaign": not campaigns,
            "unit_options": list(scope.units(user, Action.MANAGE).only("code", "name").order_by("path")[:2000]),
        }
        return render(request, "directives/directive_new.html", context, status=status)

    if request.method != "POST":
        return page()

    def call(data):
        campaign = next(c for c in campaigns if c.pk == data["campaign"])
        codes = list(dict.fromkeys([*data["lead_units"], *data["cooperating_units"]]))
        units, unknown = scope.units_by_code(user, Action.MANAGE, codes)
        if unknown:
            raise Refused(_("Unknown unit codes, or out of your scope: %s") % "、".join(unknown))
        leader = _leader(data["leader_name"])
        case = None
        if data["is_case"] or data["source"] == Source.CASE:
            case = services.Case(case_no=data["case_no"], case_type=data["case_type"], crime_date=data["crime_date"])
        made = services.register_directive(
            campaign=campaign,
            by=user,
            title=data["title"],
            source=data["source"],
            lead_units=[units[c] for c in data["lead_units"]],
            cooperating_units=[units[c] for c in data["cooperating_units"]],
            due_date=data["due_date"],
            text=data["text"],
            instruction=data["instruction"],
            instructed_by=data["instructed_by"],
            instructed_on=data["instructed_on"],
            level=data["level"],
            leader=leader,
            leader_name=data["leader_name"],
            secret=data["secret"],
            case=case,
            feedback_weekday=data["feedback_weekday"],
        )
        if data["hand_down"]:
            services.hand_down(directive=made, by=user)
        return _("Directive registered."), reverse("web:directives-directive", args=[made.pk])

    return submit(request, DirectiveForm(request.POST, campaigns=campaigns), call, page=page, key="form")


def _leader(name: str) -> User | None:
    """The leader's account where the name is one user's (as the plan import names leaders)."""
    name = (name or "").strip()
    found = list(User.objects.filter(name=name, is_active=True)[:2]) if name else []
    return found[0] if len(found) == 1 else None


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """The ledger (督办台账) as XLSX: the desk's rows with its filters, at most ``LEDGER_LIMIT``."""
    from openpyxl import Workbook

    if not scope.scope_for(request.user, Action.VIEW):
        raise PermissionDenied
    form, qs = _filtered(request)
    if "campaign" in form.errors:  # a campaign the user does not see (or none such): as any page naming it
        raise Http404
    rows = _rows(qs[:LEDGER_LIMIT])
    book = Workbook()
    sheet = book.active
    sheet.title = "督办台账"
    sheet.append(
        [
            "编号",
            "事项",
            "来源",
            "挂牌级别",
            "案件编号",
            "牵头单位",
            "配合单位",
            "包案领导",
            "办结时限",
            "状态",
            "逾期",
            "案件结果",
            "评价",
        ]
    )
    sources, levels, statuses = dict(Source.choices), dict(Level.choices), dict(Status.choices)
    outcomes, ratings = dict(Outcome.choices), dict(Rating.choices)
    for d in rows:
        sheet.append(
            [
                d.item.code,
                d.item.title,
                str(sources.get(d.source, d.source)),
                str(levels.get(d.level, "")) if d.level else "",
                d.case_no,
                d.item.lead_text,
                d.item.cooperating_text,
                d.leader_name,
                d.item.due_date,
                str(statuses.get(d.status, d.status)),
                "是" if d.late else "",
                str(outcomes.get(d.outcome, "")) if d.outcome else "",
                str(ratings.get(d.rating, "")) if d.rating else "",
            ]
        )
    response = HttpResponse(workbook_bytes(book), content_type=XLSX)  # every text cell as text, never a formula
    return download(response, f"督办台账{timezone.localdate():%Y%m%d}.xlsx", fallback="directives.xlsx")
