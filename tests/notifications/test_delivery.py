"""Delivery in this process, time travelled: a webhook that fails twice is delivered once, signed, with
one idempotency key and the backoff respected; one that keeps failing goes dead until HQ retries it; a
timeout is a failure; mail carries a Message-ID made of the idempotency key; the inbox and its count."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications import delivery, sweep
from notifications.models import Channel, DeliveryAttempt, Message, MessageStatus, Preference
from tests.notifications.conftest import SECRET

# smoke: the embedded SQLite default delivers too (``manage.py reminders --loop``)
pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
TZ = ZoneInfo("Asia/Shanghai")
NINE = datetime.combine(date(2026, 9, 3), time(9), tzinfo=TZ)  # item 1.1 three days overdue, a working hour


@pytest.fixture
def hooked(city, one_assignment, webhook, settings) -> Message:
    """The station lead takes reminders by webhook (not by mail); the sweep at nine queued one."""
    settings.NOTIFY_WEBHOOK_URL = webhook.url
    settings.NOTIFY_WEBHOOK_SECRET = SECRET
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    Preference.objects.create(user=city["station_lead"], email=False, webhook=True)
    with time_machine.travel(NINE, tick=False):
        sweep.run()
    return Message.objects.get(channel=Channel.WEBHOOK)


def attempts(message: Message) -> list[tuple[bool, str, datetime]]:
    return list(DeliveryAttempt.objects.filter(message=message).values_list("ok", "detail", "at"))


def test_a_webhook_failing_twice_is_delivered_once_after_backoff(city, hooked, webhook):
    webhook.replies = [500, 500]
    second = NINE + timedelta(seconds=30)  # backoff after the first failure: 30 s
    third = second + timedelta(seconds=60)  # after the second: 60 s
    with time_machine.travel(NINE, tick=False) as clock:
        assert delivery.drain() == delivery.Drained(sent=3, failed=1)  # the three inboxes, the webhook
        hooked.refresh_from_db()
        assert (hooked.status, hooked.not_before, hooked.last_error) == ("pending", second, "HTTP 500")
        clock.move_to(second - timedelta(seconds=1))
        assert delivery.drain() == delivery.Drained()  # not before its time
        clock.move_to(second)
        assert delivery.drain() == delivery.Drained(failed=1)
        clock.move_to(third - timedelta(seconds=1))
        assert delivery.drain() == delivery.Drained()
        clock.move_to(third)
        assert delivery.drain() == delivery.Drained(sent=1)
        clock.move_to(third + timedelta(days=1))
        assert delivery.drain() == delivery.Drained()  # sent is sent
    hooked.refresh_from_db()
    assert (hooked.status, hooked.attempts, hooked.sent_at, hooked.last_error) == ("sent", 3, third, "")
    assert attempts(hooked) == [(False, "HTTP 500", NINE), (False, "HTTP 500", second), (True, "HTTP 200", third)]
    # the receiver: three requests, one answered 200, all with the same key, each signed
    assert [r.status for r in webhook.received] == [500, 500, 200]
    assert webhook.keys() == [hooked.idempotency_key] * 3 == [f"reminder-{hooked.reminder_id}-webhook"] * 3
    assert all(r.signed_with(SECRET) for r in webhook.received)
    assert not webhook.received[0].signed_with("another secret")
    payload = json.loads(webhook.received[-1].body)
    assert payload["id"] == hooked.idempotency_key and payload["to"]["username"] == "station_lead"
    assert (payload["kind"], payload["colour"]) == ("overdue", "red") and "已逾期3天" in payload["subject"]
    assert payload["subject"] == hooked.subject and payload["body"] == hooked.body  # kept as sent


def test_a_webhook_that_keeps_failing_goes_dead_until_retried(city, hooked, webhook, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    webhook.replies = [503] * 3
    with time_machine.travel(NINE, tick=False) as clock:
        assert delivery.drain().failed == 1
        clock.shift(timedelta(seconds=30))
        assert delivery.drain().failed == 1
        clock.shift(timedelta(seconds=60))
        assert delivery.drain() == delivery.Drained(dead=1)  # the third attempt was the last
        hooked.refresh_from_db()
        assert (hooked.status, hooked.attempts, hooked.last_error) == ("dead", 3, "HTTP 503")
        clock.shift(timedelta(days=2))
        assert delivery.drain() == delivery.Drained()  # a dead letter waits for a person
        assert delivery.retry(Message.objects.all()) == 1  # only the dead one is queued again
        hooked.refresh_from_db()
        now = NINE + timedelta(days=2, seconds=90)
        assert (hooked.status, hooked.attempts, hooked.not_before) == ("pending", 0, now)
        assert delivery.drain() == delivery.Drained(sent=1)
    assert [ok for ok, _detail, _at in attempts(hooked)] == [False, False, False, True]
    assert [r.status for r in webhook.received] == [503, 503, 503, 200]
    assert set(webhook.keys()) == {hooked.idempotency_key}
    assert Message.objects.get(pk=hooked.pk).status == MessageStatus.SENT


def test_a_webhook_timeout_is_a_failure(city, hooked, webhook, settings):
    settings.NOTIFY_WEBHOOK_TIMEOUT = 1
    webhook.delay = 1.5  # the receiver answers after the sender gave up
    with time_machine.travel(NINE, tick=False) as clock:
        assert delivery.drain().failed == 1
        hooked.refresh_from_db()
        assert hooked.status == "pending" and hooked.not_before == NINE + timedelta(seconds=30)
        assert "timed out" in hooked.last_error
        webhook.delay = 0
        clock.shift(timedelta(seconds=30))
        assert delivery.drain() == delivery.Drained(sent=1)
    (first_ok, first, _), (second_ok, _, _) = attempts(hooked)
    assert (first_ok, second_ok) == (False, True) and "timed out" in first
    assert webhook.keys() == [hooked.idempotency_key] * 2


def test_mail_and_inbox(city, one_assignment, mailoutbox, settings):
    settings.NOTIFY_MAIL_DOMAIN = "duban.example.cn"
    for name, address in (("station_lead", "lead@example.cn"), ("east_lead", "east@example.cn")):
        city[name].email = address
        city[name].save(update_fields=["email"])
    Preference.objects.create(user=city["east_lead"], email=False)  # turned mail off
    night = NINE.replace(hour=23)
    with time_machine.travel(night, tick=False) as clock:
        sweep.run()
        assert delivery.drain() == delivery.Drained(sent=3)  # the inboxes at once: silent
        assert mailoutbox == []  # mail waits for the end of the quiet hours
        assert delivery.unread_count(city["station_lead"]) == 1
        clock.move_to(datetime(2026, 9, 4, 7, 30, tzinfo=TZ))
        assert delivery.drain() == delivery.Drained(sent=1)
        assert delivery.drain() == delivery.Drained()
    email = Message.objects.get(channel=Channel.EMAIL)
    assert email.recipient == city["station_lead"] and email.status == "sent"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["lead@example.cn"]
    assert mail.message()["Message-ID"] == f"<{email.idempotency_key}@duban.example.cn>"
    assert email.idempotency_key == f"reminder-{email.reminder_id}-email"
    assert mail.subject == email.subject and "逾期" in mail.subject and mail.body == email.body
    assert "赵关" in mail.body and "城关派出所" in mail.body  # the station lead, by name; the unit
    inbox = Message.objects.filter(channel=Channel.INBOX)
    assert inbox.count() == 3 and set(inbox.values_list("status", flat=True)) == {"sent"}
    assert [delivery.unread_count(city[n]) for n in ("station_lead", "east_lead", "east_leader", "hq")] == [1, 1, 1, 0]
    inbox.filter(recipient=city["station_lead"]).update(read_at=NINE)
    assert delivery.unread_count(city["station_lead"]) == 0
    assert DeliveryAttempt.objects.filter(ok=True).count() == 4 == Message.objects.filter(status="sent").count()
