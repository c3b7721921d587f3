"""The heavy-pages benchmark runs on what a tiny ``bench_lists --keep`` left, and refuses without it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db(transaction=True)  # bench_lists VACUUMs, which cannot run in a transaction
def test_the_benchmark_runs_on_a_kept_tiny_province():
    with pytest.raises(CommandError, match="bench_lists --keep"):
        call_command("bench_heavy", "--repeat=1", stdout=StringIO(), stderr=StringIO())
    tiny = ["--cities=1", "--subbureaus=2", "--stations=4", "--items=8", "--requests=1"]
    call_command("bench_lists", *tiny, "--keep", "--json", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("bench_heavy", "--repeat=1", "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    assert set(report) == {"assignments", "lead_list", "schema", "hq_list", "hotspots", "sweep", "ledger"}
    assert report["assignments"] > 0 and report["hotspots"]["hotspots"] > 0
    assert report["ledger"]["write_only_peak_mb"] <= report["ledger"]["normal_peak_mb"]
