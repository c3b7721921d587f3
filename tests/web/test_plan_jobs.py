"""HQ's plan upload as a background job (issue 17): the dry run and the import queued, their progress
polled as JSON and shown as a bar, a broken file failed with its problems located, a double
confirmation imported once; the stored file downloaded by HQ only; old uploads never imported purged.

Celery runs eagerly here (the task runs in this process when the queueing transaction commits, as
``django_capture_on_commit_callbacks`` lets it), so the job's own code path runs, claim and all.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import Role, RoleGrant, UnitKind
from audit.models import AuditEvent
from ops.celery import app as celery_app
from tasks import jobs
from tasks.models import Assignment, Campaign, Item, PlanJobState, PlanUpload, PlanUploadStatus
from tasks.services import plan_uploads
from tasks.services.plan_uploads import purge_plan_uploads, run_upload_job
from tests.conftest import make_user
from tests.processes import start_worker, until  # noqa: F401  (a fixture)
from tests.tasks.planfiles import CAMPAIGN, PLAN, with_row, write_xlsx
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db

NEW = {"name": "夏季行动", "code": "XJ", "start": CAMPAIGN["start"], "end": CAMPAIGN["end"], "owner": "3303"}


@pytest.fixture(autouse=True)
def _background(settings, monkeypatch):
    settings.PLAN_UPLOADS_IN_BACKGROUND = True
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def xlsx(tmp_path, plan=PLAN, name="plan.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, write_xlsx(tmp_path / name, plan).read_bytes())


def status(client, upload: PlanUpload) -> dict:
    response = client.get(f"/plans/{upload.pk}/status/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_the_dry_run_is_queued_polled_and_shown(city, tmp_path, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks() as queued:
        response = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})
    assert response.status_code == 302
    upload = PlanUpload.objects.get()
    assert upload.status == PlanUploadStatus.PENDING and upload.job_state == PlanJobState.QUEUED
    assert len(queued) == 1  # the job goes to the queue once the upload is committed, not before
    page = text(hq.get(response["Location"]))
    assert 'id="job"' in page and "<progress" in page and "js/plan_job.js" in page
    assert 'id="confirm"' not in page and 'id="changes"' not in page  # nothing to confirm yet
    assert status(hq, upload) == {
        "id": upload.pk,
        "status": "pending",
        "job": "preview",
        "state": "queued",
        "pending": True,
        "progress": 0,
        "message": "排队等待后台处理",
    }
    queued[0]()  # the worker runs it
    job = status(hq, upload)
    assert (job["state"], job["status"], job["pending"], job["progress"]) == ("done", "previewed", False, 100)
    page = text(hq.get(response["Location"]))
    assert 'id="job"' not in page and "js/plan_job.js" not in page and 'id="confirm"' in page
    assert 'id="by-kind"' in page and "派出所" in page
    assert not Campaign.objects.exists()


def test_the_bar_hears_every_stage_while_the_job_runs(city, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    """The status view, asked from inside the running job at each report, moves forward through the stages."""
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})
    upload = PlanUpload.objects.get()
    seen: list[tuple[str, int, str]] = []
    report = plan_uploads._Reporter.__call__

    def watched(self, stage, done, total):
        report(self, stage, done, total)
        job = status(hq, upload)
        seen.append((job["state"], job["progress"], job["message"]))

    monkeypatch.setattr(plan_uploads._Reporter, "__call__", watched)
    with django_capture_on_commit_callbacks(execute=True):
        hq.post(f"/plans/{upload.pk}/", {"publish": "on"})
    assert {state for state, _, _ in seen} == {"running"}
    percents = [p for _, p, _ in seen]
    assert percents == sorted(percents) and percents[0] < 10 and percents[-1] >= 95
    messages = [m for _, _, m in seen]
    assert any(m.startswith("正在读取") for m in messages) and any("任务分配 12/12" in m for m in messages)
    upload.refresh_from_db()
    assert upload.status == PlanUploadStatus.IMPORTED and upload.progress == 100
    assert status(hq, upload)["progress"] == 100


def test_confirmation_queued_once_and_a_double_click_refused(city, tmp_path, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})["Location"]
    upload = PlanUpload.objects.get()
    with django_capture_on_commit_callbacks() as queued:
        assert hq.post(location, {"publish": "on"}).status_code == 302
        again = hq.post(location, {"publish": "on"})  # the double click, before the worker started
    assert again.status_code == 400 and "不能重复提交" in text(again)
    assert len(queued) == 1 and not Campaign.objects.exists()
    job = status(hq, upload)
    assert (job["job"], job["state"], job["pending"]) == ("import", "queued", True)
    assert 'id="job"' in text(hq.get(location))
    queued[0]()
    assert run_upload_job(upload_id=upload.pk) == "skipped"  # a redelivered task finds it done
    campaign = Campaign.objects.get(code="XJ")
    assert campaign.assignments.count() == 12 and Item.objects.count() == 4
    assert AuditEvent.objects.filter(verb="plan.imported", actor=city["hq"]).count() == 1
    assert AuditEvent.objects.filter(verb="plan.confirmed", actor=city["hq"]).count() == 1
    job = status(hq, upload)
    assert (job["status"], job["state"], job["progress"]) == ("imported", "done", 100)
    late = hq.post(location, {"publish": "on"})
    assert late.status_code == 400 and "不能重复导入" in text(late)
    assert Assignment.objects.count() == 12


def test_a_job_whose_message_was_lost_is_sent_again(city, tmp_path, django_capture_on_commit_callbacks):
    """Redis keeps nothing on disk: a restart loses the queued message. The 10-minute beat queues again
    every job still queued and every running one whose worker died; a fresh running one is left alone."""
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=False):  # the messages never reach a worker
        for code in ("A", "B", "C"):
            hq.post("/plans/", {**NEW, "code": code, "file": xlsx(tmp_path)})
    lost, died, busy = PlanUpload.objects.order_by("pk")
    now = timezone.now()
    PlanUpload.objects.filter(pk=died.pk).update(
        job_state=PlanJobState.RUNNING, started_at=now - plan_uploads.STALE_AFTER * 2
    )
    PlanUpload.objects.filter(pk=busy.pk).update(job_state=PlanJobState.RUNNING, started_at=now)
    assert plan_uploads.stalled_uploads() == [lost.pk, died.pk]
    assert jobs.resend_stalled_plan_uploads() == {"resent": [lost.pk, died.pk]}
    states = dict(PlanUpload.objects.values_list("pk", "job_state"))
    assert states == {lost.pk: PlanJobState.DONE, died.pk: PlanJobState.DONE, busy.pk: PlanJobState.RUNNING}
    assert PlanUpload.objects.get(pk=lost.pk).status == PlanUploadStatus.PREVIEWED
    assert jobs.resend_stalled_plan_uploads() == {"resent": []}


def test_a_broken_file_fails_with_its_problems_located_and_writes_nothing(
    city, tmp_path, django_capture_on_commit_callbacks
):
    hq = login(city["hq"])
    broken = with_row(PLAN, 0, 1, lead="治安大队", deadline="明年")
    with django_capture_on_commit_callbacks(execute=True):
        location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, broken, "broken.xlsx")})["Location"]
    upload = PlanUpload.objects.get()
    job = status(hq, upload)
    assert (job["status"], job["state"], job["pending"]) == ("failed", "failed", False)
    assert "处问题" in job["message"]
    page = text(hq.get(location))
    assert 'id="problems"' in page and "责任清单 第5行" in page and "治安大队" in page and "明年" in page
    assert 'id="confirm"' not in page
    assert not Campaign.objects.exists() and not Item.objects.exists()
    assert hq.post(location, {"publish": "on"}).status_code == 400


def test_a_job_whose_user_lost_the_right_fails_with_a_message(city, tmp_path, django_capture_on_commit_callbacks):
    from accounts.services import grant_role, revoke_role

    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})["Location"]
    upload = PlanUpload.objects.get()
    with django_capture_on_commit_callbacks() as queued:
        hq.post(location, {"publish": "on"})
    revoke_role(grant=RoleGrant.objects.get(user=city["hq"], role=Role.HQ))
    queued[0]()
    upload.refresh_from_db()
    assert upload.job_state == PlanJobState.FAILED and "领导小组办公室" in upload.message
    assert upload.status == PlanUploadStatus.PREVIEWED  # nothing written: may be confirmed again by HQ
    assert not Campaign.objects.exists()
    # a dry run queued before the right was lost: failed, its message on the page, nothing to confirm
    grant_role(user=city["hq"], role=Role.HQ, unit=city["3303"])
    with django_capture_on_commit_callbacks() as queued:
        location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, name="again.xlsx")})["Location"]
    revoke_role(grant=RoleGrant.objects.get(user=city["hq"], role=Role.HQ))
    queued[0]()
    again = PlanUpload.objects.latest("pk")
    assert (again.status, again.job_state) == (PlanUploadStatus.FAILED, PlanJobState.FAILED)
    grant_role(user=city["hq"], role=Role.HQ, unit=city["3303"])
    page = text(hq.get(location))
    assert 'id="job-failed"' in page and "领导小组办公室" in page
    assert 'id="changes"' not in page and 'id="confirm"' not in page


def test_the_stored_file_is_downloaded_by_hq_only(city, tmp_path, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    sent = xlsx(tmp_path, name="江城方案.xlsx")
    with django_capture_on_commit_callbacks(execute=True):
        location = hq.post("/plans/", {**NEW, "file": sent})["Location"]
    upload = PlanUpload.objects.get()
    page = text(hq.get(location))
    assert f'href="/plans/{upload.pk}/file/"' in page
    response = hq.get(f"/plans/{upload.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (tmp_path / "江城方案.xlsx").read_bytes()
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "%E6%B1%9F%E5%9F%8E" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    east_hq = make_user("east_hq", city["330310"], (Role.HQ, city["330310"]))
    assert login(east_hq).get(f"/plans/{upload.pk}/file/").status_code == 404
    assert login(east_hq).get(f"/plans/{upload.pk}/status/").status_code == 404
    assert login(city["station_lead"]).get(f"/plans/{upload.pk}/file/").status_code == 403
    assert hq.get(f"/plans/{upload.pk + 1000}/file/").status_code == 404


def test_a_stored_file_gone_from_the_disk_is_a_404_not_a_500(
    city, tmp_path, django_capture_on_commit_callbacks, caplog
):
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, name="p.xlsx")})
    upload = PlanUpload.objects.get()
    upload.file.storage.delete(upload.file.name)
    assert hq.get(f"/plans/{upload.pk}/file/").status_code == 404
    assert f"stored file missing: {upload.file.name}" in caplog.text


def test_old_uploads_never_imported_are_purged_with_their_files(city, tmp_path, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            hq.post("/plans/", {**NEW, "code": f"XJ{n}", "file": xlsx(tmp_path, name=f"p{n}.xlsx")})
        broken = with_row(PLAN, 0, 1, deadline="明年")
        hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, broken, "broken.xlsx")})
    imported, left, recent, failed = PlanUpload.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        hq.post(f"/plans/{imported.pk}/", {"publish": "on"})
    old = timezone.now() - timedelta(days=31)
    PlanUpload.objects.exclude(pk=recent.pk).update(uploaded_at=old)
    paths = {u.pk: u.file.path for u in PlanUpload.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_plan_uploads() == 2
    assert set(PlanUpload.objects.values_list("pk", flat=True)) == {imported.pk, recent.pk}
    assert not any(_exists(paths[pk]) for pk in (left.pk, failed.pk))
    assert _exists(paths[imported.pk]) and _exists(paths[recent.pk])
    purged = AuditEvent.objects.filter(verb="plan.purged")
    assert sorted(purged.values_list("object_id", flat=True)) == sorted([left.pk, failed.pk])
    # the command: recent one too, with --days 0; imported ones are never purged
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_plan_uploads", "--days", "0", stdout=_Sink())
    assert list(PlanUpload.objects.values_list("pk", flat=True)) == [imported.pk]


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).exists()


class _Sink:
    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass


def test_the_preview_counts_assignments_per_unit_kind(city, tmp_path, django_capture_on_commit_callbacks):
    hq = login(city["hq"])
    with django_capture_on_commit_callbacks(execute=True):
        location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})["Location"]
    upload = PlanUpload.objects.get()
    counts = upload.result["by_unit_kind"]
    assert sum(counts.values()) == upload.result["assignments"] == 12
    with django_capture_on_commit_callbacks(execute=True):
        hq.post(location, {"publish": "on"})
    from django.db.models import Count

    written = dict(
        Assignment.objects.filter(is_active=True).values_list("unit__kind").annotate(n=Count("id")).order_by()
    )
    assert counts == written  # the dry run counted what the import wrote
    table = text(hq.get(location)).split('id="by-kind"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table)
    with translation.override("zh-hans"):
        assert rows == [(str(UnitKind(k).label), str(n)) for k, n in sorted(written.items(), key=_kind_order)]
    assert ("派出所", str(written["station"])) in rows


def _kind_order(pair) -> int:
    return list(UnitKind.values).index(pair[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"] or not settings.REDIS_URL,
    reason="a worker process shares the test database and the Redis of the queue: PostgreSQL and REDIS_URL",
)
def test_a_real_worker_runs_the_dry_run_and_the_import(city, tmp_path, request, monkeypatch):
    """No eager Celery: the page queues on Redis, a ``celery worker`` process runs the job, the page
    polls the status JSON until it ends."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    worker = request.getfixturevalue("start_worker")(
        concurrency=1, on=settings.REDIS_URL, MEDIA_ROOT=str(settings.MEDIA_ROOT)
    )
    hq = login(city["hq"])
    location = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})["Location"]
    upload = PlanUpload.objects.get()
    until(lambda: not status(hq, upload)["pending"], "the dry run")
    assert status(hq, upload)["status"] == "previewed" and not Campaign.objects.exists()
    assert hq.post(location, {"publish": "on"}).status_code == 302
    assert "不能重复" in text(hq.post(location, {"publish": "on"}))  # queued or already done: refused
    until(lambda: not status(hq, upload)["pending"], "the import")
    assert status(hq, upload)["status"] == "imported"
    assert Campaign.objects.get(code="XJ").assignments.count() == 12
    assert [r["outcome"] for r in worker.wait_results("tasks.run_plan_upload", 2)] == ["done", "done"]


# --- the API: 202 and the job's status URL -------------------------------------------------------------


def test_the_api_answers_202_with_the_jobs_status_url(city, tmp_path, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from tests.tasks.test_plan_upload import command_json

    client = APIClient()
    client.force_authenticate(city["hq"])
    path = write_xlsx(tmp_path / "plan.xlsx")
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/api/v1/plans/", {"file": xlsx(tmp_path), **NEW}, format="multipart")
    assert response.status_code == 202, response.content
    job = response.json()
    upload = PlanUpload.objects.get()
    assert job["status_url"] == f"/api/v1/plans/{upload.pk}/" and job["pending"] and job["result"] is None
    assert (job["job"], job["state"]) == ("preview", "queued")
    queued[0]()
    done = client.get(job["status_url"]).json()
    assert (done["state"], done["status"], done["pending"]) == ("done", "previewed", False)
    # the same JSON as the command's, by_unit_kind included
    want = command_json(path, campaign=NEW["name"], code="XJ", start=NEW["start"], end=NEW["end"], owner="3303")
    assert done["result"] == want and "by_unit_kind" in want
    assert not Campaign.objects.exists()
    # dry_run=false: the import itself is the job; it publishes as asked
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/plans/", {"file": xlsx(tmp_path), **NEW, "dry_run": "false", "publish": "true"}, format="multipart"
        )
    assert response.status_code == 202
    imported = client.get(response.json()["status_url"]).json()
    assert (imported["status"], imported["state"]) == ("imported", "done")
    assert imported["result"]["published"] and Campaign.objects.get(code="XJ").assignments.count() == 12
    # a broken file: the job fails with its problems located, nothing written
    broken = with_row(PLAN, 0, 1, lead="治安大队")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/plans/", {"file": xlsx(tmp_path, broken, "b.xlsx"), **NEW, "code": "B"}, format="multipart"
        )
    failed = client.get(response.json()["status_url"]).json()
    assert (failed["status"], failed["state"]) == ("failed", "failed")
    assert failed["result"]["errors"][0]["row"] == 5 and not Campaign.objects.filter(code="B").exists()
    # the status URL is HQ's over the owner only
    east_hq = make_user("east_hq", city["330310"], (Role.HQ, city["330310"]))
    outsider = APIClient()
    outsider.force_authenticate(east_hq)
    assert outsider.get(job["status_url"]).status_code == 404
