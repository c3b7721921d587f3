"""Working hours (工作时间): which moments count, and the moment N working hours before another.

One definition, from the settings: ``WORKING_WEEKDAYS`` (ISO), ``WORKING_PERIODS`` (local "HH:MM" pairs),
``HOLIDAYS`` (days off that would be working days) and ``MAKEUP_WORKDAYS`` (调休: weekend days worked).
A reminder sweep asks for one cutoff per rule (``before``) and compares stored moments with it in SQL,
so nothing here runs per row.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

# how far back a cutoff is looked for: a window longer than any office's (or a calendar with no working
# day at all) stops here instead of looping
HORIZON_DAYS = 3 * 366


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def periods() -> list[tuple[time, time]]:
    """The working periods of a working day, in order."""
    return sorted((_time(start), _time(end)) for start, end in settings.WORKING_PERIODS)


def is_working_day(day: date) -> bool:
    iso = day.isoformat()
    if iso in settings.MAKEUP_WORKDAYS:
        return True
    return day.isoweekday() in settings.WORKING_WEEKDAYS and iso not in settings.HOLIDAYS


def day_hours() -> float:
    """The working hours of one working day (7 with the default periods)."""
    return sum((datetime.combine(date.min, e) - datetime.combine(date.min, s)).seconds for s, e in periods()) / 3600


def between(start: datetime, end: datetime) -> timedelta:
    """The working time from ``start`` to ``end`` (zero when ``end`` is not later)."""
    total = timedelta()
    day = timezone.localtime(start).date()
    last = timezone.localtime(end).date()
    while day <= last:
        if is_working_day(day):
            for s, e in periods():
                lo = max(start, timezone.make_aware(datetime.combine(day, s)))
                hi = min(end, timezone.make_aware(datetime.combine(day, e)))
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


def before(now: datetime, hours: float) -> datetime:
    """The latest moment with ``hours`` working hours between it and ``now``: a thing received at or
    before it has waited at least that long. Received in the evening, it waits from the next morning
    (the cutoff is a period's start, not the evening before)."""
    left = timedelta(hours=hours)
    if not left:
        return now
    local = timezone.localtime(now)
    day = local.date()
    for _ in range(HORIZON_DAYS):
        if is_working_day(day):
            for s, e in reversed(periods()):
                start = timezone.make_aware(datetime.combine(day, s))
                end = min(timezone.make_aware(datetime.combine(day, e)), now)
                if end <= start:
                    continue
                if left <= end - start:
                    return end - left
                left -= end - start
        day -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))
