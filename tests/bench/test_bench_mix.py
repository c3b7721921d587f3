"""``bench_mix``: the capacity run's mix in-process, on a tiny seed of the load test's city — every kind
answers 2xx, the weighted mix and the ratio come out of the kinds' figures, and a failing kind stops it."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.mix import WEIGHTS, weighted

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(tmp_path):
    users = tmp_path / "users.json"
    call_command("seed_load", out=users, leads=3, inspectors=1, hq=1, items=4, stdout=io.StringIO())
    return users


def test_the_mix_in_process(seeded):
    out = io.StringIO()
    call_command("bench_mix", users=seeded, requests=2, leads=3, json=True, calls=True, stdout=out)
    summary = json.loads(out.getvalue())
    kinds = summary["kinds"]
    assert set(kinds) == {*WEIGHTS, "trivial"}
    assert all(set(k["statuses"]) <= {200, 201} for k in kinds.values())
    assert kinds["trivial"]["queries"] == 2  # the token with its user and grants; the tokens listed
    assert summary["mix_cpu_ms"] == round(weighted(kinds), 2)
    assert summary["trivial_over_mix"] == round(kinds["trivial"]["cpu_mean_ms"] / summary["mix_cpu_ms"], 3)
    # function calls per request (cProfile): the trivial view makes the fewest, the mix weighs them
    assert all(k["calls"] > 500 for k in kinds.values()) and kinds["trivial"]["calls"] < kinds["list"]["calls"]
    weighed = sum(kinds[k]["calls"] * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())
    assert summary["mix_calls"] == round(weighed)
    assert summary["trivial_over_mix_calls"] == round(kinds["trivial"]["calls"] / summary["mix_calls"], 3)
    # the database server's CPU a request, read from /proc where it runs on this host (PostgreSQL)
    if connection.vendor == "postgresql":
        assert all(k["db_cpu_mean_ms"] > 0 for k in kinds.values())
        assert summary["mix_db_cpu_ms"] == round(weighted(kinds, "db_cpu_mean_ms"), 2)
        both = kinds["trivial"]["cpu_mean_ms"] + kinds["trivial"]["db_cpu_mean_ms"]
        assert summary["trivial_over_mix_with_db"] == round(
            both / (summary["mix_cpu_ms"] + summary["mix_db_cpu_ms"]), 3
        )
    else:
        assert "db_cpu_mean_ms" not in kinds["list"] and "mix_db_cpu_ms" not in summary
    table = io.StringIO()
    call_command("bench_mix", users=seeded, requests=1, leads=1, only=["trivial", "inbox"], calls=True, stdout=table)
    assert "inbox" in table.getvalue() and "weighted mix" not in table.getvalue()
    assert "calls" in table.getvalue().splitlines()[3]  # the table's heading has the column
    looped = io.StringIO()
    call_command("bench_mix", users=seeded, leads=1, loop="detail", seconds=0.05, stdout=looped, stderr=looped)
    assert "requests" in looped.getvalue()


def test_a_failing_kind_stops_the_benchmark(seeded, tmp_path):
    wrong = json.loads(seeded.read_text(encoding="utf-8"))
    wrong["campaign"] = 999_999  # the HQ reads of a campaign nobody sees: 404
    other = tmp_path / "wrong.json"
    other.write_text(json.dumps(wrong), encoding="utf-8")
    with pytest.raises(CommandError, match="Requests failed"):
        call_command("bench_mix", users=other, requests=1, leads=1, only=["battle"], stdout=io.StringIO())
    with pytest.raises(CommandError, match="No users file"):
        call_command("bench_mix", users=tmp_path / "none.json", stdout=io.StringIO())
