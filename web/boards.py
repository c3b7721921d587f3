"""The battle board page (挂图作战): the same board as ``/api/v1/boards/battle/``, as a table to
click through — a column or cell opens the level below, a row the checklist items of its action."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from boards.forms import asked
from boards.queries import battle_board, trail


@login_required
def battle(request: HttpRequest) -> HttpResponse:
    form, a = asked(request.user, request.GET)
    board = None
    if a is not None and a.campaign is not None and a.unit is not None:
        board = battle_board(request.user, a.campaign, a.unit, action=a.action, due_by=a.due_by)
        board.grid = [
            (action, board.row_totals.get(action.pk), [(u, board.cell(action.pk, u.pk)) for u in board.columns])
            for action in board.rows
        ]
        board.footer = [(u, board.column_totals.get(u.pk)) for u in board.columns]
        board.trail = trail(request.user, a.unit)
    context = {"form": form, "asked": a, "board": board}
    return render(request, "boards/battle.html", context, status=400 if a is None else 200)
