"""A reminder's and a message's keys checked per statement, not per row (PostgreSQL).

The first sweep of a province writes ≈12,000 reminders and ≈14,000 messages in a few INSERT … SELECT
statements, and PostgreSQL queued a check of every deferred foreign key of every row for COMMIT
(4 per reminder, 5 per message, NULL ones included): ≈0.4 s of the quiet machine's 1.1 s first sweep
(README, "The first sweep"). Now, as tasks/0018 does for the assignments, each key's distinct values
are looked up once per INSERT statement over its transition table, locked FOR KEY SHARE and counted
(``utilities.statement_keys``); an UPDATE changing a key (the digest setting a reminder's) is checked
row by row, only those rows. The referenced tables (units, users, campaigns, digests, events,
reminders) refuse, at COMMIT, to delete or re-key a row that reminders or messages still name: row
by row and deferred, not per statement as 0018's, since Django's collector does not order deletes
along nullable keys (it deletes an event before its messages) and these deletes are rare.

Users are deactivated, not deleted, yet their side is guarded too: it costs nothing until a user is
deleted (Django's collector deletes his reminders and messages with him) and catches a raw delete.

PostgreSQL only: Django's state says ``db_constraint=False`` for the nine keys; SQLite (the embedded
demo, one writer) keeps its row keys (altering them would rebuild both tables).
"""
# ruff: noqa: S608 (only this module's constants are interpolated into its SQL)

from django.conf import settings
from django.db import migrations, models

from utilities.statement_keys import StatementKeys

CHECKED = [
    StatementKeys(
        "notifications_reminder",
        {
            "recipient_id": "accounts_user",
            "unit_id": "accounts_unit",
            "campaign_id": "tasks_campaign",
            "digest_id": "notifications_digest",
        },
        "reminder_keys",
    ),
    StatementKeys(
        "notifications_message",
        {
            "reminder_id": "notifications_reminder",
            "digest_id": "notifications_digest",
            "event_id": "notifications_event",
            "recipient_id": "accounts_user",
            "unit_id": "accounts_unit",
        },
        "message_keys",
    ),
]


def _row_keys(schema_editor, checked: StatementKeys) -> list[str]:
    """The names of Django's one-column keys that ``checked`` replaces (hashed: looked up)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, checked.table)
    return [
        name
        for name, c in found.items()
        if c["foreign_key"]
        and len(c["columns"]) == 1
        and checked.keys.get(c["columns"][0]) == c["foreign_key"][0]
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for checked in CHECKED:
        for name in _row_keys(schema_editor, checked):
            schema_editor.execute(f"ALTER TABLE {checked.table} DROP CONSTRAINT {schema_editor.quote_name(name)}")
        schema_editor.execute(checked.forward(), params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for checked in reversed(CHECKED):
        schema_editor.execute(checked.backward(), params=None)
        for column, table in checked.keys.items():
            schema_editor.execute(
                f"ALTER TABLE {checked.table} ADD CONSTRAINT {checked.table}_{column}_fk_{table}_id "
                f"FOREIGN KEY ({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
            )


def _unconstrained(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(db_constraint=False, **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0015_risk_letter_events"),
        ("accounts", "0002_unit_doc_prefix"),
        ("tasks", "0018_assignment_keys_per_statement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reminder",
                    name="recipient",
                    field=_unconstrained(
                        on_delete=models.deletion.CASCADE,
                        related_name="reminders",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
                migrations.AlterField(
                    model_name="reminder",
                    name="unit",
                    field=_unconstrained(
                        on_delete=models.deletion.CASCADE, related_name="+", to="accounts.unit", verbose_name="unit"
                    ),
                ),
                migrations.AlterField(
                    model_name="reminder",
                    name="campaign",
                    field=_unconstrained(
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="tasks.campaign",
                        verbose_name="campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="reminder",
                    name="digest",
                    field=_unconstrained(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="reminders",
                        to="notifications.digest",
                        verbose_name="in digest",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="reminder",
                    field=_unconstrained(
                        blank=True,
                        null=True,
                        on_delete=models.deletion.CASCADE,
                        related_name="messages",
                        to="notifications.reminder",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="digest",
                    field=_unconstrained(
                        blank=True,
                        null=True,
                        on_delete=models.deletion.CASCADE,
                        related_name="messages",
                        to="notifications.digest",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="event",
                    field=_unconstrained(
                        blank=True,
                        null=True,
                        on_delete=models.deletion.CASCADE,
                        related_name="messages",
                        to="notifications.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="recipient",
                    field=_unconstrained(
                        on_delete=models.deletion.CASCADE, related_name="messages", to=settings.AUTH_USER_MODEL
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="unit",
                    field=_unconstrained(
                        help_text="The unit the message is about (for HQ's scoped view)",
                        null=True,
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.unit",
                        verbose_name="unit",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
