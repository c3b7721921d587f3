"""The boards as JSON under ``/api/v1/boards/`` (scoped like every other read)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .forms import asked
from .queries import Board, Cell, battle_board


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
    percent = serializers.FloatField(allow_null=True, help_text="Accepted / total × 100, one decimal")
    colour = serializers.ChoiceField(["grey", "green", "yellow", "red"])


class PlacedCell(CellSerializer):
    action = serializers.IntegerField()
    unit = serializers.IntegerField()


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
    return {**where, "total": c.total, "done": c.done, "overdue": c.overdue, "percent": c.percent, "colour": c.colour}


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
        responses=BoardSerializer,
    )
    def get(self, request):
        form, a = asked(request.user, request.query_params)
        if a is None:
            return Response(form.errors, status=400)
        if a.campaign is None or a.unit is None:
            return Response({"detail": "没有可查看的专项行动"}, status=404)
        board = battle_board(request.user, a.campaign, a.unit, action=a.action, due_by=a.due_by)
        return Response(board_json(board))
