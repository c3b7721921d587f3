"""Two writers of the same rollup row at once (PostgreSQL): the second waits for the first to commit
and adds its own change to the first's, so nothing is lost and no count is written twice.

Staged from outside: another session changes one assignment and holds its transaction open (its
trigger has locked the unit × action × due date row); a service then changes another assignment of
the same row, waits, and goes on once the first commits."""

from __future__ import annotations

import threading

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, connections

from boards import rollup
from boards.models import BoardCount
from tasks.models import Assignment, AssignmentStatus
from tasks.services.workflow import transition_assignment
from tests.processes import lock_waits, until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="row locks are PostgreSQL's"
    ),
]


def _session():
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )


@pytest.mark.parametrize("new_row", [False, True], ids=["existing row", "row made by both"])
def test_two_writers_of_one_row_both_count(city, published, new_row):
    first, second = Assignment.objects.filter(item__code__in=["2.1", "2.2"], unit__code="330310").order_by("pk")
    due = first.due_date if not new_row else first.due_date.replace(day=3)
    Assignment.objects.filter(pk=second.pk).update(due_date=first.due_date)  # the same rollup row
    holder = _session()
    errors: list[BaseException] = []

    def start():
        try:
            if new_row:  # moved to a day the rollup holds no row for, as the holder's was: both insert it
                Assignment.objects.filter(pk=second.pk).update(due_date=due, status=AssignmentStatus.IN_PROGRESS)
            else:
                transition_assignment(assignment=second, name="start", by=city["east_lead"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "UPDATE tasks_assignment SET status = 'in_progress', due_date = %s WHERE id = %s", [due, first.pk]
            )
        worker = threading.Thread(target=start)
        worker.start()
        until(lambda: any("tasks_assignment" in q for q in lock_waits()), "the second writer to wait")
        holder.commit()
        worker.join(20)
    finally:
        holder.close()
    assert not errors
    row = BoardCount.objects.get(campaign=published, unit=city.units["330310"], action=first.item.action, due_date=due)
    assert (row.total, row.in_progress) == (2, 2)
    assert Assignment.objects.get(pk=second.pk).status == AssignmentStatus.IN_PROGRESS
    assert rollup.differences() == []
