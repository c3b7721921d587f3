"""A report on a share and a pass-down of its parent cannot deadlock: both lock the assignments they
touch parent first (a parent is always older than its shares, so its id is lower).

``pass_down`` locks the parent, then writes its shares; ``report_progress`` on a share used to lock the
share, then the chain above it (``cascade.lock_chain``), the other order: two such requests at once
waited on each other until PostgreSQL broke the cycle with an error. Staged from outside, with no hook
in the code: another session holds the parent; the report must wait for it *before* it locks the share,
so the share can still be locked by someone else meanwhile.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, connections

from tasks.models import Assignment, Item
from tasks.services.cascade import Share, pass_down
from tasks.services.progress import report_progress
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


def test_a_report_on_a_share_waits_for_the_parent_before_locking_the_share(city, published):
    Item.objects.filter(code="2.1").update(target_value=80, target_comparator="ge", target_basis="", target_unit="起")
    parent = Assignment.objects.get(item__code="2.1", unit__code="330310")
    (share,) = pass_down(
        assignment=parent,
        by=city["east_lead"],
        shares=[Share(city.units["33031001"], Decimal(60))],
        keep_remainder=True,
    )
    holder, probe = _session(), _session()
    errors: list[BaseException] = []

    def report():
        try:
            report_progress(assignment=share, by=city["station_lead"], value=Decimal(5), text="清查")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    try:
        with holder.cursor() as cursor:  # another request (a pass-down of the parent) holds the parent
            cursor.execute("SELECT id FROM tasks_assignment WHERE id = %s FOR UPDATE", [parent.pk])
        worker = threading.Thread(target=report)
        worker.start()
        until(lambda: any("tasks_assignment" in q for q in lock_waits()), "the report to wait for a row lock")
        with probe.cursor() as cursor:  # the share is still free: the report waits on the parent first
            cursor.execute("SELECT id FROM tasks_assignment WHERE id = %s FOR UPDATE NOWAIT", [share.pk])
        probe.rollback()
    finally:
        holder.rollback()
        worker.join(20)
        holder.close()
        probe.close()
    assert not errors
    assert [a.progress for a in Assignment.objects.filter(pk__in=[share.pk, parent.pk]).order_by("pk")] == [
        Decimal(5),
        Decimal(5),
    ]
