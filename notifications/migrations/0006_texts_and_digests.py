"""Texts for the new subjects (check-ins, findings, hotspots, behind pace) and the digest schedule:
the daily digest at 08:30 (after the 08:05 sweep) and the weekly summary on Mondays at 08:40."""

from django.conf import settings
from django.db import migrations

# the words as of this migration (notifications.texts.TEXTS may change later; this seeds what is missing)
from notifications.texts import TEXTS


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for (subject_type, kind, audience), (subject, body) in TEXTS.items():
        MessageTemplate.objects.get_or_create(
            subject_type=subject_type, kind=kind, audience=audience, defaults={"subject": subject, "body": body}
        )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, weekday in [
        ("每日提醒汇总（8:30）", "notifications.daily_digest", "30", "*"),
        ("每周督办汇总（周一8:40）", "notifications.weekly_summary", "40", "1"),
    ]:
        crontab, _ = Crontab.objects.get_or_create(
            minute=minute, hour="8", day_of_week=weekday, day_of_month="*", month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_subjects_digests"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
