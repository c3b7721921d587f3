"""The totals' one statement on PostgreSQL's rollup is planned without parallel workers (``stats.queries.SERIAL``:
their start-up cost a request more than they save, issue 20) — in the same execute, so that the setting ends
with the statement's implicit transaction; inside a caller's transaction it is left out (it would hold for the
caller's later statements). The numbers are the same either way, and the portable queries' too.

Transactional (outside a transaction is the point), hence a file of its own.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from stats import queries as q

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mid_campaign"),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the rollup's statement is PostgreSQL's"
    ),
]

WORKERS = "SELECT current_setting('max_parallel_workers_per_gather')"


def numbers(t: q.Totals) -> list[tuple]:
    return [(ln.indicator.code, ln.total, ln.last_year, ln.previous, ln.by_unit, ln.behalf) for ln in t.lines]


def rollup_statements(ctx) -> list[str]:
    return [x["sql"] for x in ctx.captured_queries if "stats_rollup" in x["sql"]]


def test_set_local_in_the_same_execute_holds_for_that_statement_only():
    before = q._fetch(WORKERS, [])[0][0]
    assert before != "0"  # the server's default (2): else this test proves nothing
    assert q._fetch(q.SERIAL + WORKERS, [])[0][0] == "0"
    assert q._fetch(WORKERS, [])[0][0] == before


def test_the_totals_statement_runs_serial_outside_a_transaction_with_the_same_numbers(city, reported, settings):
    unit, w = city.units["3303"], q.Window(date(2026, 7, 11), date(2026, 7, 20))
    before = q._fetch(WORKERS, [])[0][0]
    with CaptureQueriesContext(connection) as ctx:
        alone = q.totals(city["hq"], reported, unit, w)
    [statement] = rollup_statements(ctx)
    assert statement.startswith(q.SERIAL)
    assert q._fetch(WORKERS, [])[0][0] == before  # not left set for the connection's later statements
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        inside = q.totals(city["hq"], reported, unit, w)
        [statement] = rollup_statements(ctx)
        assert not statement.startswith(q.SERIAL)
        assert q._fetch(WORKERS, [])[0][0] == before
    settings.DB_FAST_PATHS = False
    portable = q.totals(city["hq"], reported, unit, w)
    assert numbers(alone) == numbers(inside) == numbers(portable)
    assert any(ln.total for ln in alone.lines) and any(ln.last_year for ln in alone.lines)
    assert any(ln.previous for ln in alone.lines)
