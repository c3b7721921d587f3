"""The results statistics under ``/api/v1/stats/``, scoped like every other read: a campaign or unit
out of scope is a 404 like a missing one (the query is a board's: ``boards.api.asked_or_refused``)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scope
from boards.api import BOARD_PARAMETERS, NOT_SEEN, UnitRef, asked_or_refused, unit_json
from ops.openapi import refusal
from stats import queries as stats
from stats import services as figures
from stats import summary
from stats.models import Indicator, Round
from tasks.models import CampaignStatus
from tasks.queries import campaigns_for
from utilities.errors import Forbidden
from utilities.params import ApiDateField

WINDOW_PARAMETERS = [
    OpenApiParameter("round", int, description="A round of concentrated operations: its dates"),
    OpenApiParameter("start", str, description="First day (yyyy-mm-dd); default the campaign's first"),
    OpenApiParameter("end", str, description="Last day (yyyy-mm-dd); default today or the campaign's last"),
]


class LineSerializer(serializers.Serializer):
    indicator = inline_serializer(
        "IndicatorRef",
        {
            "id": serializers.IntegerField(),
            "code": serializers.CharField(),
            "name": serializers.CharField(),
            "measure": serializers.CharField(),
        },
    )
    total = serializers.IntegerField()
    last_year = serializers.IntegerField(allow_null=True, help_text="Same days of the campaign compared with")
    previous = serializers.IntegerField(allow_null=True, help_text="The window of equal length just before")
    yoy = serializers.CharField(help_text="e.g. 同比上升24.8%; empty when there is nothing to compare")
    mom = serializers.CharField(help_text="e.g. 环比下降3%")
    by_unit = serializers.DictField(child=serializers.IntegerField(), help_text="Column unit id → total")
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
                "indicator": {
                    "id": ln.indicator.pk,
                    "code": ln.indicator.code,
                    "name": ln.indicator.name,
                    "measure": ln.indicator.measure,
                },
                "total": ln.total,
                "last_year": ln.last_year,
                "previous": ln.previous,
                "yoy": ln.yoy,
                "mom": ln.mom,
                "by_unit": {str(k): v for k, v in ln.by_unit.items()},
                "on_behalf": ln.behalf,
                "on_behalf_by_unit": {str(k): v for k, v in ln.behalf_by_unit.items()},
            }
            for ln in t.lines
        ],
    }


class TotalsView(APIView):
    """战果统计: each indicator's total under ``unit`` in a window (a round, or from–to), per column unit,
    with 同比 and 环比."""

    @extend_schema(parameters=BOARD_PARAMETERS + WINDOW_PARAMETERS, responses={200: TotalsSerializer, **NOT_SEEN})
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        return Response(totals_json(stats.totals(request.user, a.campaign, a.unit, a.window)))


class NonReportersView(APIView):
    """The units under ``unit`` holding work in the campaign that have no figure for the window's last day
    (a round: its totals)."""

    @extend_schema(
        parameters=BOARD_PARAMETERS + WINDOW_PARAMETERS,
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
        "Indicator",
        {
            "id": serializers.IntegerField(),
            "code": serializers.CharField(),
            "name": serializers.CharField(),
            "measure": serializers.CharField(),
        },
        many=True,
    )
    rounds = inline_serializer(
        "Round",
        {
            "id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "start": serializers.DateField(),
            "end": serializers.DateField(),
        },
        many=True,
    )


class CatalogueView(APIView):
    """A campaign's indicators and rounds (what a unit reports, and when it reports per round)."""

    @extend_schema(parameters=BOARD_PARAMETERS[:1], responses={200: CatalogueSerializer, **NOT_SEEN})
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        return Response(
            {
                "indicators": list(
                    Indicator.objects.filter(campaign=a.campaign, is_active=True).values(
                        "id", "code", "name", "measure"
                    )
                ),
                "rounds": list(Round.objects.filter(campaign=a.campaign).values("id", "name", "start", "end")),
            }
        )


class ReportSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = serializers.CharField(help_text="Unit code")
    day = ApiDateField(help_text="The day reported; in a round, its last day")
    values = serializers.DictField(child=serializers.IntegerField(min_value=0), help_text="Indicator code → value")


def _campaign(request, campaign_pk):
    """The published campaign named, 404 when not seen."""
    campaign = campaigns_for(request.user).exclude(status=CampaignStatus.DRAFT).filter(pk=campaign_pk).first()
    if campaign is None:
        raise Http404
    return campaign


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
        codes = dict(campaign.indicators.filter(is_active=True).values_list("code", "pk"))
        unknown = sorted(set(d["values"]) - codes.keys())
        if unknown:
            return Response({"values": [f"未知指标：{'、'.join(unknown)}；应为 {'、'.join(codes)}"]}, status=400)
        values = {codes[c]: v for c, v in d["values"].items()}
        changed = figures.report_figures(
            campaign=campaign, unit=unit, day=d["day"], values=values, by=request.user, source="api"
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
