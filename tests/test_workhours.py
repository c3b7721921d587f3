"""Working hours (utilities.workhours): Mon–Fri 08:30–12:00 and 14:00–17:30 — weekends, lunch, evenings,
the edge minutes, holidays and 调休 — and the cutoff N working hours back agreeing with the time between."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utilities import workhours

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2026-07-20 10:05' (a Monday) as a local moment."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("now", "hours", "cutoff"),
    [
        ("2026-07-21 10:00", 7, "2026-07-20 10:00"),  # one working day back, same time
        ("2026-07-20 10:00", 1, "2026-07-20 09:00"),  # within the morning
        ("2026-07-20 14:30", 1, "2026-07-20 11:30"),  # across lunch
        ("2026-07-20 12:45", 1, "2026-07-20 11:00"),  # during lunch: counted from noon
        ("2026-07-20 20:00", 1, "2026-07-20 16:30"),  # in the evening: counted from 17:30
        ("2026-07-20 09:00", 1, "2026-07-17 17:00"),  # Monday morning: Friday afternoon
        ("2026-07-19 11:00", 1, "2026-07-17 16:30"),  # on a Sunday: Friday's end
        ("2026-07-20 08:30", 7, "2026-07-17 08:30"),  # the edge minute a day starts
        ("2026-07-20 17:30", 7, "2026-07-20 08:30"),  # the edge minute a day ends: its start
        ("2026-07-20 12:00", 3.5, "2026-07-20 08:30"),  # exactly a morning: its start, not the evening before
        ("2026-07-21 08:31", 0.5, "2026-07-20 17:01"),  # a minute into the day, half an hour back
        ("2026-07-20 10:00", 14, "2026-07-16 10:00"),  # two working days, over the weekend
        ("2026-07-20 10:00", 0, "2026-07-20 10:00"),  # nothing back: now
    ],
)
def test_the_cutoff_n_working_hours_back(now, hours, cutoff):
    assert workhours.before(at(now), hours) == at(cutoff)


def test_a_day_has_seven_working_hours():
    assert workhours.day_hours() == 7


def test_holidays_are_skipped_and_makeup_days_count(settings):
    settings.HOLIDAYS = ["2026-10-01", "2026-10-02"]  # 国庆 Thursday, Friday
    settings.MAKEUP_WORKDAYS = ["2026-10-10"]  # 调休: a Saturday worked
    # Monday 10:00 back 7 hours: Thursday and Friday are holidays, the weekend too: Wednesday 10:00
    assert workhours.before(at("2026-10-05 10:00"), 7) == at("2026-09-30 10:00")
    # Sunday the 11th: the Saturday before was worked
    assert workhours.before(at("2026-10-11 10:00"), 1) == at("2026-10-10 16:30")
    assert workhours.between(at("2026-10-09 17:30"), at("2026-10-12 08:30")) == timedelta(hours=7)


def test_no_working_day_at_all_stops_at_the_horizon(settings):
    settings.WORKING_WEEKDAYS = ()
    now = at("2026-07-20 10:00")
    assert workhours.before(now, 1) < now - timedelta(days=3 * 365)


def test_between_counts_only_working_time():
    assert workhours.between(at("2026-07-17 16:00"), at("2026-07-20 09:30")) == timedelta(hours=2.5)
    assert workhours.between(at("2026-07-20 11:00"), at("2026-07-20 15:00")) == timedelta(hours=2)
    assert workhours.between(at("2026-07-20 15:00"), at("2026-07-20 11:00")) == timedelta()


@settings(max_examples=300, deadline=None)
@given(
    minute=st.integers(min_value=0, max_value=60 * 24 * 28),
    quarter_hours=st.integers(min_value=1, max_value=4 * 7 * 10),
)
def test_the_cutoff_is_the_latest_moment_with_that_much_working_time(minute, quarter_hours):
    now = at("2026-07-06 00:00") + timedelta(minutes=minute)
    hours = quarter_hours / 4
    cutoff = workhours.before(now, hours)
    assert workhours.between(cutoff, now) == timedelta(hours=hours)
    # a minute later, less than that has passed: a thing received then is not yet due a reminder
    assert workhours.between(cutoff + timedelta(minutes=1), now) < timedelta(hours=hours)
