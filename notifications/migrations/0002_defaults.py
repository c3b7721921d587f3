"""The default rules, the Chinese message texts HQ can edit, and the periodic tasks in the database
schedule (django-celery-beat): a sweep every hour, a drain every minute."""

from django.conf import settings
from django.db import migrations

TEMPLATES = [
    ("due_soon", "lead", "【督办提醒·蓝】{{ item.code }} 将于{{ due }}到期",
     "{{ recipient.get_full_name }}：\n{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”，{{ unit.name }}"
     "完成时限为{{ due }}，请抓紧推进，按时报送。"),
    ("due_today", "lead", "【督办提醒·蓝】{{ item.code }} 今天到期",
     "{{ recipient.get_full_name }}：\n{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”，{{ unit.name }}"
     "今天（{{ due }}）到期，请于今日内完成并提交验收。"),
    ("overdue", "lead", "【督办·红】{{ item.code }} 已逾期{{ days_late }}天",
     "{{ recipient.get_full_name }}：\n{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”，{{ unit.name }}"
     "完成时限{{ due }}，已逾期{{ days_late }}天。请立即落实，并说明原因、明确完成时间。"),
    ("overdue", "leader", "【督办·红】您分管的{{ item.code }}项{{ unit.name }}已逾期{{ days_late }}天",
     "{{ recipient.get_full_name }}：\n您分管的{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”，"
     "{{ unit.name }}完成时限{{ due }}，已逾期{{ days_late }}天，请督促落实。"),
    ("overdue", "superior", "【督办·红】下级单位{{ unit.name }}{{ item.code }}项已逾期{{ days_late }}天",
     "{{ recipient.get_full_name }}：\n下级单位{{ unit.name }}承担的{{ campaign.name }}第{{ item.code }}项"
     "“{{ item.title }}”完成时限{{ due }}，已逾期{{ days_late }}天，请督促其落实。"),
    ("overdue", "hq", "【督办·红】{{ unit.name }}{{ item.code }}项逾期{{ days_late }}天",
     "{{ unit.name }}承担的{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”完成时限{{ due }}，"
     "已逾期{{ days_late }}天，已提醒单位负责人、分管领导和上级单位。"),
]


def forwards(apps, schema_editor):
    Policy = apps.get_model("notifications", "Policy")
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    if not Policy.objects.filter(campaign=None).exists():
        Policy.objects.create(campaign=None)
    for kind, audience, subject, body in TEMPLATES:
        MessageTemplate.objects.get_or_create(kind=kind, audience=audience, defaults={"subject": subject, "body": body})
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = Crontab.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    every_minute, _ = Interval.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="提醒扫描（每小时）", defaults={"task": "notifications.sweep", "crontab": hourly}
    )
    PeriodicTask.objects.get_or_create(
        name="消息投递（每分钟）", defaults={"task": "notifications.deliver", "interval": every_minute}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
