"""The statistics rollup (stats migration 0002, PostgreSQL) against the figures after every kind of
write."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from accounts.models import Unit
from stats.models import Figure, Indicator

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

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
    Figure.objects.bulk_create(
        [
            figure("33031001", police, d1, 5),
            figure("33031002", police, d1, 7),
            figure("33032001", police, d1, 11),
            figure("330310", places, d1, 2),
            figure("3303", places, d2, 100),
            figure("33031003", places, d2, 3),
            figure("33032001", places, d2, 0),
        ]
    )
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
        update_conflicts=True,
        unique_fields=["unit", "indicator", "day"],
        update_fields=["value"],
    )
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
