"""The tasks pages: a unit lead's tasks and assignment page, HQ's acceptance queue and item pages.

Every page reads through ``accounts.scope`` (out of scope is a 404) and every form posts to a view
that calls one service from ``tasks.services``; a refusal is shown on the page with what was typed
kept, never a 500.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.models import Unit
from accounts.scope import Action
from notifications import colours
from tasks.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    PlanUpload,
    ResponsibilityScope,
)
from tasks.queries import campaigns_for, overdue_q, progress_counts
from tasks.services import checkins
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.items import update_item
from tasks.services.plan_uploads import UPLOADABLE, confirm_plan, preview_plan
from tasks.services.progress import add_comment, report_progress, timeline
from tasks.services.workflow import allowed_transitions, awaiting_review, may_review, transition_assignment
from utilities.errors import Refused
from utilities.params import DateField

from . import labels
from .forms import (
    CommentForm,
    DecisionForm,
    ExtensionForm,
    ItemEditForm,
    ReportForm,
    TaskFilterForm,
    TransitionForm,
)
from .pages import PAGE_SIZE, refused, submit

S = AssignmentStatus
MY_TASKS_LIMIT = 300


def _assignments():
    return Assignment.objects.select_related("item", "item__action", "campaign", "unit")


# --- My tasks ------------------------------------------------------------------------------------


def _annotate_due(rows: list[Assignment], today) -> None:
    """Give each row its next due date (the next check-in for cadence items) and its group."""
    reported = checkins.reported_periods([a for a in rows if checkins.has_cadence(a.item)])
    week_end = today + timedelta(days=6 - today.weekday())
    for a in rows:
        a.missed = 0
        a.next_due = a.due_date
        if checkins.has_cadence(a.item):
            series = checkins.checkins(a, reported=reported.get(a.pk, {}), today=today)
            a.missed = sum(c.status == checkins.CheckInStatus.MISSED for c in series)
            coming = [
                c.due for c in series if c.status in (checkins.CheckInStatus.DUE, checkins.CheckInStatus.UPCOMING)
            ]
            a.next_due = coming[0] if coming else a.due_date
        if a.status in (S.SUBMITTED, S.ACCEPTED):
            a.group = "done"
        elif a.due_date < today or a.missed:
            a.group = "overdue"
        elif a.next_due <= week_end:
            a.group = "week"
        else:
            a.group = "later"
        a.days_late = (today - a.due_date).days if a.due_date < today else 0
        a.slip = colours.slip(a, today)


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaigns = list(campaigns_for(user).filter(status__in=["published", "closed"]))
    form = TaskFilterForm(request.GET or None, campaigns=campaigns)
    data = form.cleaned_data if form.is_valid() else {}
    qs = scope.restrict(_assignments().filter(is_active=True), user)
    if data.get("below"):
        qs = scope.restrict(qs, user, Action.REPORT) if scope.scope_for(user, Action.REPORT) else qs
    else:
        qs = qs.mine(user)
    if q := (data.get("q") or "").strip():
        qs = qs.filter(Q(item__code__icontains=q) | Q(item__title__icontains=q) | Q(unit__name__icontains=q))
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("campaign"):
        qs = qs.filter(campaign_id=data["campaign"])
    rows = list(qs.order_by("due_date", "item__seq", "unit__path")[: MY_TASKS_LIMIT + 1])
    truncated = len(rows) > MY_TASKS_LIMIT
    rows = rows[:MY_TASKS_LIMIT]
    _annotate_due(rows, timezone.localdate())
    groups = [(key, title, [a for a in rows if a.group == key]) for key, title in labels.TASK_GROUPS]
    context = {"form": form, "groups": groups, "count": len(rows), "truncated": truncated, "limit": MY_TASKS_LIMIT}
    template = "tasks/_task_list.html" if request.headers.get("HX-Request") else "tasks/my_tasks.html"
    return render(request, template, context)


# --- The assignment page ---------------------------------------------------------------------------


def _get_assignment(request: HttpRequest, pk: int) -> Assignment:
    return scope.get_or_404(_assignments(), request.user, pk=pk)


def _period_choices(a: Assignment):
    today = timezone.localdate()
    series = checkins.checkins(a, today=today)
    choices = [(c.period, labels.period_label(c)) for c in series if c.start <= today]
    current = checkins.current_period(a, today)
    return series, choices[::-1], current.due if current else None


def _page(request: HttpRequest, a: Assignment, status: int = 200, **bound) -> HttpResponse:
    """Render the assignment page; ``bound`` carries a refused form back with what was typed."""
    user = request.user
    can_report = scope.can(user, Action.REPORT, a.unit)
    series, period_choices, current = _period_choices(a) if checkins.has_cadence(a.item) else ([], [], None)
    reviewer = may_review(user, a)
    allowed = allowed_transitions(user, a)
    context = {
        "a": a,
        "item": a.item,
        # a share's page names the assignment it was passed down from, but links to it only for those
        # who may open it (a station lead usually may not see its sub-bureau's own assignment)
        "parent_link": bool(a.parent_id) and scope.restrict(Assignment.objects.filter(pk=a.parent_id), user).exists(),
        "today": timezone.localdate(),
        "can_report": can_report and a.is_active and a.status in (S.PENDING, S.IN_PROGRESS, S.RETURNED),
        "can_extend": can_report and a.is_active and a.status != S.ACCEPTED,
        "reviewer": reviewer,
        "transitions": [labels.transition(name) for name in allowed],
        "report_form": bound.get("report_form")
        or ReportForm(periods=period_choices, default_period=current, initial={"version": a.version}),
        "transition_form": bound.get("transition_form"),
        "comment_form": bound.get("comment_form") or CommentForm(),
        "extension_form": bound.get("extension_form") or ExtensionForm(),
        "checkins": series,
        "reports": a.reports.select_related("reported_by").prefetch_related("evidence").order_by("-reported_at"),
        "comments": a.comments.select_related("author"),
        "extensions": a.extension_requests.select_related("requested_by", "decided_by"),
        "children": a.children.select_related("unit").order_by("unit__path"),
        "events": [labels.event(e) for e in timeline(a)],
        "percent": labels.percent(a.progress, a.target),
        "expected_percent": round(a.expected_share() * 100) if a.target else None,
        "behind": a.is_behind_pace(),
        "slip": colours.slip(a),
    }
    return render(request, "tasks/assignment.html", context, status=status)


@login_required
def assignment(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _get_assignment(request, pk))


def _done(request: HttpRequest, a: Assignment, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("web:tasks-assignment", args=[a.pk]))


def _submit(request: HttpRequest, a: Assignment, form, key: str, call) -> HttpResponse:
    """``submit`` on the assignment page: ``call(data)`` returns the success message."""
    return submit(
        request,
        form,
        lambda data: (call(data), reverse("web:tasks-assignment", args=[a.pk])),
        page=lambda status, **bound: _page(request, a, status=status, **bound),
        key=key,
    )


@login_required
@require_POST
def report(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)
    _series, choices, current = _period_choices(a) if checkins.has_cadence(a.item) else ([], [], None)

    def call(data):
        report_progress(
            assignment=a,
            by=request.user,
            value=data["value"],
            text=data["text"],
            files=data["files"],
            expected_version=data["version"],
            period=data.get("period") or None,
        )
        return _("Progress reported.")

    form = ReportForm(request.POST, request.FILES, periods=choices, default_period=current)
    return _submit(request, a, form, "report_form", call)


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)

    def call(data):
        transition_assignment(
            assignment=a, name=data["name"], by=request.user, note=data["note"], expected_version=data["version"]
        )
        return labels.transition(data["name"]).done

    return _submit(request, a, TransitionForm(request.POST), "transition_form", call)


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)

    def call(data):
        add_comment(assignment=a, by=request.user, text=data["text"])
        return _("Comment added.")

    return _submit(request, a, CommentForm(request.POST), "comment_form", call)


@login_required
@require_POST
def extension(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)

    def call(data):
        request_extension(assignment=a, by=request.user, due=data["requested_due"], reason=data["reason"])
        return _("Extension requested.")

    return _submit(request, a, ExtensionForm(request.POST), "extension_form", call)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    ext = scope.get_or_404(ExtensionRequest.objects.select_related("assignment"), request.user, pk=pk)
    a = _get_assignment(request, ext.assignment_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or refuse."))
        return _page(request, a, status=400)
    try:
        decide_extension(request=ext, by=request.user, **form.cleaned_data)
    except Refused as exc:
        return _page(request, a, status=refused(request, exc))
    return _done(request, a, _("Decision recorded."))


# --- Headquarters ------------------------------------------------------------------------------


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """What awaits HQ: work submitted for acceptance and extension requests, in its manage scope."""
    user = request.user
    if not scope.scope_for(user, Action.MANAGE):
        raise PermissionDenied
    submitted = awaiting_review(_assignments().filter(status=S.SUBMITTED, is_active=True), user)
    page = Paginator(submitted.order_by("updated_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    pending = awaiting_review(
        ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).select_related(
            "assignment__item", "assignment__unit", "requested_by"
        ),
        user,
    )[:PAGE_SIZE]
    return render(request, "tasks/review.html", {"page": page, "extensions": pending})


def _campaign_choice(request: HttpRequest):
    campaigns = list(campaigns_for(request.user).exclude(status="draft"))
    wanted = request.GET.get("campaign")
    chosen = next((c for c in campaigns if str(c.pk) == wanted), campaigns[0] if campaigns else None)
    return campaigns, chosen


@login_required
def items(request: HttpRequest) -> HttpResponse:
    """The checklist of a campaign with each item's completion over the units the user can see."""
    campaigns, campaign = _campaign_choice(request)
    rows, totals = [], {}
    if campaign:
        counts = progress_counts(scope.restrict(campaign.assignments.all(), request.user), by="item_id")
        totals = progress_counts(scope.restrict(campaign.assignments.all(), request.user))
        empty = dict.fromkeys(["total", "accepted", "submitted", "returned", "overdue"], 0)
        for item in campaign.items.filter(is_active=True).select_related("action").order_by("seq"):
            item.counts = counts.get(item.pk, empty)
            item.percent = labels.percent(item.counts["accepted"], item.counts["total"])
            rows.append(item)
    return render(
        request, "tasks/items.html", {"campaigns": campaigns, "campaign": campaign, "rows": rows, "totals": totals}
    )


@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """One item across all its units (in the user's scope): status, progress, due, overdue."""
    it = _get_item(request, pk)
    qs = scope.restrict(_assignments().filter(item=it, is_active=True), request.user)
    status = request.GET.get("status", "")
    shown = qs.filter(status=status) if status in S.values else qs
    if request.GET.get("overdue"):
        shown = shown.filter(overdue_q())
    page = Paginator(shown.order_by("unit__path"), PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page:
        a.percent = labels.percent(a.progress, a.target)
    context = {
        "item": it,
        "page": page,
        "totals": progress_counts(qs),
        "status": status,
        "overdue": bool(request.GET.get("overdue")),
        "statuses": S.choices,
        "can_edit": scope.can(request.user, Action.MANAGE, it.campaign.owner),
    }
    return render(request, "tasks/item.html", context)


def _get_item(request: HttpRequest, pk: int) -> Item:
    found = (
        Item.objects.select_related("campaign__owner", "action")
        .filter(pk=pk, campaign__in=campaigns_for(request.user))
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- Items (HQ edits) ----------------------------------------------------------------------------


ITEM_FIELDS = (
    "title",
    "measures",
    "target_text",
    "target_value",
    "deadline_text",
    "due_date",
    "lead_text",
    "cooperating_text",
)
UNIT_FIELDS = {AssignmentRole.LEAD: "lead_units", AssignmentRole.COOPERATING: "cooperating_units"}


def _managed_item(request: HttpRequest, pk: int) -> Item:
    """The item, for HQ over its campaign's owner: 404 out of sight, 403 seen without the right."""
    it = _get_item(request, pk)
    if not scope.can(request.user, Action.MANAGE, it.campaign.owner):
        raise PermissionDenied
    return it


def _named(it: Item) -> tuple[dict[str, str], list]:
    """The codes of the units the item names one by one, per form field, and the groups it names."""
    codes: dict[str, list[str]] = {field: [] for field in UNIT_FIELDS.values()}
    groups = []
    for rule in it.responsibilities.select_related("unit").order_by("role", "unit__path"):
        if rule.scope == ResponsibilityScope.UNIT:
            codes[UNIT_FIELDS[rule.role]].append(rule.unit.code)
        else:
            groups.append(rule)
    return {field: " ".join(found) for field, found in codes.items()}, groups


def _edit_page(request: HttpRequest, it: Item, status: int = 200, form=None) -> HttpResponse:
    initial, groups = _named(it)
    form = form or ItemEditForm(initial={**{f: getattr(it, f) for f in ITEM_FIELDS}, **initial})
    return render(request, "tasks/item_edit.html", {"item": it, "form": form, "groups": groups}, status=status)


@login_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """HQ changes a published item; ``update_item`` makes the assignments follow. Withdrawing work a
    unit already reported is refused, naming the units, until "confirm" is ticked."""
    it = _managed_item(request, pk)
    if request.method != "POST":
        return _edit_page(request, it)
    initial, _groups = _named(it)
    form = ItemEditForm(request.POST, initial={**{f: getattr(it, f) for f in ITEM_FIELDS}, **initial})

    def call(data):
        # only what was sent and changed: an untouched field is not rewritten (nor its units re-read)
        sent = [name for name in form.changed_data if name in request.POST]
        fields = {name: data[name] for name in ITEM_FIELDS if name in sent}
        units = {}
        for field in UNIT_FIELDS.values():
            if field in sent:
                found, unknown = scope.units_by_code(request.user, Action.MANAGE, data[field])
                if unknown:
                    raise Refused(_("Unknown unit codes, or out of your scope: %s") % "、".join(unknown))
                units[field] = [found[code] for code in data[field]]
        update_item(item=it, by=request.user, source="web", confirm=data["confirm"], **units, **fields)
        return _("Item changed."), reverse("web:tasks-item", args=[it.pk])

    return submit(
        request, form, call, page=lambda status, **bound: _edit_page(request, it, status, **bound), key="form"
    )


# --- Plans (HQ) ------------------------------------------------------------------------------------


class PlanUploadForm(forms.Form):
    """A plan for a draft or published campaign HQ manages, or for a new one of one of HQ's units."""

    file = forms.FileField(label=gettext_lazy("Plan file (XLSX, DOCX, CSV, YAML or JSON)"))
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, label=gettext_lazy("Campaign"))
    name = forms.CharField(required=False, max_length=200, label=gettext_lazy("New campaign's name"))
    code = forms.CharField(required=False, max_length=40, label=gettext_lazy("Code (optional)"))
    start = DateField(required=False, label=gettext_lazy("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(required=False, label=gettext_lazy("End"), widget=forms.DateInput(attrs={"type": "date"}))
    owner = forms.ModelChoiceField(
        queryset=Unit.objects.none(), to_field_name="code", required=False, label=gettext_lazy("Owning HQ")
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = scope.restrict(
            Campaign.objects.filter(status__in=UPLOADABLE), user, Action.MANAGE
        ).order_by("-start", "code")
        # HQ's units: those of its grants and the level below (a sub-bureau's own campaign), not every station
        managed = scope.units(user, Action.MANAGE)
        top = managed.order_by("depth").values_list("depth", flat=True).first() or 0
        self.fields["owner"].queryset = managed.filter(depth__lte=top + 1).order_by("path")

    def clean(self):
        data = super().clean()
        if not data.get("campaign"):
            for key in ("name", "start", "end", "owner"):
                if not data.get(key) and key not in self.errors:
                    self.add_error(key, _("Required for a new campaign."))
        return data


class PlanConfirmForm(forms.Form):
    publish = forms.BooleanField(required=False, label=gettext_lazy("Publish: create every unit's assignments"))


def _hq(request: HttpRequest) -> None:
    if not scope.scope_for(request.user, Action.MANAGE):
        raise PermissionDenied


def _plans_page(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    uploads = (
        PlanUpload.objects.visible_to(request.user, Action.MANAGE)
        .select_related("campaign", "owner", "uploaded_by")
        .order_by("-uploaded_at", "-id")[:PAGE_SIZE]
    )
    form = bound.get("form") or PlanUploadForm(request.user)
    return render(request, "tasks/plans.html", {"uploads": uploads, "form": form}, status=status)


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    """HQ's plan uploads: the recent ones of its units, and the form that uploads one for a preview."""
    _hq(request)
    if request.method != "POST":
        return _plans_page(request)

    def preview(data) -> tuple[str, str]:
        upload = preview_plan(
            upload=data["file"],
            by=request.user,
            campaign=data["campaign"],
            name=data["name"].strip(),
            code=data["code"].strip(),
            start=data["start"],
            end=data["end"],
            owner=data["owner"],
        )
        return _("Plan uploaded: check the preview before importing."), reverse("web:tasks-plan", args=[upload.pk])

    form = PlanUploadForm(request.user, request.POST, request.FILES)
    return submit(
        request, form, preview, page=lambda status, **bound: _plans_page(request, status, **bound), key="form"
    )


def _plan_rows(result: dict) -> list[tuple[str, int, int, int]]:
    """(what, created, updated, withdrawn) per kind of row the import touches."""
    kinds = (("campaign", _("Campaign")), ("actions", _("Lines of action")), ("items", _("Items")))
    kinds += (("assignments", _("Assignments")),)
    return [
        (label, *(result.get(k, {}).get(key, 0) for k in ("created", "updated", "withdrawn"))) for key, label in kinds
    ]


@login_required
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    """One upload's preview: the dry run's numbers and changes, every problem located beside the
    cell's text; confirming imports it (and publishes a draft if asked) from the stored file."""
    _hq(request)
    upload = get_object_or_404(
        PlanUpload.objects.visible_to(request.user, Action.MANAGE).select_related("campaign", "owner", "uploaded_by"),
        pk=pk,
    )

    def page(status: int = 200, **bound) -> HttpResponse:
        upload.refresh_from_db()
        context = {
            "upload": upload,
            "result": upload.result,
            "rows": _plan_rows(upload.result),
            "errors": upload.result.get("errors", []),
            "confirm_form": bound.get("confirm_form") or PlanConfirmForm(),
            "draft": upload.campaign is None or upload.campaign.status == CampaignStatus.DRAFT,
        }
        return render(request, "tasks/plan.html", context, status=status)

    if request.method != "POST":
        return page()

    def confirm(data) -> tuple[str, str]:
        result = confirm_plan(upload=upload, by=request.user, publish=data["publish"])
        message = _("Plan imported into %(code)s: %(items)d items, %(assignments)d assignments.") % {
            "code": result.campaign,
            "items": result.items,
            "assignments": result.assignments,
        }
        return message, reverse("web:tasks-plan", args=[upload.pk])

    return submit(request, PlanConfirmForm(request.POST), confirm, page=page, key="confirm_form")
