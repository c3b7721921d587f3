"""The lists benchmark runs on a tiny province: every page answers, in the same number of queries on
every request, and the run cleans up after itself."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tasks.models import Campaign


@pytest.mark.django_db(transaction=True)  # the benchmark VACUUMs, which cannot run in a transaction
def test_the_benchmark_runs_on_a_tiny_province():
    out = StringIO()
    call_command(
        "bench_lists",
        "--cities=1",
        "--subbureaus=2",
        "--stations=4",
        "--items=8",
        "--requests=3",
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())
    assert [t["status"] for t in report["targets"]] == [200] * len(report["targets"])
    assert all(len(t["queries_seen"]) == 1 for t in report["targets"])
    assert report["targets"][0]["rows"] > 0 and report["overdue"] > 0
    assert not Campaign.objects.exists()  # cleaned up
