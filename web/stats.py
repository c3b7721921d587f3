"""The results statistics pages (战果统计) and the ranking (排名): the same figures as
``/api/v1/stats/`` and ``/api/v1/boards/ranking/``; a unit lead reports its figures here, by day or
round, or uploads its whole sheet."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import scope
from accounts.scope import Action
from boards import bulletin
from boards.charts import Chart, Series
from boards.forms import StatsForm, asked
from boards.models import Weights
from boards.queries import trail
from boards.ranking import MEASURES, ranking, weights_for
from boards.services import save_weights
from ops.cn import cn_date, cn_range
from ops.errors import REFUSALS
from ops.tables import FileProblems
from ops.uploads import download
from stats import queries as stats
from stats.models import Figure
from stats.services import MAX_SHEET, import_upload, report_figures
from stats.sheets import report_days, unit_sheet

from .forms import DayQuery, PeriodForm
from .views import refused

MEASURE_LABELS = {
    "completion": gettext_lazy("Completion"),
    "on_time": gettext_lazy("On time"),
    "overdue": gettext_lazy("Nothing overdue"),
    "rectification": gettext_lazy("Rectified in time"),
    "findings": gettext_lazy("Few findings"),
}


def _link(a, **change) -> str:
    """The query string of the page with ``change`` applied (drill-down keeps the window)."""
    params = {"campaign": a.campaign.pk, "unit": a.unit.code}
    w = a.window
    if w and w.round:
        params["round"] = w.round.pk
    elif w:
        params.update(start=w.start.isoformat(), end=w.end.isoformat())
    params.update(change)
    return "?" + "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v not in (None, ""))


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    form, a = asked(request.user, request.GET, StatsForm)
    context = {"form": form, "asked": a, "t": None}
    if a is None or a.campaign is None or a.unit is None:
        return render(request, "boards/stats.html", context, status=400 if a is None else 200)
    user, campaign, unit, w = request.user, a.campaign, a.unit, a.window
    t = stats.totals(user, campaign, unit, w)
    rounds = list(campaign.rounds.all())
    by_round = stats.per_round(user, campaign, unit)
    expected = stats.reporting_units(user, campaign, unit).count()
    missing = list(stats.non_reporters(user, campaign, unit, w.end)[:50])
    context.update(
        t=t,
        window_words=f"{w.round.name}（{cn_range(w.start, w.end)}）" if w.round else cn_range(w.start, w.end),
        last_year_words=cn_range(t.last_year_window.start, t.last_year_window.end),
        grid=[(line, [line.by_unit.get(u.pk) for u in t.columns]) for line in t.lines],
        column_links=[(u, _link(a, unit=u.code)) for u in t.columns],
        rounds=[
            (
                r,
                cn_range(r.start, r.end),
                [by_round.get(r.pk, {}).get(line.indicator.pk) for line in t.lines],
                _link(a, round=r.pk, start="", end=""),
            )
            for r in rounds
        ],
        trail=[(u, _link(a, unit=u.code)) for u in trail(user, unit)],
        expected=expected,
        missing=missing,
        missing_day=cn_date(w.end),
        can_report=bool(scope.scope_for(user, Action.REPORT)),
        charts=_charts(user, campaign, unit, w, t, rounds, by_round),
    )
    return render(request, "boards/stats.html", context)


def _charts(user, campaign, unit, w, t, rounds, by_round) -> list:
    """The daily totals of each indicator in the window, and the rounds side by side (ECharts)."""
    days = stats.series(user, campaign, unit, w)
    x = [d for d, _ in report_days(campaign, w.end) if d >= w.start]
    charts = [
        Chart(
            title=_("Daily totals"),
            x=[f"{d.month}/{d.day}" for d in x],
            series=[
                Series(line.indicator.name, [days.get(line.indicator.pk, {}).get(d) for d in x]) for line in t.lines[:4]
            ],
        )
    ]
    if rounds:
        charts.append(
            Chart(
                title=_("Totals per round"),
                x=[r.name for r in rounds],
                series=[
                    Series(
                        line.indicator.name, [by_round.get(r.pk, {}).get(line.indicator.pk) for r in rounds], kind="bar"
                    )
                    for line in t.lines[:4]
                ],
            )
        )
    return [(f"chart{n}", c.option()) for n, c in enumerate(charts)]


# --- a unit reports ------------------------------------------------------------------------------


class SheetForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Statistics sheet (.xlsx or .csv)"))


def _report_context(request, a, day, round_, **bound):
    campaign, unit = a.campaign, a.unit
    indicators = list(campaign.indicators.filter(is_active=True))
    have = dict(
        Figure.objects.filter(unit=unit, day=day, indicator__in=indicators).values_list("indicator_id", "value")
    )
    posted = bound.get("posted") or {}
    return {
        "asked": a,
        "unit": unit,
        "day": day,
        "round": round_,
        "day_words": f"{round_.name}（{cn_range(round_.start, round_.end)}）" if round_ else cn_date(day),
        "fields": [(i, posted.get(f"v{i.pk}", have.get(i.pk))) for i in indicators],
        "days": report_days(campaign, timezone.localdate())[::-1][:40],
        "sheet_form": bound.get("sheet_form") or SheetForm(),
        "problems": bound.get("problems") or [],
        "reportable": scope.units(request.user, Action.REPORT).order_by("path")[:200],
    }


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """A unit's figures for a day (a round: one row of totals, dated its last day)."""
    if not scope.scope_for(request.user, Action.REPORT):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    _form, a = asked(request.user, {k: data.get(k) for k in ("campaign", "unit")}, StatsForm)
    if a is None or a.campaign is None:
        raise Http404
    if not data.get("unit"):
        own = request.user.unit if scope.can(request.user, Action.REPORT, request.user.unit) else None
        a.unit = own or scope.units(request.user, Action.REPORT).order_by("path").first()
    if not scope.can(request.user, Action.REPORT, a.unit):
        raise Http404
    day = DayQuery.parsed(data).get("day")  # malformed or out of range: the default day
    today = timezone.localdate()
    day = day or min(today, a.campaign.end)
    round_ = stats.round_for(a.campaign, day)
    if round_ is not None:
        day = round_.end
    if request.method == "POST":
        values = {i.pk: request.POST.get(f"v{i.pk}", "").strip() for i in a.campaign.indicators.filter(is_active=True)}
        try:
            changed = report_figures(campaign=a.campaign, unit=a.unit, day=day, values=values, by=request.user,
                                     source="web")  # fmt: skip
        except REFUSALS as exc:
            status = refused(request, exc)
            ctx = _report_context(request, a, day, round_, posted=request.POST)
            return render(request, "boards/stats_report.html", ctx, status=status)
        messages.success(request, _("%(n)d figures saved.") % {"n": changed} if changed else _("Nothing changed."))
        return redirect(reverse("web:stats-report") + f"?campaign={a.campaign.pk}&unit={a.unit.code}&day={day}")
    return render(request, "boards/stats_report.html", _report_context(request, a, day, round_))


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """A unit's whole sheet: every problem listed with sheet, row, column; nothing written unless all is right."""
    if request.method != "POST":
        return redirect("web:stats-report")
    _form, a = asked(request.user, {k: request.POST.get(k) for k in ("campaign", "unit")}, StatsForm)
    if (
        a is None
        or a.campaign is None
        or not request.POST.get("unit")
        or not scope.can(request.user, Action.REPORT, a.unit)
    ):
        raise Http404
    sheet_form = SheetForm(request.POST, request.FILES)
    day = min(timezone.localdate(), a.campaign.end)
    problems: list[str] = []
    if sheet_form.is_valid() and sheet_form.cleaned_data["file"].size > MAX_SHEET:
        sheet_form.add_error("file", _("The file is too large (at most 5 MB)."))
    if sheet_form.is_valid():
        try:
            upload = sheet_form.cleaned_data["file"]
            changed = import_upload(upload=upload, campaign=a.campaign, unit=a.unit, by=request.user)
        except FileProblems as exc:
            problems = [str(p) for p in exc.problems]
        except REFUSALS as exc:
            problems = [str(exc)]
        else:
            messages.success(request, _("Sheet loaded: %(n)d figures saved.") % {"n": changed})
            return redirect(reverse("web:stats-report") + f"?campaign={a.campaign.pk}&unit={a.unit.code}")
    ctx = _report_context(request, a, day, stats.round_for(a.campaign, day), sheet_form=sheet_form, problems=problems)
    return render(request, "boards/stats_report.html", ctx, status=400)


@login_required
def sheet(request: HttpRequest) -> HttpResponse:
    """The unit's sheet to fill in, with its figures so far."""
    _form, a = asked(request.user, request.GET, StatsForm)
    if (
        a is None
        or a.campaign is None
        or not request.GET.get("unit")
        or not scope.can(request.user, Action.REPORT, a.unit)
    ):
        raise Http404
    body = unit_sheet(a.campaign, a.unit, until=min(timezone.localdate(), a.campaign.end))
    name = f"{a.unit.name}战果统计表.xlsx"
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return download(response, name, fallback="stats.xlsx")


# --- ranking -------------------------------------------------------------------------------------


class WeightsForm(forms.ModelForm):
    class Meta:
        model = Weights
        fields = [*Weights.MEASURES, "laggards"]
        widgets = {f: forms.NumberInput(attrs={"min": 0, "max": 100, "class": "narrow"}) for f in fields}


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
            except REFUSALS as exc:
                status = refused(request, exc)
            else:
                messages.success(request, _("Weights saved."))
                return redirect(reverse("web:ranking") + f"?campaign={a.campaign.pk}&unit={a.unit.code}")
        else:
            status = 400
    r = ranking(request.user, a.campaign, a.unit)
    rows = [
        (s, [s.measures.get(m) for m in MEASURES], f"?campaign={a.campaign.pk}&unit={s.unit.code}") for s in r.standings
    ]
    context = {
        "form": form, "asked": a, "r": r, "rows": rows, "laggards": r.laggards,
        "measures": [(m, MEASURE_LABELS[m], r.weights[m]) for m in MEASURES],
        "weights_form": weights_form if may_weigh else None,
        "trail": [(u, f"?campaign={a.campaign.pk}&unit={u.code}") for u in trail(request.user, a.unit)],
    }  # fmt: skip
    return render(request, "boards/ranking.html", context, status=status)


# --- the bulletin --------------------------------------------------------------------------------


def _bulletin(request: HttpRequest):
    """The bulletin asked for: ``period`` is "w<yyyy-mm-dd>" (the week holding that day) or "r<round id>"."""
    _form, a = asked(request.user, request.GET)
    if a is None or a.campaign is None or a.unit is None:
        raise Http404
    campaign = a.campaign
    # a malformed period is left out (the default week), as a week outside the campaign is clamped to it
    kind, chosen = PeriodForm.parsed(request.GET).get("period") or ("", None)
    rounds = list(campaign.rounds.all())
    if kind == "round":
        round_ = next((r for r in rounds if r.pk == chosen), None)
        if round_ is None:
            raise Http404
        period = bulletin.round_period(campaign, round_)
    else:
        period = bulletin.week_of(campaign, chosen) if chosen else bulletin.default_period(campaign)
    ctx = bulletin.bulletin_context(request.user, campaign, a.unit, period)
    weeks = [(f"w{w.start.isoformat()}", w.label) for w in bulletin.weeks(campaign, timezone.localdate())]
    ctx["periods"] = weeks[::-1] + [(f"r{r.pk}", bulletin.round_period(campaign, r).label) for r in rounds]
    ctx["chosen"] = f"r{period.round_id}" if period.round_id else f"w{period.start.isoformat()}"
    ctx["keep"] = [("campaign", campaign.pk), ("unit", a.unit.code)]
    query = f"?campaign={campaign.pk}&unit={quote(a.unit.code)}&period={ctx['chosen']}"
    ctx["pdf_url"] = reverse("web:bulletin-pdf") + query
    ctx["chart_options"] = [(f"bchart{n}", c.option()) for n, c in enumerate(ctx["charts"])]
    return ctx


@login_required
def bulletin_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "boards/bulletin_print.html", _bulletin(request))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def bulletin_pdf(request: HttpRequest) -> HttpResponse:
    return bulletin.pdf_response(_bulletin(request))
