"""Digests: leaders and HQ get one daily message instead of many (unless they choose otherwise), a
unit lead may choose one too; each written once per day, delivered on the user's channels, readable in
the inbox and the API. The weekly summary gives HQ and leaders the figures of their own scope."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from notifications import delivery, digest, sweep
from notifications.models import Digest, Message, Preference, Reminder
from tasks.models import Assignment, AssignmentStatus

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@pytest.fixture
def led(city, published):
    """Item 1.1 (8月底前, 各派出所) led by the east sub-bureau's leader."""
    a = Assignment.objects.select_related("item").get(item__code="1.1", unit__code="33031001")
    a.item.leader = city["east_leader"]
    a.item.save(update_fields=["leader"])
    return a


def test_a_leaders_reminders_wait_for_one_daily_digest(city, led):
    city["east_leader"].email = "qian@example.cn"
    city["east_leader"].save(update_fields=["email"])
    with time_machine.travel(at(date(2026, 9, 3), 8, 5), tick=False):
        outcome = sweep.run()  # day 3 overdue: the leader is reminded, in its digest
    kept = Reminder.objects.filter(recipient=city["east_leader"])
    assert kept.exists() and not Message.objects.filter(reminder__in=kept).exists()
    assert Message.objects.filter(recipient=city["station_lead"]).exists()  # the lead: single messages
    assert outcome.messages["inbox"] == Message.objects.filter(channel="inbox").count()

    with time_machine.travel(at(date(2026, 9, 3), 8, 30), tick=False):
        assert digest.daily() == 2  # the leader, and HQ (other items are a week overdue)
        assert digest.daily() == 0  # once a day
        delivery.drain()
    d = Digest.objects.get(recipient=city["east_leader"])
    assert (d.recipient, d.kind, d.period, d.colour) == (city["east_leader"], "daily", "2026-09-03", "red")
    assert set(kept.values_list("digest", flat=True)) == {d.pk}
    assert d.figures["total"] == kept.count() and f"共{kept.count()}条" in d.subject
    assert "钱局：" in d.body and "城关派出所 第1.1项，已逾期3天" in d.body
    channels = dict(Message.objects.filter(digest=d).values_list("channel", "status"))
    assert channels == {"inbox": "sent", "email": "sent"}  # 8:30 is after the quiet hours
    email = Message.objects.get(digest=d, channel="email")
    assert email.idempotency_key == f"digest-{d.pk}-email" and email.body == d.body

    # the inbox page and the API show it like any message
    client = Client()
    client.force_login(city["east_leader"])
    page = client.get("/inbox/").content.decode()
    assert (d.subject in page and "每日" in page) or "Daily" in page
    api = APIClient()
    api.force_authenticate(city["east_leader"])
    rows = api.get("/api/v1/inbox/").json()["results"]
    assert [(r["kind"], r["colour"], r["url"], r["subject"]) for r in rows] == [
        ("digest_daily", "red", None, d.subject)
    ]

    # later reminders of the day wait for tomorrow's digest
    with time_machine.travel(at(date(2026, 9, 4), 8, 5), tick=False):
        sweep.run()
    with time_machine.travel(at(date(2026, 9, 4), 8, 30), tick=False):
        assert digest.daily() == 2
    days = Digest.objects.filter(recipient=city["east_leader"]).values_list("period", flat=True).order_by("period")
    assert list(days) == ["2026-09-03", "2026-09-04"]
    assert not Reminder.objects.filter(recipient=city["east_leader"], digest=None).exists()


def test_the_choice_is_the_users(city, led):
    Preference.objects.create(user=city["east_leader"], digest=False)  # a leader wanting every message
    Preference.objects.create(user=city["station_lead"], digest=True)  # a lead wanting one a day
    with time_machine.travel(at(date(2026, 9, 3), 8, 5), tick=False):
        sweep.run()
    with time_machine.travel(at(date(2026, 9, 3), 8, 30), tick=False):
        digest.daily()
    assert set(Digest.objects.values_list("recipient__username", flat=True)) == {"station_lead", "hq"}
    assert Message.objects.filter(recipient=city["east_leader"], reminder__isnull=False).exists()


def test_weekly_summary_of_the_scope(city, led):
    Assignment.objects.filter(unit__code="33031001", item__code="1.2").update(status=AssignmentStatus.ACCEPTED)
    Preference.objects.create(user=city["inspector"], weekly=True)  # not HQ, not a leader: no summary
    monday = date(2026, 9, 7)
    with time_machine.travel(at(monday, 8, 40), tick=False):
        assert digest.weekly() == 2  # HQ of the city and the east sub-bureau's leader
        assert digest.weekly() == 0
    east = Digest.objects.get(recipient=city["east_leader"])
    assert east.period == "2026-W37" and "第37周（9月7日—9月13日）" in east.body
    mine = Assignment.objects.filter(unit__path__startswith=city.units["330310"].path, is_active=True)
    overdue = mine.filter(status__in=["pending", "in_progress", "returned"], due_date__lt=monday)
    assert east.figures["items"] == mine.count() and east.figures["overdue"] == overdue.count() > 0
    assert east.figures["done"] == mine.filter(status="accepted").count()
    whole = Digest.objects.get(recipient=city["hq"])
    assert whole.figures["items"] == Assignment.objects.filter(is_active=True).count() > east.figures["items"]
    assert "城关派出所" in east.body  # among the units furthest behind

    Preference.objects.filter(user=city["inspector"]).delete()
    Preference.objects.create(user=city["hq"], weekly=False)
    with time_machine.travel(at(date(2026, 9, 14), 8, 40), tick=False):
        assert digest.weekly() == 1  # HQ turned it off
