"""Migrations stats/0005 (kinds, decimal figures) and 0006 (the rollup's numeric sums) keep the figures
reported before them, and the rollup's rows, both ways (PostgreSQL: the rollup is its own)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from stats.models import Figure, Indicator
from tests.migrating import migrate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup's triggers are PostgreSQL's"),
]

BEFORE = [("stats", "0004_figure_on_behalf_index")]
AFTER = (
    None  # every app's latest: going back to stats 0004 also took back what depends on it (the targets, tasks 0019 …)
)


def _read(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def test_existing_figures_and_their_rollup_survive_both_ways(city, published):
    police = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次")
    by, day = city["hq"], date(2026, 7, 2)
    Figure.objects.bulk_create(
        [
            Figure(campaign=published, indicator=police, unit=city.units[u], day=day, value=v, reported_by=by)
            for u, v in (("33031001", 5), ("33031002", 7), ("33032001", 2_000_000_000))
        ]
    )
    figures = "SELECT unit_id, value FROM stats_figure ORDER BY 1"
    rollup = "SELECT ancestor_id, total, figures FROM stats_rollup ORDER BY 1"
    before_values, before_rollup = _read(figures), _read(rollup)
    try:
        migrate(BEFORE)
        assert _read(figures) == before_values  # integers again, the same
        assert _read(rollup) == before_rollup
        _read(
            "INSERT INTO stats_figure (campaign_id, indicator_id, unit_id, day, value, reported_by_id, reported_at) "
            "VALUES (%s, %s, %s, %s, 3, %s, now()) RETURNING 1",
            [published.pk, police.pk, city.units["33031003"].pk, day, by.pk],
        )
        written = _read(figures)
    finally:
        migrate(AFTER)
    assert [(u, Decimal(v)) for u, v in _read(figures)] == [(u, Decimal(v)) for u, v in written]
    east = city.units["330310"].pk
    assert dict((a, t) for a, t, _n in _read(rollup))[east] == 15  # 5 + 7 + 3, written before 0005
    Figure.objects.filter(unit=city.units["33031003"]).update(value=Decimal("3.25"))  # a decimal now
    assert dict((a, t) for a, t, _n in _read(rollup))[east] == Decimal("15.25")
