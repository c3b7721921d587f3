"""The beat's schedule edited in the admin (by a superuser: no role opens it) leaves a trail like every
other change: a save says before → after, a bulk action one event per task."""

from __future__ import annotations

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import User
from audit.models import AuditEvent
from tests.accounts.test_admin_writes import form_data
from tests.web.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(city) -> User:
    return User.objects.create_superuser("root", password="pw-root", unit=city.units["3303"])


def test_a_schedule_change_and_the_bulk_actions_are_audited(root):
    client = login(root)
    deliver = PeriodicTask.objects.get(task="notifications.deliver")
    url = f"/admin/django_celery_beat/periodictask/{deliver.pk}/change/"
    data = form_data(client.get(url))
    data["description"] = "每分钟投递"
    assert client.post(url, data).status_code == 302
    (saved,) = AuditEvent.objects.filter(verb="periodictask.updated", object_id=deliver.pk)
    assert saved.actor == root and saved.changes["description"] == ["", "每分钟投递"]

    sweep = PeriodicTask.objects.get(task="notifications.sweep")
    picked = {"action": "disable_tasks", "_selected_action": [deliver.pk, sweep.pk]}
    assert client.post("/admin/django_celery_beat/periodictask/", picked).status_code == 302
    assert not PeriodicTask.objects.filter(pk__in=[deliver.pk, sweep.pk], enabled=True).exists()
    disabled = AuditEvent.objects.filter(verb="periodictask.disabled").order_by("object_id")
    assert [(e.object_id, e.changes["enabled"]) for e in disabled] == [
        (min(deliver.pk, sweep.pk), [True, False]),
        (max(deliver.pk, sweep.pk), [True, False]),
    ]

    ten = IntervalSchedule.objects.get(every=10, period="minutes")
    url = f"/admin/django_celery_beat/intervalschedule/{ten.pk}/change/"
    data = form_data(client.get(url))
    data["every"] = "15"
    assert client.post(url, data).status_code == 302
    (interval,) = AuditEvent.objects.filter(verb="intervalschedule.updated", object_id=ten.pk)
    assert interval.changes["every"] == [10, 15]
