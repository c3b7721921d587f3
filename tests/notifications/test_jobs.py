"""The Celery tasks as beat calls them, in-process: each does its service's work and queues the
delivery only when there is something to deliver (the worker tests run them in a real worker)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications import jobs
from notifications.models import Message, MessageStatus, Reminder
from ops.celery import app as celery_app

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
OVERDUE = datetime(2026, 9, 3, 9, tzinfo=TZ)  # item 1.1 (8月底前) three days late


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    """The queued delivery runs in-process whatever REDIS_URL says (scripts/test sets it)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def test_the_sweep_queues_its_delivery_and_a_second_sweep_nothing(one_assignment, django_capture_on_commit_callbacks):
    with time_machine.travel(OVERDUE, tick=False):
        with django_capture_on_commit_callbacks(execute=True) as queued:
            first = jobs.sweep_reminders()
        assert first["reminders"] == 3 and first["messages"] >= 3
        assert len(queued) == 1  # the delivery, run eagerly here
        assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
        with django_capture_on_commit_callbacks(execute=True) as queued:
            second = jobs.sweep_reminders()
    assert second["reminders"] == 0 and not queued
    assert Reminder.objects.count() == 3
    assert jobs.deliver_messages() == {"sent": 0, "failed": 0, "dead": 0}


def test_digests_queue_a_delivery_only_when_written(city, published, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 7, 6, 8, 45, tzinfo=TZ), tick=False):  # a Monday, nothing due yet
        with django_capture_on_commit_callbacks(execute=True) as queued:
            assert jobs.daily_digest() == {"digests": 0}
        assert not queued
        with django_capture_on_commit_callbacks(execute=True) as queued:
            weekly = jobs.weekly_summary()
    assert weekly["digests"] > 0  # HQ's and the leaders' summary of their scope, every Monday
    assert len(queued) == 1
    assert Message.objects.filter(status=MessageStatus.SENT).count() >= weekly["digests"]
