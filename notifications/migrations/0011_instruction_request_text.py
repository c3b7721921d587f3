from django.db import migrations

# the words as of this migration (notifications.texts may change later; this seeds what is missing)
from notifications.texts import EVENT_TEXTS


def seed_request_text(apps, schema_editor):
    """报请领导批示: the words for the leader a request for instruction is addressed to, as an editable row."""
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    key = ("event", "commented", "requester")
    subject, body = EVENT_TEXTS[key]
    MessageTemplate.objects.get_or_create(
        subject_type=key[0], kind=key[1], audience=key[2], defaults={"subject": subject, "body": body}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_chased_event"),
    ]

    operations = [migrations.RunPython(seed_request_text, migrations.RunPython.noop)]
