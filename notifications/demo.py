"""Demo reminders: the last week of sweeps, deliveries and digests, as the scheduler would have run them.

Each day's sweep runs at 8:05, its messages are delivered, the daily digest follows at 8:30 and the
weekly summary on Monday at 8:40; the inboxes then hold what a real week leaves there. What came
before yesterday has been read (people open their inbox): the unread ones are the last two days'.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import F, Max
from django.utils import timezone

from . import delivery, digest, sweep
from .models import Channel, Message, MessageStatus

DAYS = 7


def _at(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed_reminders(*, today: date) -> int:
    """Run the last ``DAYS`` days of reminders up to ``today``; returns how many messages were delivered."""
    now = timezone.now()
    sent = 0
    first = (Message.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    for n in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=n)
        at = _at(day, 8, 5)
        if day == timezone.localdate(now):
            at = min(at, now)  # loaded before the morning sweep: swept as of now
        sweep.run(at)
        sent += delivery.drain(at).sent
        if _at(day, 8, 30) <= now:
            digest.daily(_at(day, 8, 30))
            if day.isoweekday() == 1:
                digest.weekly(_at(day, 8, 40))
            sent += delivery.drain(_at(day, 8, 41)).sent
    # delivered when made (the drains ran now, not on their day)
    ours = Message.objects.filter(id__gte=first)
    ours.filter(status=MessageStatus.SENT).update(sent_at=F("created_at"))
    ours.filter(
        channel=Channel.INBOX,
        status=MessageStatus.SENT,
        read_at=None,
        created_at__lt=_at(today - timedelta(days=1), 0, 0),
    ).update(read_at=F("created_at") + timedelta(hours=3))
    return sent
