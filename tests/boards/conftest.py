"""Fixtures of the boards' tests: a campaign part-way done, with findings."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from inspections.models import Finding, FindingStatus
from tasks.models import Assignment, AssignmentStatus

S = AssignmentStatus
TODAY = date(2026, 9, 1)  # a Tuesday, two months into the test campaign (2026-07-01 to 10-08)


@pytest.fixture
def mid_campaign():
    """The boards' tests run on TODAY: part of the work is due, part is not."""
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


@pytest.fixture
def worked(city, published):
    """East works well and on time; west submits late; a few findings, one closed late."""
    for n, a in enumerate(Assignment.objects.filter(campaign=published).select_related("unit").order_by("id")):
        east = a.unit.path.startswith(city.units["330310"].path)
        if n % 2 == 0 or east:
            late = not east
            Assignment.objects.filter(pk=a.pk).update(
                status=S.ACCEPTED, submitted_on=a.due_date + timedelta(days=3 if late else -1)
            )
    for unit, status, deadline, closed in (
        ("33031001", FindingStatus.CLOSED, date(2026, 8, 1), date(2026, 7, 30)),
        ("33032001", FindingStatus.CLOSED, date(2026, 8, 1), date(2026, 8, 5)),
        ("33032001", FindingStatus.ORDERED, date(2026, 8, 20), None),
        ("330302", FindingStatus.OPEN, None, None),
    ):
        Finding.objects.create(
            campaign=published, unit=city.units[unit], place="某地", description="问题", status=status,
            deadline=deadline, reported_by=city["inspector"],
            closed_at=timezone.make_aware(datetime.combine(closed, datetime.min.time())) if closed else None,
        )  # fmt: skip
    return published
