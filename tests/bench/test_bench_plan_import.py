"""bench_plan_import on a tiny province: it imports and publishes on both write paths, re-imports, and
uploads the same plan through the page's background job (preview, then confirm with publishing) with
the same assignments; its figures and ratios are printed. Timings are printed, never asserted."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from tasks.models import Campaign, PlanUpload

pytestmark = [
    # the job is queued when the upload's transaction commits: real commits
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the benchmark measures PostgreSQL"
    ),
]
TINY = {"cities": 1, "subbureaus": 2, "stations": 4, "items": 6}


def test_the_benchmark_measures_the_upload_through_the_job():
    out = StringIO()
    call_command("bench_plan_import", "--json", stdout=out, stderr=StringIO(), **TINY)
    s = json.loads(out.getvalue())
    assert s["assignments"] > 0 and s["job_assignments"] == s["assignments"]
    assert s["reimport_created_assignments"] == 0
    # the publish's assignment messages, timed on their own: one event per unit, a message per lead and channel
    assert s["leads"] == s["units"]  # every unit has a lead
    assert 0 < s["messages_units"] <= s["leads"] and s["messages"] >= s["messages_units"]
    assert 0 < s["messages_s"] < s["import_publish_s"] and s["messages_queries"] > 0
    assert s["job_preview_s"] > 0 and s["job_confirm_s"] > 0
    # the ratio of the unrounded times, rounded to 0.01; the seconds are printed rounded to the ms: within
    # what that rounding allows (a few ms each on a tiny province, where ±0.5 ms moves the ratio by ~0.02)
    job, imp, half = s["job_total_s"], s["import_publish_s"], 0.0005
    low, high = (job - half) / (imp + half) - 0.005, (job + half) / (imp - half) + 0.005
    assert low <= s["ratio_job_total_to_import"] <= high, (low, s["ratio_job_total_to_import"], high)
    assert not Campaign.objects.exists() and not PlanUpload.objects.exists()  # cleaned up
    text = StringIO()
    call_command("bench_plan_import", stdout=text, stderr=StringIO(), **TINY)
    assert "of which assignment messages" in text.getvalue()
    assert "ratio preview+confirm / that" in text.getvalue() and "confirm: import + publish" in text.getvalue()
