"""Links into the results statistics pages from elsewhere: a reminder about a round (集中统一行动战果
报送) opens the page where the unit reports that round's totals."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from accounts import scope
from accounts.scope import Action
from stats.models import Round
from tasks.queries import campaigns_for

from .forms import UnitIdQuery


@login_required
def round_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The report page of the round's last day (the date its totals are reported under), for the unit
    ``?unit=<id>`` when the user may report for it (else the page's own choice). Someone who reports
    for no unit (HQ, a leader) gets the round's statistics instead, with the units not reported.
    404 unless the round's campaign concerns the user."""
    round_ = get_object_or_404(Round.objects.filter(campaign__in=campaigns_for(request.user)), pk=pk)
    asked = UnitIdQuery.parsed(request.GET).get("unit")
    query = {"campaign": round_.campaign_id}
    if scope.scope_for(request.user, Action.REPORT):
        query["day"] = round_.end.isoformat()
        action, page = Action.REPORT, "web:stats-report"
    else:
        query["round"] = round_.pk
        action, page = Action.VIEW, "web:stats"
    unit = scope.units(request.user, action).filter(pk=asked).first() if asked else None
    if unit is not None:
        query["unit"] = unit.code
    return redirect(reverse(page) + "?" + urlencode(query))
