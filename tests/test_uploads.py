"""Uploads are judged by their bytes (utilities/uploads.py): the type from magic bytes, the size on the
server, Office archives that would expand too far, photos and scans that also read as a web page or
carry script (polyglots), and names with paths; stored files go out only as sandboxed attachments."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import PurePath
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from tests import pdffiles
from utilities.uploads import UploadRejected, attachment, check_upload, safe_name


def png(extra_chunks: list[tuple[bytes, bytes]] = ()) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * 8 for _ in range(8))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    body += b"".join(chunk(kind, data) for kind, data in extra_chunks)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
PDF = pdffiles.blank()


def office(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("现场照片.png", png(), "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("scan.pdf", PDF, "application/pdf"),
        (
            "台账.xlsx",
            office({"xl/workbook.xml": b"<workbook/>"}),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("renamed.txt", png(), "image/png"),  # the name does not decide the type
    ],
)
def test_real_files_are_accepted_by_their_bytes(name, content, kind):
    assert check_upload(upload(name, content)).content_type == kind


POLYGLOTS = {
    "png with a page in a text chunk": ("a.png", png([(b"tEXt", b"Comment\x00<html><script>alert(1)</script>")])),
    "jpeg with a script after its end": ("a.jpg", JPEG + b"<script>fetch('/api/v1/users/')</script>"),
    "gif that is also a script": ("a.gif", b"GIF89a/*\x01\x00\x01\x00*/=1;<SCRIPT src=x></SCRIPT>"),
    "svg dressed as png": ("a.png", b"\x89PNG\r\n\x1a\n<svg xmlns='http://www.w3.org/2000/svg' onload='x()'/>"),
    "pdf with javascript": ("a.pdf", pdffiles.catalog_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
    "pdf that launches a program": ("a.pdf", pdffiles.catalog_with(b"/OpenAction << /S /Launch /F (cmd) >>")),
    "pdf that is also a page": ("a.pdf", PDF + b"<html><script>alert(1)</script></html>"),
    "php in a jpeg": ("a.jpg", JPEG[:20] + b"<?php system($_GET['c']); ?>" + JPEG[20:]),
}


@pytest.mark.parametrize("name,content", POLYGLOTS.values(), ids=POLYGLOTS.keys())
def test_polyglots_are_refused(name, content):
    with pytest.raises(UploadRejected, match="夹带网页或脚本"):
        check_upload(upload(name, content))


# PDFs that act when opened, decided by parsing them (utilities/pdfs.py): the byte search the checks used
# to make saw none of the first five (hex-escaped names, a compressed object stream).
ACTIVE_PDFS = {
    "hex-escaped JavaScript action": pdffiles.catalog_with(b"/OpenAction << /S /Java#53cript /J#53 (app.alert(1)) >>"),
    "hex-escaped Launch action": pdffiles.catalog_with(b"/OpenAction << /S /L#61unch /F (calc.exe) >>"),
    "a script in a compressed object stream": pdffiles.in_object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
    "a hex-escaped launch in an object stream": pdffiles.in_object_stream(b"<< /S /L#61unch /F (calc.exe) >>"),
    "a submit-form action on a field": pdffiles.catalog_with(
        b"", b"/Annots [4 0 R]", b"<< /Type /Annot /Subtype /Widget /A << /S /SubmitForm /F (http://x/) >> >>"
    ),
    "a page's additional action": pdffiles.catalog_with(b"", b"/AA << /O << /S /JavaScript /JS (x) >> >>"),
    "document-level script (/Names)": pdffiles.written(script="app.alert(1)"),
    "an embedded file": pdffiles.written(attachment=b"MZ\x90\x00"),
    "an import-data action": pdffiles.catalog_with(b"/OpenAction << /S /ImportData /F (data.fdf) >>"),
    "a javascript: link": pdffiles.catalog_with(
        b"", b"/Annots [4 0 R]", b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI <6a6176617363726970743a78> >> >>"
    ),
    "a rich-media annotation": pdffiles.catalog_with(
        b"", b"/Annots [4 0 R]", b"<< /Type /Annot /Subtype /RichMedia >>"
    ),
}


@pytest.mark.parametrize("content", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_a_pdf_that_acts_when_opened_is_refused(content):
    with pytest.raises(UploadRejected, match="夹带网页或脚本"):
        check_upload(upload("scan.pdf", content))


def test_the_bypasses_hide_from_a_byte_search():
    """What made the parser necessary: none of these bytes spell the action."""
    for label in list(ACTIVE_PDFS)[:4]:
        assert not re.search(rb"/(?:JavaScript|Launch)\b", ACTIVE_PDFS[label]), label


@pytest.mark.parametrize(
    "content",
    [
        PDF,
        pdffiles.catalog_with(b"/OpenAction [3 0 R /Fit]"),  # open at page 1, fit: what scanners write
        pdffiles.catalog_with(
            b"",
            b"/Annots [4 0 R]",
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://www.gov.cn/) >> >>",
        ),
        pdffiles.in_object_stream(b"[3 0 R /FitH 200]"),
    ],
    ids=["written by a library", "an opening destination", "a web link", "an object stream"],
)
def test_an_ordinary_pdf_is_accepted(content):
    assert check_upload(upload("scan.pdf", content)).content_type == "application/pdf"


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b"%PDF-1.7\n" + bytes(range(256)) * 8,
    ],
    ids=["no cross-reference", "noise"],
)
def test_a_pdf_the_parser_cannot_read_is_refused_in_words(content):
    with pytest.raises(UploadRejected, match=r"^scan\.pdf：无法解析该 PDF 文件（已损坏、加密或结构异常），不予接收"):
        check_upload(upload("scan.pdf", content))


@pytest.mark.parametrize(
    ("name", "content", "kept"),
    [
        ("report.html", PDF, "report.pdf"),  # a polyglot's name does not survive
        ("现场.svg", JPEG, "现场.jpg"),
        ("photo.JPEG", JPEG, "photo.JPEG"),  # another spelling of the same type
        ("scan", PDF, "scan.pdf"),
        ("台账.xls", office({"xl/workbook.xml": b"<workbook/>"}), "台账.xlsx"),
    ],
)
def test_a_file_is_named_for_the_type_its_bytes_are(name, content, kept):
    checked = check_upload(upload(name, content))
    assert checked.name == kept
    file = SimpleNamespace(open=lambda mode: io.BytesIO(content))
    response = attachment(SimpleNamespace(name=name, content_type=checked.content_type, file=file))
    # a file kept before names followed the type is served by its type too
    assert f"filename*=UTF-8''{quote(kept)}" in response["Content-Disposition"]
    assert f'filename="file{PurePath(kept).suffix}"' in response["Content-Disposition"]


def test_a_marker_across_two_chunks_is_still_found():
    """A file on disk is read in 64 KiB chunks; the marker straddles the first boundary."""
    size = TemporaryUploadedFile.DEFAULT_CHUNK_SIZE
    content = JPEG + b"\x00" * (size - len(JPEG) - 3) + b"<script>x</script>"
    file = TemporaryUploadedFile("a.jpg", "image/jpeg", len(content), None)
    file.write(content)
    file.seek(0)
    assert next(len(c) for c in file.chunks()) == size
    with pytest.raises(UploadRejected, match="夹带网页或脚本"):
        check_upload(file)
    file.close()


def test_an_archive_bomb_is_refused(settings):
    settings.OFFICE_MAX_EXPANDED_BYTES = 10 * 1024 * 1024
    bomb = office({"word/document.xml": b"<w/>", "word/media/blank.bin": b"\x00" * (11 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # a small file …
    with pytest.raises(UploadRejected, match=r"解压后.*倍，超过上限100倍"):  # … that would expand far
        check_upload(upload("report.docx", bomb))
    settings.OFFICE_MAX_RATIO = 10**5
    with pytest.raises(UploadRejected, match=r"^report\.docx：文件解压后有11 MB，超过上限10 MB，不予读取$"):
        check_upload(upload("report.docx", bomb))
    settings.OFFICE_MAX_EXPANDED_BYTES = 20 * 1024 * 1024
    assert check_upload(upload("report.docx", bomb)).extension == ".docx"  # within every limit it is evidence


def test_an_html_page_or_a_script_is_never_accepted():
    for name, content in [("x.html", b"<!doctype html><p>x"), ("x.js", b"alert(1)"), ("x.svg", b"<svg/>")]:
        with pytest.raises(UploadRejected):
            check_upload(upload(name, content))


def test_the_size_limit_is_checked_on_the_server(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    with pytest.raises(UploadRejected, match="超过上限"):
        check_upload(upload("big.jpg", JPEG + b"\x00" * 1024))


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/var/www/现场照片.png", "现场照片.png"),
        ("a\x00b\x1f<c>|d.png", "a_b__c__d.png"),
        ("....", "file"),
        (".htaccess", "htaccess"),
    ],
)
def test_names_lose_their_paths_and_control_characters(given, kept):
    assert safe_name(given) == kept
