"""Two units reporting figures at once do not deadlock (found by the load test, docs/load.md).

The rollup's trigger takes the campaign's advisory lock and holds it until commit; Django's foreign
keys are checked at commit (FOR KEY SHARE on the referenced rows). A figure lock that also locked the
joined indicator rows (``select_for_update()`` over ``indicator__campaign``) made a cycle: the second
writer held the indicators FOR UPDATE while waiting for the advisory lock, and the first could not
check its figure's foreign key to commit. The lock is on the figure rows only (``of=("self",)``).

Staged from outside, with no hook in the code: the first writer's transaction is held open after its
figures are written; the second is seen waiting on the advisory lock in ``pg_stat_activity`` before
the first commits.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from stats.models import Figure, Indicator
from stats.services import report_figures
from tests.processes import until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mid_campaign"),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the rollup and its locks are PostgreSQL's"
    ),
]


def test_two_units_reporting_at_once_both_commit(city, published):
    police = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次", seq=1)
    day = date(2026, 7, 2)
    # the second unit corrects a figure it has (its lock finds rows to lock); the first reports anew
    report_figures(
        campaign=published, unit=city.units["33031002"], day=day, values={police.pk: 1}, by=city["east_lead"]
    )
    first_written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    second_pid: list[int] = []

    def first():
        try:
            with transaction.atomic():
                report_figures(
                    campaign=published,
                    unit=city.units["33031001"],
                    day=day,
                    values={police.pk: 5},
                    by=city["station_lead"],
                )
                first_written.set()
                release.wait(20)
        except BaseException as exc:
            errors.append(exc)
            first_written.set()
        finally:
            connections.close_all()

    def second():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            report_figures(
                campaign=published, unit=city.units["33031002"], day=day, values={police.pk: 7}, by=city["east_lead"]
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    first_written.wait(20)
    two = threading.Thread(target=second)
    two.start()

    def second_waits_for_the_rollup_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event FROM pg_stat_activity WHERE pid = %s", second_pid or [0])
            row = cursor.fetchone()
        return bool(row) and row[0] == "advisory"

    until(second_waits_for_the_rollup_lock, "the second writer to wait for the campaign's rollup lock")
    release.set()
    one.join(30)
    two.join(30)
    assert errors == []  # before the fix: "deadlock detected" in one of them
    assert dict(Figure.objects.values_list("unit__code", "value")) == {"33031001": 5, "33031002": 7}
