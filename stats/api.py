"""The results statistics under ``/api/v1/stats/``, scoped like every other read: a campaign or unit
out of scope is a 404 like a missing one (the query is a board's: ``boards.api.asked_or_refused``)."""

from __future__ import annotations

from django import forms
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scope
from boards.api import BOARD_PARAMETERS, NOT_SEEN, UnitRef, asked_or_refused, unit_json
from boards.forms import StatsForm
from ops.openapi import refusal
from stats import catalogue, numbers, ranking, summary
from stats import queries as stats
from stats import services as figures
from stats.models import Indicator, Kind, Round
from tasks.models import CampaignStatus
from tasks.queries import campaigns_for
from utilities.errors import Forbidden
from utilities.params import ApiDateField, IdField

WINDOW_PARAMETERS = [
    OpenApiParameter("round", int, description="A round of concentrated operations: its dates"),
    OpenApiParameter("start", str, description="First day (yyyy-mm-dd); default the campaign's first"),
    OpenApiParameter("end", str, description="Last day (yyyy-mm-dd); default today or the campaign's last"),
]
PERIOD_PARAMETER = OpenApiParameter(
    "period",
    str,
    enum=list(stats.PERIODS),
    description="since (行动以来: the campaign's first day to ``end``), the week or the month holding ``end``",
)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "decimal", "example": "9500000.00"}],
        "nullable": True,
        "description": "A count: an integer. Other kinds: an exact decimal string in the stored unit "
        "(money in 元, a quantity in its measure, a rate in percent). Null: a rate with nothing to divide by.",
    }
)
class FigureValueField(serializers.Field):
    """A figure in the API (docs/figures.md): what ``stats.numbers.raw`` gives."""

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "number"}, {"type": "string", "example": "27.3"}],
        "description": "A figure as entered: a count a whole number; a quantity in its measure; money in the "
        "indicator's measure (元, 万元 or 亿元); an entered rate in percent. Strings keep decimals exact.",
    }
)
class EnteredValueField(serializers.Field):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise serializers.ValidationError("应为数字")
        return data


def indicator_fields() -> dict:
    """An indicator's fields in the answers (fresh: a serializer class takes its fields out of the dict)."""
    return {
        "id": serializers.IntegerField(),
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "measure": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=Kind.choices),
        "up_is_good": serializers.BooleanField(),
    }


INDICATOR_KEYS = tuple(indicator_fields())


class LineSerializer(serializers.Serializer):
    indicator = inline_serializer("IndicatorRef", indicator_fields())
    total = FigureValueField()
    text = serializers.CharField(help_text="The total as a report writes it: 1.1万人次, 950.5万元, 95.0%")
    last_year = FigureValueField(help_text="Same days of the campaign compared with")
    previous = FigureValueField(help_text="The window of equal length just before")
    yoy = serializers.CharField(help_text="e.g. 同比增长24.8%, 同比上升 (警情), 同比持平; empty: nothing to compare")
    mom = serializers.CharField(help_text="e.g. 环比下降3%")
    yoy_tone = serializers.CharField(help_text="good, bad or empty: by the indicator's up_is_good")
    by_unit = serializers.DictField(child=FigureValueField(), help_text="Column unit id → total")
    on_behalf = serializers.IntegerField(help_text="How many of the figures summed HQ entered for a unit (含代填)")
    on_behalf_by_unit = serializers.DictField(
        child=serializers.IntegerField(), help_text="Column unit id → figures entered by HQ (only columns with any)"
    )


class TotalsSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = UnitRef()
    start = serializers.DateField()
    end = serializers.DateField()
    round = serializers.IntegerField(allow_null=True)
    compared_with = serializers.IntegerField(
        allow_null=True, help_text="The campaign 同比 reads; null: any a year before"
    )
    last_year_start = serializers.DateField()
    last_year_end = serializers.DateField()
    columns = UnitRef(many=True)
    lines = LineSerializer(many=True)


def indicator_ref(i: Indicator) -> dict:
    return {k: getattr(i, "pk" if k == "id" else k) for k in INDICATOR_KEYS}


def totals_json(t: stats.Totals) -> dict:
    return {
        "campaign": t.campaign.pk,
        "unit": unit_json(t.unit),
        "start": t.window.start,
        "end": t.window.end,
        "round": t.window.round.pk if t.window.round else None,
        "compared_with": t.compared_with.pk if t.compared_with else None,
        "last_year_start": t.last_year_window.start,
        "last_year_end": t.last_year_window.end,
        "columns": [unit_json(u) for u in t.columns],
        "lines": [
            {
                "indicator": indicator_ref(ln.indicator),
                "total": numbers.raw(ln.indicator, ln.total),
                "text": ln.text,
                "last_year": numbers.raw(ln.indicator, ln.last_year),
                "previous": numbers.raw(ln.indicator, ln.previous),
                "yoy": ln.yoy,
                "mom": ln.mom,
                "yoy_tone": ln.yoy_tone,
                "by_unit": {str(k): numbers.raw(ln.indicator, v) for k, v in ln.by_unit.items()},
                "on_behalf": ln.behalf,
                "on_behalf_by_unit": {str(k): v for k, v in ln.behalf_by_unit.items()},
            }
            for ln in t.lines
        ],
    }


class TotalsView(APIView):
    """战果统计: each indicator's total under ``unit`` in a window (a round, or from–to), per column unit,
    with 同比 and 环比."""

    @extend_schema(
        parameters=[*BOARD_PARAMETERS, *WINDOW_PARAMETERS, PERIOD_PARAMETER],
        responses={200: TotalsSerializer, **NOT_SEEN},
    )
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        return Response(totals_json(stats.totals(request.user, a.campaign, a.unit, a.window)))


RANKING_PARAMETERS = [
    OpenApiParameter("indicator", int, description="The indicator ranked by (default: the campaign's first)"),
    OpenApiParameter(
        "level", int, description="Rank the units this many levels below ``unit`` (default 1: its children), 1–6"
    ),
    PERIOD_PARAMETER,
]


class RankingForm(StatsForm):
    """The statistics' window, the indicator and how far below the unit to rank."""

    indicator = IdField()
    level = forms.IntegerField(required=False, min_value=1, max_value=6)


class PlaceSerializer(serializers.Serializer):
    unit = UnitRef()
    rank = serializers.IntegerField(
        allow_null=True, help_text="Null: not ranked (a rate with nothing to divide by, or none entered)"
    )
    tied = serializers.BooleanField(help_text="The rank is shared (并列)")
    rank_words = serializers.CharField(help_text="第一, 并列第一; empty when not ranked")
    value = FigureValueField()
    text = serializers.CharField(help_text="The value as a report writes it: 1.1万人次, 95.0%")


class IndicatorRankingSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = UnitRef()
    indicator = inline_serializer("RankedIndicator", indicator_fields())
    start = serializers.DateField()
    end = serializers.DateField()
    round = serializers.IntegerField(allow_null=True)
    period = serializers.CharField(help_text="since, week, month, or empty (a round or from–to)")
    words = serializers.CharField(help_text="The window as the page names it: 行动以来（截至7月20日）")
    level = serializers.IntegerField(help_text="Levels below the unit ranked (1: its children)")
    first = serializers.CharField(help_text="破获刑事案件全市第一：城东分局（35起）; empty when none")
    places = PlaceSerializer(many=True)


class FiguresRankingView(APIView):
    """战果排名: the units under ``unit`` (its children, or ``level`` levels down) ranked by one indicator in
    a window, ties sharing a rank; a rise that is bad (警情) ranks the fewest first; a computed rate by the
    ratio of its summed parts; an entered rate only among the units that entered it."""

    @extend_schema(
        parameters=BOARD_PARAMETERS + WINDOW_PARAMETERS + RANKING_PARAMETERS,
        responses={200: IndicatorRankingSerializer, **NOT_SEEN},
    )
    def get(self, request):
        a, refused = asked_or_refused(request, RankingForm)
        if refused:
            return refused
        params = RankingForm(request.query_params)
        params.is_valid()  # valid: asked_or_refused checked it
        indicators = list(ranking.ranked_indicators(a.campaign))
        picked = params.cleaned_data["indicator"]
        indicator = next((i for i in indicators if i.pk == picked), None) if picked else next(iter(indicators), None)
        if indicator is None:
            raise Http404
        level = params.cleaned_data["level"] or 1
        got = ranking.rank(request.user, a.campaign, a.unit, indicator, a.window, level=a.unit.depth + level)
        w = got.window
        return Response(
            {
                "campaign": a.campaign.pk,
                "unit": unit_json(a.unit),
                "indicator": indicator_ref(indicator),
                "start": w.start,
                "end": w.end,
                "round": w.round.pk if w.round else None,
                "period": w.period,
                "words": w.words,
                "level": level,
                "first": ranking.firsts(got),
                "places": [
                    {
                        "unit": unit_json(p.unit),
                        "rank": p.rank,
                        "tied": p.tied,
                        "rank_words": p.rank_words,
                        "value": numbers.raw(indicator, p.value),
                        "text": p.text(indicator),
                    }
                    for p in got.places
                ],
            }
        )


class NonReportersView(APIView):
    """The units under ``unit`` holding work in the campaign that have no figure for the window's last day
    (a round: its totals)."""

    @extend_schema(
        parameters=[*BOARD_PARAMETERS, *WINDOW_PARAMETERS, PERIOD_PARAMETER],
        responses={
            200: inline_serializer(
                "NonReporters",
                {"day": serializers.DateField(), "expected": serializers.IntegerField(), "missing": UnitRef(many=True)},
            ),
            **NOT_SEEN,
        },
    )
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        day = a.window.end
        missing = list(stats.non_reporters(request.user, a.campaign, a.unit, day))
        expected = stats.reporting_units(request.user, a.campaign, a.unit).count()
        return Response({"day": day, "expected": expected, "missing": [unit_json(u) for u in missing]})


class CatalogueSerializer(serializers.Serializer):
    indicators = inline_serializer(
        "IndicatorBrief",
        {
            **indicator_fields(),
            "reported": serializers.BooleanField(help_text="False: a rate computed from its parts, not reported"),
        },
        many=True,
    )
    rounds = inline_serializer(
        "RoundBrief",
        {
            "id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "start": serializers.DateField(),
            "end": serializers.DateField(),
        },
        many=True,
    )


class CatalogueView(APIView):
    """A campaign's indicators (those reported) and rounds (what a unit reports, and when it reports per
    round), in one answer; ``/stats/indicators/`` and ``/stats/rounds/`` list, create and change them."""

    @extend_schema(parameters=BOARD_PARAMETERS[:1], responses={200: CatalogueSerializer, **NOT_SEEN})
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        return Response(
            {
                "indicators": [
                    {**indicator_ref(i), "reported": not i.computed}
                    for i in Indicator.objects.filter(campaign=a.campaign, is_active=True)
                ],
                "rounds": list(Round.objects.filter(campaign=a.campaign).values("id", "name", "start", "end")),
            }
        )


class ReportSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = serializers.CharField(help_text="Unit code")
    day = ApiDateField(help_text="The day reported; in a round, its last day")
    values = serializers.DictField(
        child=EnteredValueField(),
        help_text="Indicator code → value: money in the indicator's measure, a rate in percent (docs/figures.md)",
    )


def _campaign(request, campaign_pk):
    """The published campaign named, 404 when not seen; with the campaign it compares with (同比: the totals
    read it, one query less per request)."""
    campaign = scope.by_grants(_published, request.user).filter(pk=campaign_pk).first()
    if campaign is None:
        raise Http404
    return campaign


def _published(user):
    return campaigns_for(user).exclude(status=CampaignStatus.DRAFT).select_related("compare_to")


def _reporting(request, campaign_pk, unit_code):
    """The campaign (404 when not seen) and the unit (None when out of the view scope or missing)."""
    campaign = _campaign(request, campaign_pk)
    return campaign, scope.units(request.user).filter(code=unit_code).first()


NOT_YOURS = {"unit": ["不在您的职责范围内"]}


class FiguresView(APIView):
    """A unit's figures for one day (a round: its last day); a unit lead reports for its subtree.
    A figure already there is replaced (the history keeps the old value)."""

    @extend_schema(
        request=ReportSerializer,
        # 201 as for a new row; a figure replaced answers the same (its history keeps the old value)
        responses={
            201: inline_serializer("Reported", {"changed": serializers.IntegerField()}),
            404: refusal(404, "The campaign named (published, seen by the caller)"),
        },
    )
    def post(self, request):
        body = ReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        campaign, unit = _reporting(request, d["campaign"], d["unit"])
        if unit is None:
            return Response(NOT_YOURS, status=400)
        indicators = figures.active_indicators(campaign)  # read once: for the codes and for the checks
        codes = {i.code: pk for pk, i in indicators.items()}
        unknown = sorted(set(d["values"]) - codes.keys())
        if unknown:
            return Response({"values": [f"未知指标：{'、'.join(unknown)}；应为 {'、'.join(codes)}"]}, status=400)
        values = {codes[c]: v for c, v in d["values"].items()}
        changed = figures.report_figures(
            campaign=campaign,
            unit=unit,
            day=d["day"],
            values=values,
            by=request.user,
            source="api",
            indicators=indicators,
        )
        return Response({"changed": changed}, status=status.HTTP_201_CREATED)


class SheetUploadForm(serializers.Serializer):
    # Parsed rather than read raw: a NUL in the unit (PostgreSQL refuses it in a query) made a 500, and a
    # campaign sent as a file part would have; now they are 400s naming the field.
    campaign = serializers.IntegerField(error_messages={"required": "应为行动编号", "invalid": "应为行动编号"})
    unit = serializers.CharField(required=False, allow_blank=True, default="")


class SheetUploadView(APIView):
    """A unit's whole statistics sheet (XLSX or CSV: a row per day or round, a column per indicator).
    Every problem is listed with sheet, row, column and field; nothing is written unless all is right."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request=inline_serializer(
            "SheetUpload",
            {"campaign": serializers.IntegerField(), "unit": serializers.CharField(), "file": serializers.FileField()},
        ),
        responses={
            201: inline_serializer("SheetLoaded", {"changed": serializers.IntegerField()}),
            404: refusal(404, "The campaign named (published, seen by the caller)"),
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        form = SheetUploadForm(data=request.data)
        if not form.is_valid():
            return Response(form.errors, status=400)
        campaign, unit = _reporting(request, form.validated_data["campaign"], form.validated_data["unit"])
        if unit is None:
            return Response(NOT_YOURS, status=400)
        if upload is None:
            return Response({"file": ["请附上战果统计表（.xlsx 或 .csv）"]}, status=400)
        if upload.size > figures.MAX_SHEET:
            return Response({"file": [f"文件过大：不应超过{figures.MAX_SHEET // 1024 // 1024}MB"]}, status=400)
        # every problem of the file located: utilities.tables.FileProblems, answered {"problems": […]}
        changed = figures.import_upload(upload=upload, campaign=campaign, unit=unit, by=request.user)
        return Response({"changed": changed}, status=status.HTTP_201_CREATED)


class SummaryUploadForm(serializers.Serializer):
    campaign = serializers.IntegerField(error_messages={"required": "应为行动编号", "invalid": "应为行动编号"})
    day = ApiDateField(help_text="The day the sheet is for; a round: its last day")


class SummaryUploadView(APIView):
    """HQ's summary sheet (代填汇总表, XLSX or CSV): a row per unit (its code, or its exact name), a column
    per indicator, for one day (a round: its last day). Every problem is listed with sheet, row, column and
    the cell's text (an unknown unit with the closest names, a unit out of scope by name); nothing is
    written unless all is right. The same figures as the units' own, entered on their behalf. HQ only."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request=inline_serializer(
            "SummaryUpload",
            {"campaign": serializers.IntegerField(), "day": serializers.DateField(), "file": serializers.FileField()},
        ),
        responses={
            201: inline_serializer("SummaryLoaded", {"changed": serializers.IntegerField()}),
            403: refusal(403, "Only HQ (the manage right) fills a summary sheet"),
            404: refusal(404, "The campaign named (published, seen by the caller)"),
        },
    )
    def post(self, request):
        if not summary.may_fill(request.user):
            raise Forbidden(summary.NOT_HQ)
        form = SummaryUploadForm(data=request.data)
        if not form.is_valid():
            return Response(form.errors, status=400)
        campaign = _campaign(request, form.validated_data["campaign"])
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"file": ["请附上战果汇总表（.xlsx 或 .csv）"]}, status=400)
        if upload.size > figures.MAX_SHEET:
            return Response({"file": [f"文件过大：不应超过{figures.MAX_SHEET // 1024 // 1024}MB"]}, status=400)
        changed = summary.import_summary_upload(
            upload=upload, campaign=campaign, day=form.validated_data["day"], by=request.user
        )
        return Response({"changed": changed}, status=status.HTTP_201_CREATED)


# --- HQ's catalogue: indicators and rounds, one by one (the page writes many at once) ----------------

CATALOGUE_REFUSALS = {
    400: refusal(400, "Every problem of the row: problems [{row, field, message}]"),
    403: refusal(403, "Only HQ over the campaign's owner keeps its catalogue"),
    404: refusal(404, "The campaign (or the row) is not seen by the caller"),
}


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "id",
            "campaign",
            "code",
            "name",
            "measure",
            "seq",
            "is_active",
            "kind",
            "numerator",
            "denominator",
            "up_is_good",
        ]


class IndicatorChangeSerializer(serializers.Serializer):
    """An indicator's fields; a change (PATCH) sends only those it changes. The rules are the service's
    (``stats.catalogue.check_indicators``): every problem answered with its field."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    measure = serializers.CharField(required=False, allow_blank=True, max_length=100)
    seq = serializers.IntegerField(required=False, min_value=0, max_value=catalogue.SEQ_MAX)
    is_active = serializers.BooleanField(required=False)
    kind = serializers.ChoiceField(required=False, choices=Kind.choices)
    numerator = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="A computed rate's numerator: code or name"
    )
    denominator = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="A computed rate's denominator: code or name"
    )
    up_is_good = serializers.BooleanField(required=False, help_text="False for 警情, 发案: their rise is bad")
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Matches an earlier campaign's (同比); made up if left out",
    )


class IndicatorCreateSerializer(IndicatorChangeSerializer):
    campaign = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class RoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Round
        fields = ["id", "campaign", "name", "start", "end"]


class RoundChangeSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    start = ApiDateField(required=False)
    end = ApiDateField(required=False)


class RoundCreateSerializer(RoundChangeSerializer):
    campaign = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


def _managed(request, campaign_pk):
    """The campaign named: 404 when not seen, 403 unless the caller keeps its catalogue."""
    campaign = campaigns_for(request.user).select_related("owner").filter(pk=campaign_pk).first()
    if campaign is None:
        raise Http404
    if not catalogue.may_edit(request.user, campaign):
        raise Forbidden("只有行动牵头的领导小组办公室可以维护统计指标和统一行动轮次")
    return campaign


class _CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows of the catalogues of the campaigns the caller sees; HQ over a campaign's owner creates and
    changes them through ``stats.catalogue`` (a row's problems: 400 with its fields)."""

    model: type
    create_serializer: type
    change_serializer: type
    save: staticmethod
    filterset_fields = ["campaign"]

    def get_queryset(self):
        return self.model.objects.filter(campaign__in=campaigns_for(self.request.user)).order_by(*self.ordering)

    def _saved(self, request, campaign, row, status_code):
        saved = type(self).save(campaign=campaign, by=request.user, rows=[row], source="api")
        return Response(self.get_serializer(saved[0]).data, status=status_code)

    def create(self, request):
        body = self.create_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        campaign = _managed(request, data.pop("campaign"))
        return self._saved(request, campaign, data, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        obj = self.get_object()
        if not catalogue.may_edit(request.user, obj.campaign):  # before the body: a lead learns nothing more
            raise Forbidden("只有行动牵头的领导小组办公室可以维护统计指标和统一行动轮次")
        body = self.change_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._saved(request, obj.campaign, {"id": obj.pk, **body.validated_data}, status.HTTP_200_OK)


class IndicatorViewSet(_CatalogueViewSet):
    """A campaign's indicators (战果统计指标), also those no longer reported (``is_active`` false)."""

    serializer_class = IndicatorSerializer
    model = Indicator
    ordering = ("campaign", "seq", "id")
    create_serializer = IndicatorCreateSerializer
    change_serializer = IndicatorChangeSerializer
    save = staticmethod(catalogue.save_indicators)
    filterset_fields = ["campaign", "is_active"]

    @extend_schema(request=IndicatorCreateSerializer, responses={201: IndicatorSerializer, **CATALOGUE_REFUSALS})
    def create(self, request):
        return super().create(request)

    @extend_schema(request=IndicatorChangeSerializer, responses={200: IndicatorSerializer, **CATALOGUE_REFUSALS})
    def partial_update(self, request, pk=None):
        return super().partial_update(request, pk)


class RoundViewSet(_CatalogueViewSet):
    """A campaign's rounds of concentrated operations (集中统一行动): inside its period, apart from each
    other, names unique; the dates of a round reported under do not change."""

    serializer_class = RoundSerializer
    model = Round
    ordering = ("campaign", "start", "id")
    create_serializer = RoundCreateSerializer
    change_serializer = RoundChangeSerializer
    save = staticmethod(catalogue.save_rounds)

    @extend_schema(request=RoundCreateSerializer, responses={201: RoundSerializer, **CATALOGUE_REFUSALS})
    def create(self, request):
        return super().create(request)

    @extend_schema(request=RoundChangeSerializer, responses={200: RoundSerializer, **CATALOGUE_REFUSALS})
    def partial_update(self, request, pk=None):
        return super().partial_update(request, pk)
