"""The demo, end to end: what `scripts/demo` loads, and the back-office pages HQ staff use."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Unit, User
from inspections.models import Finding, Notice
from inspections.services import inspection_windows
from notifications import delivery, sweep
from notifications.models import Message
from tasks.models import Assignment, Campaign, Item
from tasks.services.plans import import_plan

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", quiet=True)
    return Campaign.objects.get(code="XJ2026")


def test_demo_loads_the_city_and_its_77_item_plan(demo):
    assert Unit.objects.count() == 80
    assert Item.objects.filter(campaign=demo).count() == 77
    assert demo.actions.count() == 6 and demo.status == "published"
    stations = Unit.objects.filter(kind="station").count()
    assert Assignment.objects.filter(campaign=demo, unit__kind="station").values("unit").distinct().count() == stations
    # the supervision records: two listed hotspots, inspections, findings, a notice half answered
    assert demo.hotspots.count() == 2 and demo.inspections.filter(kind="night").count() == 1
    night_market = demo.hotspots.get(name="城关夜市片区")
    windows = inspection_windows(night_market)
    assert [i for i, w in enumerate(windows) if not w.inspected and w.end < windows[-1].start] == [2, 5]
    notice = Notice.objects.get(campaign=demo)
    assert notice.number == "江公督〔2026〕1号" and notice.findings.count() == 2
    assert Finding.objects.filter(campaign=demo).count() == 4
    # running it again changes nothing
    before = Assignment.objects.count(), User.objects.count(), Finding.objects.count()
    call_command("load_demo", quiet=True)
    assert (Assignment.objects.count(), User.objects.count(), Finding.objects.count()) == before


@pytest.mark.parametrize("seed", ["plan.docx", "plan.yaml"])
def test_word_and_yaml_plans_give_the_same_campaign(demo, settings, seed):
    result = import_plan(settings.BASE_DIR / "seeds" / seed, code="XJ2026", dry_run=True)
    assert result.changes == []
    assert (result.items, result.assignments) == (77, Assignment.objects.filter(campaign=demo).count())


def test_admin_pages_for_hq_in_chinese(demo, client):
    client.force_login(User.objects.get(username="hq_wang"))
    item = demo.items.get(code="1.1")
    for url in [
        reverse("admin:index"),
        reverse("admin:tasks_campaign_changelist"),
        reverse("admin:tasks_campaign_change", args=[demo.pk]),
        reverse("admin:tasks_item_change", args=[item.pk]),
        reverse("admin:tasks_assignment_changelist") + "?status=pending",
        reverse("admin:accounts_unit_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:audit_auditevent_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("admin:tasks_campaign_changelist")).content.decode()
    assert "专项行动" in page and "XJ2026" in page


def test_station_lead_sees_only_own_assignments_in_admin(demo, client):
    lead = User.objects.get(username="lead_chengguan")
    client.force_login(lead)
    response = client.get(reverse("admin:tasks_assignment_changelist"))
    assert response.status_code == 200
    shown = {a.unit_id for a in response.context["cl"].result_list}
    assert shown == {lead.unit_id}
    other = Assignment.objects.exclude(unit=lead.unit).first()
    assert client.get(reverse("admin:tasks_assignment_change", args=[other.pk])).status_code == 302  # "doesn't exist"


def test_pages_on_the_demo(demo, client):
    """The phone pages with the demo's people: the lead reports and submits, HQ accepts."""
    lead = User.objects.get(username="lead_chengguan")
    client.force_login(lead)
    page = client.get("/my/")
    assert page.status_code == 200 and "我的任务" in page.content.decode()
    work = (  # the demo has moved some work along already: one still open
        Assignment.objects.filter(unit=lead.unit, item__deadline_kind="date", status__in=["pending", "in_progress"])
        .order_by("item__seq")
        .first()
    )
    assert client.get(f"/assignments/{work.pk}/").status_code == 200
    assert client.post(f"/assignments/{work.pk}/report/", {"value": "3", "text": "演示填报"}).status_code == 302
    assert client.post(f"/assignments/{work.pk}/transition/", {"name": "submit"}).status_code == 302
    client.force_login(User.objects.get(username="hq_wang"))
    for url in ["/review/", "/items/", f"/items/{work.item_id}/"]:
        assert client.get(url).status_code == 200, url
    assert client.post(f"/assignments/{work.pk}/transition/", {"name": "accept"}).status_code == 302
    work.refresh_from_db()
    assert work.status == "accepted" and work.progress == 3


def test_the_demo_leads_reminders_arrive_in_the_inbox(demo):
    """A sweep the day after the 7月15日 deadlines, then a drain: the demo station lead has red slips."""
    with time_machine.travel(datetime(2026, 7, 16, 9, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        outcome = sweep.run()
        drained = delivery.drain()
    lead = User.objects.get(username="lead_chengguan")
    mine = Message.objects.filter(recipient=lead, channel="inbox", status="sent")
    assert sum(outcome.messages.values()) == drained.sent and mine.exists()
    red = [m for m in mine if m.reminder.colour == "red"]
    assert red and all("逾期" in m.subject for m in red)
    client = Client()
    client.force_login(lead)
    page = client.get("/inbox/").content.decode()
    assert f'id="unread">{mine.count()}<' in page and mine.first().subject in page
