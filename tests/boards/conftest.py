"""Fixtures of the boards' tests: a campaign part-way done, with findings; statistics reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from inspections.models import Finding, FindingStatus
from stats.models import Figure, Indicator, Round
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus

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
            campaign=published,
            unit=city.units[unit],
            place="某地",
            description="问题",
            status=status,
            deadline=deadline,
            reported_by=city["inspector"],
            closed_at=timezone.make_aware(datetime.combine(closed, datetime.min.time())) if closed else None,
        )
    return published


@pytest.fixture
def catalogue(published):
    police = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次", seq=1)
    places = Indicator.objects.create(campaign=published, code="places", name="检查场所", measure="家次", seq=2)
    first = Round.objects.create(campaign=published, name="第一轮", start=date(2026, 7, 7), end=date(2026, 7, 9))
    second = Round.objects.create(campaign=published, name="第二轮", start=date(2026, 8, 4), end=date(2026, 8, 6))
    return {"campaign": published, "police": police, "places": places, "first": first, "second": second}


@pytest.fixture
def reported(city, catalogue):
    """Figures from three stations and the sub-bureau itself, this year and last."""
    c = catalogue["campaign"]
    last = Campaign.objects.create(
        code="XJ25",
        name="去年",
        owner=c.owner,
        start=date(2025, 7, 1),
        end=date(2025, 10, 8),
        status=CampaignStatus.CLOSED,
    )
    for i in c.indicators.all():
        Indicator.objects.create(campaign=last, code=i.code, name=i.name, measure=i.measure)
    rows = []
    for n, code in enumerate(["33031001", "33031002", "330310", "33032001"], start=1):
        unit = city.units[code]
        for d in range(0, 40):
            day = date(2026, 7, 1) + timedelta(days=d)
            for i, ind in enumerate(c.indicators.order_by("seq"), start=1):
                rows.append(
                    Figure(campaign=c, indicator=ind, unit=unit, day=day, value=n * i + d % 5, reported_by=city["hq"])
                )
            for ind in last.indicators.all():
                rows.append(
                    Figure(
                        campaign=last,
                        indicator=ind,
                        unit=unit,
                        day=date(2025, 7, 1) + timedelta(days=d),
                        value=n,
                        reported_by=city["hq"],
                    )
                )
    Figure.objects.bulk_create(rows)
    c.compare_to = last
    c.save()
    return c
