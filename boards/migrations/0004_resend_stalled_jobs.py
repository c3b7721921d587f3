from django.db import migrations


def schedule(apps, schema_editor):
    """Every 10 minutes: the exports whose message was lost (a Redis restart) or whose worker died are queued again."""
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_ten, _ = Interval.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(name="重发丢失的导出任务（每10分钟）", defaults={"task": "boards.resend_stalled_exports", "interval": every_ten})


class Migration(migrations.Migration):
    dependencies = [
        ("boards", "0003_export_expiry"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
