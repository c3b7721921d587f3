"""The results statistics pages (战果统计): the same figures as ``/api/v1/stats/``; a unit lead reports
its figures here, by day or round, or uploads its whole sheet; a reminder about a round (集中统一行动战果
报送) links to the round's report page."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import scope
from accounts.scope import Action
from boards.charts import Chart, Series
from boards.forms import StatsForm, asked
from boards.queries import trail
from stats import queries as stats
from stats import summary
from stats.models import Figure, Round
from stats.services import MAX_SHEET, enterable_units, import_upload, may_report, report_figures
from stats.sheets import report_days, unit_sheet
from tasks.queries import campaigns_for
from utilities.cn import cn_date, cn_range
from utilities.errors import Refused
from utilities.tables import FileProblems
from utilities.uploads import download

from .forms import DayQuery, ReportUnitForm, SummaryForm, UnitIdQuery
from .pages import refused


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
        return render(request, "stats/statistics.html", context, status=400 if a is None else 200)
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
        grid=[(line, [(line.by_unit.get(u.pk), line.behalf_by_unit.get(u.pk)) for u in t.columns]) for line in t.lines],
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
        can_report=enterable_units(user).exists(),
        can_fill=summary.may_fill(user),
        charts=_charts(user, campaign, unit, w, t, rounds, by_round),
    )
    return render(request, "stats/statistics.html", context)


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
    enterable = list(enterable_units(request.user).only("code", "name", "path").order_by("path"))
    picker = bound.get("picker") or ReportUnitForm(initial={"unit": unit.code if unit else ""}, units=None)
    context = {
        "asked": a,
        "unit": unit,
        "picker": picker,
        "reportable": enterable,
        "can_fill": summary.may_fill(request.user),
        "day": day,
        "round": round_,
        "problems": bound.get("problems") or [],
        "sheet_form": bound.get("sheet_form") or SheetForm(),
    }
    if unit is None:  # a unit typed wrong: only the picker, with its error
        return context
    indicators = list(campaign.indicators.filter(is_active=True))
    have = {
        f.indicator_id: f
        for f in Figure.objects.filter(unit=unit, day=day, indicator__in=indicators).select_related("reported_by")
    }
    posted = bound.get("posted") or {}
    # each field: the indicator, the value shown, and the figure stored when HQ entered it (代填 mark)
    fields = []
    for i in indicators:
        figure = have.get(i.pk)
        value = posted.get(f"v{i.pk}", figure.value if figure else None)
        fields.append((i, value, figure if figure and figure.on_behalf else None))
    behalf = stats.behalf_days(campaign, unit)  # the days in the picker where HQ entered some (含代填)
    context.update(
        day_words=f"{round_.name}（{cn_range(round_.start, round_.end)}）" if round_ else cn_date(day),
        fields=fields,
        days=[(d, label, d in behalf) for d, label in report_days(campaign, timezone.localdate())[::-1][:40]],
    )
    return context


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """A unit's figures for a day (a round: one row of totals, dated its last day), entered by its lead or,
    on its behalf (代填), by HQ over it. The unit is typed by its code (``ReportUnitForm``)."""
    enterable = enterable_units(request.user)
    if not enterable.exists():
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    _form, a = asked(request.user, {"campaign": data.get("campaign")}, StatsForm)
    if a is None or a.campaign is None:
        raise Http404
    day = DayQuery.parsed(data).get("day")  # malformed or out of range: the default day
    today = timezone.localdate()
    day = day or min(today, a.campaign.end)
    round_ = stats.round_for(a.campaign, day)
    if round_ is not None:
        day = round_.end
    picker = ReportUnitForm({"unit": data.get("unit") or ""}, units=enterable)
    if not picker.is_valid():
        a.unit = None
        ctx = _report_context(request, a, day, round_, picker=picker)
        return render(request, "stats/report.html", ctx, status=400)
    a.unit = picker.cleaned_data["unit"]
    if a.unit is None:
        own = request.user.unit if scope.can(request.user, Action.REPORT, request.user.unit) else None
        a.unit = own or enterable.order_by("path").first()
    if request.method == "POST":
        values = {i.pk: request.POST.get(f"v{i.pk}", "").strip() for i in a.campaign.indicators.filter(is_active=True)}
        try:
            changed = report_figures(
                campaign=a.campaign, unit=a.unit, day=day, values=values, by=request.user, source="web"
            )
        except Refused as exc:
            status = refused(request, exc)
            ctx = _report_context(request, a, day, round_, posted=request.POST)
            return render(request, "stats/report.html", ctx, status=status)
        messages.success(request, _("%(n)d figures saved.") % {"n": changed} if changed else _("Nothing changed."))
        return redirect(reverse("web:stats-report") + f"?campaign={a.campaign.pk}&unit={a.unit.code}&day={day}")
    return render(request, "stats/report.html", _report_context(request, a, day, round_))


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """A unit's whole sheet: every problem listed with sheet, row, column; nothing written unless all is right."""
    if request.method != "POST":
        return redirect("web:stats-report")
    _form, a = asked(request.user, {k: request.POST.get(k) for k in ("campaign", "unit")}, StatsForm)
    if a is None or a.campaign is None or not request.POST.get("unit") or not may_report(request.user, a.unit):
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
        except Refused as exc:
            problems = [str(exc)]
        else:
            messages.success(request, _("Sheet loaded: %(n)d figures saved.") % {"n": changed})
            return redirect(reverse("web:stats-report") + f"?campaign={a.campaign.pk}&unit={a.unit.code}")
    ctx = _report_context(request, a, day, stats.round_for(a.campaign, day), sheet_form=sheet_form, problems=problems)
    return render(request, "stats/report.html", ctx, status=400)


@login_required
def sheet(request: HttpRequest) -> HttpResponse:
    """The unit's sheet to fill in, with its figures so far."""
    _form, a = asked(request.user, request.GET, StatsForm)
    if a is None or a.campaign is None or not request.GET.get("unit") or not may_report(request.user, a.unit):
        raise Http404
    body = unit_sheet(a.campaign, a.unit, until=min(timezone.localdate(), a.campaign.end))
    name = f"{a.unit.name}战果统计表.xlsx"
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return download(response, name, fallback="stats.xlsx")


# --- HQ fills many units at once (代填汇总表) ---------------------------------------------------------


def _summary_asked(request, data):
    if not summary.may_fill(request.user):
        raise PermissionDenied
    _form, a = asked(request.user, {"campaign": data.get("campaign")}, StatsForm)
    if a is None or a.campaign is None:
        raise Http404
    return a


def _summary_day(campaign, day):
    """``day`` (default today, within the campaign) as figures are dated: a round's day is its last day."""
    day = day or min(timezone.localdate(), campaign.end)
    round_ = stats.round_for(campaign, day)
    return (round_.end if round_ else day), round_


@login_required
def summary_page(request: HttpRequest) -> HttpResponse:
    """HQ's summary sheet: a row per unit it may enter for, a column per indicator, for one day or round.
    Downloaded blank, filled, uploaded: every problem listed with its cell, nothing written unless all is
    right; the figures are the units' own, flagged as entered by HQ (代填)."""
    data = request.POST if request.method == "POST" else request.GET
    a = _summary_asked(request, data)
    form = SummaryForm(request.POST, request.FILES) if request.method == "POST" else None
    day, round_ = _summary_day(a.campaign, DayQuery.parsed(data).get("day"))
    problems: list[tuple[str, str]] = []
    status = 200
    if form is not None:
        if form.is_valid() and form.cleaned_data["file"].size > MAX_SHEET:
            form.add_error("file", _("The file is too large (at most 5 MB)."))
        if form.is_valid():
            day, round_ = _summary_day(a.campaign, form.cleaned_data["day"])
            try:
                changed = summary.import_summary_upload(
                    upload=form.cleaned_data["file"], campaign=a.campaign, day=day, by=request.user
                )
            except FileProblems as exc:
                problems = [(str(p), p.text) for p in exc.problems]
            except Refused as exc:
                problems = [(str(exc), "")]
            else:
                messages.success(request, _("Summary sheet loaded: %(n)d figures saved.") % {"n": changed})
                return redirect(reverse("web:stats-summary") + f"?campaign={a.campaign.pk}&day={day}")
        status = 400
    context = {
        "asked": a,
        "form": form or SummaryForm(initial={"day": day}),
        "day": day,
        "round": round_,
        "day_words": summary.day_label(day, round_),
        "days": report_days(a.campaign, timezone.localdate())[::-1],
        "units": summary.summary_units(request.user).count(),
        "problems": problems,
    }
    return render(request, "stats/summary.html", context, status=status)


@login_required
def summary_sheet(request: HttpRequest) -> HttpResponse:
    """The blank summary sheet of a day or round (``?day=``, default today)."""
    a = _summary_asked(request, request.GET)
    day, round_ = _summary_day(a.campaign, DayQuery.parsed(request.GET).get("day"))
    body = summary.summary_sheet(a.campaign, user=request.user, day=day, round_=round_)
    name = f"{a.campaign.name}战果汇总表（{summary.day_label(day, round_)}）.xlsx"
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return download(response, name, fallback="stats-summary.xlsx")


# --- links from elsewhere ---------------------------------------------------------------------------


@login_required
def round_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The report page of the round's last day (the date its totals are reported under), for the unit
    ``?unit=<id>`` when the user may report for it (else the page's own choice). Someone who reports
    for no unit (HQ, a leader) gets the round's statistics instead, with the units not reported.
    404 unless the round's campaign concerns the user."""
    round_ = get_object_or_404(Round.objects.filter(campaign__in=campaigns_for(request.user)), pk=pk)
    wanted = UnitIdQuery.parsed(request.GET).get("unit")
    query = {"campaign": round_.campaign_id}
    if scope.scope_for(request.user, Action.REPORT):
        query["day"] = round_.end.isoformat()
        action, page = Action.REPORT, "web:stats-report"
    else:
        query["round"] = round_.pk
        action, page = Action.VIEW, "web:stats"
    unit = scope.units(request.user, action).filter(pk=wanted).first() if wanted else None
    if unit is not None:
        query["unit"] = unit.code
    return redirect(reverse(page) + "?" + urlencode(query))
