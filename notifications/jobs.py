"""Celery tasks of the reminders (scheduled in the database by django-celery-beat; see docs/reminders.md).

Both are safe to run twice or at once: the sweep's unique keys and the drain's leases decide. With
``acks_late`` and ``reject_on_worker_lost`` a task whose worker died is delivered again.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import delivery, digest, sweep


@shared_task(name="notifications.sweep", acks_late=True)
def sweep_reminders() -> dict:
    outcome = sweep.run()
    if outcome.total:
        transaction.on_commit(deliver_messages.delay)  # run() committed already; this queues at once
    return {"batch": outcome.batch, "reminders": outcome.total, "messages": sum(outcome.messages.values())}


@shared_task(name="notifications.deliver", acks_late=True)
def deliver_messages() -> dict:
    result = delivery.drain()
    return {"sent": result.sent, "failed": result.failed, "dead": result.dead}


@shared_task(name="notifications.daily_digest", acks_late=True)
def daily_digest() -> dict:
    written = digest.daily()
    if written:
        transaction.on_commit(deliver_messages.delay)
    return {"digests": written}


@shared_task(name="notifications.weekly_summary", acks_late=True)
def weekly_summary() -> dict:
    written = digest.weekly()
    if written:
        transaction.on_commit(deliver_messages.delay)
    return {"digests": written}
