"""PDFs built by hand for the upload checks: a plain one, and ones that act when opened — with names
written in hex escapes (``/Java#53cript``) and with the action hidden in a compressed object stream,
where no search of the file's bytes can see it."""

from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter
from pypdf.actions import JavaScript

CATALOG = b"<< /Type /Catalog /Pages 2 0 R %s >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] %s >>"


def blank() -> bytes:
    """A one-page PDF as a PDF library writes it."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def written(script: str = "", attachment: bytes = b"") -> bytes:
    """A one-page PDF with an opening script or an embedded file, as pypdf's writer adds them."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if script:
        writer.add_open_action(JavaScript(script))
    if attachment:
        writer.add_attachment("说明.exe", attachment)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def raw(*objects: bytes) -> bytes:
    """A PDF of ``objects`` (numbered from 1) with a classic cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def catalog_with(extra: bytes, page_extra: bytes = b"", *more: bytes) -> bytes:
    """A one-page PDF whose catalog (and page) carry ``extra`` (``page_extra``); ``more`` objects follow."""
    return raw(CATALOG % extra, PAGES, PAGE % page_extra, *more)


def in_object_stream(hidden: bytes) -> bytes:
    """The catalog opens with object 4, ``hidden``, which sits compressed in object stream 5; the file
    has a cross-reference stream (type-2 entries), as PDF 1.5 writers make them."""
    head = b"4 0 "
    objstm = zlib.compress(head + hidden)
    bodies = {
        1: CATALOG % b"/OpenAction 4 0 R",
        2: PAGES,
        3: PAGE % b"",
        5: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (len(head), len(objstm), objstm),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[6] = len(out)
    rows = [(0, 0, 0xFFFF)] + [
        (2, 5, 0) if n == 4 else (1, offsets[n], 0) for n in range(1, 7)
    ]  # free head; 4 is the first object of stream 5
    table = b"".join(bytes([kind]) + field.to_bytes(4, "big") + gen.to_bytes(2, "big") for kind, field, gen in rows)
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(table),
        table,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)
