"""A fifth subject: results statistics of a round not reported (集中统一行动战果报送), and its texts
for HQ to edit."""

from django.db import migrations, models

# the words as of this migration (notifications.texts.TEXTS may change later; this seeds what is missing)
from notifications.texts import TEXTS


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for (subject_type, kind, audience), (subject, body) in TEXTS.items():
        if subject_type == "round":
            MessageTemplate.objects.get_or_create(
                subject_type=subject_type, kind=kind, audience=audience, defaults={"subject": subject, "body": body}
            )


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0007_message_queue_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='messagetemplate',
            name='subject_type',
            field=models.CharField(choices=[('assignment', 'Checklist item deadline'), ('checkin', 'Periodic check-in'), ('finding', 'Rectification deadline'), ('hotspot', 'Hotspot inspection'), ('round', 'Round statistics')], default='assignment', max_length=12, verbose_name='about'),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='subject_type',
            field=models.CharField(choices=[('assignment', 'Checklist item deadline'), ('checkin', 'Periodic check-in'), ('finding', 'Rectification deadline'), ('hotspot', 'Hotspot inspection'), ('round', 'Round statistics')], max_length=12, verbose_name='about'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
