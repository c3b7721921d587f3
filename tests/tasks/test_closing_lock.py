"""Closing a campaign and a write on its work are serialised on the campaign's row (PostgreSQL).

A writer checks the campaign with ``refuse_closed``, which re-reads the row ``FOR SHARE`` and holds it to
its commit: ``close_campaign`` (``FOR UPDATE``) waits for the writes in flight, so its final figures see
them, and a write that starts while the closing is in flight waits for it and is refused. Writers do not
block one another. Staged from outside with a second session, with no hook in the code.
"""

from __future__ import annotations

import threading

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from tasks.models import Assignment, Campaign, CampaignStatus, ProgressReport
from tasks.services.campaigns import close_campaign
from tasks.services.errors import CampaignClosed
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


def waits_on_campaign(session) -> bool:
    """Whether a session waits for a lock in a statement on the campaign, seen from ``session`` (outside
    the test's transaction: pg_stat_activity is a snapshot taken once per transaction)."""
    with session.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            ["%tasks_campaign%"],
        )
        (count,) = cursor.fetchone()
    session.rollback()
    return count > 0


def station_work() -> Assignment:
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


def test_closing_waits_for_a_write_in_flight_and_writers_share(city, published):
    probe = _session()
    errors: list[BaseException] = []

    def close():
        try:
            close_campaign(campaign=published, by=city["hq"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    closer = threading.Thread(target=close)
    try:
        with transaction.atomic():
            report_progress(assignment=station_work(), by=city["station_lead"], value=1, text="在途")
            with probe.cursor() as cursor:  # another writer is not blocked: the lock is shared
                cursor.execute("SELECT id FROM tasks_campaign WHERE id = %s FOR SHARE NOWAIT", [published.pk])
            probe.rollback()
            with probe.cursor() as cursor, pytest.raises(psycopg2.errors.LockNotAvailable):
                cursor.execute("SELECT id FROM tasks_campaign WHERE id = %s FOR UPDATE NOWAIT", [published.pk])
            probe.rollback()
            closer.start()
            until(lambda: errors or waits_on_campaign(probe), "the closing to wait for the writer", timeout=60)
            assert not errors
    finally:
        closer.join(60)
        probe.close()
    assert not errors
    campaign = Campaign.objects.get(pk=published.pk)
    assert campaign.status == CampaignStatus.CLOSED
    assert ProgressReport.objects.filter(text="在途").count() == 1


def test_a_write_while_the_closing_is_in_flight_waits_and_is_refused(city, published):
    work = station_work()  # loaded while the campaign is still published
    holder = _session()
    errors: list[BaseException] = []

    def report():
        try:
            report_progress(assignment=work, by=city["station_lead"], value=1, text="迟到")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=report)
    try:
        with holder.cursor() as cursor:  # the closing, not yet committed
            cursor.execute("UPDATE tasks_campaign SET status = %s WHERE id = %s", [CampaignStatus.CLOSED, published.pk])
        writer.start()
        until(
            lambda: errors or any("tasks_campaign" in q for q in lock_waits()),
            "the writer to wait for the closing",
            timeout=60,
        )
        holder.commit()
    finally:
        writer.join(60)
        holder.close()
    assert len(errors) == 1 and isinstance(errors[0], CampaignClosed)
    assert not ProgressReport.objects.filter(text="迟到").exists()
