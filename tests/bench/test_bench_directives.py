"""bench_directives on a tiny province: it builds, times the board without directives, creates them
set-based as registered and handed down, times the desk and the board with the directives' row; a second
run reuses the province and replaces the directives. Timings are printed, never asserted."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from directives.models import Directive, Status
from tasks.models import Assignment, ItemKind

pytestmark = pytest.mark.django_db
TINY = {"cities": 1, "subbureaus": 2, "stations": 4, "items": 6, "directives": 30, "repeat": 2}


def test_the_benchmark_builds_creates_the_directives_and_times_the_desk_and_the_board():
    out = StringIO()
    call_command("bench_directives", "--json", stdout=out, stderr=StringIO(), **TINY)
    s = json.loads(out.getvalue())
    made = s["made"]
    assert made["directives"] == 30 and made["assignments"] == 40  # every third names a cooperating unit
    assert Directive.objects.filter(status=Status.HANDED_DOWN).count() == 30
    work = Assignment.objects.filter(item__kind=ItemKind.DIRECTIVE)
    assert work.count() == made["assignments"] == sum(s["statuses"].values())
    assert work.filter(role="lead").count() == 30
    for key in ("board_without", "board_with", "desk", "desk_api", "desk_overdue"):
        assert s[key]["status"] == 200 and s[key]["p95_ms"] >= s[key]["p50_ms"] > 0, s[key]
        assert "load average" in s[key]["uptime"]
    assert s["board_with"]["queries"] == s["board_without"]["queries"]  # the row costs no query
    assert s["board_ratio_p95"] > 0

    again = StringIO()
    err = StringIO()
    call_command("bench_directives", stdout=again, stderr=err, **TINY)
    text = again.getvalue()
    assert "30 directives of an earlier run removed" in text and "province built" not in text
    assert "board with ÷ without (p95)" in text and Directive.objects.count() == 30
