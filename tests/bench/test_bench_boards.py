"""bench_boards on a tiny province, on whichever database the tests run on: it builds, measures every
board and prints its table; the boards' numbers are the bare SQL's; queries per request are the same
under a province, a city and a county; a second run reuses the data. Timings are printed, never
asserted."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from bench import boards as bench
from notifications.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TINY = {"cities": 1, "subbureaus": 2, "stations": 4, "items": 6, "findings": 30, "indicators": 3, "repeat": 2}
NUMBER = r"\d+(?:\.\d+)?"


def test_the_benchmark_runs_on_a_tiny_province_and_a_second_run_reuses_it():
    out = StringIO()
    call_command("bench_boards", stdout=out, **TINY)
    text = out.getvalue()
    assert "figures (10 units × 100 days × 3 indicators × 2 campaigns)" in text
    table = text[text.index(" # request") :]
    for n, probe in enumerate(bench.PROBES, start=1):
        row = re.search(rf"^\s*{n} {re.escape(probe.name)}\s+(.*)$", table, re.MULTILINE)
        assert row, probe.name
        # p50, p95, queries, in SQL, bare p50, bare p95, × bare, same
        assert re.match(rf"({NUMBER}\s+){{6}}{NUMBER}×\s+yes\b", row.group(1)), row.group(0)
    for board in bench.PATHS:
        counts = re.search(rf"^\s+{board}\s+province (\d+), city (\d+), county (\d+)$", text, re.MULTILINE)
        assert counts and len(set(counts.groups())) == 1, board
    assert "DIFFER" not in text and "PROBLEM" not in text and "WARNING" not in text
    assert "with the 签收 count vs without it" in text and re.search(r"催办 of \d+ assignments of one cell", text)
    readme = text[text.index("for README:") :].splitlines()[1:]
    assert readme[0].startswith("| request | p50 | p95 | queries |")
    assert len([line for line in readme if line.startswith("| ") and " ms | " in line]) == len(bench.PROBES)

    again = StringIO()
    call_command("bench_boards", "--json", stdout=again, stderr=StringIO(), **TINY)
    s = json.loads(again.getvalue())
    assert "build" not in s  # reused
    assert s["figures_this_year"] == s["figures_last_year"] == 10 * 100 * 3
    assert len(s["requests"]) == len(bench.PROBES)
    for r in s["requests"]:
        assert r["status"] == 200 and len(r["queries_seen"]) == 1 and r["same_numbers"], r
        assert r["p50_ms"] > 0 and r["p95_ms"] >= r["p50_ms"] and r["bare_p95_ms"] >= 0
    assert all(len(set(q.values())) == 1 for q in s["queries_by_level"].values()), s["queries_by_level"]
    assert s["problems"] == []
    # issue 18: the board with and without the 签收 count, and a 催办 of a cell (rolled back: it runs again)
    pair = s["receipts_board"]
    assert pair["runs"] == 3 and pair["with_receipts_p50_ms"] > 0 and pair["without_p50_ms"] > 0
    # the ratio is of the unrounded times, the milliseconds are rounded to 0.1 (under 1 ms each on SQLite):
    # it lies between the ratios the rounded figures allow
    with_ms, without_ms = pair["with_receipts_p50_ms"], pair["without_p50_ms"]
    low, high = (with_ms - 0.05) / (without_ms + 0.05), (with_ms + 0.05) / max(without_ms - 0.05, 1e-9)
    assert low - 0.001 <= pair["ratio_p50"] <= high + 0.001, (pair, low, high)
    # issue 23.2: the bulletin's page and PDF, timed with their query counts
    assert [b["name"] for b in s["bulletin"]] == [name for name, _, _ in bench.BULLETIN]
    assert all(b["status"] == 200 and b["queries"] > 0 and b["p95_ms"] >= b["p50_ms"] > 0 for b in s["bulletin"])
    chase = s["chase"]
    assert chase["chased"] == chase["asked"] > 0 and chase["units_told"] >= 1
    assert chase["messages"] >= chase["units_told"] and chase["seconds"] > 0 and chase["queries"] > 0
    assert not Event.objects.filter(kind="chased").exists() and not User.objects.filter(username__contains="lead_")


@pytest.mark.django_db(transaction=True)  # each size is its own database: the test's transaction cannot span them
def test_the_scale_curve_prints_each_board_at_each_size(scale_databases):
    """--scale 0.5 2: half and twice the items, each in its own database, the boards' p95 and queries
    side by side (the rollup: the same queries whatever the size)."""
    size = {k: v for k, v in TINY.items() if k != "repeat"} | {"repeat": 2, "items": 6}
    out = StringIO()
    call_command("bench_boards", "--scale", "0.5", "2", stdout=out, stderr=StringIO(), **size)
    text = out.getvalue()
    curve = text[text.index("scale curve: each request") :]
    assert re.search(r"^\s+items\s+3\s+12\s*$", curve, re.MULTILINE), curve
    counts = re.search(r"^\s+assignments\s+([\d,]+)\s+([\d,]+)\s*$", curve, re.MULTILINE)
    half, double = (int(c.replace(",", "")) for c in counts.groups())
    assert 0 < half < double
    for probe in bench.PROBES:
        row = re.search(rf"^\s+{re.escape(probe.name[:37])}\s+(.*)$", curve, re.MULTILINE)
        assert row and re.fullmatch(rf"({NUMBER} ms / \d+\s+){{2}}{NUMBER}×", row.group(1).strip()), probe.name
    assert "GROW" not in curve and "PROBLEM" not in text


@pytest.mark.django_db(transaction=True)  # the clients are processes with their own connections: committed data
def test_several_clients_at_once_each_get_every_board(settings):
    """--clients 3: three processes ask for the province's battle board and ranking at once; each
    answer is a 200, every client's requests are counted, and the table sets them beside one client."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        with pytest.raises(CommandError, match="--clients needs PostgreSQL"):
            call_command("bench_boards", "--clients", "2", stdout=StringIO(), **TINY)
        return
    out = StringIO()
    call_command("bench_boards", "--clients", "3", stdout=out, stderr=StringIO(), **TINY)
    text = out.getvalue()
    assert "3 clients at once (processes, each its own connection and session), 2 requests each" in text
    for name in ("battle board · province", "ranking · province"):
        row = re.search(rf"^\s+{re.escape(name)}\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})  ", text, re.M)
        assert row, name
        one, p50, p95, top = (float(x) for x in row.groups())
        assert one > 0 and 0 < p50 <= p95 <= top
    again = StringIO()
    call_command("bench_boards", "--clients", "2", "--json", stdout=again, stderr=StringIO(), **TINY)
    s = json.loads(again.getvalue())
    rows = {c["name"]: c for c in s["clients"]}
    assert set(rows) == {"battle board · province", "ranking · province"}
    for c in rows.values():
        assert c["clients"] == 2 and c["requests"] == 2 * TINY["repeat"] and c["statuses"] == [200], c
    assert s["problems"] == []
    with pytest.raises(CommandError, match="--clients must be at least 1"):
        call_command("bench_boards", "--clients", "-1", stdout=StringIO(), **TINY)


def test_explain_plans_every_statement_of_a_request_and_keeps_a_statements_settings():
    """``--explain`` on the totals: each of its statements' plans and the bare SQL's (or on SQLite the
    refusal); a statement that starts with ``SET LOCAL`` (the totals' serial read outside a transaction)
    is explained under that setting."""
    from django.db import connection

    from bench.timing import explain

    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="--explain needs PostgreSQL"):
            call_command("bench_boards", "--explain", "5", stdout=StringIO(), **TINY)
        return
    out = StringIO()
    call_command("bench_boards", "--explain", "5", "--json", stdout=out, stderr=StringIO(), **TINY)
    explained = json.loads(out.getvalue())["explain"]
    assert {e["n"] for e in explained} == {5} and any(e["what"] == "bare SQL" for e in explained)
    assert all(any("Execution Time" in line for line in e["plan"]) for e in explained)
    plan = explain('SET LOCAL max_parallel_workers_per_gather = 0;\nSELECT COUNT(*) FROM "accounts_unit"')
    assert plan[0].startswith("Aggregate") and any("Execution Time" in line for line in plan)
