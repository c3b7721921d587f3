"""The fifth subject: results statistics of a round not reported (集中统一行动战果未报送). A unit expected
to report (holding active work in the campaign) reports the round's totals once, dated the round's last
day; the report is due the morning after. It is reminded like a checklist deadline — before, on the day,
daily while overdue up the ladder — and never once the figures are in. The statement's decision is the
same as ``stats.queries.non_reporters`` for every unit."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from accounts.models import Unit
from notifications import delivery, digest, sweep
from notifications.inbox import link
from notifications.models import Audience, Kind, Message, Policy, Reminder, Subject
from stats import queries as stats_queries
from stats.models import Figure, Indicator, Round
from stats.services import report_figures
from tasks.models import Assignment, Campaign, CampaignStatus
from tests.web.pages import login

# smoke: the date arithmetic of the statement differs per database; both must agree
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY, LAST_DAY, DUE = date(2026, 7, 7), date(2026, 7, 9), date(2026, 7, 10)
STATION = "33031001"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def run(day: date, hour: int = 9):
    with time_machine.travel(at(day, hour), tick=False):
        return sweep.run()


@pytest.fixture
def first_round(city, published) -> Round:
    Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次", seq=1)
    Indicator.objects.create(campaign=published, code="places", name="检查场所", measure="家次", seq=2)
    return Round.objects.create(campaign=published, name="第一轮集中统一行动", start=FIRST_DAY, end=LAST_DAY)


def report(city, who: str, code: str, r: Round, when: datetime) -> None:
    """``who`` reports the round's totals for unit ``code`` at ``when`` (one indicator is enough)."""
    indicator = r.campaign.indicators.order_by("seq").first()
    with time_machine.travel(when, tick=False):
        report_figures(campaign=r.campaign, unit=city.units[code], day=r.end, values={indicator.pk: 40}, by=city[who])


def about(unit: Unit, r: Round) -> set[tuple[str, str, str, str]]:
    """(kind, occurrence, colour, username) of the reminders about one unit's report of the round."""
    rows = Reminder.objects.filter(subject_type=Subject.ROUND, subject_id=r.pk, unit=unit)
    return set(rows.values_list("kind", "occurrence", "colour", "recipient__username"))


def expected(r: Round) -> set[int]:
    """Brute force: the units the statistics pages list as not reported for the round (HQ sees them all)."""
    hq = Unit.objects.get(code="3303").grants.get(role="hq").user
    root = Unit.objects.get(code="3303")
    return set(stats_queries.non_reporters(hq, r.campaign, root, r.end).values_list("pk", flat=True))


def decided(day: date, kind: str = Kind.DUE_TODAY) -> set[tuple[int, int, date]]:
    """The (round, unit, due date) rows the round source's statement selects for a step on ``day``."""
    source = next(s for s in sweep.sources() if s.subject_type == Subject.ROUND)
    step = sweep.Step(kind, f"due {day}", Audience.LEAD, day)
    params = sweep._params(step, source, "x", at(day))
    with connection.cursor() as cursor:
        cursor.execute(source.sql(step, ""), params)
        return {(rid, uid, date.fromisoformat(str(due)[:10])) for rid, uid, _c, due, *_ in cursor.fetchall()}


def test_a_unit_not_reported_is_reminded_before_on_and_after_then_escalated(city, first_round):
    station, r = city.units[STATION], first_round
    run(date(2026, 7, 6))  # four days before the due date: nothing yet
    assert about(station, r) == set()
    run(FIRST_DAY)  # 3 days before the morning after the round
    run(LAST_DAY)  # the round's last day: due soon, 1 day
    tag = f"#{station.pk}"
    assert about(station, r) == {
        ("due_soon", f"due 2026-07-10 -3 {tag}", "blue", "station_lead"),
        ("due_soon", f"due 2026-07-10 -1 {tag}", "blue", "station_lead"),
    }
    subjects = [m.subject for m in _delivered("station_lead", LAST_DAY)]
    assert "【战果报送·蓝】第一轮集中统一行动（7月7日至9日）战果请于7月10日前报送" in subjects
    body = _delivered("station_lead", LAST_DAY)[0].body
    assert "城关派出所" in body and "统计日期为7月9日" in body

    run(DUE)  # the morning after: due today
    assert ("due_today", f"due 2026-07-10 {tag}", "blue", "station_lead") in about(station, r)
    for _ in range(2):
        run(date(2026, 7, 11))  # day 1 overdue: the lead, red; twice adds nothing
    run(date(2026, 7, 12))
    overdue = {(x[1], x[3]) for x in about(station, r) if x[0] == "overdue"}
    assert overdue == {(f"overdue 2026-07-11 {tag}", "station_lead"), (f"overdue 2026-07-12 {tag}", "station_lead")}
    run(date(2026, 7, 13))  # day 3: the superior unit's lead too (no responsible leader for a round)
    assert {(x[3], x[2]) for x in about(station, r) if x[1] == f"overdue 2026-07-13 {tag}"} == {
        ("station_lead", "red"),
        ("east_lead", "red"),
    }
    assert not Reminder.objects.filter(subject_type=Subject.ROUND, audience=Audience.HQ).exists()
    run(date(2026, 7, 17))  # day 7: HQ
    assert ("overdue", f"overdue 2026-07-17 {tag}", "red", "hq") in about(station, r)

    words = [m.subject for m in _delivered("station_lead", date(2026, 7, 17))]
    assert "【战果督办·红】第一轮集中统一行动（7月7日至9日）战果逾期未报送" in words
    superior = [m for m in _delivered("east_lead", date(2026, 7, 17)) if m.reminder.unit_id == station.pk]
    assert "【战果督办·红】下级单位城关派出所第一轮集中统一行动战果逾期未报送" in {m.subject for m in superior}
    assert any("已逾期7天未报送" in m.body for m in superior)


def _delivered(username: str, day: date) -> list[Message]:
    """The round messages in ``username``'s inbox, drained at 10:00 on ``day``, newest first."""
    with time_machine.travel(at(day, 10), tick=False):
        delivery.drain()
    return list(
        Message.objects.filter(
            reminder__subject_type=Subject.ROUND, recipient__username=username, channel="inbox", status="sent"
        )
        .select_related("reminder")
        .order_by("-id")
    )


def test_a_superior_is_reminded_of_each_unit_below_it_not_of_one(city, first_round):
    r = first_round
    below = {u for u in expected(r) if Unit.objects.get(pk=u).path.startswith(city.units["330310"].path)}
    below.discard(city.units["330310"].pk)  # its own report is its lead's, not its superior's business
    assert len(below) >= 2  # the test means something: two stations under 城东分局 hold work
    run(date(2026, 7, 13))
    told = Reminder.objects.filter(subject_id=r.pk, recipient=city["east_lead"], audience=Audience.SUPERIOR)
    assert set(told.values_list("unit_id", flat=True)) == below


def test_a_newer_reminder_supersedes_only_the_messages_about_the_same_unit(city, first_round):
    r, station, lake = first_round, city.units[STATION], city.units["33031002"]
    run(date(2026, 7, 13))  # day 3: 城东分局's lead is told of both stations
    _delivered("east_lead", date(2026, 7, 13))
    report(city, "station_lead", STATION, r, at(date(2026, 7, 13), 15))
    run(date(2026, 7, 14))  # only 东湖派出所 is still missing
    superior = Message.objects.filter(
        reminder__subject_id=r.pk, reminder__audience=Audience.SUPERIOR, recipient=city["east_lead"], channel="inbox"
    )
    assert set(
        superior.filter(reminder__occurrence__startswith="overdue 2026-07-13").values_list(
            "reminder__unit__code", "status"
        )
    ) == {(STATION, "sent"), (lake.code, "superseded")}
    assert list(superior.filter(status="pending").values_list("reminder__unit__code", flat=True)) == [lake.code]
    assert station.pk not in expected(r)


def test_a_unit_that_reported_gets_nothing_and_one_that_reports_late_is_no_longer_chased(city, first_round):
    station, r = city.units[STATION], first_round
    report(city, "station_lead", STATION, r, at(LAST_DAY, 8))  # in the morning of the round's last day
    for day in (LAST_DAY, DUE, date(2026, 7, 11), date(2026, 7, 13), date(2026, 7, 17)):
        run(day)
    assert about(station, r) == set()
    assert Reminder.objects.filter(subject_type=Subject.ROUND).exclude(unit=station).exists()  # the others are

    west = city.units["330320"]
    assert west.pk in expected(r)
    run(date(2026, 7, 20))  # well overdue
    assert any(x[1].startswith("overdue 2026-07-20") for x in about(west, r))
    report(city, "west_lead", "330320", r, at(date(2026, 7, 20), 17))
    run(date(2026, 7, 21))
    assert not any(x[1].startswith("overdue 2026-07-21") for x in about(west, r))


def test_a_second_sweep_at_the_same_moment_adds_nothing(city, first_round):
    for day in (LAST_DAY, date(2026, 7, 13), date(2026, 7, 17)):
        first = run(day)
        assert first.reminders[(Subject.ROUND, Kind.DUE_SOON if day == LAST_DAY else Kind.OVERDUE, Audience.LEAD)]
        count, messages = Reminder.objects.count(), Message.objects.count()
        again = run(day)
        assert again.total == 0
        assert (Reminder.objects.count(), Message.objects.count()) == (count, messages)


def test_the_statement_decides_what_non_reporters_lists_for_every_unit(city, first_round):
    r = first_round
    # edge cases: a unit whose work is all withdrawn, an inactive unit, a figure of another campaign that day
    Assignment.objects.filter(unit__code="33031002").update(is_active=False)
    Unit.objects.filter(code="33031003").update(is_active=False)
    other = Campaign.objects.create(
        code="QT",
        name="另一行动",
        owner=city.units["3303"],
        start=date(2026, 7, 1),
        end=date(2026, 7, 31),
        status=CampaignStatus.PUBLISHED,
    )
    stray = Indicator.objects.create(campaign=other, code="police", name="出动警力", measure="人次")
    Figure.objects.create(
        campaign=other, indicator=stray, unit=city.units["330320"], day=LAST_DAY, value=3, reported_by=city["west_lead"]
    )
    holding = set(Assignment.objects.filter(campaign=r.campaign, is_active=True).values_list("unit_id", flat=True))
    assert len(holding) >= 4
    for step, who, code in [(0, None, None), (1, "station_lead", STATION), (2, "east_lead", "330310")]:
        if who:
            report(city, who, code, r, at(LAST_DAY, 10 + step))
        missing = expected(r)
        assert city.units["330320"].pk in missing  # the other campaign's figure is not this round's
        assert city.units["33031002"].pk not in missing and city.units["33031003"].pk not in missing
        assert decided(DUE) == {(r.pk, u, DUE) for u in missing}
        assert decided(date(2026, 7, 15), Kind.OVERDUE) == {(r.pk, u, DUE) for u in missing}  # due ≤ the day
        assert decided(LAST_DAY) == decided(date(2026, 7, 11)) == set()  # due exactly the day: not before, not after
    # what the sweep decides for the leads is that, for the units that have one
    run(DUE)
    leads = set(
        Reminder.objects.filter(subject_type=Subject.ROUND, kind=Kind.DUE_TODAY).values_list("unit_id", flat=True)
    )
    with_lead = {u for u in expected(r) if Unit.objects.get(pk=u).grants.filter(role="unit_lead").exists()}
    assert leads == with_lead and leads


def test_no_reminders_for_a_campaign_not_published_and_the_campaigns_own_rules_apply(city, first_round):
    r = first_round
    Campaign.objects.filter(pk=r.campaign_id).update(status=CampaignStatus.CLOSED)
    run(DUE)
    assert not Reminder.objects.filter(subject_type=Subject.ROUND).exists()
    Campaign.objects.filter(pk=r.campaign_id).update(status=CampaignStatus.PUBLISHED)
    Policy.objects.create(campaign=r.campaign, before_days=[2], on_the_day=False, ladder=[{"day": 2, "audience": "hq"}])
    for day in (date(2026, 7, 8), DUE, date(2026, 7, 11), date(2026, 7, 12)):
        run(day)
    kinds = set(Reminder.objects.filter(subject_type=Subject.ROUND).values_list("kind", "audience"))
    assert kinds == {("due_soon", "lead"), ("overdue", "hq")}


def test_the_inbox_link_opens_the_report_page_of_the_rounds_day(city, first_round):
    station, r = city.units[STATION], first_round
    run(LAST_DAY)
    message = _delivered("station_lead", LAST_DAY)[0]
    url = link(message)
    assert url == f"/stats/rounds/{r.pk}/report/?unit={station.pk}"
    client = login(city["station_lead"])
    with time_machine.travel(at(DUE), tick=False):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer["Location"] == f"/stats/report/?campaign={r.campaign_id}&day=2026-07-09&unit={STATION}"
        page = client.get(answer["Location"])
    assert page.status_code == 200
    assert page.context["day"] == LAST_DAY and page.context["round"] == r and page.context["unit"] == station
    assert "第一轮集中统一行动" in page.content.decode()


def test_the_round_link_is_404_outside_the_users_campaigns_and_hq_gets_the_rounds_statistics(city, first_round):
    r = first_round
    client = login(city["nobody"])  # no role: no campaign concerns this user
    assert client.get(f"/stats/rounds/{r.pk}/report/").status_code == 404
    client = login(city["station_lead"])
    assert client.get(f"/stats/rounds/{r.pk + 1000}/report/").status_code == 404
    # a unit outside the lead's scope is not passed on: the page picks the lead's own unit
    answer = client.get(f"/stats/rounds/{r.pk}/report/?unit={city.units['330320'].pk}")
    assert answer["Location"] == f"/stats/report/?campaign={r.campaign_id}&day=2026-07-09"
    client = login(city["hq"])  # HQ reports for nobody: the round's statistics, with who has not reported
    answer = client.get(f"/stats/rounds/{r.pk}/report/?unit={city.units[STATION].pk}")
    assert answer["Location"] == f"/stats/?campaign={r.campaign_id}&round={r.pk}&unit={STATION}"


def test_hq_reads_the_round_in_its_daily_digest(city, first_round):
    run(date(2026, 7, 17))  # day 7: HQ, kept for the digest
    assert Reminder.objects.filter(subject_type=Subject.ROUND, audience=Audience.HQ).exists()
    with time_machine.travel(at(date(2026, 7, 17), 10), tick=False):
        assert digest.daily() >= 1
    body = city["hq"].digests.get(kind="daily").body
    assert "城关派出所 第一轮集中统一行动战果报送，已逾期7天" in body
