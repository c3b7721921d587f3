"""Celery tasks of the boards: making an export in the background (see boards/exports.py).

Safe to run twice or at once: the export is claimed with a conditional UPDATE and every later write
holds that claim. With ``acks_late`` a task whose worker died is delivered again, and takes the export
over once its claim is older than the hard time limit. The task names are what queued messages carry:
they never change, whatever the functions they call are named.
"""

from __future__ import annotations

from celery import shared_task

from .exports import SOFT_TIME_LIMIT, TIME_LIMIT, expire_exports, make_export, stalled_exports


@shared_task(name="boards.run_export", acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def run_export(export_id: int) -> dict:
    return {"export": export_id, "outcome": make_export(export_id=export_id)}


@shared_task(name="boards.purge_exports")
def purge_exports() -> dict:
    """Daily (03:30): clear the files of old exports."""
    return {"expired": expire_exports()}


@shared_task(name="boards.resend_stalled_exports")
def resend_stalled_exports() -> dict:
    """Every 10 minutes: queue again the exports whose message was lost or whose worker died."""
    stalled = stalled_exports()
    for export_id in stalled:
        run_export.delay(export_id)
    return {"resent": stalled}
