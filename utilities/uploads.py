"""Checking uploaded files by their content, not their name: what it is, how big, whether to accept it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import quote

import yaml
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpResponse

from . import office, pdfs
from .errors import Refused

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_TYPES = {".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint"}
OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}
ACCEPTED = "图片（JPG、PNG、GIF、WebP、HEIC）、PDF、Word、Excel、PowerPoint 文件"


class UploadRejected(Refused):
    """A file refused for what it is (its type from its bytes, its size, its expansion): names the file."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}：{message}")
        self.name = name
        self.message = message

    def payload(self) -> dict:
        return {"detail": str(self), "file": self.name}


@dataclass(frozen=True)
class Checked:
    name: str  # safe display name
    content_type: str
    extension: str
    size: int
    sha256: str


def safe_name(name: str) -> str:
    """The file's own name without any path, control characters or leading dots."""
    name = unicodedata.normalize("NFC", PurePath(name.replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]", "_", name).strip(" .")
    return name[:120] or "file"


def _zip_type(upload: UploadedFile) -> tuple[str, str] | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            office.check_archive(archive)  # one that would expand too far (a "zip bomb"): OfficeRefused
            names = archive.namelist()
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, found in OOXML.items():
        if any(n.startswith(prefix) for n in names):
            return found
    return None


def sniff(upload: UploadedFile, name: str) -> tuple[str, str] | None:
    upload.seek(0)
    head = upload.read(32)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", ".png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"heim"):
        return "image/heic", ".heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf", ".pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(upload)
    if head.startswith(OLE):
        ext = PurePath(name).suffix.lower()
        return (OLE_TYPES[ext], ext) if ext in OLE_TYPES else None
    return None


IMAGES_AND_PDF = "图片（JPG、PNG、GIF、WebP、HEIC）或 PDF"
CARRIES_SCRIPT = "文件中夹带网页或脚本内容，不予接收：请重新导出或拍照后上传"

# A photo or a scan that also reads as a web page or a script (a "polyglot") is refused: served
# inline by any mistake it would run in the system's origin. Markers are long enough that compressed
# image data does not produce them by chance (about one 20 MB photo in 10⁵). What a PDF would do
# when opened is decided by parsing it (utilities/pdfs.py).
POLYGLOT = re.compile(rb"<(?:script|html|body|iframe|svg|object|embed)[\s>/]|<!doctype\s+html|<\?php\s", re.I)


def _carries_markup(upload: UploadedFile) -> bool:
    tail = b""
    upload.seek(0)
    for chunk in upload.chunks():
        window = tail + chunk
        if POLYGLOT.search(window):
            return True
        tail = window[-32:]  # a marker split across two chunks
    return False


def _check_pdf(upload: UploadedFile, name: str) -> None:
    upload.seek(0)
    try:
        found = pdfs.active_content(upload)
    except pdfs.Unreadable:
        raise UploadRejected(
            name, "无法解析该 PDF 文件（已损坏、加密或结构异常），不予接收：请重新导出或扫描后上传"
        ) from None
    if found:
        raise UploadRejected(name, CARRIES_SCRIPT)


# The extension a download gets from the type its bytes were found to be (with the other spellings
# of the same type): a PDF uploaded as "report.html" is served as "report.pdf", never as a page.
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "application/pdf": (".pdf",),
    **{content_type: (ext,) for content_type, ext in OOXML.values()},
    **{content_type: (ext,) for ext, content_type in OLE_TYPES.items()},
}


def named_as(name: str, content_type: str) -> str:
    """``name`` ending as its decided type does ("report.html" as a PDF: "report.pdf"); a type the
    system never decided gets no extension at all."""
    extensions = EXTENSIONS.get(content_type, ("",))
    path = PurePath(name)
    if path.suffix.lower() in extensions and path.suffix.lower() != "":
        return name
    stem = path.stem if path.suffix else name
    return f"{stem or 'file'}{extensions[0]}"


def check_upload(upload: UploadedFile, *, images_and_pdf: bool = False) -> Checked:
    """Check one upload by its bytes; ``images_and_pdf`` narrows it to photos and scans."""
    name = safe_name(upload.name or "")
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise UploadRejected(name, f"文件大小 {upload.size / 1048576:.1f} MB 超过上限 {limit / 1048576:.0f} MB")
    if upload.size == 0:
        raise UploadRejected(name, "文件为空")
    try:
        found = sniff(upload, name)
    except office.OfficeRefused as exc:
        raise UploadRejected(name, str(exc)) from exc
    if found is None:
        raise UploadRejected(name, f"文件内容不是可接受的类型：应为{ACCEPTED}")
    if images_and_pdf and not (found[0].startswith("image/") or found[0] == "application/pdf"):
        raise UploadRejected(name, f"文件内容不是可接受的类型：应为{IMAGES_AND_PDF}")
    if (found[0].startswith("image/") or found[0] == "application/pdf") and _carries_markup(upload):
        raise UploadRejected(name, CARRIES_SCRIPT)
    if found[0] == "application/pdf":
        _check_pdf(upload, name)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    content_type, extension = found
    return Checked(named_as(name, content_type), content_type, extension, upload.size, digest.hexdigest())


DATA_FILES = "Excel（.xlsx）、Word（.docx）、CSV、YAML 或 JSON 文件"
TEXT_TYPES = {".csv": "text/csv", ".yaml": "application/yaml", ".json": "application/json"}


def _text_type(upload: UploadedFile) -> tuple[str, str] | None:
    """A text file's kind from its content: JSON if it parses as a JSON object or list, YAML if it parses
    as a YAML mapping, else CSV; None for what is not text (a NUL, or neither UTF-8 nor GBK)."""
    upload.seek(0)
    data = upload.read()
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    try:
        if isinstance(json.loads(text), dict | list):
            return TEXT_TYPES[".json"], ".json"
    except ValueError:
        pass
    try:
        if isinstance(yaml.safe_load(text), dict):
            return TEXT_TYPES[".yaml"], ".yaml"
    except yaml.YAMLError:
        pass
    return TEXT_TYPES[".csv"], ".csv"


def check_data_file(upload: UploadedFile) -> Checked:
    """Check a file of rows an importer reads (a plan): XLSX or DOCX (through ``office``'s gate on the
    zip), or text — CSV, YAML, JSON — decided from its bytes, never from its name. The extension of
    ``Checked`` is the one the readers go by."""
    name = safe_name(upload.name or "")
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise UploadRejected(name, f"文件大小 {upload.size / 1048576:.1f} MB 超过上限 {limit / 1048576:.0f} MB")
    if upload.size == 0:
        raise UploadRejected(name, "文件为空")
    upload.seek(0)
    head = upload.read(8)
    if head.startswith(b"PK\x03\x04"):
        try:
            found = _zip_type(upload)
        except office.OfficeRefused as exc:
            raise UploadRejected(name, str(exc)) from exc
        if found is not None and found[1] not in (".xlsx", ".docx"):
            found = None
    elif head.startswith(OLE):
        raise UploadRejected(name, "旧版 Office 文件（.xls、.doc）无法读取：请另存为 .xlsx 或 .docx 后上传")
    else:
        found = _text_type(upload)
    if found is None:
        raise UploadRejected(name, f"文件内容不是可接受的类型：应为{DATA_FILES}")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    content_type, extension = found
    stem = PurePath(name).stem if PurePath(name).suffix else name
    shown = name if PurePath(name).suffix.lower() in (extension, ".yml", ".txt") else f"{stem or 'file'}{extension}"
    return Checked(shown, content_type, extension, upload.size, digest.hexdigest())


logger = logging.getLogger(__name__)


def open_stored(field):
    """A stored file opened for reading, or a 404 (and an error in the log for the administrator) when
    its bytes are gone from the storage (a restore without the media folder, a disk cleaned by hand):
    the page or API answers "not found" instead of failing with a 500."""
    try:
        return field.open("rb")
    except FileNotFoundError:
        logger.error("stored file missing: %s", field.name)
        raise Http404("The stored file is missing") from None


def download(response: HttpResponse, filename: str, *, fallback: str) -> HttpResponse:
    """``response`` as a private download the browser will not render: an attachment named
    ``filename`` (``fallback`` for old clients), nosniff, never cached, and should a browser render
    it anyway, a sandbox with no script and no origin. Call it only after the permission check."""
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment(stored) -> FileResponse:
    """Serve a stored upload (``file``, ``name``, ``content_type``) as a private download, named with
    the extension of its decided type (files kept before names followed the type too)."""
    response = FileResponse(open_stored(stored.file), content_type=stored.content_type)
    name = named_as(stored.name, stored.content_type)
    return download(response, name, fallback=f"file{PurePath(name).suffix}")
