"""The Celery app. Background jobs live in each app's jobs.py (see docs/architecture.md)."""

import os

from celery import Celery

from .health import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ops.settings")

app = Celery("ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

# Every worker announces itself for /healthz/ (a key with a TTL in Redis, see ops/health.py).
app.steps["worker"].add(WorkerHeartbeat)
