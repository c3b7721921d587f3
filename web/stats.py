"""The results statistics pages (战果统计): the same figures as ``/api/v1/stats/``; a unit lead reports
its figures here, by day or round, or uploads its whole sheet; a reminder about a round (集中统一行动战果
报送) links to the round's report page."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts import scope
from accounts.models import Unit
from accounts.scope import Action
from boards.charts import Chart, Series, daily_chart
from boards.forms import StatsForm, asked
from boards.queries import trail
from stats import catalogue as catalogue_services
from stats import numbers, summary
from stats import queries as stats
from stats.models import Figure, Kind, Round
from stats.ranking import firsts, rank, ranked_indicators
from stats.services import (
    MAX_SHEET,
    enterable_units,
    import_upload,
    may_report,
    report_figures,
    reported_indicators,
)
from stats.sheets import report_days, unit_sheet
from tasks.models import Campaign
from tasks.queries import campaigns_for
from utilities.cn import cn_date, cn_range
from utilities.errors import Refused
from utilities.params import DateField, IdField
from utilities.tables import FileProblems
from utilities.uploads import download

from .forms import DayQuery, Form, ReportUnitForm, SummaryForm, UnitIdQuery
from .pages import refused, submit


def _link(a, **change) -> str:
    """The query string of the page with ``change`` applied (drill-down keeps the window)."""
    params = {"campaign": a.campaign.pk, "unit": a.unit.code}
    w = a.window
    if w and w.round:
        params["round"] = w.round.pk
    elif w and w.period:
        params.update(period=w.period, end=w.end.isoformat())
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
    zeros = request.GET.get("zeros") == "1"
    hidden = [] if zeros else [line for line in t.lines if not line.total and not line.last_year]
    t.lines = [line for line in t.lines if line not in hidden]
    rounds = list(campaign.rounds.all())
    by_round = stats.per_round(user, campaign, unit)
    expected = stats.reporting_units(user, campaign, unit).count()
    missing = list(stats.non_reporters(user, campaign, unit, w.end)[:50])
    context.update(
        t=t,
        window_words=w.words,
        zeros=zeros,
        hidden=len(hidden),
        zeros_link=_link(
            a, zeros="" if zeros else "1", rank=request.GET.get("rank", ""), level=request.GET.get("level", "")
        ),
        ranking=_ranking(request, a),
        last_year_words=cn_range(t.last_year_window.start, t.last_year_window.end),
        grid=[(line, [(line.unit_shown(u.pk), line.behalf_by_unit.get(u.pk)) for u in t.columns]) for line in t.lines],
        column_links=[(u, _link(a, unit=u.code)) for u in t.columns],
        rounds=[
            (
                r,
                cn_range(r.start, r.end),
                [numbers.bare(line.indicator, by_round.get(r.pk, {}).get(line.indicator.pk)) for line in t.lines],
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
        can_keep_catalogue=catalogue_services.may_edit(user, campaign),
        charts=_charts(user, campaign, unit, w, t, rounds, by_round),
    )
    return render(request, "stats/statistics.html", context)


MAX_LEVEL = 6  # the levels below the unit the 排名 section offers (as the API's ``level``)


def _ranking(request, a) -> dict:
    """The 排名 section: the children of the unit (or the units ``?level=`` levels below it) ranked by the
    indicator picked (``?rank=``, default the first), over the page's window."""
    indicators = list(ranked_indicators(a.campaign))
    picked = _picked(request.GET.get("rank"))
    indicator = next((i for i in indicators if i.pk == picked), indicators[0] if indicators else None)
    if indicator is None:
        return {"indicators": [], "ranking": None}
    deepest = Unit.objects.filter(path__startswith=a.unit.path, is_active=True).aggregate(d=Max("depth"))["d"]
    levels = list(range(1, min(MAX_LEVEL, deepest - a.unit.depth) + 1))
    asked_level = _picked(request.GET.get("level"))
    level = asked_level if asked_level in levels else 1
    got = rank(request.user, a.campaign, a.unit, indicator, a.window, level=a.unit.depth + level)
    rows = [(p, p.text(indicator), _link(a, unit=p.unit.code, rank=indicator.pk)) for p in got.places]
    return {
        "indicators": indicators,
        "indicator": indicator,
        "ranking": got,
        "rows": rows,
        "first": firsts(got),
        "levels": levels,
        "level": level,
    }


def _picked(value) -> int | None:
    """An id (the indicator ranked by) or a small number (the level) from the query, or None when missing
    or malformed (then the default)."""
    try:
        return IdField().clean(value)
    except forms.ValidationError:
        return None


def _charts(user, campaign, unit, w, t, rounds, by_round) -> list:
    """The daily totals of each indicator in the window, and the rounds side by side (ECharts)."""
    charts = [
        daily_chart(_("Daily totals, rounds spread over their days"), stats.daily(user, campaign, unit, w), t.lines[:4])
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
    indicators = list(reported_indicators(campaign))  # not a computed rate: its parts are reported
    have = {
        f.indicator_id: f
        for f in Figure.objects.filter(unit=unit, day=day, indicator__in=indicators).select_related("reported_by")
    }
    posted = bound.get("posted") or {}
    # each field: the indicator, the value shown, and the figure stored when HQ entered it (代填 mark)
    fields = []
    for i in indicators:
        figure = have.get(i.pk)
        value = posted.get(f"v{i.pk}", numbers.shown(i, figure.value) if figure else None)  # money in its measure
        fields.append((i, value, figure if figure and figure.on_behalf else None))
    behalf = stats.behalf_days(campaign, unit)  # the days in the picker where HQ entered some (含代填)
    context.update(
        day_words=f"{round_.name}（{cn_range(round_.start, round_.end)}）" if round_ else cn_date(day),
        fields=fields,
        days=[(d, label, d in behalf) for d, label in _picker_days(campaign, day)],
    )
    return context


def _picker_days(campaign, day) -> list[tuple]:
    """The day picker: the latest 40 report days, newest first, and the day being entered wherever it is,
    so that a form opened on an older day (from HQ's summary) is saved on that day and not on the first."""
    days = report_days(campaign, timezone.localdate())[::-1]
    shown = days[:40]
    shown += [(d, label) for d, label in days[40:] if d == day]
    return shown


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
        values = {i.pk: request.POST.get(f"v{i.pk}", "").strip() for i in reported_indicators(a.campaign)}
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


# --- HQ's catalogue: indicators and rounds on one page -------------------------------------------------


class CatalogueQuery(Form):
    campaign = IdField()
    rows = forms.IntegerField(required=False, min_value=0, max_value=50)  # blank rows to add


class IndicatorRow(Form):
    id = IdField(widget=forms.HiddenInput)
    name = forms.CharField(label=gettext_lazy("Indicator"), required=False, max_length=200)
    measure = forms.CharField(label=gettext_lazy("Unit of measure"), required=False, max_length=100)
    seq = forms.IntegerField(label=gettext_lazy("Order"), required=False, min_value=0, max_value=32767)
    is_active = forms.BooleanField(label=gettext_lazy("Reported"), required=False, initial=True)
    kind = forms.ChoiceField(label=pgettext_lazy("indicator", "Kind"), required=False, choices=Kind.choices)
    numerator = forms.CharField(label=gettext_lazy("Numerator"), required=False, max_length=200)
    denominator = forms.CharField(label=gettext_lazy("Denominator"), required=False, max_length=200)
    up_is_good = forms.BooleanField(label=gettext_lazy("Up is good"), required=False, initial=True)

    def blank(self) -> bool:
        d = self.cleaned_data
        return not d.get("id") and not d.get("name") and not d.get("measure") and d.get("seq") is None


class RoundRow(Form):
    id = IdField(widget=forms.HiddenInput)
    name = forms.CharField(label=gettext_lazy("Name of the round"), required=False, max_length=200)
    start = DateField(label=gettext_lazy("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(label=gettext_lazy("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    delete = forms.BooleanField(label=gettext_lazy("Remove"), required=False)

    def blank(self) -> bool:
        d = self.cleaned_data
        return not d.get("id") and not d.get("name") and not d.get("start") and not d.get("end")


IndicatorRows = forms.formset_factory(
    IndicatorRow, extra=0, max_num=catalogue_services.MAX_ROWS, absolute_max=catalogue_services.MAX_ROWS
)
RoundRows = forms.formset_factory(
    RoundRow, extra=0, max_num=catalogue_services.MAX_ROWS, absolute_max=catalogue_services.MAX_ROWS
)


class CatalogueUploadForm(Form):
    file = forms.FileField(label=gettext_lazy("Catalogue list (.xlsx)"))


class RecurringForm(Form):
    rule = forms.ChoiceField(
        label=gettext_lazy("Rounds on"),
        choices=[
            (catalogue_services.Recurrence.WEEKENDS, gettext_lazy("every weekend (Saturday and Sunday)")),
            (catalogue_services.Recurrence.MONTH_START, gettext_lazy("the first days of each month")),
        ],
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days at the start of each month"), required=False, min_value=1, max_value=31
    )
    name_pattern = forms.CharField(
        label=gettext_lazy("Names"),
        max_length=60,
        initial=catalogue_services.DEFAULT_PATTERN,
        help_text=gettext_lazy("{n}: the round's number; {range}: its dates"),
    )

    def clean(self):
        data = super().clean()
        if data.get("rule") == catalogue_services.Recurrence.MONTH_START and not data.get("days"):
            self.add_error("days", _("How many days at the start of each month?"))
        return data


class CopyForm(Form):
    source = forms.TypedChoiceField(label=gettext_lazy("Copy from"), coerce=int)

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(c.pk, c.name) for c in campaigns]


def _catalogue_url(campaign) -> str:
    return reverse("web:stats-catalogue") + f"?campaign={campaign.pk}"


def _rows_formsets(campaign, extra: int, data=None, kind: str | None = None):
    """The two tables: the campaign's rows and ``extra`` blank ones; the one posted (``kind``) bound."""
    indicators = [
        {
            "id": i.pk,
            "name": i.name,
            "measure": i.measure,
            "seq": i.seq,
            "is_active": i.is_active,
            "kind": i.kind,
            "numerator": i.numerator.name if i.numerator else "",
            "denominator": i.denominator.name if i.denominator else "",
            "up_is_good": i.up_is_good,
        }
        for i in campaign.indicators.select_related("numerator", "denominator").order_by("seq", "id")
    ]
    rounds = [{"id": r.pk, "name": r.name, "start": r.start, "end": r.end} for r in campaign.rounds.order_by("start")]
    blank_indicator = {"is_active": True, "up_is_good": True, "kind": Kind.COUNT}
    ind = IndicatorRows(
        data if kind == "indicators" else None,
        initial=indicators + [blank_indicator] * extra,
        prefix="ind",
    )
    rnd = RoundRows(data if kind == "rounds" else None, initial=rounds + [{}] * extra, prefix="rnd")
    return ind, rnd


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """HQ keeps a campaign's indicators and rounds on one page: each in one table (every row editable,
    blank rows to add, every problem shown in its cell), an XLSX list, recurring rounds, a copy from
    another campaign. Only HQ over the campaign's owner (403); a campaign not seen: 404."""
    user = request.user
    if not scope.scope_for(user, Action.MANAGE):
        raise PermissionDenied
    query = CatalogueQuery.parsed(request.GET)
    managed = Campaign.objects.visible_to(user, Action.MANAGE).order_by("-start", "-pk")
    if query.get("campaign"):
        campaign = campaigns_for(user).select_related("owner", "compare_to").filter(pk=query["campaign"]).first()
        if campaign is None:
            raise Http404
        if not catalogue_services.may_edit(user, campaign):
            raise PermissionDenied
    elif request.method == "POST":
        raise Http404  # a write names its campaign; never the default one
    else:
        campaign = managed.first()
    extra = query.get("rows") or 3
    sources = list(campaigns_for(user).exclude(pk=campaign.pk).order_by("-start", "-pk")) if campaign else []

    def page(status: int = 200, **bound) -> HttpResponse:
        kind = bound.get("kind")
        ind, rnd = bound.get("formsets") or (None, None)
        if campaign is not None and (ind is None or rnd is None):
            ind, rnd = _rows_formsets(campaign, extra)
        compare = campaign.compare_to_id if campaign else None
        context = {
            "campaign": campaign,
            "managed": managed,
            "indicators": ind,
            "rounds": rnd,
            "upload_form": bound.get("upload_form") or CatalogueUploadForm(),
            "recurring_form": bound.get("recurring_form") or RecurringForm(),
            "copy_form": bound.get("copy_form")
            or CopyForm(
                campaigns=sources, initial={"source": compare if any(c.pk == compare for c in sources) else None}
            ),
            "sources": sources,
            "problems": bound.get("problems") or [],
            "posted": kind,
            "more_rows": extra + 5,
        }
        return render(request, "stats/catalogue.html", context, status=status)

    if request.method != "POST" or campaign is None:
        return page()
    kind = request.POST.get("form")
    if kind in ("indicators", "rounds"):
        return _save_table(request, campaign, kind, extra, page)
    if kind == "upload":
        return _upload_catalogue(request, campaign, page)
    if kind == "recurring":
        form = RecurringForm(request.POST)

        def add(d):
            rule = catalogue_services.Recurrence(d["rule"], d.get("days") or 0)
            made = catalogue_services.add_recurring_rounds(
                campaign=campaign, by=user, rule=rule, name_pattern=d["name_pattern"], source="web"
            )
            return _("%(n)d rounds added.") % {"n": len(made)}, _catalogue_url(campaign)

        return submit(request, form, add, page=lambda status, **b: page(status, kind=kind, **b), key="recurring_form")
    if kind == "copy":
        form = CopyForm(request.POST, campaigns=sources)

        def copy(d):
            source = next(c for c in sources if c.pk == d["source"])
            got = catalogue_services.copy_catalogue(source=source, target=campaign, by=user, source_label="web")
            message = _(
                "Copied from %(source)s: %(i)d indicators, %(r)d rounds (%(c)d cut to this campaign's dates, "
                "%(d)d left out); %(s)d already here."
            ) % {
                "source": source.name,
                "i": got.indicators,
                "r": got.rounds,
                "c": got.clamped,
                "d": got.dropped,
                "s": got.skipped,
            }
            return message, _catalogue_url(campaign)

        return submit(request, form, copy, page=lambda status, **b: page(status, kind=kind, **b), key="copy_form")
    messages.error(request, _("Unknown form."))
    return page(400)


def _save_table(request, campaign, kind: str, extra: int, page) -> HttpResponse:
    """One table posted: the rows changed or filled in go to the service at once; its problems come back
    to their cells, nothing written."""
    ind, rnd = _rows_formsets(campaign, extra, request.POST, kind)
    formset = ind if kind == "indicators" else rnd
    if not formset.is_valid():
        messages.error(request, _("Nothing was saved: correct the marked cells."))
        return page(400, kind=kind, formsets=(ind, rnd))
    rows, forms_at = [], []
    for line, form in enumerate(formset.forms, 1):
        if form.blank() or (form.cleaned_data.get("id") and not form.has_changed()):
            continue
        row = {k: v for k, v in form.cleaned_data.items() if not (k == "id" and v is None)}
        row["row"] = line  # messages name the table's line
        if kind == "rounds" and not row.get("delete"):
            row.pop("delete", None)
        rows.append(row)
        forms_at.append(form)
    if not rows:
        messages.info(request, _("Nothing changed."))
        return redirect(_catalogue_url(campaign))
    save = catalogue_services.save_indicators if kind == "indicators" else catalogue_services.save_rounds
    try:
        save(campaign=campaign, by=request.user, rows=rows, source="web")
    except catalogue_services.CatalogueProblems as exc:
        for p in exc.problems:
            form = forms_at[min(p.row, len(forms_at) - 1)]
            form.add_error(p.field if p.field in form.fields and p.field != "id" else None, p.message)
        messages.error(request, _("Nothing was saved: correct the marked cells."))
        return page(400, kind=kind, formsets=(ind, rnd))
    except Refused as exc:
        return page(refused(request, exc), kind=kind, formsets=(ind, rnd))
    messages.success(request, _("%(n)d rows saved.") % {"n": len(rows)})
    return redirect(_catalogue_url(campaign))


def _upload_catalogue(request, campaign, page) -> HttpResponse:
    form = CatalogueUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return page(400, kind="upload", upload_form=form)
    try:
        got = catalogue_services.import_catalogue(campaign=campaign, by=request.user, upload=form.cleaned_data["file"])
    except FileProblems as exc:
        messages.error(request, _("Nothing was imported: the list has problems, each shown below."))
        return page(400, kind="upload", upload_form=form, problems=[str(p) for p in exc.problems])
    except Refused as exc:
        return page(refused(request, exc), kind="upload", upload_form=form)
    messages.success(
        request, _("List imported: %(i)d indicators and %(r)d rounds saved.") % {"i": got.indicators, "r": got.rounds}
    )
    return redirect(_catalogue_url(campaign))
