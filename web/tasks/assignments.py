"""The assignment pages: a unit lead's tasks and assignment page, HQ's acceptance queue.

Every page reads through ``accounts.scope`` (out of scope is a 404) and every form posts to a view
that calls one service from ``tasks.services``; a refusal is shown on the page with what was typed
kept, never a 500.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.models import Role, Unit
from accounts.scope import Action
from documents import summons
from documents.distribution import received_by
from inspections.queries import letters_to_answer, letters_to_review
from notifications import colours
from tasks import targets
from tasks.models import (
    Assignment,
    AssignmentStatus,
    CampaignStatus,
    CommentKind,
    Evidence,
    ExtensionRequest,
    ExtensionStatus,
    ItemKind,
    LineOfAction,
    Target,
)
from tasks.queries import campaigns_for, is_overdue
from tasks.rows import with_targets_apart
from tasks.services import checkins
from tasks.services.cascade import Share, ShareRefused, adds_up, pass_down, remainder_of, remainders_of
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.progress import (
    add_comment,
    default_leader,
    give_instruction,
    report_progress,
    request_instruction,
    timeline,
)
from tasks.services.receipts import acknowledge_assignment
from tasks.services.workflow import (
    Step,
    allowed_transitions,
    awaiting_review,
    may_review,
    shortfall_percent,
    split_reviewable,
    transition_assignment,
    transition_assignments,
)
from utilities.errors import Missing, Refused, RowsRefused

from .. import labels
from ..forms import (
    AcknowledgeForm,
    CommentForm,
    DecisionForm,
    ExtensionForm,
    PassDownForm,
    ReportForm,
    ReviewBulkForm,
    ReviewFilterForm,
    ShareRowForm,
    TaskFilterForm,
    TransitionForm,
)
from ..pages import PAGE_SIZE, refused, submit

S = AssignmentStatus
MY_TASKS_LIMIT = 300
# the assignment page shows the newest reports and history events, this many of each, unless ?history=all:
# a cadence item reported daily for a campaign gathers hundreds, and the page grew with them (docs/cpu.md)
HISTORY_SHOWN = 50


def _assignments():
    return Assignment.objects.select_related(
        "item", "item__action", "item__leader", "item__action__leader", "campaign", "unit", "acknowledged_by"
    )


def _listed():
    """What a list row shows reads the item, the unit and the campaign (its start: the pace) only; the
    line of action, the leaders and who acknowledged are for the assignment page (``_assignments``)."""
    return Assignment.objects.select_related("item", "campaign", "unit")


# --- My tasks ------------------------------------------------------------------------------------


def _annotate_due(rows: list[Assignment], today) -> None:
    """Give each row its next due date (the next check-in for cadence items) and its group; and what
    the list shows of it computed once here, not by the template per use (the status words from one
    dict: ``get_status_display`` builds the choices' dict on every call)."""
    reported = checkins.reported_periods([a for a in rows if checkins.has_cadence(a.item)])
    week_end = today + timedelta(days=6 - today.weekday())
    statuses = dict(S.choices)
    # progress and pace by every target of the item, as the item page reads them: one query for the page
    judged = targets.judged(rows, today)
    for a in rows:
        a.status_label = statuses.get(a.status, a.status)
        a.target_amount = a.target
        a.done = judged[a.pk].progress  # a linked first target's from the results statistics
        a.behind = judged[a.pk].behind
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
        # ``tasks.queries.overdue_q``: an on-time submission waiting for acceptance is not late
        a.days_late = (today - a.due_date).days if is_overdue(a, today) else 0
        a.slip = colours.slip(a, today, behind=a.behind)


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaigns = list(campaigns_for(user).filter(status__in=["published", "closed"]))
    form = TaskFilterForm(request.GET or None, campaigns=campaigns)
    data = form.cleaned_data if form.is_valid() else {}
    qs = scope.restrict(_listed().filter(is_active=True), user)
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
    # each row says whether its item has a target read apart: a page of one-target items is judged without a
    # statement (``tasks.rows.with_targets_apart``)
    rows = list(with_targets_apart(qs).order_by("due_date", "item__seq", "unit__path")[: MY_TASKS_LIMIT + 1])
    truncated = len(rows) > MY_TASKS_LIMIT
    rows = rows[:MY_TASKS_LIMIT]
    _annotate_due(rows, timezone.localdate())
    # a directive's work (督办事项) is an assignment too: the same rows, shown in their own section
    directives = [a for a in rows if a.item.kind == ItemKind.DIRECTIVE]
    plan = [a for a in rows if a.item.kind != ItemKind.DIRECTIVE]
    groups = [(key, title, [a for a in plan if a.group == key]) for key, title in labels.TASK_GROUPS]
    context = {
        "form": form,
        "groups": groups,
        "sections": [("directives", _("Directives"), directives), *groups],
        "count": len(rows),
        "truncated": truncated,
        "limit": MY_TASKS_LIMIT,
    }
    if request.headers.get("HX-Request"):
        return render(request, "tasks/_task_list.html", context)
    # the shares the units under mine submitted, mine to accept as the unit that passed them down
    to_accept = split_reviewable(_listed().filter(status=S.SUBMITTED, is_active=True), user)
    context["to_accept"] = list(with_targets_apart(to_accept).order_by("submitted_on", "unit__path")[: PAGE_SIZE + 1])
    # risk letters to acknowledge or answer (风险提示函), the earliest reply-by first
    context["letters"] = list(letters_to_answer(user)[: PAGE_SIZE + 1]) if scope.scope_for(user, Action.REPORT) else []
    # 约谈 of the user's own unit and what it committed to (documents/summons.py)
    context["summonses"] = summons.on_record(summons.summonses_for(user).mine(user))
    # documents sent to my units not yet acknowledged (公文签收), the newest first
    context["documents_to_ack"] = list(received_by(user).filter(acknowledged_at=None)[: PAGE_SIZE + 1])
    shares = targets.judged(context["to_accept"])
    for a in context["to_accept"]:
        a.done = shares[a.pk].progress
        a.percent = labels.percent(a.done, a.target)
    return render(request, "tasks/my_tasks.html", context)


# --- The assignment page ---------------------------------------------------------------------------


def _get_assignment(request: HttpRequest, pk: int) -> Assignment:
    return scope.get_or_404(_assignments(), request.user, pk=pk)


def _period_choices(a: Assignment):
    today = timezone.localdate()
    series = checkins.checkins(a, today=today)
    choices = [(c.period, labels.period_label(c)) for c in series if c.start <= today]
    current = checkins.current_period(a, today)
    return series, choices[::-1], current.due if current else None


def _newest(qs, newest_first: tuple[str, ...], whole: bool) -> tuple[list, int]:
    """The newest ``HISTORY_SHOWN`` rows of ``qs`` by ``newest_first`` (all when ``whole``), and how many
    older ones were left out: counted only when there are more than those shown."""
    if whole:
        return list(qs.order_by(*newest_first)), 0
    rows = list(qs.order_by(*newest_first)[: HISTORY_SHOWN + 1])
    if len(rows) <= HISTORY_SHOWN:
        return rows, 0
    return rows[:HISTORY_SHOWN], qs.count() - HISTORY_SHOWN


def _page(request: HttpRequest, a: Assignment, status: int = 200, **bound) -> HttpResponse:
    """Render the assignment page; ``bound`` carries a refused form back with what was typed. The reports
    and the history show their newest ``HISTORY_SHOWN`` (``?history=all``: everything)."""
    user = request.user
    whole = request.GET.get("history") == "all"
    reports, reports_hidden = _newest(
        a.reports.select_related("reported_by", "target").prefetch_related("evidence"), ("-reported_at", "-id"), whole
    )
    events, events_hidden = _newest(timeline(a), ("-at", "-id"), whole)
    can_report = scope.can(user, Action.REPORT, a.unit)
    series, period_choices, current = _period_choices(a) if checkins.has_cadence(a.item) else ([], [], None)
    reviewer = may_review(user, a)
    allowed = allowed_transitions(user, a)
    target_lines = targets.lines([a]).get(a.pk, [])
    children = _shares(a)
    short = next((line for line in target_lines if line.short), None)
    # behind the planned pace on any target (the lists', the slip's and the reminder's rule); an item without
    # target rows by its own fields
    behind = any(line.behind for line in target_lines) if target_lines else a.is_behind_pace()
    context = {
        "a": a,
        "item": a.item,
        # a share's page names the assignment it was passed down from, but links to it only for those
        # who may open it (a station lead usually may not see its sub-bureau's own assignment)
        "parent": Assignment.objects.select_related("unit").filter(pk=a.parent_id).first() if a.parent_id else None,
        "parent_link": bool(a.parent_id) and scope.restrict(Assignment.objects.filter(pk=a.parent_id), user).exists(),
        # a share of an item with several targets: what it is given of each (检查场所30家次；整改隐患5处)
        "share_words": "；".join(
            targets.amount_words(line.target.metric, line.amount, line.target.unit)
            for line in target_lines
            if line.amount is not None
        )
        if a.parent_id and len(target_lines) > 1
        else "",
        "today": timezone.localdate(),
        "can_report": can_report and a.is_active and a.status in (S.PENDING, S.IN_PROGRESS, S.RETURNED),
        "can_extend": can_report and a.is_active and a.status != S.ACCEPTED,
        # 签收: one tap while nobody of the unit has acknowledged it (a report or a start does too)
        "can_acknowledge": can_report and a.is_active and a.acknowledged_at is None,
        "reviewer": reviewer,
        "transitions": [labels.transition(name) for name in allowed],
        "report_form": bound.get("report_form")
        or ReportForm(
            periods=period_choices,
            default_period=current,
            targets=_reportable(target_lines),
            initial={"version": a.version},
        ),
        "target_lines": target_lines,
        "transition_form": bound.get("transition_form"),
        "comment_form": bound.get("comment_form") or CommentForm(),
        "extension_form": bound.get("extension_form") or ExtensionForm(),
        "checkins": series,
        "reports": reports,
        "reports_hidden": reports_hidden,
        "comments": a.comments.select_related("author", "addressed_to"),
        # 报请领导批示 by the unit or HQ over it, to the item's (else the line's) leader; 批示 by a leader over it
        "may_request": can_report or scope.can(user, Action.MANAGE, a.unit),
        "request_to": default_leader(a),
        "may_instruct": scope.of_role(user, Role.LEADER).contains(a.unit),
        "extensions": a.extension_requests.select_related("requested_by", "decided_by"),
        "children": children,
        "remainder": remainder_of(a),
        "remainders": remainders_of(a, [line.target for line in target_lines if line.target.seq > 1], children),
        **_pass_down_context(user, a, can_report, bound.get("pass_down_form"), target_lines),
        "events": [labels.event(e) for e in reversed(events)],  # oldest first, as the history reads
        "events_hidden": events_hidden,
        "history_all_url": f"{reverse('web:tasks-assignment', args=[a.pk])}?history=all",
        # the first target's progress: a linked one's from the results statistics
        "done": target_lines[0].progress if target_lines else a.progress,
        "percent": labels.percent(target_lines[0].progress if target_lines else a.progress, a.target),
        "expected_percent": round(a.expected_share() * 100) if a.target else None,
        "behind": behind,
        "shortfall": _shortfall(a) if not target_lines else _short_line(short),
        "slip": colours.slip(a, behind=behind),
    }
    return render(request, "tasks/assignment.html", context, status=status)


def _shares(a: Assignment) -> list[Assignment]:
    """The shares passed down from ``a``, each with its progress against its own target."""
    rows = list(a.children.select_related("unit", "item", "campaign", "acknowledged_by").order_by("unit__path"))
    for c in rows:
        c.percent = labels.percent(c.progress, c.target)
    return rows


def _units_below(a: Assignment):
    return Unit.objects.filter(path__startswith=a.unit.path, depth__gt=a.unit.depth, is_active=True)


def _pass_down_context(user, a: Assignment, can_report: bool, form: PassDownForm | None, lines: list) -> dict:
    """分解下发 for a lead (report rights over the unit) whose unit has units under it, while the work is
    open: not withdrawn, not accepted, its campaign not closed."""
    open_work = a.is_active and a.status != S.ACCEPTED and a.campaign.status != CampaignStatus.CLOSED
    if not (can_report and open_work and _units_below(a).exists()):
        return {"can_pass_down": False}
    return {
        "can_pass_down": True,
        "adds_up": adds_up(a),
        "pass_down_form": form or _pass_down_form(a, later=[line.target for line in lines if line.target.seq > 1]),
        "share_units": _units_below(a).only("code", "name").order_by("path"),
    }


def _pass_down_form(a: Assignment, data=None, later: list | None = None) -> PassDownForm:
    """The pass-down form of ``a``: a share column for the first target and one for each later target
    (``later``: read here unless the page has them)."""
    if later is None:
        later = list(Target.objects.filter(item_id=a.item_id, seq__gt=1).order_by("seq"))
    first = ""
    if later:
        item = a.item
        first = targets.label(Target(metric=item.target_metric, unit=item.target_unit, text=item.target_text))
    return PassDownForm(data, units=_units_below(a), parent_due=a.due_date, later=later, first_label=first)


def _reportable(lines: list) -> list:
    """The targets an amount may be reported on: those not linked to the results statistics."""
    return [line.target for line in lines if not line.linked]


def _short_line(line) -> dict | None:
    """The first target the work falls short of, as the submit button asks to confirm it."""
    if line is None:
        return None
    return {"progress": line.progress, "target": line.amount, "percent": shortfall_percent(line.progress, line.amount)}


def _shortfall(a: Assignment) -> dict | None:
    """What the submit button asks the unit to confirm: how far the work is from its target."""
    short = a.shortfall()
    if short is None:
        return None
    return {"progress": short[0], "target": short[1], "percent": shortfall_percent(*short)}


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
    reportable = list(a.item.targets.filter(indicator__isnull=True).order_by("seq"))

    def call(data):
        chosen = {t.seq: t for t in reportable}.get(data.get("target"))
        report_progress(
            assignment=a,
            by=request.user,
            value=data["value"],
            text=data["text"],
            files=data["files"],
            expected_version=data["version"],
            period=data.get("period") or None,
            target=chosen,
        )
        return _("Progress reported.")

    form = ReportForm(request.POST, request.FILES, periods=choices, default_period=current, targets=reportable)
    return _submit(request, a, form, "report_form", call)


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)

    def call(data):
        transition_assignment(
            assignment=a,
            name=data["name"],
            by=request.user,
            note=data["note"],
            expected_version=data["version"],
            confirm_shortfall=data["confirm_shortfall"],
        )
        return labels.transition(data["name"]).done

    return _submit(request, a, TransitionForm(request.POST), "transition_form", call)


@login_required
@require_POST
def pass_down_work(request: HttpRequest, pk: int) -> HttpResponse:
    """分解下发: the rows to ``cascade.pass_down``; a refused share is shown on its row."""
    a = _get_assignment(request, pk)
    if not scope.can(request.user, Action.REPORT, a.unit):
        raise PermissionDenied  # before the rows are read against the units under the unit (as the API)
    form = _pass_down_form(a, request.POST)

    def call(data):
        rows = form.filled()
        shares = [
            Share(r["unit"], r["target"], r["due_date"], r["note"], ShareRowForm.targets_of(r, form.later))
            for _i, r in rows
        ]
        try:
            done = pass_down(assignment=a, by=request.user, shares=shares, keep_remainder=data["keep_remainder"])
        except ShareRefused as exc:
            row = form.rows.forms[rows[exc.row][0]]
            # on the amount at fault (``target``, ``targets.2`` → ``target_2``), else on the row
            name = (exc.field or "").replace("targets.", "target_")
            row.add_error(name if name in row.fields else None, labels.refusal(exc))
            raise
        return _("Passed down to %(n)s units.") % {"n": len(done)}

    return _submit(request, a, form, "pass_down_form", call)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收: one tap; acknowledged before, the page says by whom and when and changes nothing."""
    a = _get_assignment(request, pk)

    def call(data):
        done = acknowledge_assignment(assignment=a, by=request.user)
        if a.acknowledged_at is not None:
            return labels.acknowledged_before(done)
        return _("Receipt acknowledged.")

    return _submit(request, a, AcknowledgeForm(request.POST), "acknowledge_form", call)


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get_assignment(request, pk)

    def call(data):
        if data["kind"] == CommentKind.REQUEST:
            done = request_instruction(assignment=a, by=request.user, text=data["text"])
            name = done.addressed_to.get_full_name() or done.addressed_to.username
            return _("Your request for instruction has gone to %(name)s.") % {"name": name}
        if data["kind"] == CommentKind.INSTRUCTION:
            done = give_instruction(assignment=a, by=request.user, text=data["text"])
            return _("Instruction given; %(n)d request(s) answered.") % {"n": len(done.closed)}
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


def _desk_rows(qs):
    """The desk's rows with what each shows: evidence or not (one EXISTS), progress against the target
    and a shortfall on any target (``targets.judged``: one query for the page)."""
    rows = list(qs)
    judged = targets.judged(rows)
    for a in rows:
        a.done = judged[a.pk].progress
        a.percent = labels.percent(a.done, a.target)
        short = judged[a.pk].short
        a.short_percent = shortfall_percent(*short) if short else None
    return rows


def _review_page(request: HttpRequest, *, status: int = 200, bulk_form=None, refused_rows=()) -> HttpResponse:
    """HQ's review desk: work submitted for acceptance in its manage scope (without its own units), filtered
    (``ReviewFilterForm``, kept in the URL and the pager), with bulk accept / return; and extension requests."""
    user = request.user
    if not scope.scope_for(user, Action.MANAGE):
        raise PermissionDenied
    campaigns = list(campaigns_for(user).exclude(status="draft"))
    actions = list(
        LineOfAction.objects.filter(campaign__in=campaigns).select_related("campaign").order_by("campaign_id", "seq")
    )
    units = scope.units(user, Action.MANAGE)
    form = ReviewFilterForm(request.GET or None, campaigns=campaigns, actions=actions, units=units)
    data = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data  # the well-formed filters; a unit not HQ's shows no rows (below)
    submitted = awaiting_review(_assignments().filter(status=S.SUBMITTED, is_active=True), user)
    if q := (data.get("q") or "").strip():
        submitted = submitted.filter(
            Q(item__title__icontains=q) | Q(item__code__icontains=q) | Q(unit__name__icontains=q)
        )
    if data.get("campaign"):
        submitted = submitted.filter(campaign_id=data["campaign"])
    if data.get("action"):
        submitted = submitted.filter(item__action_id=data["action"])
    if data.get("unit"):
        submitted = submitted.filter(unit__path__startswith=data["unit"].path)
    elif "unit" in form.errors:
        submitted = submitted.none()
    if data.get("since"):
        submitted = submitted.filter(submitted_on__gte=data["since"])
    submitted = with_targets_apart(
        submitted.annotate(has_evidence=Exists(Evidence.objects.filter(assignment=OuterRef("pk"))))
    )
    if data.get("evidence") is not None:
        submitted = submitted.filter(has_evidence=data["evidence"])
    order = ReviewFilterForm.ORDERS.get(data.get("order") or "oldest")
    page = Paginator(submitted.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _desk_rows(page.object_list)
    pending = awaiting_review(
        ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).select_related(
            "assignment__item", "assignment__unit", "requested_by"
        ),
        user,
    )[:PAGE_SIZE]
    bulk_form = bulk_form or ReviewBulkForm()
    checked = {row[0] for row in bulk_form.cleaned_data.get("rows", ())} if bulk_form.is_bound else set()
    context = {
        "form": form,
        "page": page,
        "extensions": pending,
        "unit_options": units.only("code", "name").order_by("path"),
        "bulk_form": bulk_form,
        "refused_rows": refused_rows,
        "checked": checked,
        "query": request.GET.urlencode(),
        "letters": list(letters_to_review(user)[: PAGE_SIZE + 1]),  # answered risk letters to close or return
        "today": timezone.localdate(),
    }
    return render(request, "tasks/review.html", context, status=status)


@login_required
def review(request: HttpRequest) -> HttpResponse:
    return _review_page(request)


def _name_refused(user, exc: RowsRefused) -> list[dict]:
    """Each refused row of a bulk review as the page names it: unit, item and why."""
    seen = scope.restrict(_assignments(), user).in_bulk([row.id for row in exc.rows])
    named = []
    for row in exc.rows:
        a = seen.get(row.id)
        named.append({"id": row.id, "a": a, "why": labels.refusal(row.refusal)})
    return named


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    """Accept or return the ticked rows with one reason: all of them, or — if any row is refused (changed
    meanwhile, not this user's to review, no longer submitted) — none, each refused row named on the desk.
    The desk's filters ride along in the query string and are kept on the way back."""
    if not scope.scope_for(request.user, Action.MANAGE):
        raise PermissionDenied
    form = ReviewBulkForm(request.POST)
    if not form.is_valid():
        return _review_page(request, status=400, bulk_form=form)
    data = form.cleaned_data
    steps = [Step(pk, data["action"], data["reason"].strip(), version) for pk, version in data["rows"]]
    try:
        done = transition_assignments(steps=steps, by=request.user)
    except RowsRefused as exc:
        if any(isinstance(row.refusal, Missing) for row in exc.rows):
            raise Http404 from exc  # a row out of scope: the answer of any page for an id not there
        messages.error(request, _("Nothing was changed: %(n)s of the ticked rows were refused.") % {"n": len(exc.rows)})
        return _review_page(
            request, status=exc.status_code, bulk_form=form, refused_rows=_name_refused(request.user, exc)
        )
    except Refused as exc:
        return _review_page(request, status=refused(request, exc), bulk_form=form)
    label = labels.transition(data["action"]).done
    messages.success(request, _("%(done)s (%(n)s)") % {"done": label, "n": len(done)})
    query = request.GET.urlencode()
    return redirect(reverse("web:tasks-review") + (f"?{query}" if query else ""))
