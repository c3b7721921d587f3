"""Periodic check-ins of cadence items (每周五前报送, 每月5日前, 每日).

An item with a cadence asks each of its units for one report per period. The periods are a pure
function of the item's cadence and the assignment's window (the day the unit's work began → the
assignment's due date: ``work_began``), so nothing is generated at publish time and an extension lengthens the series by itself. A period is
answered by a progress report carrying its due date in ``ProgressReport.period``; its status is
derived: reported, reported late, missed, due now or upcoming.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tasks.models import Assignment, DeadlineKind, Item, ProgressReport

CADENCES = {DeadlineKind.DAILY, DeadlineKind.WEEKLY, DeadlineKind.MONTHLY}
# A weekly item's first period runs at least this many days (the campaign's first day included): a
# campaign starting on a Thursday or Friday reports 每周五前 first on the following Friday, one starting
# on a Wednesday on its first Friday. The reminder sweep's SQL (``notifications.sweep``) reads it too.
FIRST_WEEK_MIN_DAYS = 3


class CheckInStatus(StrEnum):
    REPORTED = "reported"
    LATE = "late"  # reported after its due date
    MISSED = "missed"  # past its due date, not reported
    DUE = "due"  # the period is running now
    UPCOMING = "upcoming"

    @property
    def label(self) -> str:
        return str(LABELS[self])


LABELS = {
    CheckInStatus.REPORTED: _("Reported"),
    CheckInStatus.LATE: _("Reported late"),
    CheckInStatus.MISSED: _("Missed"),
    CheckInStatus.DUE: _("Due"),
    CheckInStatus.UPCOMING: _("Upcoming"),
}


@dataclass(frozen=True)
class Period:
    seq: int  # 1-based
    start: date
    due: date


@dataclass(frozen=True)
class CheckIn:
    period: Period
    status: CheckInStatus
    reported_at: datetime | None

    @property
    def seq(self) -> int:
        return self.period.seq

    @property
    def due(self) -> date:
        return self.period.due

    @property
    def start(self) -> date:
        return self.period.start


def has_cadence(item: Item) -> bool:
    return item.deadline_kind in CADENCES


def _occurrences(item: Item, start: date, end: date) -> Iterable[date]:
    if item.deadline_kind == DeadlineKind.DAILY:
        day = start
        while day <= end:
            yield day
            day += timedelta(days=1)
    elif item.deadline_kind == DeadlineKind.WEEKLY:
        weekday = (item.cadence_weekday or 5) - 1  # stored 1 = Monday; date.weekday() 0 = Monday
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
        if (day - start).days + 1 < FIRST_WEEK_MIN_DAYS:
            day += timedelta(days=7)  # too short a first week: it joins the next one
        while day <= end:
            yield day
            day += timedelta(days=7)
    elif item.deadline_kind == DeadlineKind.MONTHLY:
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            last = calendar.monthrange(year, month)[1]
            wanted = item.cadence_day or 0
            day = date(year, month, last if wanted == 0 else min(wanted, last))
            if start <= day <= end:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def periods(item: Item, start: date, end: date) -> list[Period]:
    """The check-in periods of ``item`` between ``start`` and ``end`` (both included), in order."""
    if not has_cadence(item) or end < start:
        return []
    out: list[Period] = []
    begin = start
    for seq, due in enumerate(_occurrences(item, start, end), 1):
        out.append(Period(seq, begin, due))
        begin = due + timedelta(days=1)
    return out


def target_periods(item: Item, start: date, end: date) -> int:
    """How many times a per-period target (每日巡逻不少于2次: ``Item.target_per``) is due between
    ``start`` and ``end``: the periods of its own cadence, which is the item's when they agree."""
    if not item.target_per:
        return 1
    if item.target_per == item.deadline_kind:
        return len(periods(item, start, end))
    return len(periods(Item(deadline_kind=item.target_per), start, end))


def work_began(assignment: Assignment) -> date:
    """The first day the unit's work can be asked for a check-in: the campaign's start for the work the
    plan gave at publication, else the day the assignment was added (an item added or a directive
    handed down mid-campaign, a sync, a share passed down) when later — a directive handed down in week
    10 of a yearly ledger has missed nothing before. Added on the publication's own day counts as at
    publication. The reminder sweep computes the same in SQL (``notifications.sweep.work_began``)."""
    campaign = assignment.campaign
    start = campaign.start
    if campaign.published_at is None or assignment.created_at is None:
        return start
    created = timezone.localdate(assignment.created_at)
    if created > timezone.localdate(campaign.published_at) and created > start:
        return created
    return start


def assignment_periods(assignment: Assignment) -> list[Period]:
    return periods(assignment.item, work_began(assignment), assignment.due_date)


def _status(period: Period, reported_at: datetime | None, today: date) -> CheckInStatus:
    if reported_at is not None:
        return CheckInStatus.REPORTED if timezone.localdate(reported_at) <= period.due else CheckInStatus.LATE
    if period.due < today:
        return CheckInStatus.MISSED
    return CheckInStatus.DUE if period.start <= today else CheckInStatus.UPCOMING


def reported_periods(assignments: Iterable[Assignment]) -> dict[int, dict[date, datetime]]:
    """For each assignment id, the periods answered and when first: one query for all of them."""
    ids = [a.pk for a in assignments]
    found: dict[int, dict[date, datetime]] = defaultdict(dict)
    rows = (
        ProgressReport.objects.filter(assignment_id__in=ids, period__isnull=False)
        .values("assignment_id", "period")
        .annotate(first=Min("reported_at"))
    )
    for row in rows:
        found[row["assignment_id"]][row["period"]] = row["first"]
    return found


def checkins(assignment: Assignment, *, reported: dict[date, datetime] | None = None, today: date | None = None):
    """The assignment's check-ins with their derived status, oldest first."""
    today = today or timezone.localdate()
    if reported is None:
        reported = reported_periods([assignment]).get(assignment.pk, {})
    return [
        CheckIn(p, _status(p, reported.get(p.due), today), reported.get(p.due)) for p in assignment_periods(assignment)
    ]


def current_period(assignment: Assignment, today: date | None = None) -> Period | None:
    """The period a report made today answers by default: the running one, else the last one."""
    today = today or timezone.localdate()
    found = assignment_periods(assignment)
    for period in found:
        if period.start <= today <= period.due:
            return period
    past = [p for p in found if p.due < today]
    return past[-1] if past else None
