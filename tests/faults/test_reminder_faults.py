"""Faults 2 and 4: the reminders when the machinery around them fails.

Every active assignment of the test city three days overdue, every person taking the webhook (a
receiver on loopback) and single messages, no quiet hours. What a clean sweep decides is taken first
from a sweep rolled back (the oracle); after the fault the database and the receiver must show
exactly that: each reminder once, each message sent once (one successful attempt), each webhook key
received once, signed.

2. A worker killed (SIGKILL, pool and all) in the middle of a sweep — its reminders inserted, its
   transaction open — and Redis restarted right after, so the unacknowledged task is gone too: only
   the next scheduled sweep can decide. Then Redis restarted again while the drain is sending.
3. (fault 4 of docs/faults.md) Two ``celery beat`` by mistake on the database schedule, a sweep every
   2 seconds: the sweep runs twice as often, nothing is decided or sent twice.

"In the middle" is made from outside, as in ``tests/notifications/test_worker.py``: another session
holds the message table, so the sweep waits after inserting its reminders.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import time as clock_time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications import sweep
from notifications.models import DeliveryAttempt, Message, MessageStatus, Policy, Preference, Reminder
from tasks.models import Assignment
from tests.faults.conftest import LONG
from tests.notifications.conftest import SECRET
from tests.processes import NODE, Beat, OwnRedis, sender, table_locked, until, waiting

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="worker and scheduler processes share the test database: PostgreSQL (SQLite's is in memory)",
    ),
]
OWN_REDIS_PORT = 6395 + NODE  # test_worker's throwaway Redis is on 6390 + NODE


@pytest.fixture
def overdue_everywhere(city, published) -> set[tuple]:
    """Every active assignment three days overdue; returns the reminders a clean sweep decides now."""
    Policy.objects.update_or_create(campaign=None, defaults={"quiet_start": clock_time(0), "quiet_end": clock_time(0)})
    Assignment.objects.filter(is_active=True).update(due_date=timezone.localdate() - timedelta(days=3))
    item = Assignment.objects.get(item__code="1.1", unit__code="33031001").item
    item.leader = city["east_leader"]
    item.save(update_fields=["leader"])
    for person in city.people.values():
        Preference.objects.update_or_create(user=person, defaults={"email": False, "webhook": True, "digest": False})
    return oracle()


class _RolledBack(Exception):
    pass


def oracle() -> set[tuple]:
    """What a clean sweep decides at this moment (it is rolled back): (reminder key, channels)."""
    decided: set[tuple] = set()
    try:
        with transaction.atomic():
            outcome = sweep.run()
            decided = keys(Reminder.objects.filter(batch=outcome.batch))
            raise _RolledBack
    except _RolledBack:
        pass
    assert decided and not Reminder.objects.exists()
    return decided


def keys(reminders) -> set[tuple]:
    channels: dict[int, list[str]] = {}
    for reminder, channel in Message.objects.filter(reminder__in=reminders).values_list("reminder", "channel"):
        channels.setdefault(reminder, []).append(channel)
    return {
        (r.kind, r.subject_type, r.subject_id, r.occurrence, r.recipient_id, tuple(sorted(channels.get(r.pk, []))))
        for r in reminders
    }


def other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def delivered_once(expected: set[tuple], webhook) -> dict:
    """The database and the receiver against the oracle; returns the figures."""
    assert keys(Reminder.objects.all()) == expected  # each reminder once, with its channels
    messages = Message.objects.all()
    assert messages.count() == sum(len(k[-1]) for k in expected)
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    ok = Counter(DeliveryAttempt.objects.filter(ok=True).values_list("message_id", flat=True))
    assert ok == Counter(messages.values_list("pk", flat=True))  # one successful attempt per message
    pushed = messages.filter(channel="webhook")
    received = Counter(webhook.keys())
    assert received == Counter(m.idempotency_key for m in pushed)  # each key once
    assert all(r.status == 200 and r.signed_with(SECRET) for r in webhook.received)
    return {
        "reminders": len(expected),
        "messages": messages.count(),
        "webhooks received": sum(received.values()),
        "duplicates": sum(n - 1 for n in received.values()),
    }


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server to start a throwaway Redis")
    own = OwnRedis(OWN_REDIS_PORT, tmp_path)
    own.start()
    yield own
    own.stop()


def test_worker_killed_mid_sweep_and_redis_restarted_every_reminder_once(
    overdue_everywhere, own_redis, start_worker, webhook, figures
):
    hooks = {"NOTIFY_WEBHOOK_URL": webhook.url, "NOTIFY_WEBHOOK_SECRET": SECRET}
    kills = 3 if LONG else 1
    for _ in range(kills):
        worker = start_worker(concurrency=1, on=own_redis.url, **hooks)
        with sender(own_redis.url) as app, table_locked("notifications_message"):
            app.send_task("notifications.sweep")
            until(waiting("notifications_message"), "the sweep with its reminders inserted")
            worker.kill()  # SIGKILL, main process and pool: the task is taken and not acknowledged …
            own_redis.restart()  # … and Redis keeps nothing: the task is gone for good
        # the killed session finds its client gone once the table is free, and rolls back
        until(lambda: not other_sessions(), "the killed worker's session ended")
        assert not Reminder.objects.exists() and not Message.objects.exists()
    # the next scheduled sweep (beat's, sent here) decides everything; the drain it queues is held
    # at the receiver while Redis restarts once more
    worker = start_worker(concurrency=1, on=own_redis.url, **hooks)
    webhook.open.clear()
    with sender(own_redis.url) as app:
        app.send_task("notifications.sweep")
        assert webhook.arrived.wait(20), worker.text()
    own_redis.restart()
    webhook.open.set()
    until(lambda: not Message.objects.exclude(status=MessageStatus.SENT).exists(), "all sent", timeout=60)
    with sender(own_redis.url) as app:  # the periodic drain after the restart finds nothing left
        done = len(worker.results("notifications.deliver"))
        app.send_task("notifications.deliver")
        until(lambda: len(worker.results("notifications.deliver")) > done, "a drain after the restart")
    [swept] = worker.results("notifications.sweep")
    assert swept["reminders"] == len(overdue_everywhere)
    figures.update(
        {"workers killed mid-sweep": kills, "Redis restarts": kills + 1, **delivered_once(overdue_everywhere, webhook)}
    )


@pytest.fixture
def start_beat(start_worker, own_redis, tmp_path) -> Iterator[Callable[[], Beat]]:
    """Schedulers on the test database's schedule (started after, killed before the workers)."""
    started: list[Beat] = []

    def start(**env: str) -> Beat:
        beat = Beat(own_redis.url, tmp_path / f"beat-{len(started)}.log", env)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.kill()


def test_two_schedulers_by_mistake_send_nothing_twice(
    overdue_everywhere, own_redis, start_worker, start_beat, webhook, figures
):
    PeriodicTask.objects.all().delete()  # only this schedule: a sweep every 2 seconds, a drain every 3
    every = {n: IntervalSchedule.objects.create(every=n, period=IntervalSchedule.SECONDS) for n in (2, 3)}
    PeriodicTask.objects.create(name="提醒扫描（故障演练）", task="notifications.sweep", interval=every[2])
    PeriodicTask.objects.create(name="消息投递（故障演练）", task="notifications.deliver", interval=every[3])
    worker = start_worker(concurrency=2, on=own_redis.url, NOTIFY_WEBHOOK_URL=webhook.url, NOTIFY_WEBHOOK_SECRET=SECRET)
    beats = [start_beat(), start_beat()]
    each = 15 if LONG else 3
    until(
        lambda: all(b.sent("notifications.sweep") >= each for b in beats), "both schedulers sending", timeout=40 * each
    )
    for beat in beats:
        beat.kill()
    sent = [b.sent("notifications.sweep") for b in beats]
    # a scheduler logs a send before it puts it in the queue: killed in between, its last one never left
    sweeps = worker.settled_results("notifications.sweep", sum(sent) - len(beats))
    assert sum(sent) - len(beats) <= len(sweeps) <= sum(sent)
    until(lambda: not Message.objects.exclude(status=MessageStatus.SENT).exists(), "all sent", timeout=60)
    # one sweep decided everything; every other one (the second scheduler's too) found it decided
    assert sorted(s["reminders"] for s in sweeps) == [0] * (len(sweeps) - 1) + [len(overdue_everywhere)]
    figures.update(
        {
            "sweeps sent by beat 1 / beat 2": f"{sent[0]} / {sent[1]}",
            "sweeps run": len(sweeps),
            "sweeps that decided anything": 1,
            **delivered_once(overdue_everywhere, webhook),
        }
    )
