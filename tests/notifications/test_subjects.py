"""The sweep's other subjects, each against the rule the pages already show: weekly check-ins
(``tasks.services.checkins``), rectification deadlines of findings, the inspection windows of a listed
hotspot (``inspections.services.inspection_windows``), and the weekly yellow reminder to units behind
the planned pace (``Assignment.is_behind_pace``). Messages name what they are about and link to it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from inspections import services as svc
from notifications import delivery, sweep
from notifications.inbox import link
from notifications.models import Message, MessageTemplate, Reminder
from tasks.models import Assignment, AssignmentStatus
from tasks.services.progress import report_progress

# smoke: the date arithmetic of these statements differs per database; both must agree
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def run(day: date):
    with time_machine.travel(at(day), tick=False):
        return sweep.run()


def about(subject_type: str, pk: int | None = None, due: date | None = None) -> set[tuple[str, str, str, str]]:
    """(kind, occurrence, colour, username) of the reminders about one subject (and one due date)."""
    rows = Reminder.objects.filter(subject_type=subject_type)
    if pk is not None:
        rows = rows.filter(subject_id=pk)
    if due is not None:
        rows = rows.filter(due_date=due)
    return set(rows.values_list("kind", "occurrence", "colour", "recipient__username"))


def words(subject_type: str, username: str) -> list[str]:
    """The subjects of the messages delivered to ``username`` about ``subject_type``, drained now."""
    delivery.drain()
    return list(
        Message.objects.filter(
            reminder__subject_type=subject_type, recipient__username=username, channel="inbox", status="sent"
        ).values_list("subject", flat=True)
    )


# --- Check-ins: item 2.1 "每周五前" of 城东分局 and 城西分局 -----------------------------------------------


@pytest.fixture
def weekly(city, published) -> dict[str, Assignment]:
    rows = Assignment.objects.select_related("item").filter(item__code="2.1")
    item = rows[0].item
    item.leader = city["east_leader"]
    item.save(update_fields=["leader"])
    return {a.unit.code: a for a in rows.select_related("unit")}


def test_a_weekly_check_in_is_announced_and_a_missed_one_escalated_once(city, weekly):
    east, west = weekly["330310"], weekly["330320"]
    friday = date(2026, 7, 10)
    run(date(2026, 7, 9))  # Thursday: the Friday check-in is due tomorrow
    assert about("checkin", due=friday) == {
        ("due_soon", "due 2026-07-10 -1", "blue", "east_lead"),
        ("due_soon", "due 2026-07-10 -1", "blue", "west_lead"),
    }
    with time_machine.travel(at(date(2026, 7, 10), 8), tick=False):
        report_progress(assignment=east, by=city["east_lead"], text="本周破案3起", period=date(2026, 7, 10))
    run(date(2026, 7, 10))  # Friday: only the unit that has not reported
    assert ("due_today", "due 2026-07-10", "blue", "west_lead") in about("checkin", west.pk, friday)
    assert about("checkin", east.pk, friday) == {("due_soon", "due 2026-07-10 -1", "blue", "east_lead")}
    for _ in range(2):
        run(date(2026, 7, 11))  # day 1 after: missed, the lead; twice changes nothing
    run(date(2026, 7, 12))
    run(date(2026, 7, 13))  # day 3: the leader (the lead's rung was day 1: once per missed check-in)
    missed = {r for r in about("checkin", due=friday) if r[0] == "overdue"}
    assert missed == {
        ("overdue", "missed 2026-07-10", "red", "west_lead"),
        ("overdue", "missed 2026-07-10", "red", "east_leader"),
    }
    subjects = words("checkin", "west_lead")
    assert any("2.1" in s and "7月10日一期进展逾期未报送" in s for s in subjects)
    message = Message.objects.filter(reminder__subject_type="checkin").first()
    assert link(message) == f"/assignments/{message.reminder.subject_id}/"


def test_check_ins_follow_the_cadence_and_stop_at_the_campaign_window(city, weekly):
    run(date(2026, 6, 26))  # a Friday before the campaign (7月1日–10月8日): no check-in to announce
    run(date(2026, 6, 30))  # the first one, Friday 7月3日, is three days away: announced the day before only
    assert about("checkin") == set()
    run(date(2026, 7, 2))
    assert {(r[1], r[3]) for r in about("checkin")} == {
        ("due 2026-07-03 -1", "east_lead"),
        ("due 2026-07-03 -1", "west_lead"),
    }
    Reminder.objects.all().delete()
    run(date(2026, 7, 5))  # Sunday: no check-in on Monday (1 day) or Wednesday (3 days), none missed 1, 3, 7 days ago
    assert about("checkin") == set()
    Assignment.objects.filter(pk=weekly["330320"].pk).update(status=AssignmentStatus.ACCEPTED)
    run(date(2026, 7, 16))  # accepted work is not chased
    assert {r[3] for r in about("checkin")} == {"east_lead"}
    run(date(2026, 10, 6))  # Tuesday: Friday 9日 is after the work's due date (the campaign's end, 8日)
    assert not Reminder.objects.filter(subject_type="checkin", due_date=date(2026, 10, 9)).exists()


# --- Findings: the rectification deadline ------------------------------------------------------------


@pytest.fixture
def ordered(city, published):
    with time_machine.travel(at(date(2026, 7, 16)), tick=False):
        visit = svc.plan_inspection(
            by=city["inspector"], campaign=published, units=[city.units["33031001"]], planned_on=date(2026, 7, 16)
        )
        finding = svc.log_finding(
            by=city["inspector"],
            inspection=visit,
            unit=city.units["33031001"],
            place="夜宵摊聚集区",
            description="消防通道堵塞，灭火器过期",
        )
        notice = svc.issue_notice(
            by=city["inspector"],
            unit=city.units["33031001"],
            findings=[finding],
            deadline=date(2026, 7, 27),
            requirements="立即清理消防通道",
            inspection=visit,
        )
    finding.refresh_from_db()
    return finding, notice


def test_a_rectification_deadline_is_reminded_then_escalated(city, ordered):
    finding, notice = ordered
    run(date(2026, 7, 24))  # 3 days before
    assert about("finding") == {("due_soon", "due 2026-07-27 -3", "blue", "station_lead")}
    subject = words("finding", "station_lead")[0]
    assert "夜宵摊聚集区" in subject and "7月27日" in subject
    body = Message.objects.get(reminder__subject_type="finding").body
    assert notice.number in body and "消防通道堵塞" in body
    run(date(2026, 7, 28))  # day 1 overdue: the lead, red
    run(date(2026, 7, 30))  # day 3: the superior unit's lead too
    assert {(r[0], r[3]) for r in about("finding") if r[0] == "overdue"} == {
        ("overdue", "station_lead"),
        ("overdue", "east_lead"),
    }
    message = Message.objects.filter(reminder__subject_type="finding").first()
    assert link(message) == f"/findings/{finding.pk}/"


def test_a_rejected_rectification_is_yellow_and_an_answered_one_is_left_alone(city, ordered):
    finding, _ = ordered
    with time_machine.travel(at(date(2026, 7, 20)), tick=False):
        svc.answer_finding(finding=finding, by=city["station_lead"], text="已清理")
        run(date(2026, 7, 24))  # answered, awaiting verification: nothing to chase
        assert about("finding") == set()
        svc.verify_finding(
            finding=finding, by=city["inspector"], accept=False, note="灭火器未换", new_deadline=date(2026, 7, 31)
        )
    run(date(2026, 7, 30))
    assert about("finding") == {("due_soon", "due 2026-07-31 -1", "yellow", "station_lead")}


def test_hq_edits_the_words(city, ordered):
    MessageTemplate.objects.filter(subject_type="finding", kind="due_soon", audience="lead").update(
        subject="整改提醒：{{ finding.place }}（{{ unit.name }}）"
    )
    run(date(2026, 7, 24))
    assert words("finding", "station_lead") == ["整改提醒：夜宵摊聚集区（城关派出所）"]


# --- Hotspots: an inspection in every window ---------------------------------------------------------


@pytest.fixture
def spot(city, published):
    with time_machine.travel(at(date(2026, 7, 1)), tick=False):
        return svc.list_hotspot(
            by=city["inspector"],
            campaign=published,
            unit=city.units["33031001"],
            name="城关夜市片区",
            problems="夜间警情集中",
            responsible_name="钱局",
            responsible=city["east_leader"],
            deadline=date(2026, 8, 31),
            criteria=["无占道经营"],
            listed_on=date(2026, 7, 1),
        )


def inspect(city, spot, day: date) -> None:
    with time_machine.travel(at(day, 21), tick=False):
        visit = svc.plan_inspection(
            by=city["inspector"], campaign=spot.campaign, units=[], hotspot=spot, planned_on=day
        )
        svc.complete_inspection(inspection=visit, by=city["inspector"], summary="已督导")


def test_the_inspector_is_told_before_a_window_closes_and_a_missed_one_escalates(city, spot):
    run(date(2026, 7, 4))  # window 7月1日–7日: 3 days before its end
    assert about("hotspot") == {("due_soon", "due 2026-07-07 -3", "blue", "inspector")}
    inspect(city, spot, date(2026, 7, 5))  # a visit in the window (21:00 local: the UTC date is the same)
    run(date(2026, 7, 6))  # 1 day before: already inspected
    run(date(2026, 7, 7))
    assert len(about("hotspot")) == 1
    run(date(2026, 7, 14))  # window 8日–14日, not inspected: on the day
    for day in (15, 15, 16, 17, 18):
        run(date(2026, 7, day))
    missed = sorted((r[3], r[1]) for r in about("hotspot") if r[0] == "overdue")
    assert missed == [
        ("east_lead", "missed 2026-07-14"),  # day 3: the superior unit of the hotspot's unit
        ("east_leader", "missed 2026-07-14"),  # day 3: the responsible person
        ("inspector", "missed 2026-07-14"),  # day 1: whoever runs the hotspot
    ]
    # the same windows the board shows as missed
    spot.refresh_from_db()
    windows = svc.inspection_windows(spot, date(2026, 7, 18))
    assert [str(w.end) for w in windows if not w.inspected and w.end < date(2026, 7, 18)] == ["2026-07-14"]
    subjects = words("hotspot", "inspector")
    assert any("城关夜市片区" in s and "未检查" in s for s in subjects)
    message = Message.objects.filter(reminder__subject_type="hotspot").first()
    assert link(message) == f"/hotspots/{spot.pk}/"


def test_a_delisted_or_past_deadline_hotspot_is_not_chased(city, spot):
    spot.status = "delisted"
    spot.save(update_fields=["status"])
    run(date(2026, 7, 4))
    assert about("hotspot") == set()


# --- Behind the planned pace (序时进度): Mondays, yellow ---------------------------------------------


def test_behind_pace_on_the_weekday_of_the_rules_agrees_with_the_assignment(city, published):
    monday = date(2026, 8, 3)
    station = Assignment.objects.select_related("item", "campaign").get(item__code="1.1", unit__code="33031001")
    assert station.target == Decimal(300)
    for progress, behind in ((Decimal(100), True), (Decimal(170), False)):  # 33 of 61 days: 162.30 due
        Reminder.objects.all().delete()
        Assignment.objects.filter(pk=station.pk).update(progress=progress)
        station.refresh_from_db()
        run(monday - timedelta(days=1))  # Sunday: not the day
        assert not Reminder.objects.filter(kind="behind").exists()
        run(monday)
        decided = set(Reminder.objects.filter(kind="behind").values_list("subject_id", flat=True))
        assert (station.pk in decided) is behind is station.is_behind_pace(monday)
        # every assignment decided is behind by the model's own rule, and every one behind with a lead is decided
        # (overdue work is red, submitted work waits for its verdict: neither gets the yellow reminder)
        running = Assignment.objects.select_related("item", "campaign").filter(
            is_active=True, due_date__gt=monday, status__in=["pending", "in_progress", "returned"]
        )
        with_lead = {a.pk for a in running if a.is_behind_pace(monday) and a.unit.grants.filter(role="unit_lead")}
        assert decided == with_lead
    run(monday)
    assert set(Reminder.objects.filter(kind="behind").values_list("colour", flat=True)) <= {"yellow"}
