"""Fixtures of the boards' tests: a campaign part-way done, with findings; statistics reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from inspections.models import Finding, FindingStatus
from notifications.models import Event
from stats.models import Figure, Indicator, Round
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus

S = AssignmentStatus
TODAY = date(2026, 9, 1)  # a Tuesday, two months into the test campaign (2026-07-01 to 10-08)


@pytest.fixture
def mid_campaign():
    """The boards' tests run on TODAY: part of the work is due, part is not."""
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def morning(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))


@pytest.fixture
def published(city, tmp_path) -> Campaign:
    """The test plan (``tests/conftest.py``'s), published the day before the campaign starts: the boards
    read the history of the work (its ledger, ``boards.BoardDelta``), which begins when it was published."""
    from tasks.services.plans import import_plan
    from tests.tasks.planfiles import CAMPAIGN, write_xlsx

    opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
    with time_machine.travel(morning(date(2026, 6, 30)), tick=False):
        import_plan(path=write_xlsx(tmp_path / "plan.xlsx"), publish=True, **opts)
    Event.objects.all().delete()  # as tests/conftest.py's: the outbox starts empty
    return Campaign.objects.get(code=CAMPAIGN["code"])


@pytest.fixture
def worked(city, published):
    """East works well and on time; west submits late (each accepted the day after it went in, by TODAY);
    a few findings, one closed late."""
    for n, a in enumerate(Assignment.objects.filter(campaign=published).select_related("unit").order_by("id")):
        east = a.unit.path.startswith(city.units["330310"].path)
        if n % 2 == 0 or east:
            late = not east
            submitted_on = a.due_date + timedelta(days=3 if late else -1)
            Assignment.objects.filter(pk=a.pk).update(
                status=S.ACCEPTED,
                submitted_on=submitted_on,
                updated_at=morning(min(submitted_on + timedelta(days=1), TODAY)),
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
