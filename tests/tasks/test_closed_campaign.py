"""A closed campaign is frozen: every write on its work, figures and supervision refuses with the same
words (``tasks.services.errors.CampaignClosed``), the reminder sweep leaves it alone, and everything
stays readable. Each path is tried open first (it works), then closed (refused, nothing written)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from inspections import services as inspections
from inspections.models import Finding, Hotspot, Inspection, InspectionKind, Notice
from notifications import sweep
from notifications.models import Reminder
from stats.models import Figure, Indicator
from stats.services import report_figures
from tasks.models import Assignment, Campaign, CampaignStatus, Comment, ExtensionRequest, ProgressReport
from tasks.services.campaigns import close_campaign, reopen_campaign
from tasks.services.cascade import Share, pass_down
from tasks.services.errors import CampaignClosed
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.progress import add_comment, report_progress
from tasks.services.workflow import transition_assignment

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=TZ), tick=False):
        yield


def close(campaign: Campaign, hq) -> None:
    close_campaign(campaign=campaign, by=hq)


def station_work() -> Assignment:
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


def test_progress_reports_refuse(city, published):
    report_progress(assignment=station_work(), by=city["station_lead"], value=1, text="open")
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        report_progress(assignment=station_work(), by=city["station_lead"], value=1, text="closed")
    assert ProgressReport.objects.count() == 1 and station_work().progress == 1


def test_transitions_refuse(city, published):
    transition_assignment(assignment=station_work(), name="start", by=city["station_lead"])
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        transition_assignment(assignment=station_work(), name="submit", by=city["station_lead"])
    assert station_work().status == "in_progress"


def test_comments_refuse(city, published):
    add_comment(assignment=station_work(), by=city["hq"], text="open")
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        add_comment(assignment=station_work(), by=city["hq"], text="closed")
    assert list(Comment.objects.values_list("text", flat=True)) == ["open"]


def test_passing_down_refuses(city, published):
    lead = Assignment.objects.get(item__code="1.2", unit__code="330310")
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        pass_down(assignment=lead, by=city["east_lead"], shares=[Share(city.units["33031001"], None, None)])
    assert not Assignment.objects.filter(parent=lead).exists()


def test_extension_requests_and_decisions_refuse(city, published):
    asked = request_extension(assignment=station_work(), by=city["station_lead"], due=date(2026, 9, 10), reason="a")
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        request_extension(assignment=station_work(), by=city["station_lead"], due=date(2026, 9, 20), reason="b")
    with pytest.raises(CampaignClosed):
        decide_extension(request=asked, by=city["hq"], approve=True)
    assert ExtensionRequest.objects.get().status == "pending"
    assert station_work().due_date == date(2026, 8, 31)


def test_figures_refuse(city, published):
    indicator = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次")
    unit = city.units["33031001"]
    report_figures(campaign=published, unit=unit, day=TODAY, values={indicator.pk: 5}, by=city["station_lead"])
    close(published, city["hq"])
    published.refresh_from_db()
    with pytest.raises(CampaignClosed):
        report_figures(campaign=published, unit=unit, day=TODAY, values={indicator.pk: 9}, by=city["station_lead"])
    assert Figure.objects.get().value == 5


def test_findings_and_notices_refuse(city, published):
    unit = city.units["33031001"]
    finding = inspections.log_finding(
        by=city["inspector"], campaign=published, unit=unit, place="夜市", description="a"
    )
    close(published, city["hq"])
    published.refresh_from_db()
    with pytest.raises(CampaignClosed):
        inspections.log_finding(by=city["inspector"], campaign=published, unit=unit, place="夜市", description="b")
    with pytest.raises(CampaignClosed):
        inspections.issue_notice(
            by=city["inspector"], unit=unit, findings=[finding], deadline=date(2026, 7, 30), requirements="整改"
        )
    assert Finding.objects.count() == 1 and not Notice.objects.exists()


def test_answers_to_a_notice_refuse(city, published):
    unit = city.units["33031001"]
    finding = inspections.log_finding(
        by=city["inspector"], campaign=published, unit=unit, place="夜市", description="a"
    )
    inspections.issue_notice(
        by=city["inspector"], unit=unit, findings=[finding], deadline=date(2026, 7, 30), requirements="整改"
    )
    close(published, city["hq"])
    with pytest.raises(CampaignClosed):
        inspections.answer_finding(finding=finding, by=city["station_lead"], text="已整改")
    assert Finding.objects.get().status == "ordered"


def test_inspections_and_hotspots_refuse(city, published):
    unit = city.units["33031001"]
    visit = inspections.plan_inspection(
        by=city["inspector"], campaign=published, units=[unit], planned_on=TODAY, kind=InspectionKind.NIGHT
    )
    close(published, city["hq"])
    published.refresh_from_db()
    with pytest.raises(CampaignClosed):
        inspections.plan_inspection(by=city["inspector"], campaign=published, units=[unit], planned_on=TODAY)
    with pytest.raises(CampaignClosed):
        inspections.start_inspection(inspection=visit, by=city["inspector"])
    with pytest.raises(CampaignClosed):
        inspections.list_hotspot(
            by=city["inspector"],
            campaign=published,
            unit=unit,
            name="夜市",
            problems="占道",
            responsible_name="赵",
            deadline=date(2026, 8, 31),
            criteria=["无占道"],
        )
    assert Inspection.objects.get().status == "planned" and not Hotspot.objects.exists()


def test_the_api_answers_a_closed_campaign_with_400_and_keeps_it_readable(city, published):
    close(published, city["hq"])
    client = APIClient()
    client.force_authenticate(city["station_lead"])
    work = station_work()
    response = client.post(f"/api/v1/assignments/{work.pk}/reports/", {"value": "1", "text": "x"})
    assert response.status_code == 400, response.content
    assert published.name in response.json()["detail"]
    assert client.get(f"/api/v1/assignments/{work.pk}/").status_code == 200
    assert client.get(f"/api/v1/campaigns/{published.pk}/").json()["status"] == "closed"


def test_reopening_lets_work_resume(city, published):
    close(published, city["hq"])
    reopen_campaign(campaign=published, by=city["hq"], reason="补录")
    report_progress(assignment=station_work(), by=city["station_lead"], value=1, text="again")
    assert station_work().progress == 1


def test_the_sweep_skips_a_closed_campaign(city, published):
    close(published, city["hq"])
    overdue = datetime.combine(date(2026, 9, 3), time(9), tzinfo=TZ)
    with time_machine.travel(overdue, tick=False):
        sweep.run()
    assert not Reminder.objects.exists()
    Campaign.objects.filter(pk=published.pk).update(status=CampaignStatus.PUBLISHED)  # the same day, open
    with time_machine.travel(overdue, tick=False):
        sweep.run()
    assert Reminder.objects.filter(campaign=published).exists()
