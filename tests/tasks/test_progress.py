"""Progress reports with evidence, comments and the timeline, through the API."""

import io
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tasks.models import Assignment, Evidence, ProgressReport

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def word_file() -> bytes:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("清查台账")
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def chengguan():
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


def post_report(user, assignment, **data):
    return api(user).post(f"/api/v1/assignments/{assignment.pk}/reports/", data, format="multipart")


def test_report_with_evidence_adds_up_and_starts_the_work(city, published, chengguan, settings):
    lead = city["station_lead"]
    response = post_report(lead, chengguan, value="180", text="清查夜宵摊 180 家次", files=[upload("现场.jpg", JPEG)])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["evidence"][0]["content_type"] == "image/jpeg" and body["evidence"][0]["name"] == "现场.jpg"
    post_report(lead, chengguan, value="140", files=[upload("台账.docx", word_file())])
    chengguan.refresh_from_db()
    assert chengguan.progress == Decimal("320") and chengguan.status == "in_progress" and chengguan.version == 3
    detail = api(lead).get(f"/api/v1/assignments/{chengguan.pk}/").json()
    assert (detail["progress"], detail["target"]) == ("320.00", "300.00")
    stored = Evidence.objects.get(name="台账.docx")
    assert stored.content_type.endswith("wordprocessingml.document")
    assert stored.file.name.startswith(f"evidence/{chengguan.campaign_id}/{chengguan.pk}/")
    assert (Path(settings.MEDIA_ROOT) / stored.file.name).exists()


def test_evidence_is_served_only_in_scope(city, published, chengguan):
    post_report(city["station_lead"], chengguan, files=[upload("现场.jpg", JPEG)])
    evidence = Evidence.objects.get()
    url = f"/api/v1/evidence/{evidence.pk}/download/"
    response = api(city["hq"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert api(city["west_lead"]).get(url).status_code == 404
    assert api(city["east_leader"]).get(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "不是可接受的类型"),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 50, "不是可接受的类型"),
        ("empty.pdf", b"", "文件为空"),
    ],
)
def test_refused_files_write_nothing(city, published, chengguan, settings, name, content, message):
    response = post_report(
        city["station_lead"], chengguan, value="5", files=[upload("ok.jpg", JPEG), upload(name, content)]
    )
    assert response.status_code == 400 and message in response.json()["detail"]
    assert ProgressReport.objects.count() == 0 and Evidence.objects.count() == 0
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.*"))
    chengguan.refresh_from_db()
    assert chengguan.progress == 0 and chengguan.version == 1


def test_size_limit(city, published, chengguan, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = post_report(city["station_lead"], chengguan, files=[upload("big.jpg", JPEG)])
    assert response.status_code == 400 and "超过上限" in response.json()["detail"]


def test_a_path_in_the_name_is_dropped(city, published, chengguan):
    post_report(city["station_lead"], chengguan, files=[upload("../../etc/passwd.jpg", JPEG)])
    evidence = Evidence.objects.get()
    assert evidence.name == "passwd.jpg" and ".." not in evidence.file.name


def test_who_may_report_and_when(city, published, chengguan):
    assert post_report(city["hq"], chengguan, value="1").status_code == 403
    assert post_report(city["west_lead"], chengguan, value="1").status_code == 404
    assert post_report(city["station_lead"], chengguan).status_code == 400  # nothing to report
    assert post_report(city["station_lead"], chengguan, value="-3").status_code == 400
    api(city["station_lead"]).post(
        f"/api/v1/assignments/{chengguan.pk}/transition/", {"name": "submit", "confirm_shortfall": True}
    )
    refused = post_report(city["station_lead"], chengguan, value="1")
    assert refused.status_code == 400 and refused.json()["allowed"] == []


def test_comments_and_the_timeline(city, published, chengguan):
    lead, leader = city["station_lead"], city["east_leader"]
    post_report(lead, chengguan, value="10", text="首批清查")
    comment = api(leader).post(f"/api/v1/assignments/{chengguan.pk}/comments/", {"text": "加快进度"})
    assert comment.status_code == 201 and comment.json()["author"] == "钱局"
    assert (
        api(city["west_lead"]).post(f"/api/v1/assignments/{chengguan.pk}/comments/", {"text": "x"}).status_code == 404
    )
    api(lead).post(f"/api/v1/assignments/{chengguan.pk}/transition/", {"name": "submit", "confirm_shortfall": True})
    events = api(city["hq"]).get(f"/api/v1/assignments/{chengguan.pk}/timeline/").json()
    assert [(e["verb"], e["actor"]) for e in events] == [
        ("assignment.reported", "赵关"),
        ("assignment.commented", "钱局"),
        ("assignment.submit", "赵关"),
    ]
    assert events[0]["changes"]["progress"] == ["0.00", "10.00"]
    assert api(lead).get(f"/api/v1/assignments/{chengguan.pk}/reports/").json()[0]["text"] == "首批清查"


def test_a_report_reads_its_row_once_and_no_target_apart(city, published, chengguan):
    """The first target's link is read with the locked row: a report on a plain target runs the same
    statements whatever the item holds, none of them on ``tasks_target``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = city["station_lead"]
    assert post_report(lead, chengguan, value="1").status_code == 201  # the first report starts the work
    with CaptureQueriesContext(connection) as ctx:
        assert post_report(lead, chengguan, value="2", text="又查2家").status_code == 201
    sql = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert [s for s in sql if s.lstrip().startswith('SELECT "tasks_target"')] == []
    locked = [s for s in sql if 'FROM "tasks_assignment"' in s and '"tasks_target"' in s]
    assert len(locked) == 1  # the row locked, with whether its first target is linked
    chengguan.refresh_from_db()
    assert chengguan.progress == Decimal("3")
