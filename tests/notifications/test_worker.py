"""A real Celery worker process on Redis and the test database: two sweeps at once make each reminder
once; a worker killed (SIGKILL) in the middle of a sweep and started again delivers each reminder once;
Redis restarted during delivery loses nothing.

"In the middle" is made deterministic from outside, with no hook in the code: another session holds the
message table in EXCLUSIVE mode (reads pass, writers wait), so a sweep stops after inserting its
reminders, inside its transaction, where ``pg_stat_activity`` shows it waiting. The worker's clock is
not travelled: the assignment is made overdue at today's date, and the rules have no quiet hours so
push messages go out whatever the hour the suite runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import time as clock_time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from notifications import sweep
from notifications.models import DeliveryAttempt, Message, MessageStatus, Policy, Preference, Reminder
from tasks.models import Assignment
from tests.notifications.conftest import SECRET
from tests.processes import OWN_REDIS_PORT, OwnRedis, sender, table_locked, until, waiting

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="a worker process shares the test database: PostgreSQL (SQLite's is in memory)",
    ),
]


@pytest.fixture
def overdue_now(city, one_assignment) -> Assignment:
    """Item 1.1 of the station three days overdue at the real date, with mail for the station lead:
    three reminders, four messages (three inboxes, one mail). Rules without quiet hours."""
    # the default rules (a migration makes them; a transactional test's flush removes them)
    Policy.objects.update_or_create(campaign=None, defaults={"quiet_start": clock_time(0), "quiet_end": clock_time(0)})
    one_assignment.due_date = timezone.localdate() - timedelta(days=3)
    one_assignment.save(update_fields=["due_date"])
    city["station_lead"].email = "lead@example.cn"
    city["station_lead"].save(update_fields=["email"])
    return one_assignment


def assert_decided_once(batch: str) -> None:
    reminders = Reminder.objects.all()
    to = sorted(reminders.values_list("recipient__username", flat=True))
    assert to == ["east_lead", "east_leader", "station_lead"]
    assert set(reminders.values_list("batch", flat=True)) == {batch}  # all from the one sweep that committed


def assert_delivered_once(messages: int) -> None:
    assert Message.objects.count() == messages
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    sent = list(DeliveryAttempt.objects.values_list("message_id", "ok"))
    assert sorted(sent) == sorted((pk, True) for pk in Message.objects.values_list("pk", flat=True))


def test_two_sweeps_at_once_make_each_reminder_once(overdue_now, start_worker, broker):
    worker = start_worker(concurrency=2)
    with sender(broker) as app, table_locked("notifications_message"):
        app.send_task("notifications.sweep")
        app.send_task("notifications.sweep")
        # both in their transaction at once: one has inserted its reminders and waits for the message
        # table; the other waits on the unique index, for the first one's reminders to commit or not
        until(waiting("notifications_message"), "a sweep with its reminders inserted")
        until(waiting("notifications_reminder"), "a second sweep on the same reminders")
    sweeps = worker.wait_results("notifications.sweep", 2)
    assert sorted((s["reminders"], s["messages"]) for s in sweeps) == [(0, 0), (3, 4)]
    assert_decided_once(max(sweeps, key=lambda s: s["reminders"])["batch"])
    [drained] = worker.wait_results("notifications.deliver", 1)  # queued by the sweep that decided
    assert drained == {"sent": 4, "failed": 0, "dead": 0}
    assert_delivered_once(4)


def test_a_pool_process_killed_in_the_middle_of_a_sweep(overdue_now, start_worker, broker):
    worker = start_worker(concurrency=1)
    with sender(broker) as app, table_locked("notifications_message"):
        app.send_task("notifications.sweep")
        until(waiting("notifications_message"), "the sweep with its reminders inserted")
        [process] = worker.children()
        os.kill(process, signal.SIGKILL)
        # acks_late + reject_on_worker_lost: the pool puts the task back, its new process runs it again
        until(lambda: "WorkerLostError" in worker.text(), "the worker to see its process lost")
        # … and waits: the killed transaction is still open (its session waits for the table and has not
        # yet noticed that its client is gone)
        until(waiting("notifications_reminder"), "the sweep run again")
        assert Reminder.objects.count() == 0
    # released: the killed session finds its client gone and rolls back; the second run decides all
    [swept] = worker.wait_results("notifications.sweep", 1)
    assert (swept["reminders"], swept["messages"]) == (3, 4)
    assert_decided_once(swept["batch"])
    assert worker.wait_results("notifications.deliver", 1) == [{"sent": 4, "failed": 0, "dead": 0}]
    assert_delivered_once(4)


def test_the_worker_killed_in_the_middle_of_a_sweep_and_started_again(overdue_now, start_worker, broker):
    first = start_worker(concurrency=1)
    with sender(broker) as app, table_locked("notifications_message"):
        app.send_task("notifications.sweep")
        until(waiting("notifications_message"), "the sweep with its reminders inserted")
        first.kill()  # main process and pool: the task stays unacknowledged in Redis
        [(_task, taken_at)] = redis.Redis.from_url(broker).zrange("unacked_index", 0, -1, withscores=True)
        # a worker gives an unacknowledged task back once it is older than the visibility timeout (30
        # minutes in production): one second for the new worker, which looks as it starts
        until(lambda: time.time() > taken_at + 1.5, "the task older than the visibility timeout")
        second = start_worker(concurrency=1, CELERY_VISIBILITY_TIMEOUT="1")
        until(waiting("notifications_reminder"), "the sweep run again by the new worker")
        assert Reminder.objects.count() == 0
    [swept] = second.wait_results("notifications.sweep", 1)
    assert first.results("notifications.sweep") == [] and swept["reminders"] == 3
    assert_decided_once(swept["batch"])
    assert second.wait_results("notifications.deliver", 1) == [{"sent": 4, "failed": 0, "dead": 0}]
    assert_delivered_once(4)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server to start a throwaway Redis")
def test_redis_restarted_during_delivery_loses_nothing(city, overdue_now, start_worker, webhook, tmp_path):
    own = OwnRedis(OWN_REDIS_PORT, tmp_path)
    own.start()
    try:
        for name in ("station_lead", "east_lead", "east_leader"):
            Preference.objects.update_or_create(user=city[name], defaults={"email": False, "webhook": True})
        webhook.open.clear()  # the receiver holds the first request until told
        worker = start_worker(concurrency=1, on=own.url, NOTIFY_WEBHOOK_URL=webhook.url, NOTIFY_WEBHOOK_SECRET=SECRET)
        with sender(own.url) as app:
            app.send_task("notifications.sweep")
            assert webhook.arrived.wait(20), worker.text()  # the drain the sweep queued is sending
            # meanwhile the station next door falls due: its sweep queues a delivery behind the busy one
            Assignment.objects.filter(item=overdue_now.item, unit__code="33031002").update(
                is_active=True, due_date=overdue_now.due_date
            )
            assert sweep.run().total == 2  # the leader and the sub-bureau's lead
            app.send_task("notifications.deliver")
            assert redis.Redis.from_url(own.url).llen("celery") == 1
            own.restart()  # empty: the queued task and the running one's acknowledgement are lost
            webhook.open.set()
            # every message is in the database: the running drain goes on; the next periodic one (after
            # Redis is back) takes whatever is left — a lost task only delays
            until(lambda: not Message.objects.exclude(status=MessageStatus.SENT).exists(), "all sent", timeout=30)
            done = len(worker.results("notifications.deliver"))
            app.send_task("notifications.deliver")
            until(lambda: len(worker.results("notifications.deliver")) > done, "a drain after the restart")
    finally:
        own.stop()
    assert_delivered_once(10)  # five reminders, each in the inbox and by webhook
    webhooks = Message.objects.filter(channel="webhook")
    assert sorted(webhook.keys(status=200)) == sorted(m.idempotency_key for m in webhooks)
    assert len(webhook.received) == 5 and all(r.signed_with(SECRET) for r in webhook.received)
