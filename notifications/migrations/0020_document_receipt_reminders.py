"""未签收 of official documents and of risk letters of no campaign (the gaps left by issues 21 and 22).

- A reminder may be about ``doc_unack`` (a recipient unit that has not acknowledged an issued document),
  with its two texts seeded as editable templates, as 0012 and 0018 did for the notices' and letters'.
- The sweep reads the documents' tables: a statement writing one of them leaves a ``SweepChange`` row
  (PostgreSQL; the function of 0013), so that a same-day sweep re-runs the documents' source.
- A reminder's campaign may be empty: a risk letter of no campaign is reminded under the default rules.
  PostgreSQL drops the NOT NULL (its keys are checked per statement since 0016, NULLs left out). SQLite
  rebuilds the table, and keeps its row keys while doing so: Django's state says ``db_constraint=False``
  for the four keys (PostgreSQL's per-statement check replaced them there), and a rebuild from the state
  alone would drop SQLite's.
"""

import copy

import django.db.models.deletion
from django.db import migrations, models

# the words as of this migration (notifications.texts may change later; this seeds what is missing)
from notifications.texts import TEXTS

SUBJECTS = [
    ("assignment", "Checklist item deadline"),
    ("checkin", "Periodic check-in"),
    ("finding", "Rectification deadline"),
    ("hotspot", "Hotspot inspection"),
    ("round", "Round statistics"),
    ("unacked", "Assignment not acknowledged"),
    ("notice_unack", "Rectification notice not acknowledged"),
    ("letter_unack", "Risk letter not acknowledged"),
    ("doc_unack", "Document not acknowledged"),
    ("event", "Event (work reaches people)"),
]
WATCHED = ("documents_document", "documents_documentrecipient")  # as 0013's: every write, statement-level
KEYS = ("recipient", "unit", "campaign", "digest")  # the reminder's keys SQLite checks row by row


def seed_document_texts(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for (subject_type, kind, audience), (subject, body) in TEXTS.items():
        if subject_type == "doc_unack":
            MessageTemplate.objects.get_or_create(
                subject_type=subject_type, kind=kind, audience=audience, defaults={"subject": subject, "body": body}
            )


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: every sweep runs in full
    for table in WATCHED:
        schema_editor.execute(
            f"CREATE TRIGGER sweep_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notifications_sweep_changed()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in WATCHED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS sweep_changed ON {table}")


def _alter_campaign(apps, schema_editor, *, null: bool):
    Reminder = apps.get_model("notifications", "Reminder")
    if not null:  # back: the reminders of no campaign (letters outside any operation) cannot stay
        Reminder.objects.filter(campaign=None).delete()
    if schema_editor.connection.vendor == "postgresql":
        verb = "DROP" if null else "SET"
        schema_editor.execute(f"ALTER TABLE notifications_reminder ALTER COLUMN campaign_id {verb} NOT NULL")
        return
    for name in KEYS:  # this historical model only (the state is rendered again after this migration)
        Reminder._meta.get_field(name).db_constraint = True
    # the state given here is the one before the migration both ways (SeparateDatabaseAndState's database
    # operations see no state operation): the column's two sides are said here
    old, new = copy.copy(Reminder._meta.get_field("campaign")), copy.copy(Reminder._meta.get_field("campaign"))
    old.null = old.blank = not null
    new.null = new.blank = null
    schema_editor.alter_field(Reminder, old, new)


def campaign_may_be_empty(apps, schema_editor):
    _alter_campaign(apps, schema_editor, null=True)


def campaign_required(apps, schema_editor):
    _alter_campaign(apps, schema_editor, null=False)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0019_event_of_no_campaign"),
        ("documents", "0003_recipients"),  # the watched tables exist
    ]

    operations = [
        migrations.AlterField(
            model_name="messagetemplate",
            name="subject_type",
            field=models.CharField(choices=SUBJECTS, default="assignment", max_length=12, verbose_name="about"),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="subject_type",
            field=models.CharField(choices=SUBJECTS, max_length=12, verbose_name="about"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reminder",
                    name="campaign",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tasks.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(campaign_may_be_empty, campaign_required)],
        ),
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(seed_document_texts, migrations.RunPython.noop),
    ]
