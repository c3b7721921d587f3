"""bench_boards on a tiny province, on whichever database the tests run on: it builds, measures every
board and prints its table; the boards' numbers are the bare SQL's; queries per request are the same
under a province, a city and a county; a second run reuses the data. Timings are printed, never
asserted. On PostgreSQL, the statistics rollup (stats migration 0002) against the figures after every
kind of write."""

from __future__ import annotations

import json
import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Unit
from boards import bench
from stats.models import Figure, Indicator

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


# --- The rollup (PostgreSQL) ----------------------------------------------------------------------------

STORED = "SELECT campaign_id, ancestor_id, indicator_id, day, total, figures FROM stats_rollup"
FROM_FIGURES = """
    SELECT f.campaign_id, a.id, f.indicator_id, f.day, SUM(f.value), COUNT(*)
    FROM stats_figure f JOIN accounts_unit u ON u.id = f.unit_id
    JOIN accounts_unit a ON u.path LIKE a.path || '%%' AND a.depth < u.depth
    GROUP BY f.campaign_id, a.id, f.indicator_id, f.day"""


def _rows(sql: str) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [])
        return {(c, a, i, d, int(t), int(n)) for c, a, i, d, t, n in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is PostgreSQL's")
def test_the_rollup_follows_inserts_corrections_deletes_moves_and_truncate(city, published):
    police = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次")
    places = Indicator.objects.create(campaign=published, code="places", name="检查场所", measure="家次")
    by = city["hq"]

    def figure(unit, indicator, day, value):
        return Figure(
            campaign=published, indicator=indicator, unit=city.units[unit], day=day, value=value, reported_by=by
        )

    d1, d2 = date(2026, 7, 2), date(2026, 7, 3)
    Figure.objects.bulk_create([
        figure("33031001", police, d1, 5), figure("33031002", police, d1, 7), figure("33032001", police, d1, 11),
        figure("330310", places, d1, 2), figure("3303", places, d2, 100), figure("33031003", places, d2, 3),
        figure("33032001", places, d2, 0),
    ])  # fmt: skip
    stored = _rows(STORED)
    assert stored == _rows(FROM_FIGURES)
    east, top = city.units["330310"], city.units["3303"]
    west = city.units["330320"]
    assert (published.pk, east.pk, police.pk, d1, 12, 2) in stored  # 5 + 7 below the sub-bureau
    assert (published.pk, top.pk, police.pk, d1, 23, 3) in stored
    assert (published.pk, top.pk, places.pk, d2, 3, 2) in stored  # the brigade's 3 and a 0; not the city's own 100
    assert (published.pk, west.pk, places.pk, d2, 0, 1) in stored  # a 0 reported is a 0, not nothing

    # a correction (an upsert, as the services write), a plain update and a delete
    Figure.objects.bulk_create(
        [figure("33031001", police, d1, 9), figure("33031002", police, d2, 4)],
        update_conflicts=True, unique_fields=["unit", "indicator", "day"], update_fields=["value"],
    )  # fmt: skip
    Figure.objects.filter(unit__code="33032001").update(value=13)
    Figure.objects.filter(unit__code="33031003").delete()
    assert _rows(STORED) == _rows(FROM_FIGURES)
    assert (published.pk, east.pk, police.pk, d1, 16, 2) in _rows(STORED)

    # a station moved to the other sub-bureau: its figures count there once the move commits (here: once
    # the deferred triggers run)
    Unit.objects.move(Unit.objects.get(code="33031002"), Unit.objects.get(code="330320"), "last-child")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert _rows(STORED) == _rows(FROM_FIGURES)
    assert (published.pk, west.pk, police.pk, d2, 4, 1) in _rows(STORED)

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending trigger events
        cursor.execute("TRUNCATE stats_figure")
    assert _rows(STORED) == set()
