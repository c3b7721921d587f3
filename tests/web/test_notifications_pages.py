"""The reminder settings page (channels, digest, weekly summary; audited) and HQ's outbox: counts per
status, filters, a message with its delivery attempts, the retry of dead letters within HQ's units
only; nobody else sees it."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Channel, DeliveryAttempt, Message, MessageStatus, Preference
from tests.conftest import make_user
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db
NINE = datetime.combine(date(2026, 9, 3), time(9), tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_lead_chooses_a_daily_digest_and_no_mail(city):
    lead = login(city["station_lead"])
    page = text(lead.get("/inbox/settings/"))
    assert 'name="digest"' in page and 'name="weekly"' not in page  # the weekly summary is for HQ and leaders
    response = lead.post("/inbox/settings/", {"digest": "1", "webhook": "on"})
    assert response.status_code == 302 and response.url == "/inbox/settings/"
    pref = Preference.objects.get(user=city["station_lead"])
    assert (pref.email, pref.webhook, pref.digest, pref.weekly) == (False, True, True, True)
    change = AuditEvent.objects.get(verb="preference.changed")
    assert change.actor == city["station_lead"] and change.changes == {
        "email": [True, False],
        "webhook": [False, True],
        "digest": [None, True],
    }
    lead.post("/inbox/settings/", {"digest": "", "webhook": "on"})  # back to the role's default
    assert Preference.objects.get(user=city["station_lead"]).digest is None
    response = lead.post("/inbox/settings/", {"digest": "sometimes"})
    assert response.status_code == 400 and Preference.objects.get(user=city["station_lead"]).webhook


def test_a_leader_may_turn_the_weekly_summary_off(city):
    leader = login(city["east_leader"])
    assert 'name="weekly"' in text(leader.get("/inbox/settings/"))
    leader.post("/inbox/settings/", {"digest": "0", "email": "on"})
    pref = Preference.objects.get(user=city["east_leader"])
    assert (pref.digest, pref.weekly, pref.email) == (False, False, True)


def test_hq_sees_what_was_sent_failed_and_queued(city, delivered, django_assert_max_num_queries):
    dead = delivered.filter(channel=Channel.INBOX).first()
    Message.objects.filter(pk=dead.pk).update(status=MessageStatus.DEAD, last_error="HTTP 502", attempts=6)
    DeliveryAttempt.objects.create(message=dead, ok=False, detail="HTTP 502")
    hq = login(city["hq"])
    response = hq.get("/outbox/")
    counts = response.context["counts"]
    assert counts["dead"] == 1 and counts["sent"] == delivered.filter(status="sent").count() > 0
    assert len(response.context["page"]) == delivered.count()
    failed = hq.get("/outbox/?status=dead")
    assert [m.pk for m in failed.context["page"]] == [dead.pk] and "HTTP 502" in text(failed)
    detail = text(hq.get(f"/outbox/{dead.pk}/"))
    assert f"reminder-{dead.reminder_id}-inbox" in detail and "HTTP 502" in detail and 'id="retry"' in detail
    with django_assert_max_num_queries(12):  # a page of rows: no query per row
        hq.get("/outbox/")

    response = hq.post("/outbox/retry/?status=dead")
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (MessageStatus.PENDING, 0)
    retried = AuditEvent.objects.get(verb="message.retried")
    assert retried.actor == city["hq"] and retried.object_id == dead.pk


def test_only_hq_over_the_unit_sees_or_retries_a_message(city, delivered):
    about_east = delivered.filter(unit__path__startswith=city.units["330310"].path).first()
    Message.objects.filter(pk=about_east.pk).update(status=MessageStatus.DEAD)
    for user in (city["station_lead"], city["inspector"], city["east_leader"]):
        assert login(user).get("/outbox/").status_code == 403
        assert login(user).post("/outbox/retry/", {"message": about_east.pk}).status_code == 403
    west_hq = make_user("west_hq", city.units["330320"], (Role.HQ, city.units["330320"]), name="西局办")
    west = login(west_hq)
    assert west.get(f"/outbox/{about_east.pk}/").status_code == 404
    assert about_east.pk not in [m.pk for m in west.get("/outbox/").context["page"]]
    west.post("/outbox/retry/", {"message": about_east.pk})
    assert Message.objects.get(pk=about_east.pk).status == MessageStatus.DEAD


def test_a_malformed_message_to_retry_retries_nothing(city, delivered):
    """``message=²`` (a digit to ``str.isdigit``, not to ``int``) made a 500; now it is a message that
    does not exist: nothing retried — not every dead letter the filter shows."""
    dead = delivered.filter(channel=Channel.INBOX).first()
    Message.objects.filter(pk=dead.pk).update(status=MessageStatus.DEAD)
    hq = login(city["hq"])
    for malformed in ("²", "①", "-1", "9" * 30, "1\x00"):
        response = hq.post("/outbox/retry/?status=dead", {"message": malformed})
        assert response.status_code == 302 and response.url == "/outbox/?status=dead"
    assert Message.objects.get(pk=dead.pk).status == MessageStatus.DEAD
    assert not AuditEvent.objects.filter(verb="message.retried").exists()
    response = hq.post("/outbox/retry/", {"message": dead.pk})
    assert response.url == f"/outbox/{dead.pk}/" and Message.objects.get(pk=dead.pk).status == MessageStatus.PENDING
