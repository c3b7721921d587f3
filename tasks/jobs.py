"""Celery tasks of the tasks app: an uploaded plan's dry run or import in the background
(``tasks/services/plan_uploads.py``), and the clearing of old uploads.

Safe to run twice or at once: the upload's job is claimed with a conditional UPDATE (a lease) and the
import locks the upload's row, so a redelivered task (``acks_late``) imports nothing twice. The task
names are what queued messages carry: they never change, whatever the functions are named.
"""

from __future__ import annotations

from celery import shared_task

from .services.plan_uploads import SOFT_TIME_LIMIT, TIME_LIMIT, purge_plan_uploads, run_upload_job, stalled_uploads


@shared_task(name="tasks.run_plan_upload", acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def run_plan_upload(upload_id: int) -> dict:
    return {"upload": upload_id, "outcome": run_upload_job(upload_id=upload_id)}


@shared_task(name="tasks.purge_plan_uploads")
def purge_old_plan_uploads() -> dict:
    """Daily (03:40): delete the uploads never imported, older than PLAN_UPLOAD_KEEP_DAYS, with their files."""
    return {"deleted": purge_plan_uploads()}


@shared_task(name="tasks.resend_stalled_plan_uploads")
def resend_stalled_plan_uploads() -> dict:
    """Every 10 minutes: queue again the jobs whose message was lost or whose worker died."""
    stalled = stalled_uploads()
    for upload_id in stalled:
        run_plan_upload.delay(upload_id)
    return {"resent": stalled}
