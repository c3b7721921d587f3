"""The reminders benchmark runs on a tiny province: a real Celery worker delivers what the sweep
decided, and the figures it reports are checked against the database it leaves (--keep)."""

from __future__ import annotations

import json
import os
from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from notifications.models import DeliveryAttempt, Message, MessageStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the benchmark VACUUMs, and its worker reads what it committed
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the benchmark measures PostgreSQL and its worker process shares the test database",
    ),
]
# each xdist process its own Redis database (test_worker uses 12 …, scripts/test's cache 15)
NODE = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS = f"redis://127.0.0.1:6379/{10 + NODE % 2}"


def test_the_benchmark_runs_on_a_tiny_province():
    out = StringIO()
    call_command(
        "bench_reminders",
        "--cities=1",
        "--subbureaus=2",
        "--stations=8",
        "--items=10",
        "--due-pct=60",
        f"--redis-url={REDIS}",
        "--keep",
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())
    assert report["problems"] == []
    assert report["due"] > 0 and all(report["due_by_step"].values())

    # the sweep: the same queries on a quarter, half and all of the units (rolled back each), and all
    # of them committed; a second run at the same moment decides nothing
    sweep = report["sweep"]
    sizes, first, second = sweep["sizes"], sweep["first"], sweep["second"]
    assert [(s["fraction"], s["committed"]) for s in sizes] == [(0.25, False), (0.5, False), (1.0, False), (1.0, True)]
    assert sizes[0]["active"] < sizes[1]["active"] < sizes[2]["active"] == report["assignments_active"]
    assert 0 < sizes[0]["reminders"] < sizes[1]["reminders"] < sizes[2]["reminders"] == first["reminders"]
    assert sizes[0]["queries"] > 0 and len({s["queries"] for s in sizes}) == 1 and sweep["queries_constant"]
    assert first["reminders"] > 0 and first["messages"]["webhook"] > 0 and first["messages"]["inbox"] > 0
    assert second["reminders"] == 0 and sum(second["messages"].values()) == 0 and sweep["idempotent"]
    assert second["queries"] > 0  # it did look

    # the delivery: everything the first sweep queued sent once, each webhook request once, signed
    delivery = report["delivery"]
    mixed, by_channel = delivery["mixed"], delivery["by_channel"]
    assert mixed["channels"] == {k: v for k, v in first["messages"].items() if v}
    assert mixed["messages"] == sum(first["messages"].values())
    assert mixed["sent_once"] and mixed["not_sent"] == 0 and mixed["attempts"] == mixed["messages"]
    assert mixed["webhook_hits"] == mixed["webhook_messages"] == first["messages"]["webhook"]
    assert mixed["webhook_keys_once"] and mixed["unsigned"] == 0
    assert sum(d["sent"] for d in mixed["drains"]) == mixed["messages"]
    assert mixed["wall_s"] > 0 and mixed["per_s"] > 0
    assert {p["name"] for p in by_channel} == set(mixed["channels"])
    for p in by_channel:
        assert p["channels"] == {p["name"]: mixed["channels"][p["name"]]}
        assert p["sent_once"] and p["webhooks_ok"]
    [webhook] = [p for p in by_channel if p["name"] == "webhook"]
    assert webhook["webhook_hits"] == webhook["messages"] == first["messages"]["webhook"]
    assert set(delivery["per_s"]) == {"all", *mixed["channels"]}

    # … and so says the database the run left (after the last pass, one channel at a time)
    messages = Message.objects.all()
    assert messages.count() == mixed["messages"]
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert Counter(messages.values_list("channel", flat=True)) == Counter(mixed["channels"])
    attempts = Counter(DeliveryAttempt.objects.filter(ok=True).values_list("message_id", flat=True))
    assert attempts == Counter(messages.values_list("pk", flat=True))
    assert not DeliveryAttempt.objects.filter(ok=False).exists()


def test_the_scale_curve_sweeps_each_size_in_the_same_queries(scale_databases):
    """--scale 0.5 2 (the sweeps alone): twice the items, its own database, each sweep's time and
    queries side by side; the sweep's queries do not grow with the assignments."""
    out = StringIO()
    call_command(
        "bench_reminders",
        "--cities=1",
        "--subbureaus=2",
        "--stations=8",
        "--items=10",
        "--due-pct=60",
        f"--redis-url={REDIS}",
        "--no-delivery",
        "--scale",
        "0.5",
        "2",
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())
    half, double = report["curve"]
    assert (half["items"], double["items"]) == (5, 20) and 0 < half["assignments"] < double["assignments"]
    assert half["database"] != double["database"] and double["database"].endswith("_x2")
    names = [m["name"] for m in half["measured"]]
    assert names == [m["name"] for m in double["measured"]] and "sweep, all units: first sweep" in names
    for a, b in zip(half["measured"], double["measured"], strict=True):
        assert a["p95_ms"] > 0 and b["p95_ms"] > 0 and a["queries"] == b["queries"] > 0, (a, b)
    assert [r["problems"] for r in report["runs"]] == [[], []]
    assert all(r["delivery"]["mixed"] is None for r in report["runs"])  # --no-delivery


def test_later_targets_give_every_item_a_second_target_that_the_behind_pace_step_judges():
    """--later-targets (a Monday, the default rules' weekday): every item a second target, the 家次 items'
    first linked to an indicator, reports and figures; the behind-pace step finds the work behind on them."""
    from stats.models import Figure
    from tasks.models import Item, ProgressReport, Target

    out = StringIO()
    call_command(
        "bench_reminders",
        "--cities=1",
        "--subbureaus=2",
        "--stations=8",
        "--items=10",
        "--today=2026-08-31",
        f"--redis-url={REDIS}",
        "--no-delivery",
        "--fractions=1",
        "--later-targets",
        "--keep",
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())
    assert report["problems"] == [] and report["weekday"] == "Monday"
    items = Item.objects.count()
    assert Target.objects.filter(seq=2).count() == items > 0
    linked = Target.objects.filter(seq=1, indicator__isnull=False)
    assert linked.count() == Item.objects.filter(target_unit="家次").count()
    assert ProgressReport.objects.filter(target__seq=2).exists() and Figure.objects.exists()
    assert report["sweep"]["first"]["decided"]["assignment/behind/lead"] > 0
