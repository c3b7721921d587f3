"""The boards pages: the battle board (挂图作战), the same board as ``/api/v1/boards/battle/`` as a
table to click through — a column or cell opens the level below, a row the checklist items of its
action; the ranking (排名, as ``/api/v1/boards/ranking/``) with HQ's weights; the bulletin (工作通报) as
a print page and a PDF; and the user's exports (导出): the list with progress (refreshed by htmx while
any is being made), the request from a board's "export" button, and the download — the owner's only;
anyone else gets a 404."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from boards import bulletin
from boards.exports import ExportError, download_response, exports_of, title_of
from boards.forms import BoardForm, asked
from boards.leader import desk, may_open
from boards.models import ExportStatus, Weights
from boards.queries import battle_board, cell_work, trail
from boards.ranking import MEASURES, ranking, weights_for
from boards.services import request_export, save_weights
from directives.models import Status as DirectiveStatus
from directives.queries import led_by
from documents import summons
from tasks.models import Assignment, AssignmentStatus
from tasks.services.chase import chase_assignments, may_chase
from utilities.errors import Refused
from utilities.params import IdField

from . import labels
from .forms import PeriodForm
from .pages import PAGE_SIZE, refused, submit

MEASURE_LABELS = {
    "completion": gettext_lazy("Completion"),
    "on_time": gettext_lazy("On time"),
    "overdue": gettext_lazy("Nothing overdue"),
    "rectification": gettext_lazy("Rectified in time"),
    "findings": gettext_lazy("Few findings"),
    "directives": gettext_lazy("Directives done in time"),
}


# --- the battle board ---------------------------------------------------------------------------


def _grid_cell(board, action, unit, words):
    """A cell of the grid the template draws: its unit, its counts and their words."""
    cell = board.cell(action.pk, unit.pk)
    return unit, cell, words(cell)


@login_required
def battle(request: HttpRequest) -> HttpResponse:
    form, a = asked(request.user, request.GET)
    board = None
    if a is not None and a.campaign is not None and a.unit is not None:
        board = battle_board(request.user, a.campaign, a.unit, action=a.action, due_by=a.due_by)
        words = labels.CellWords()
        board.grid = [
            (action, board.row_totals.get(action.pk), [_grid_cell(board, action, u, words) for u in board.columns])
            for action in board.rows
        ]
        board.footer = [(u, board.column_totals.get(u.pk)) for u in board.columns]
        board.trail = trail(request.user, a.unit)
    context = {"form": form, "asked": a, "board": board}
    return render(request, "boards/battle.html", context, status=400 if a is None else 200)


# --- a leader's landing page ----------------------------------------------------------------------


@login_required
def leader(request: HttpRequest) -> HttpResponse:
    """领导首页 (``boards.leader``): a leader's lines, the most overdue units, findings, hotspots, this week's
    results and the requests for his instruction; HQ may open it for the lines in its scope. Others: 403."""
    if not may_open(request.user):
        raise PermissionDenied
    form, a = asked(request.user, request.GET)
    d = None
    if a is not None and a.campaign is not None and a.unit is not None:
        d = desk(request.user, a.campaign, a.unit, today=timezone.localdate())
    # his 包案: the directives naming him as the leader in charge, still open (one query)
    led = list(led_by(request.user).exclude(status=DirectiveStatus.CLOSED).order_by("item__due_date", "id")[:50])
    context = {"form": form, "asked": a, "d": d, "led": led}
    if d is not None:  # 约谈 of the units under the desk's unit, their commitments (documents/summons.py)
        context["summonses"] = summons.on_record(summons.summonses_for(request.user, campaign=d.campaign, unit=d.unit))
    return render(request, "boards/leader.html", context, status=400 if a is None else 200)


# --- the work behind a cell, and its 催办 -----------------------------------------------------------


class WorkForm(BoardForm):
    """A cell of the board: its unit's subtree (``own``: the unit's own work, the 本级 column), its line of
    action and due-by, narrowed to overdue and statuses."""

    own = forms.BooleanField(label=gettext_lazy("Own work only"), required=False)
    # 1/0 (true/false) as typed in a link: NullBooleanSelect reads only its own true/false/unknown
    overdue = forms.NullBooleanField(label=gettext_lazy("Overdue"), required=False, widget=forms.HiddenInput)
    status = forms.MultipleChoiceField(label=gettext_lazy("Status"), choices=AssignmentStatus.choices, required=False)

    CELL = ("campaign", "unit", "action", "due_by", "own", "overdue", "status")


class IdsField(forms.Field):
    """The ticked rows: ids, each as ``IdField`` takes one."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        return [IdField(required=True).clean(v) for v in values]


class ChaseForm(WorkForm):
    ids = IdsField(required=False)
    all = forms.BooleanField(label=gettext_lazy("All of this cell"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=500, widget=forms.Textarea({"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if not data.get("ids") and not (data.get("all") and data.get("campaign") and data.get("unit")):
            raise forms.ValidationError(_("Tick the assignments to chase, or all of this cell."))
        return data


def _cell(request, a, d) -> object:
    return cell_work(
        request.user,
        a.campaign,
        a.unit,
        own=d.get("own") or False,
        action=a.action,
        due_by=a.due_by,
        overdue=d.get("overdue"),
        status=d.get("status") or (),
    )


def _cell_query(d: dict) -> str:
    keep = {}
    for name in WorkForm.CELL:
        value = d.get(name)
        if value in (None, "", [], False):
            continue
        keep[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return urlencode({k: ("1" if v is True else v) for k, v in keep.items()}, doseq=True)


@login_required
def work(request: HttpRequest) -> HttpResponse:
    """The assignments behind a battle board cell (the same count), with the 催办 form for HQ and leaders."""
    return _work_page(request, request.GET, status=None)


def _work_page(request, data, *, status: int | None, chase_form: ChaseForm | None = None) -> HttpResponse:
    form, a = asked(request.user, data, WorkForm)
    context = {"form": form, "asked": a, "page": None, "may_chase": may_chase(request.user)}
    if a is not None and a.campaign is not None and a.unit is not None:
        d = form.cleaned_data
        rows = _cell(request, a, d).select_related("item", "unit").order_by("due_date", "id")
        context["page"] = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        context["query"] = _cell_query(d)
        context["cell"] = d
    context["chase_form"] = chase_form or ChaseForm(initial={"all": False})
    code = status or (400 if a is None else 200)
    return render(request, "boards/work.html", context, status=code)


@login_required
@require_POST
def work_chase(request: HttpRequest) -> HttpResponse:
    """催办 the ticked rows, or all of the cell (``all``): ``tasks.services.chase.chase_assignments``."""
    form = ChaseForm(request.POST)

    def call(d):
        if d.get("ids"):
            target = set(d["ids"])
            if scope.restrict(Assignment.objects.filter(pk__in=target), request.user).count() < len(target):
                raise Http404  # a row missing or out of scope: the page's 404, as the review desk's
        else:
            _form, a = asked(request.user, request.POST, WorkForm)
            if a is None or a.campaign is None or a.unit is None:
                raise Http404
            target = _cell(request, a, d)
        done = chase_assignments(assignments=target, by=request.user, note=d["note"], source="page")
        message = _("Chased %(n)d assignments, %(units)d units told.") % {"n": done.chased, "units": done.units}
        if done.already:
            message += " " + _("%(n)d left out: chased today already.") % {"n": done.already}
        return message, reverse("web:boards-work") + "?" + _cell_query(d)

    def page(status, chase_form):
        # the refusal's words and a way back, no rows: the rows named may be missing or out of scope
        context = {"refused": True, "page": None, "chase_form": chase_form, "query": _cell_query(chase_form.data)}
        return render(request, "boards/work.html", context, status=status)

    return submit(request, form, call, page=page, key="chase_form")


# --- ranking -------------------------------------------------------------------------------------


class WeightsForm(forms.ModelForm):
    class Meta:
        model = Weights
        fields = [*Weights.MEASURES, "laggards"]
        widgets = {f: forms.NumberInput(attrs={"min": 0, "max": 100, "class": "narrow"}) for f in fields}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["directives"].required = False  # left empty: kept (a form of before the measure)


@login_required
def ranking_page(request: HttpRequest) -> HttpResponse:
    form, a = asked(request.user, request.GET if request.method == "GET" else request.POST)
    if a is None or a.campaign is None or a.unit is None:
        return render(
            request, "boards/ranking.html", {"form": form, "asked": a, "r": None}, status=400 if a is None else 200
        )
    may_weigh = scope.can(request.user, Action.MANAGE, a.campaign.owner)
    weights = weights_for(a.campaign)
    weights_form = WeightsForm(instance=weights)
    status = 200
    if request.method == "POST":
        if not may_weigh:
            raise PermissionDenied
        weights_form = WeightsForm(request.POST, instance=Weights(campaign=a.campaign))
        if weights_form.is_valid():
            try:
                save_weights(campaign=a.campaign, by=request.user, values=weights_form.cleaned_data)
            except Refused as exc:
                status = refused(request, exc)
            else:
                messages.success(request, _("Weights saved."))
                return redirect(reverse("web:boards-ranking") + f"?campaign={a.campaign.pk}&unit={a.unit.code}")
        else:
            status = 400
    r = ranking(request.user, a.campaign, a.unit, setting=weights)
    rows = [
        (s, [s.measures.get(m) for m in MEASURES], f"?campaign={a.campaign.pk}&unit={s.unit.code}") for s in r.standings
    ]
    context = {
        "form": form,
        "asked": a,
        "r": r,
        "rows": rows,
        "laggards": r.laggards,
        "measures": [(m, MEASURE_LABELS[m], r.weights[m]) for m in MEASURES],
        "weights_form": weights_form if may_weigh else None,
        "trail": [(u, f"?campaign={a.campaign.pk}&unit={u.code}") for u in trail(request.user, a.unit)],
    }
    return render(request, "boards/ranking.html", context, status=status)


# --- the bulletin --------------------------------------------------------------------------------


def _bulletin(request: HttpRequest):
    """The bulletin asked for: ``period`` (``web.forms.PeriodForm``) a week, a round, a month, the campaign so
    far or a range; by default the last whole week."""
    _form, a = asked(request.user, request.GET)
    if a is None or a.campaign is None or a.unit is None:
        raise Http404
    campaign = a.campaign
    # a malformed period is left out (the default week), as a day outside the campaign is clamped to it
    asked_for = PeriodForm.parsed(request.GET)
    kind, chosen = asked_for.get("period") or ("", None)
    rounds = list(campaign.rounds.all())
    period = bulletin.period_of(campaign, kind, chosen) if kind else bulletin.default_period(campaign)
    if period is None:  # a round not of this campaign
        raise Http404
    zeros = bool(asked_for.get("zeros"))
    ctx = bulletin.bulletin_context(request.user, campaign, a.unit, period, zeros=zeros)
    today = timezone.localdate()
    weeks = [(w.key, w.label) for w in bulletin.weeks(campaign, today)]
    ctx["periods"] = (
        [(bulletin.so_far_period(campaign, today).key, bulletin.so_far_period(campaign, today).label)]
        + weeks[::-1]
        + [(r.key, r.label) for r in (bulletin.round_period(campaign, r, [x.pk for x in rounds]) for r in rounds)]
        + [(m.key, m.label) for m in bulletin.months(campaign, today)[::-1]]
    )
    if period.key not in dict(ctx["periods"]):  # a range, or the campaign so far to another day
        ctx["periods"].insert(0, (period.key, period.label))
    ctx["chosen"] = period.key
    ctx["zeros"] = zeros
    ctx["keep"] = [("campaign", campaign.pk), ("unit", a.unit.code)]
    query = f"?campaign={campaign.pk}&unit={quote(a.unit.code)}&period={quote(period.key)}" + (
        "&zeros=1" if zeros else ""
    )
    ctx["pdf_url"] = reverse("web:boards-bulletin-pdf") + query
    ctx["chart_options"] = [(f"bchart{n}", c.option()) for n, c in enumerate(ctx["charts"])]
    ctx["may_draft"] = scope.can(request.user, Action.MANAGE, a.unit)  # 起草公文 (documents)
    return ctx


@login_required
def bulletin_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "boards/bulletin_print.html", _bulletin(request))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def bulletin_pdf(request: HttpRequest) -> HttpResponse:
    return bulletin.pdf_response(_bulletin(request))


# --- exports ------------------------------------------------------------------------------------

LIST_LIMIT = 50
BOARD_PARAMS = (
    "campaign",
    "unit",
    "action",
    "due_by",
    "round",
    "start",
    "end",
)  # a board's, and the statistics' window


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
    return redirect("web:boards-exports")


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(exports_of(request.user), pk=pk, status=ExportStatus.DONE)
    return download_response(export)
