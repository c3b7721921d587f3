"""The archive (issue 22.6): a campaign's issued documents listed, searched and exported as XLSX; the
final archive ZIP made by the exports' job holds the stored PDF and DOCX byte for byte (their sha256 in
the index and the manifest)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from io import BytesIO

import pytest
from django.conf import settings
from openpyxl import load_workbook
from rest_framework.test import APIClient

from boards.bulletin import week_of
from boards.exports import ZIP_TYPE, make_export
from boards.models import Export, ExportStatus
from boards.services import request_export
from documents import archive
from documents import services as svc
from ops.celery import app as celery_app
from tests.processes import start_worker, until  # noqa: F401  (a fixture)
from tests.web.pages import login, text

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


def walk(doc, hq, leader):
    doc = svc.submit_document(document=doc, by=hq)
    doc = svc.check_document(document=doc, by=hq)
    return svc.sign_document(document=doc, by=leader)


@pytest.fixture
def issued(city, worked, city_leader):
    """Two issued documents of the campaign and one draft."""
    bulletin = svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))
    bulletin = walk(bulletin, city["hq"], city_leader)
    notice = svc.draft_document(
        by=city["hq"], campaign=worked, kind="notice", unit=city.units["3303"], title="关于加强夜间巡查的通知"
    )
    notice = svc.update_draft(
        document=notice,
        by=city["hq"],
        requirements="各单位要加强夜间巡查。",
        recipients="城东分局、城西分局",
        cc="市局督察支队",
    )
    notice = walk(notice, city["hq"], city_leader)
    svc.draft_document(by=city["hq"], campaign=worked, kind="notice", unit=city.units["3303"], title="未印发的草稿")
    return [bulletin, notice]


def test_the_archive_lists_issued_documents_only_and_searches(city, issued):
    bulletin, notice = issued
    campaign = bulletin.campaign
    assert list(archive.issued(city["hq"], campaign)) == [bulletin, notice]
    assert list(archive.issued(city["hq"], campaign, "夜间巡查")) == [notice]  # the clerk's text
    assert list(archive.issued(city["hq"], campaign, "江城市通")) == [bulletin]  # the number
    assert list(archive.issued(city["hq"], campaign, "夜间 草稿")) == []  # every word must match
    # the city's documents are not a station's; a branch the bulletin was sent to sees it (distribution)
    assert list(archive.issued(city["station_lead"], campaign)) == []
    assert list(archive.issued(city["west_lead"], campaign)) == [bulletin]
    rows = archive.rows(archive.issued(city["hq"], campaign))
    # the bulletin's rows (the three units under the city with work, printed 各单位), the notice's printed names
    assert [r.recipients for r in rows] == [3, 3]
    assert [r.receipts for r in rows] == [0, None]  # the notice has no rows: its receipts are not known


def test_the_archive_page_and_its_xlsx(city, issued):
    bulletin, notice = issued
    hq = login(city["hq"])
    page = hq.get(f"/documents/archive/?campaign={bulletin.campaign.pk}&q=巡查")
    assert page.status_code == 200
    body = text(page)
    assert notice.number in body and bulletin.number not in body and "未印发的草稿" not in body
    assert 'value="document_archive"' in body
    got = hq.get(f"/documents/archive/xlsx/?campaign={bulletin.campaign.pk}")
    assert got.status_code == 200 and got["Content-Disposition"].startswith("attachment")
    ws = load_workbook(BytesIO(got.content)).worksheets[0]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    numbers = [row[1] for row in values[3:] if row and isinstance(row[0], int)]
    assert numbers == [bulletin.number, notice.number]
    assert login(city["station_lead"]).get(f"/documents/archive/?campaign={bulletin.campaign.pk}").status_code == 200
    assert bulletin.number not in text(login(city["station_lead"]).get("/documents/archive/"))


def test_the_api_searches_issued_documents(city, issued):
    bulletin, notice = issued
    api = APIClient()
    api.force_authenticate(city["hq"])
    got = api.get("/api/v1/documents/", {"campaign": bulletin.campaign.pk, "state": "issued", "search": "巡查"})
    assert got.status_code == 200
    assert [d["number"] for d in got.json()["results"]] == [notice.number]


def opened_zip(export: Export) -> zipfile.ZipFile:
    with export.file.open("rb") as f:
        return zipfile.ZipFile(BytesIO(f.read()))


def check_archive(export: Export, documents) -> None:
    assert export.status == ExportStatus.DONE, export.message
    assert export.filename.endswith(".zip") and export.file.name.endswith(".zip")
    z = opened_zip(export)
    manifest = json.loads(z.read("manifest.json"))
    assert [e["number"] for e in manifest["documents"]] == [d.number for d in documents]
    for entry, d in zip(manifest["documents"], documents, strict=True):
        assert entry["text_hash"] == d.text_hash
        for ext in ("pdf", "docx"):
            stored = getattr(d, ext).open("rb").read()
            packed = z.read(entry["files"][ext]["name"])
            assert packed == stored
            assert entry["files"][ext]["sha256"] == hashlib.sha256(stored).hexdigest()
    index = load_workbook(BytesIO(z.read("index.xlsx"))).worksheets[0]
    rows = [r for r in index.iter_rows(values_only=True) if r and isinstance(r[0], int)]
    assert [(r[1], r[7], r[8]) for r in rows] == [
        (
            d.number,
            hashlib.sha256(d.pdf.open("rb").read()).hexdigest(),
            hashlib.sha256(d.docx.open("rb").read()).hexdigest(),
        )
        for d in documents
    ]
    assert all(not n.startswith("/") and ".." not in n for n in z.namelist())


def test_the_final_archive_zip_holds_the_stored_files(city, issued, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        export = request_export(by=city["hq"], kind="document_archive", params={"campaign": issued[0].campaign_id})
    export.refresh_from_db()
    check_archive(export, issued)
    got = login(city["hq"]).get(f"/exports/{export.pk}/download/")
    assert got.status_code == 200 and got["Content-Type"] == ZIP_TYPE
    assert login(city["inspector"]).get(f"/exports/{export.pk}/download/").status_code == 404  # the owner's only


def test_an_archive_without_issued_documents_fails_with_a_message(city, published):
    export = Export.objects.create(user=city["hq"], kind="document_archive", params={"campaign": published.pk})
    assert make_export(export_id=export.pk) == "failed"
    export.refresh_from_db()
    assert export.message == "该专项行动还没有已印发的公文"


def test_an_archive_of_a_campaign_out_of_scope_is_a_404(city, published):
    from django.http import Http404

    with pytest.raises(Http404):
        request_export(by=city["hq"], kind="document_archive", params={"campaign": 999999})


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"] or not settings.REDIS_URL,
    reason="a worker process shares the test database and the Redis of the queue: PostgreSQL and REDIS_URL",
)
def test_a_real_worker_makes_the_archive(city, issued, request, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    worker = request.getfixturevalue("start_worker")(
        concurrency=1, on=settings.REDIS_URL, MEDIA_ROOT=str(settings.MEDIA_ROOT)
    )
    hq = login(city["hq"])
    campaign = issued[0].campaign
    assert hq.post("/exports/new/", {"kind": "document_archive", "campaign": campaign.pk}).status_code == 302
    export = Export.objects.get(kind="document_archive")

    def done():
        export.refresh_from_db()
        return not export.is_pending

    until(done, "the archive")
    check_archive(export, issued)
    assert [r["outcome"] for r in worker.wait_results("boards.run_export", 1)] == ["done"]
    assert "document_archive" in text(hq.get(f"/documents/archive/?campaign={campaign.pk}"))
