"""Periodic check-ins of cadence items: the periods, their derived status, reporting one, the API."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
import time_machine
from rest_framework.test import APIClient

from tasks.models import Assignment, DeadlineKind, Item
from tasks.services import checkins
from tasks.services.errors import ReportError
from tasks.services.progress import report_progress

START, END = date(2026, 7, 1), date(2026, 10, 8)  # a Wednesday to a Thursday


def item(kind: str, weekday: int | None = None, day: int | None = None) -> Item:
    return Item(deadline_kind=kind, cadence_weekday=weekday, cadence_day=day)


def dues(found) -> list[date]:
    return [p.due for p in found]


def test_weekly_periods_end_on_the_weekday_and_tile_the_window():
    found = checkins.periods(item(DeadlineKind.WEEKLY, weekday=5), START, END)
    assert found[0].start == START and found[0].due == date(2026, 7, 3)  # the first, short week
    assert found[-1].due == date(2026, 10, 2)  # 10月8日 is a Thursday: no Friday after 2 October
    assert len(found) == 14
    assert all(d.weekday() == 4 for d in dues(found))
    for before, after in pairwise(found):
        assert after.start == before.due + timedelta(days=1)
        assert after.seq == before.seq + 1


@pytest.mark.parametrize(
    ("start", "first_due"),
    [
        (date(2026, 7, 3), date(2026, 7, 10)),  # starts on a Friday: not due the first day, the next Friday
        (date(2026, 7, 2), date(2026, 7, 10)),  # starts on a Thursday: a one-day-old campaign reports nothing
        (date(2026, 7, 1), date(2026, 7, 3)),  # starts on a Wednesday: three days make a first report
        (date(2026, 6, 29), date(2026, 7, 3)),  # starts on a Monday: the first week is a whole week
    ],
)
def test_the_first_weekly_check_in_leaves_the_campaign_a_few_days(start, first_due):
    found = checkins.periods(item(DeadlineKind.WEEKLY, weekday=5), start, END)
    assert found[0].start == start and found[0].due == first_due
    assert (found[0].due - found[0].start).days + 1 >= checkins.FIRST_WEEK_MIN_DAYS
    assert all(p.due.weekday() == 4 for p in found)


@pytest.mark.parametrize(
    "day, expected",
    [
        (5, [date(2026, 7, 5), date(2026, 8, 5), date(2026, 9, 5), date(2026, 10, 5)]),
        (0, [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30)]),  # 每月底
        (31, [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30)]),  # September has 30 days
        (1, [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]),
    ],
)
def test_monthly_periods(day, expected):
    assert dues(checkins.periods(item(DeadlineKind.MONTHLY, day=day), START, END)) == expected


def test_daily_periods_and_items_without_cadence():
    assert len(checkins.periods(item(DeadlineKind.DAILY), START, END)) == 100
    assert checkins.periods(item(DeadlineKind.DATE), START, END) == []
    assert checkins.periods(item(DeadlineKind.ONGOING), START, END) == []
    assert checkins.periods(item(DeadlineKind.WEEKLY, weekday=5), END, START) == []


def test_monthly_over_a_year_end():
    found = checkins.periods(item(DeadlineKind.MONTHLY, day=5), date(2026, 11, 20), date(2027, 2, 10))
    assert dues(found) == [date(2026, 12, 5), date(2027, 1, 5), date(2027, 2, 5)]


# --- on the published test plan: item 2.1 "每周五前", led by 城东分局 and 城西分局 -------------------------


@pytest.fixture
def weekly(published) -> Assignment:
    return Assignment.objects.select_related("item", "campaign").get(item__code="2.1", unit__code="330310")


@pytest.mark.django_db
def test_reports_answer_the_running_period_by_default(city, weekly):
    lead = city["east_lead"]
    with time_machine.travel(date(2026, 7, 9), tick=False):  # Thursday of the second week
        report = report_progress(assignment=weekly, by=lead, text="本周破案 3 起")
        assert report.period == date(2026, 7, 10)
        rows = checkins.checkins(weekly)
    status = {c.due: c.status for c in rows}
    S = checkins.CheckInStatus
    assert status[date(2026, 7, 3)] == S.MISSED
    assert status[date(2026, 7, 10)] == S.REPORTED
    assert status[date(2026, 7, 17)] == S.UPCOMING


@pytest.mark.django_db
def test_a_late_report_for_a_missed_period_is_marked_late(city, weekly):
    lead = city["east_lead"]
    with time_machine.travel(date(2026, 7, 14), tick=False):
        report_progress(assignment=weekly, by=lead, text="补报第一周", period=date(2026, 7, 3))
        rows = {c.due: c for c in checkins.checkins(weekly)}
    assert rows[date(2026, 7, 3)].status == checkins.CheckInStatus.LATE
    assert rows[date(2026, 7, 10)].status == checkins.CheckInStatus.MISSED
    assert rows[date(2026, 7, 17)].status == checkins.CheckInStatus.DUE


@pytest.mark.django_db
def test_period_must_be_one_of_the_assignment_and_started(city, weekly):
    lead = city["east_lead"]
    with time_machine.travel(date(2026, 7, 9), tick=False):
        with pytest.raises(ReportError, match="不是该任务的报送截止日"):
            report_progress(assignment=weekly, by=lead, text="x", period=date(2026, 7, 8))
        with pytest.raises(ReportError, match="尚不能报送"):
            report_progress(assignment=weekly, by=lead, text="x", period=date(2026, 7, 24))
    dated = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    with pytest.raises(ReportError, match="没有周期性报送要求"):
        report_progress(assignment=dated, by=city["station_lead"], text="x", period=date(2026, 7, 3))
    assert not weekly.reports.exists()


@pytest.mark.django_db
def test_an_extension_lengthens_the_series(city, weekly):
    before = len(checkins.assignment_periods(weekly))
    weekly.due_date = date(2026, 10, 20)
    assert len(checkins.assignment_periods(weekly)) == before + 2  # 10月9日, 10月16日


@pytest.mark.django_db
def test_check_ins_api_and_detail_summary(city, weekly):
    client = APIClient()
    client.force_authenticate(city["east_lead"])
    with time_machine.travel(date(2026, 7, 20), tick=False):
        posted = client.post(
            f"/api/v1/assignments/{weekly.pk}/reports/", {"text": "第二周", "period": "2026-07-10"}, format="json"
        )
        assert posted.status_code == 201, posted.content
        assert posted.json()["period"] == "2026-07-10"
        bad = client.post(f"/api/v1/assignments/{weekly.pk}/reports/", {"text": "x", "period": "2026-07-11"})
        assert bad.status_code == 400 and "7月11日不是该任务的报送截止日" in bad.json()["detail"]
        rows = client.get(f"/api/v1/assignments/{weekly.pk}/check-ins/").json()
        detail = client.get(f"/api/v1/assignments/{weekly.pk}/").json()
    assert [r["status"] for r in rows[:4]] == ["missed", "late", "missed", "due"]
    assert rows[1]["status_display"] and rows[1]["reported_at"]
    assert detail["checkins"] == {"periods": 14, "missed": 2, "next_due": "2026-07-24"}
    # not a cadence item: no summary, no periods
    dated = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    client.force_authenticate(city["station_lead"])
    assert client.get(f"/api/v1/assignments/{dated.pk}/").json()["checkins"] is None
    assert client.get(f"/api/v1/assignments/{dated.pk}/check-ins/").json() == []
    # out of scope: the other branch's lead sees nothing
    client.force_authenticate(city["west_lead"])
    assert client.get(f"/api/v1/assignments/{weekly.pk}/check-ins/").status_code == 404


# --- a target written per day: "每日巡逻不少于2次", deadline 行动期间 ------------------------------------


@pytest.mark.django_db
def test_a_daily_target_under_the_whole_campaign_is_a_daily_check_in(city, tmp_path):
    from tasks.services.plans import import_plan
    from tests.tasks.planfiles import CAMPAIGN, write_xlsx

    plan = [
        (
            "一、“铁拳”行动（分管领导：李振华）",
            [("1", "街面巡逻", "武装巡逻", "每日巡逻不少于2次", "城东分局", "", "李振华", "行动期间", "")],
        )
    ]
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx", plan), publish=True, **CAMPAIGN)
    patrol = Item.objects.get(campaign__code="XJ", code="1.1")
    assert (patrol.deadline_kind, patrol.target_per, patrol.target_value) == (DeadlineKind.DAILY, "daily", 2)
    a = Assignment.objects.select_related("item", "campaign").get(item=patrol)
    assert len(checkins.assignment_periods(a)) == 100
    assert a.target == 200  # 2 a day over the campaign's 100 days, not 2 in all
    lead = city["east_lead"]
    with time_machine.travel(date(2026, 7, 10), tick=False):  # the tenth day
        for day in range(1, 11):
            report_progress(assignment=a, by=lead, value=2, text="巡逻2次", period=date(2026, 7, day))
        a.refresh_from_db()
        assert a.progress == 20 and a.progress / a.target == Decimal("0.1")  # 10 days of 100
        # a target per day is judged day by day at the check-ins, not against the campaign's line
        assert not a.is_behind_pace()


@pytest.mark.django_db
def test_the_reminder_sweep_keeps_the_first_week_rule(city, tmp_path):
    """A campaign starting on a Friday: no 每周五前 check-in is reminded on its first day, the next Friday is."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from notifications import sweep
    from notifications.models import Reminder, Subject
    from tasks.services.plans import import_plan
    from tests.tasks.planfiles import CAMPAIGN, write_xlsx

    import_plan(path=write_xlsx(tmp_path / "plan.xlsx"), publish=True, **{**CAMPAIGN, "start": "2026-07-03"})
    weekly = Assignment.objects.filter(item__code="2.1")
    tz = ZoneInfo("Asia/Shanghai")
    for day in (date(2026, 7, 3), date(2026, 7, 10)):
        with time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=tz), tick=False):
            sweep.run()
    reminded = Reminder.objects.filter(subject_type=Subject.CHECKIN, subject_id__in=weekly, kind="due_today")
    assert sorted({r.due_date for r in reminded}) == [date(2026, 7, 10)]


# --- work added mid-campaign: its check-ins run from the day it was added -------------------------------


def _added_on(a: Assignment, day: date, published: date) -> Assignment:
    """``a`` as if added on ``day`` (an item added, a directive handed down) to a campaign published earlier."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    a.campaign.published_at = datetime(published.year, published.month, published.day, 9, tzinfo=tz)
    a.campaign.save(update_fields=["published_at"])
    # the rest of the campaign's work was given at publication
    Assignment.objects.filter(campaign=a.campaign).update(created_at=a.campaign.published_at)
    Assignment.objects.filter(pk=a.pk).update(created_at=datetime(day.year, day.month, day.day, 10, tzinfo=tz))
    return Assignment.objects.select_related("item", "campaign").get(pk=a.pk)


@pytest.mark.django_db
def test_work_added_mid_campaign_misses_nothing_before_it_began(city, weekly):
    late = _added_on(weekly, date(2026, 7, 20), published=date(2026, 6, 30))  # a Monday, week 4
    assert checkins.work_began(late) == date(2026, 7, 20)
    with time_machine.travel(date(2026, 7, 29), tick=False):
        rows = checkins.checkins(late)
    assert rows[0].start == date(2026, 7, 20) and rows[0].due == date(2026, 7, 24)
    assert [c.status for c in rows[:3]] == ["missed", "due", "upcoming"]
    # the plan's work, given at publication (before the start), still runs from the campaign's start
    other = Assignment.objects.select_related("item", "campaign").get(item__code="2.1", unit__code="330320")
    assert checkins.work_began(other) == START
    # added on the publication's own day counts as at publication
    same_day = _added_on(weekly, date(2026, 7, 2), published=date(2026, 7, 2))
    assert checkins.work_began(same_day) == START


@pytest.mark.django_db
def test_the_sweep_reminds_work_added_mid_campaign_from_the_day_it_was_added(city, published):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from notifications import sweep
    from notifications.models import Reminder, Subject

    weekly = Assignment.objects.select_related("item", "campaign").filter(item__code="2.1")
    late = _added_on(weekly[0], date(2026, 7, 15), published=date(2026, 6, 30))  # a Wednesday
    tz = ZoneInfo("Asia/Shanghai")
    for day in (date(2026, 7, 10), date(2026, 7, 17)):
        with time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=tz), tick=False):
            sweep.run()
    reminded = Reminder.objects.filter(subject_type=Subject.CHECKIN, kind="due_today")
    assert {r.due_date for r in reminded.filter(subject_id=late.pk)} == {date(2026, 7, 17)}
    others = reminded.exclude(subject_id=late.pk).filter(subject_id__in=weekly)
    assert {r.due_date for r in others} == {date(2026, 7, 10), date(2026, 7, 17)}
    assert [p.due for p in checkins.assignment_periods(late)][:1] == [date(2026, 7, 17)]
