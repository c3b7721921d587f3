"""The boards as JSON under ``/api/v1/boards/`` (the battle board and the ranking, scoped like every
other read), and the user's own exports under ``/api/v1/exports/``. A board's query (campaign, unit,
window) is read here for ``/api/v1/stats/`` too."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action as rest_action
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.openapi import refusal

from .exports import XLSX_TYPE, ZIP_TYPE, download_response, exports_of, title_of
from .forms import BoardForm, StatsForm, asked
from .models import Export, ExportStatus
from .queries import Board, Cell, battle_board
from .ranking import MEASURES, ranking
from .services import request_export


def asked_or_refused(request, form_class: type[BoardForm] = StatsForm):
    """What a board's query asks, or the answer refusing it: 400 naming the malformed parameter, 404
    for a campaign or unit out of scope (like a missing one) or no campaign to show."""
    form, a = asked(request.user, request.query_params, form_class)
    if a is None:
        return None, Response(form.errors, status=400)
    if a.campaign is None or a.unit is None:
        return None, Response({"detail": "没有可查看的专项行动"}, status=404)
    return a, None


BOARD_PARAMETERS = [
    OpenApiParameter("campaign", int, description="Default: the latest campaign the user sees"),
    OpenApiParameter("unit", str, description="Unit code; its children are ranked / are the columns"),
]
# asked_or_refused: a campaign or unit out of scope, or none to show
NOT_SEEN = {404: refusal(404, "The campaign or unit named, or no campaign to show")}


def unit_json(u) -> dict:
    return {"id": u.pk, "code": u.code, "name": u.name}


class UnitRef(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class UnitColumn(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    own = serializers.BooleanField(help_text="The chosen unit's own work (本级), not a subordinate's subtree")


class ActionRow(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class CellSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Accepted")
    overdue = serializers.IntegerField()
    unacknowledged = serializers.IntegerField(help_text="Not yet acknowledged (签收) by the unit")
    percent = serializers.FloatField(allow_null=True, help_text="Accepted / total × 100, one decimal")
    colour = serializers.ChoiceField(["grey", "green", "yellow", "red"])


class PlacedCell(CellSerializer):
    action = serializers.IntegerField(allow_null=True, help_text="Null in a column total")
    unit = serializers.IntegerField(allow_null=True, help_text="Null in a row total")


class BoardSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = UnitColumn()
    columns = UnitColumn(many=True)
    rows = ActionRow(many=True)
    cells = PlacedCell(many=True)
    row_totals = PlacedCell(many=True, help_text="Per line of action (unit is null)")
    column_totals = PlacedCell(many=True, help_text="Per column unit (action is null)")
    total = CellSerializer()


def _cell(c: Cell, **where) -> dict:
    return {
        **where,
        "total": c.total,
        "done": c.done,
        "overdue": c.overdue,
        "unacknowledged": c.unacknowledged,
        "percent": c.percent,
        "colour": c.colour,
    }


def board_json(board: Board) -> dict:
    def column(u):
        return {"id": u.pk, "code": u.code, "name": u.name, "own": u.pk == board.unit.pk}

    return {
        "campaign": board.campaign.pk,
        "unit": column(board.unit),
        "columns": [column(u) for u in board.columns],
        "rows": [{"id": a.pk, "code": a.code, "name": a.name} for a in board.rows],
        "cells": [_cell(c, action=a, unit=u) for (a, u), c in sorted(board.cells.items())],
        "row_totals": [_cell(c, action=a, unit=None) for a, c in sorted(board.row_totals.items())],
        "column_totals": [_cell(c, action=None, unit=u) for u, c in sorted(board.column_totals.items())],
        "total": _cell(board.total),
    }


class BattleBoardView(APIView):
    """挂图作战: lines of action × the units under ``unit`` (default: the campaign owner's subordinates);
    each cell rolls up the column unit's whole subtree."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, description="Default: the latest campaign the user sees"),
            OpenApiParameter("unit", str, description="Unit code; its children are the columns"),
            OpenApiParameter("action", int, description="Only this line of action"),
            OpenApiParameter("due_by", str, description="Only work due by this date (yyyy-mm-dd)"),
        ],
        responses={200: BoardSerializer, 404: refusal(404, "The campaign or unit named, or no campaign to show")},
    )
    def get(self, request):
        a, refused = asked_or_refused(request, BoardForm)
        if refused:
            return refused
        board = battle_board(request.user, a.campaign, a.unit, action=a.action, due_by=a.due_by)
        return Response(board_json(board))


# --- ranking ---------------------------------------------------------------------------------------


class StandingSerializer(serializers.Serializer):
    unit = UnitRef()
    rank = serializers.IntegerField(allow_null=True, help_text="Null: no work to rank")
    score = serializers.FloatField(allow_null=True)
    measures = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="Each 0–100")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due = serializers.IntegerField(help_text="Work due before today")
    in_time = serializers.IntegerField(help_text="Of the work due, submitted by its due date")
    findings = serializers.IntegerField()
    open_findings = serializers.IntegerField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="A laggard's reasons, as a bulletin words them"
    )


class RankingSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = UnitRef()
    weights = serializers.DictField(child=serializers.IntegerField())
    standings = StandingSerializer(many=True)
    laggards = StandingSerializer(many=True)


def standing_json(s) -> dict:
    return {
        "unit": unit_json(s.unit),
        "rank": s.rank,
        "score": s.score,
        "measures": {m: (round(v, 1) if v is not None else None) for m, v in s.measures.items()},
        "total": s.total,
        "done": s.done,
        "overdue": s.overdue,
        "due": s.due,
        "in_time": s.in_time,
        "findings": s.findings,
        "open_findings": s.open_findings,
        "reasons": s.reasons(),
    }


class RankingView(APIView):
    """排名: the units under ``unit`` ranked by HQ's weighted score, and the laggards (通报约谈)."""

    @extend_schema(parameters=BOARD_PARAMETERS, responses={200: RankingSerializer, **NOT_SEEN})
    def get(self, request):
        a, refused = asked_or_refused(request)
        if refused:
            return refused
        r = ranking(request.user, a.campaign, a.unit)
        return Response(
            {
                "campaign": a.campaign.pk,
                "unit": unit_json(a.unit),
                "weights": {m: r.weights[m] for m in MEASURES},
                "standings": [standing_json(s) for s in r.standings],
                "laggards": [standing_json(s) for s in r.laggards],
            }
        )


# --- exports -----------------------------------------------------------------------------------------


class ExportSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(help_text="What the kind is called, in the user's language")
    download = serializers.SerializerMethodField(help_text="The file's URL once the export is done")

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "title",
            "params",
            "status",
            "progress",
            "message",
            "filename",
            "size",
            "created_at",
            "finished_at",
            "download",
        ]
        read_only_fields = fields

    def get_title(self, obj) -> str:
        return title_of(obj.kind)

    def get_download(self, obj) -> str | None:
        return f"/api/v1/exports/{obj.pk}/download/" if obj.status == ExportStatus.DONE else None


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.CharField(
        max_length=40,
        help_text="battle (挂图作战), ledger (任务台账), ranking, stats, or document_archive (公文归档 ZIP)",
    )
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="battle: campaign, unit (code), action, due_by — as for /api/v1/boards/battle/; ledger, document_archive: campaign. "
        "Checked against the caller's scope now: a campaign or unit out of it is a 404.",
    )


@extend_schema_view(
    list=extend_schema(description="The caller's own exports, newest first (nobody else's, whatever the role)."),
    retrieve=extend_schema(description="One of the caller's exports: status, progress (0–100), message."),
)
class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """导出: spreadsheets (XLSX) of the boards and ledgers, made in the background for the caller."""

    serializer_class = ExportSerializer

    def get_queryset(self):
        return exports_of(self.request.user)

    @extend_schema(
        request=ExportRequestSerializer,
        responses={
            201: ExportSerializer,
            400: OpenApiResponse(description="Unknown kind, malformed parameters, too many exports waiting"),
            404: OpenApiResponse(description="The campaign or unit is out of the caller's scope (or missing)"),
        },
        description="Queue an export; poll it (or the list) until its status is done, then download it.",
    )
    def create(self, request):
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        export = request_export(by=request.user, **body.validated_data)
        return Response(ExportSerializer(export).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            (200, ZIP_TYPE): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="Not done yet (or failed): see status and message"),
        },
        description="The spreadsheet as an attachment (nosniff); only its owner's — anyone else gets a 404.",
    )
    @rest_action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        export = self.get_object()
        if export.status != ExportStatus.DONE:
            return Response({"detail": "导出尚未完成", "status": export.status}, status=status.HTTP_409_CONFLICT)
        return download_response(export)
