"""The inbox page: a lead's reminders after a sweep and a drain, the unread count in the header,
opening one (read, then to the assignment), marking all read; nobody opens another's message."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Channel, Message
from tasks.models import Assignment
from tests.web.pages import login

pytestmark = pytest.mark.django_db
NINE = datetime.combine(date(2026, 9, 3), time(9), tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_lead_reads_its_reminders(city, published, delivered):
    lead = login(city["station_lead"])
    mine = Message.objects.filter(recipient=city["station_lead"], channel=Channel.INBOX)
    assert mine.exists() and set(mine.values_list("status", flat=True)) == {"sent"}
    page = lead.get("/inbox/")
    html = page.content.decode()
    assert f'<span class="badge red" id="unread">{mine.count()}</span>' in html
    first = page.context["page"][0]
    assert first.subject and "逾期" in first.subject and 'class="slip red unread"' in html
    response = lead.post(f"/inbox/{first.pk}/read/")
    a = Assignment.objects.get(pk=first.reminder.subject_id)
    assert response.url == f"/assignments/{a.pk}/" and a.unit == city["station_lead"].unit
    assert Message.objects.get(pk=first.pk).read_at is not None
    lead.post("/inbox/read-all/")
    assert not mine.filter(read_at=None).exists()
    assert 'id="unread"' not in lead.get("/inbox/").content.decode()


def test_nobody_opens_another_users_message(city, published, delivered):
    theirs = Message.objects.filter(recipient=city["station_lead"], channel=Channel.INBOX).first()
    for name in ("hq", "east_lead", "west_lead"):
        assert login(city[name]).post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert Message.objects.get(pk=theirs.pk).read_at is None
    assert f"/inbox/{theirs.pk}/read/" not in login(city["hq"]).get("/inbox/").content.decode()
