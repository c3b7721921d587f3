from django.db import migrations


def schedule(apps, schema_editor):
    """Every 10 minutes: the plan uploads' jobs whose message was lost (a Redis restart) or whose worker died are queued again."""
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_ten, _ = Interval.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(name="重发丢失的方案导入任务（每10分钟）", defaults={"task": "tasks.resend_stalled_plan_uploads", "interval": every_ten})


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0013_assignment_receipt"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
