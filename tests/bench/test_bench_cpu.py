"""The CPU benchmark runs on what a tiny ``bench_lists --keep`` left, every page answering, and refuses
without it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bench.cpu import PAGES
from tasks.models import ProgressReport


@pytest.mark.django_db(transaction=True)  # bench_lists VACUUMs, which cannot run in a transaction
def test_the_benchmark_runs_on_a_kept_tiny_province():
    with pytest.raises(CommandError, match="bench_lists --keep"):
        call_command("bench_cpu", "--requests=1", stdout=StringIO(), stderr=StringIO())
    tiny = ["--cities=1", "--subbureaus=2", "--stations=4", "--items=8", "--requests=1"]
    call_command("bench_lists", *tiny, "--keep", "--json", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("bench_cpu", "--requests=2", "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    assert list(report["pages"]) == list(PAGES)
    for name, page in report["pages"].items():
        assert page["statuses"] == ([201] if name == "report" else [200]), name
        assert page["cpu_p50_ms"] > 0 and page["queries"] > 0
    assert ProgressReport.objects.filter(text="bench_cpu").count() == 5 + 2 + 1  # warm-up, timed, counted
    looped = StringIO()
    call_command("bench_cpu", "--loop=lead_list", "--seconds=0.2", stdout=looped, stderr=StringIO())
    assert "requests" in looped.getvalue()
