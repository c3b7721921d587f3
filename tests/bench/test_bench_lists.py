"""The lists benchmark runs on a tiny province: every page answers, in the same number of queries on
every request, and the run cleans up after itself."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from bench import lists as bench
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


@pytest.mark.django_db(transaction=True)
def test_the_scale_curve_builds_each_size_once_and_prints_them_side_by_side(scale_databases):
    """--scale 0.5 1 2: the plan's items halved and doubled, each size in its own database (kept: the
    second run reuses them), p95 and queries per page at each size, the same queries at every size."""
    tiny = ["--cities=1", "--subbureaus=2", "--stations=4", "--items=8", "--requests=3"]
    out = StringIO()
    call_command("bench_lists", *tiny, "--scale", "0.5", "1", "2", "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    curve = report["curve"]
    assert [(p["scale"], p["items"]) for p in curve] == [(0.5, 4), (1.0, 8), (2.0, 16)]
    counts = [p["assignments"] for p in curve]
    assert counts[0] < counts[1] < counts[2] and 1.5 < counts[2] / counts[1] < 2.5, counts
    names = {p["database"] for p in curve}
    assert len(names) == 3 and any(n.endswith("_x0_5") for n in names) and any(n.endswith("_x2") for n in names)
    for point in curve:
        assert [m["name"] for m in point["measured"]] == [t.name for t in bench.TARGETS]
        assert all(m["p95_ms"] > 0 and m["queries"] > 0 for m in point["measured"])
    # the lead's list answers in the same queries at every size (an empty page, as the tiny half-size
    # province may give for other pages, skips its prefetches)
    assert len({p["measured"][0]["queries"] for p in curve}) == 1, [p["measured"] for p in curve]
    assert [r["scale"] for r in report["runs"]] == [0.5, 1.0, 2.0] and all(r["build_s"] > 0 for r in report["runs"])

    again = StringIO()
    call_command("bench_lists", *tiny, "--scale", "0.5", "2", stdout=again, stderr=StringIO())
    text = again.getvalue()
    assert text.count("(reused)") == 2
    assert re.search(r"^\s+assignments\s+" + rf"{counts[0]:,}\s+{counts[2]:,}\s*$", text, re.MULTILINE), text
    row = re.search(r"^\s+station lead: my tasks\s+(.*)$", text, re.MULTILINE)
    assert row and re.fullmatch(r"(\d+\.\d ms / \d+\s+){2}\d+\.\d\d×", row.group(1).strip()), row.group(0)
