"""A reminder's and a message's keys are checked per statement (PostgreSQL, notifications/0016): a row
naming what does not exist fails at its statement, not at COMMIT; what they name cannot be deleted or
re-keyed from under them; Django's collector still deletes a user with his reminders; and the
migration goes back to PostgreSQL's deferred row keys and forward again."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from notifications.models import Channel, Message, Reminder
from tests.migrating import migrate

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its row keys")
MISSING = 2_000_000_000


@pytest.fixture
def reminder(city, published) -> Reminder:
    return Reminder.objects.create(
        kind="overdue",
        subject_type="assignment",
        subject_id=1,
        occurrence="overdue 2026-09-03",
        recipient=city["station_lead"],
        audience="lead",
        colour="red",
        unit=city.units["33031001"],
        campaign=published,
        due_date=date(2026, 8, 31),
        batch="b1",
    )


def _sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


REMINDERS = """
INSERT INTO notifications_reminder (kind, subject_type, subject_id, occurrence, recipient_id, audience, colour,
    unit_id, campaign_id, due_date, batch, created_at)
SELECT 'overdue', 'assignment', n, 'overdue 2026-09-03', %(recipient)s, 'lead', 'red',
    CASE WHEN n = 3 THEN %(bad_unit)s ELSE %(unit)s END, %(campaign)s, '2026-08-31', 'b2', now()
FROM generate_series(1, 5) n"""


@pytest.mark.django_db
def test_a_reminder_naming_a_missing_unit_fails_at_its_statement(city, published):
    params = {"recipient": city["station_lead"].pk, "unit": city.units["33031001"].pk, "campaign": published.pk}
    with transaction.atomic():
        _sql(REMINDERS, {**params, "bad_unit": city.units["33031002"].pk})  # five good rows: one statement
        assert Reminder.objects.filter(batch="b2").count() == 5
        with (
            pytest.raises(IntegrityError, match=rf"notifications_reminder\.unit_id names .*accounts_unit {MISSING}"),
            transaction.atomic(),
        ):  # the statement, not the COMMIT, refuses
            _sql(REMINDERS.replace("'b2'", "'b3'").replace("09-03", "09-04"), {**params, "bad_unit": MISSING})
        assert not Reminder.objects.filter(batch="b3").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["recipient_id", "campaign_id", "digest_id"])
def test_every_key_of_a_reminder_is_checked(reminder, column):
    with (
        pytest.raises(IntegrityError, match=f"notifications_reminder.{column} names what does not exist"),
        transaction.atomic(),
    ):
        values = {"recipient_id": reminder.recipient_id, "campaign_id": reminder.campaign_id, "digest_id": None}
        values[column] = MISSING
        Reminder.objects.create(
            kind="overdue",
            subject_type="assignment",
            subject_id=2,
            occurrence="x",
            audience="lead",
            colour="red",
            unit_id=reminder.unit_id,
            due_date=date(2026, 8, 31),
            batch="b",
            **values,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["reminder_id", "recipient_id", "unit_id", "event_id"])
def test_a_message_naming_a_missing_row_fails_at_its_statement(reminder, column):
    Message.objects.create(reminder=reminder, recipient_id=reminder.recipient_id, unit_id=reminder.unit_id)
    values = {"reminder_id": reminder.pk, "recipient_id": reminder.recipient_id, "unit_id": reminder.unit_id}
    values[column] = MISSING
    if column == "event_id":
        values["reminder_id"] = None  # a message is of one thing
    with (
        pytest.raises(IntegrityError, match=f"notifications_message.{column} names what does not exist"),
        transaction.atomic(),
    ):
        Message.objects.create(channel=Channel.EMAIL, **values)
    assert Message.objects.count() == 1


def _at_commit(sql: str, params=()) -> None:
    """``sql``, then its deferred checks as its COMMIT would run them (and deferred again after)."""
    _sql(sql, params)
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.django_db
def test_what_reminders_and_messages_name_cannot_be_deleted_from_under_them(city, reminder):
    Message.objects.create(reminder=reminder, recipient_id=reminder.recipient_id, unit_id=reminder.unit_id)
    with (
        pytest.raises(IntegrityError, match=f"notifications_reminder {reminder.pk} is still named by"),
        transaction.atomic(),
    ):
        _at_commit("DELETE FROM notifications_reminder WHERE id = %s", [reminder.pk])
    user = User.objects.create_user("temp", password="x")
    Reminder.objects.filter(pk=reminder.pk).update(recipient=user)
    with (
        pytest.raises(IntegrityError, match=f"accounts_user {user.pk} is still named by notifications_reminder"),
        transaction.atomic(),
    ):
        _at_commit("DELETE FROM accounts_user WHERE id = %s", [user.pk])
    with (
        pytest.raises(IntegrityError, match=f"notifications_reminder {reminder.pk} is still named by"),
        transaction.atomic(),
    ):
        _at_commit("UPDATE notifications_reminder SET id = %s WHERE id = %s", [MISSING, reminder.pk])
    _at_commit("UPDATE accounts_user SET last_login = now() WHERE id = %s", [user.pk])  # not a re-key
    # Django's collector deletes what names the user too, in whatever order (a message's reminder may
    # be NULL: it does not order them): the check at COMMIT finds nothing left behind
    user.delete()
    _at_commit("SELECT 1")
    assert not Reminder.objects.filter(pk=reminder.pk).exists()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_update_changing_a_key_is_checked_and_others_are_not(reminder):
    message = Message.objects.create(reminder=reminder, recipient_id=reminder.recipient_id, unit_id=reminder.unit_id)
    with (
        pytest.raises(IntegrityError, match=r"notifications_message\.unit_id names what does not exist"),
        transaction.atomic(),
    ):
        Message.objects.filter(pk=message.pk).update(unit_id=MISSING)
    with (
        pytest.raises(IntegrityError, match=r"notifications_reminder\.digest_id names what does not exist"),
        transaction.atomic(),
    ):
        Reminder.objects.filter(pk=reminder.pk).update(digest_id=MISSING)
    Message.objects.filter(pk=message.pk).update(status="sent", unit_id=None)  # a NULL key names nothing
    assert Message.objects.get(pk=message.pk).unit_id is None


# the migration both ways


def _state() -> tuple[set[str], set[str]]:
    """The deferred row keys and the key triggers of the two tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text || '.' || a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.condeferred "
            "AND c.conrelid::regclass::text IN ('notifications_reminder', 'notifications_message')"
        )
        keys = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT tgname || ' ON ' || tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s", ["%%_keys_%%"]
        )
        triggers = {name for (name,) in cursor.fetchall() if name.split("_keys_")[0] in ("reminder", "message")}
    return keys, triggers


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_to_row_keys_and_forward_again(city, published):
    Reminder.objects.create(
        kind="overdue",
        subject_type="assignment",
        subject_id=1,
        occurrence="o",
        recipient=city["station_lead"],
        audience="lead",
        colour="red",
        unit=city.units["33031001"],
        campaign=published,
        due_date=date(2026, 8, 31),
        batch="b",
    )
    keys, triggers = _state()
    assert keys == set()
    assert len(triggers) == 2 + 2 * 4 + 2 + 2 * 5  # two on each table, two on each table it names
    try:
        migrate([("notifications", "0015_risk_letter_events")])
        keys, triggers = _state()
        assert keys == {
            *(f"notifications_reminder.{c}" for c in ("recipient_id", "unit_id", "campaign_id", "digest_id")),
            *(
                f"notifications_message.{c}"
                for c in ("reminder_id", "digest_id", "event_id", "recipient_id", "unit_id")
            ),
        }
        assert triggers == set()
    finally:
        migrate(None)
    keys, triggers = _state()
    assert keys == set() and len(triggers) == 22
    assert Reminder.objects.count() == 1
    with pytest.raises(IntegrityError, match=r"notifications_reminder\.unit_id names"):
        Reminder.objects.filter(batch="b").update(unit_id=MISSING)


@pytest.mark.django_db(transaction=True)
def test_a_delete_racing_an_insert_waits_for_it_and_is_refused(city, published):
    """The insert's check locks the user FOR KEY SHARE, as a key does: a concurrent DELETE of him waits
    for the insert's COMMIT, and its own COMMIT then finds the new reminder naming him."""
    user = User.objects.create_user("temp", password="x")
    refused: list[Exception] = []
    pid: list[int] = []

    def delete_him():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])
        except IntegrityError as e:
            refused.append(e)
        finally:
            connection.close()

    with transaction.atomic():
        Reminder.objects.create(
            kind="overdue",
            subject_type="assignment",
            subject_id=1,
            occurrence="o",
            recipient=user,
            audience="lead",
            colour="red",
            unit=city.units["33031001"],
            campaign=published,
            due_date=date(2026, 8, 31),
            batch="b",
        )
        other = threading.Thread(target=delete_him)
        other.start()
        for _ in range(100):  # until the DELETE waits on the insert's lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # read anew inside this transaction
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid[0] if pid else 0])
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the DELETE did not wait for the insert")
    other.join(10)
    assert refused and f"accounts_user {user.pk} is still named by notifications_reminder" in str(refused[0])
    assert User.objects.filter(pk=user.pk).exists()
