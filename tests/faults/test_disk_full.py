"""Fault 3: the disk of the uploads really full.

``MEDIA_ROOT`` is a 64 KB tmpfs mounted for the test and filled to the last byte (or to a few KB
short, so a file is cut off half-way). Evidence is reported and a finding logged with photos through
the API and through the pages. Checked: the user gets 507 and the Chinese message (storage full, try
later, contact the administrator) — JSON for the API, the form again with what was typed for a page —
and nothing is left behind: no report, evidence, finding or photo row, no audit event, the assignment
untouched, not one byte on the disk. Once space is freed the same upload goes through.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from audit.models import AuditEvent
from inspections.models import Finding, Photo
from tasks.models import Assignment, Evidence, ProgressReport
from tests.web.pages import login

pytestmark = pytest.mark.django_db
STATION = "33031001"
FULL_MESSAGE = "服务器存储空间已满"


def png(size: int, seed: int = 0) -> bytes:
    """A real PNG of about ``size`` bytes: noise, stored without compression."""
    side = max(1, int((size / 3) ** 0.5))
    noise = hashlib.shake_256(str(seed).encode()).digest(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(out, "PNG", compress_level=0)
    return out.getvalue()


@dataclass
class Disk:
    root: Path
    filler: Path

    def fill(self) -> None:
        """Write the filler until the filesystem refuses: no byte left."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                try:
                    os.write(fd, b"\0" * 4096)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        finally:
            os.close(fd)
        assert self.free() == 0

    def leave_free(self, nbytes: int) -> None:
        os.truncate(self.filler, self.filler.stat().st_size - nbytes)
        assert self.free() == nbytes

    def free(self) -> int:
        stat = os.statvfs(self.root)
        return stat.f_bavail * stat.f_frsize

    def files(self) -> list[str]:
        """Every file on the disk but the filler, with its size."""
        return sorted(
            f"{p.relative_to(self.root)} ({p.stat().st_size})"
            for p in self.root.rglob("*")
            if p.is_file() and p != self.filler
        )


@pytest.fixture
def disk(settings, tmp_path) -> Disk:
    root = tmp_path / "media"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(root)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        settings.MEDIA_ROOT = str(root)
        found = Disk(root, root / "filler")
        found.fill()
        yield found
    finally:
        # Django leaves an upload's part-written temporary file to be deleted when the request's objects
        # are collected (kept alive here by the captured log's tracebacks): collected before the disk goes
        gc.collect()
        subprocess.run(["umount", "-l", str(root)], check=True)


def written() -> dict:
    """What a refused upload must not change."""
    return {
        "reports": ProgressReport.objects.count(),
        "evidence": Evidence.objects.count(),
        "findings": Finding.objects.count(),
        "photos": Photo.objects.count(),
        "events": AuditEvent.objects.count(),
        "assignments": sorted(Assignment.objects.values_list("pk", "progress", "version", "status")),
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def refused_cleanly(response, *, api: bool) -> None:
    assert response.status_code == 507, response.content[:300]
    if api:
        assert response["Content-Type"] == "application/json"
        detail = response.json()["detail"]
    else:
        detail = " ".join(messages_of(response))
        assert detail in response.content.decode()  # shown on the page, in the form
    assert FULL_MESSAGE in detail and "稍后再试" in detail and "管理员" in detail
    assert b"Traceback" not in response.content


def test_evidence_on_a_full_disk_is_refused_and_leaves_nothing(city, published, disk, figures):
    a = Assignment.objects.get(item__code="1.1", unit__code=STATION)
    client = login(city["station_lead"])
    before = written()
    api = client.post(
        f"/api/v1/assignments/{a.pk}/reports/",
        {"value": "3", "text": "清查网吧3家", "files": [SimpleUploadedFile("现场.png", png(2000))]},
    )
    refused_cleanly(api, api=True)
    page = client.post(
        f"/assignments/{a.pk}/report/",
        {"value": "3", "text": "清查网吧3家", "files": [SimpleUploadedFile("现场.png", png(2000))]},
    )
    refused_cleanly(page, api=False)
    assert page.context["report_form"]["text"].value() == "清查网吧3家"  # what was typed is kept
    assert written() == before and disk.files() == [] and disk.free() == 0
    figures.update({"uploads refused (507)": 2, "rows and events left": 0, "files left": 0})


def test_a_finding_with_photos_on_a_full_disk_is_refused_and_leaves_nothing(city, published, disk, figures):
    client = login(city["inspector"])
    fields = {"campaign": published.pk, "unit": STATION, "place": "人民路烧烤店", "description": "灭火器过期"}
    before = written()
    api = client.post("/api/v1/findings/", {**fields, "photos": [SimpleUploadedFile("现场.png", png(2000))]})
    refused_cleanly(api, api=True)
    page = client.post(
        "/findings/new/",
        {**fields, "category": "fire", "severity": "general", "camera": SimpleUploadedFile("现场.png", png(2000))},
    )
    refused_cleanly(page, api=False)
    assert page.context["form"]["place"].value() == "人民路烧烤店"
    assert written() == before and disk.files() == [] and disk.free() == 0
    figures.update({"uploads refused (507)": 2, "rows and events left": 0, "files left": 0})


def test_files_cut_off_half_way_are_removed_and_the_upload_goes_through_once_there_is_room(
    city, published, disk, figures
):
    """16 KB free: the first file fits, the second (in memory, then one spooled to a temporary file)
    is cut off — all of it removed; the same upload succeeds once the filler is gone."""
    a = Assignment.objects.get(item__code="1.1", unit__code=STATION)
    client = login(city["station_lead"])
    disk.leave_free(16384)
    before = written()
    small, large, spooled = png(3000, 1), png(40_000, 2), png(3 * 1024 * 1024, 3)  # 3 MB: a temporary file
    for second in (large, spooled):
        files = [SimpleUploadedFile("一.png", small), SimpleUploadedFile("二.png", second)]
        refused_cleanly(client.post(f"/api/v1/assignments/{a.pk}/reports/", {"value": "1", "files": files}), api=True)
        assert written() == before and disk.files() == [] and disk.free() == 16384
    photos = [SimpleUploadedFile("一.png", small), SimpleUploadedFile("二.png", large)]
    finding = client.post(
        "/api/v1/findings/",
        {"campaign": published.pk, "unit": STATION, "place": "网吧", "description": "未实名登记", "photos": photos},
    )
    refused_cleanly(finding, api=True)
    assert written() == before and disk.files() == [] and disk.free() == 16384

    disk.filler.unlink()  # the administrator makes room
    files = [SimpleUploadedFile("一.png", small), SimpleUploadedFile("二.png", large)]
    done = client.post(f"/api/v1/assignments/{a.pk}/reports/", {"value": "1", "files": files})
    assert done.status_code == 201, done.content
    stored = Evidence.objects.filter(report_id=done.json()["id"]).order_by("name")
    assert [hashlib.sha256(e.file.read()).hexdigest() for e in stored] == [
        hashlib.sha256(small).hexdigest(),
        hashlib.sha256(large).hexdigest(),
    ]
    assert len(disk.files()) == 2
    figures.update(
        {
            "uploads refused (507)": 3,
            "files cut off and removed": 3,
            "rows and events left": 0,
            "after freeing space": "201, 2 files, checksums equal",
        }
    )


def test_the_temporary_upload_directory_full_is_a_clean_507_too(city, published, disk, settings, figures, caplog):
    """A large upload is spooled to ``FILE_UPLOAD_TEMP_DIR`` while the request is read — by the API's
    view, and for a page already by the CSRF check, before any view: a full disk there is the storage
    message too, not a 500."""
    settings.FILE_UPLOAD_TEMP_DIR = str(disk.root)
    a = Assignment.objects.get(item__code="1.1", unit__code=STATION)
    before = written()
    client = login(city["station_lead"])
    api = client.post(
        f"/api/v1/assignments/{a.pk}/reports/", {"value": "1", "files": [SimpleUploadedFile("大.png", png(3 << 20))]}
    )
    refused_cleanly(api, api=True)
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)  # as a browser posts
    browser.force_login(city["station_lead"])
    browser.get(f"/assignments/{a.pk}/")
    token = browser.cookies["csrftoken"].value
    page = browser.post(
        f"/assignments/{a.pk}/report/",
        {"csrfmiddlewaretoken": token, "value": "1", "files": [SimpleUploadedFile("大.png", png(3 << 20))]},
    )
    assert page.status_code == 507 and FULL_MESSAGE in page.content.decode() and b"Traceback" not in page.content
    assert written() == before
    figures.update({"uploads refused (507)": 2, "rows and events left": 0})
    caplog.clear()  # the logged tracebacks hold the requests' temporary files (see the fixture)
