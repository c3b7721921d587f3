"""Concurrent sweeps and drains on PostgreSQL: each reminder made once, each message claimed once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from notifications import delivery
from notifications.models import Channel, Message, Reminder
from tests.notifications.test_sweep import run

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweeps_at_once_make_each_reminder_once(city, published):
    barrier = threading.Barrier(2)
    outcomes = []

    def sweep_now():
        barrier.wait()
        try:
            outcomes.append(run(date(2026, 9, 7)))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep_now) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = Reminder.objects.count()
    assert made > 0 and sum(o.total for o in outcomes) == made
    keys = Reminder.objects.values_list("kind", "subject_type", "subject_id", "occurrence", "recipient_id")
    assert len(set(keys)) == made
    # one inbox message each, but for the leaders' and HQ's, kept for their daily digests
    singles = Reminder.objects.exclude(audience__in=["leader", "hq"])
    assert Message.objects.filter(channel=Channel.INBOX).count() == singles.count() < made


def test_two_drains_at_once_claim_disjoint_messages(city, published):
    run(date(2026, 9, 7))
    queued = Message.objects.count()
    barrier = threading.Barrier(2)
    claimed: list[set[int]] = []

    def claim():
        barrier.wait()
        try:
            _token, messages = delivery.claim(limit=queued)
            claimed.append({m.pk for m in messages})
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = claimed
    assert not first & second and len(first | second) == queued
