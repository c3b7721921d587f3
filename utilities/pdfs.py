"""What a PDF would do when opened, decided by parsing it (pypdf), not by searching its bytes.

A byte search misses a name written with hex escapes (``/Java#53cript``, ``/L#61unch``) and anything
inside a compressed object stream; the parser decodes both. Every object of the document is
visited — those its cross-reference lists and those reachable from its trailer, object streams
included — and every dictionary is judged wherever it stands (catalog ``/OpenAction``, ``/AA`` of the
catalog, pages, annotations and form fields, the ``/Names`` tree): an action that runs script or
another program, sends or imports data, or opens another file; script under ``/JS`` or
``/JavaScript``; embedded files and attachments; rich media; XFA forms. A destination (open at page 1,
fit the width) and ordinary web links are fine. A PDF the parser cannot read, or cannot decrypt
without a password, is refused as unreadable: what cannot be checked is not kept.
"""

from __future__ import annotations

import logging
from typing import IO

from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

log = logging.getLogger(__name__)

MAX_OBJECTS = 500_000  # dictionaries and arrays: a 500-page report holds tens of thousands; a scan, dozens
CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)

# Actions (/S) that run something, move data out or in, or open another document.
ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/RichMediaExecute"}
# Keys that hold script, embedded files, rich media or an XFA form, wherever they stand.
KEYS = {
    "/JS",
    "/JavaScript",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/EF",
    "/RichMediaContent",
    "/RichMediaSettings",
    "/XFA",
}
SUBTYPES = {
    "/RichMedia",
    "/FileAttachment",
    "/Movie",
    "/Sound",
    "/Screen",
    "/3D",
}  # annotations that play or hold files
TYPES = {"/EmbeddedFile"}


class Unreadable(ValueError):
    """The PDF could not be parsed (or decrypted), so nothing can be said about it."""


def _value(d: DictionaryObject, key: str):
    value = dict.get(d, key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _judge(d: DictionaryObject) -> str | None:
    """What is wrong with one dictionary, or None."""
    for key in d:  # a pypdf dictionary's keys are its names, their #xx escapes decoded
        if key in KEYS:
            return str(key)
    action, subtype, kind = _value(d, "/S"), _value(d, "/Subtype"), _value(d, "/Type")
    if action in ACTIONS:
        return str(action)
    if action == "/URI":
        uri = _value(d, "/URI")
        text = uri.decode("latin-1") if isinstance(uri, bytes) else str(uri or "")
        if text.strip().lower().startswith(("javascript:", "file:", "data:")):
            return "/URI"
    if subtype in SUBTYPES:
        return str(subtype)
    if kind in TYPES:
        return str(kind)
    return None


def active_content(stream: IO[bytes]) -> str | None:
    """The first thing in the PDF that would act when it is opened (a name such as ``/JavaScript``),
    or None. Raises ``Unreadable`` when the file cannot be parsed."""
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise Unreadable("encrypted")
        pending: list = [reader.trailer]
        pending += [IndirectObject(num, gen, reader) for gen, table in reader.xref.items() for num in table]
        pending += [IndirectObject(num, 0, reader) for num in reader.xref_objStm]
        seen: set[tuple[int, int]] = set()
        visited = 0
        while pending:
            node = pending.pop()
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in seen:
                    continue
                seen.add(key)
                node = node.get_object()
            visited += 1
            if visited > MAX_OBJECTS:
                raise Unreadable("too many objects")
            if isinstance(node, DictionaryObject):  # streams too: their dictionary, never their data
                found = _judge(node)
                if found:
                    return found
                pending.extend(v for v in dict.values(node) if isinstance(v, CONTAINERS))
            elif isinstance(node, ArrayObject):
                pending.extend(v for v in list.__iter__(node) if isinstance(v, CONTAINERS))
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many kinds for a damaged or hostile file
        log.info("PDF not readable: %s: %s", type(exc).__name__, exc)
        raise Unreadable(type(exc).__name__) from exc
    return None
