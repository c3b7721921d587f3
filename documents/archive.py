"""The archive (归档, issue 22.6): every issued document of a campaign with its number, kind, date,
signer and recipients, searchable and exported as XLSX; and the campaign's final archive — every issued
document's stored PDF and DOCX as served (never made again), an index.xlsx and a manifest.json with the
files' sha256 — as one ZIP, made by the exports' background job (``boards.exports``, kind
``document_archive``): requested on the archive page or ``POST /api/v1/exports/``, its status on the
exports page, downloaded by the one who asked. Reads through ``accounts.scope`` as the asking user:
the ZIP holds only the documents that user sees."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from io import BytesIO

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from boards import xlsx
from boards.exports import Kind, Progress, register
from tasks.queries import campaigns_for
from utilities.cn import cn_date

from .models import Document, DocumentRecipient, DocumentState
from .queries import documents_for

SEARCHED = ("number", "title", "recipients", "cc", "opening", "requirements", "next_steps")
_SPLIT = re.compile(r"[\n、，,；;]+")


def issued(user, campaign, q: str = "") -> QuerySet[Document]:
    """The campaign's issued documents the user sees, in the order they were issued; ``q`` searches the
    number, the title, 主送/抄送 and the clerk's text (every word must match somewhere)."""
    qs = documents_for(user, campaign=campaign, state=DocumentState.ISSUED)
    for word in q.split()[:8]:
        match = Q()
        for field in SEARCHED:
            match |= Q(**{f"{field}__icontains": word})
        qs = qs.filter(match)
    return qs.order_by("issued_at", "id")


def recipients_of(document: Document) -> list[str]:
    """The units the document was addressed and copied to (主送, 抄送), as its text names them."""
    return [n.strip() for n in _SPLIT.split(f"{document.recipients}\n{document.cc}") if n.strip()]


@dataclass
class Row:
    document: Document
    recipients: int
    receipts: int | None  # 签收 recorded; None for a document issued before the distribution kept its rows


def rows(documents) -> list[Row]:
    """Each document with its recipients and receipts from the distribution's rows (one grouped query); a
    document issued before the rows existed counts the names its text prints, its receipts unknown."""
    documents = list(documents)
    counted = {
        pk: (n, acknowledged)
        for pk, n, acknowledged in DocumentRecipient.objects.filter(document__in=[d.pk for d in documents])
        .order_by()
        .values("document")
        .annotate(n=Count("id"), acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)))
        .values_list("document", "n", "acknowledged")
    }
    return [Row(d, *counted[d.pk]) if d.pk in counted else Row(d, len(recipients_of(d)), None) for d in documents]


def issued_day(document: Document):
    return timezone.localdate(document.issued_at)


COLUMNS = [
    xlsx.Column("序号", 6, xlsx.INTEGER),
    xlsx.Column("发文字号", 22),
    xlsx.Column("文种", 12),
    xlsx.Column("标题", 44),
    xlsx.Column("印发日期", 15, xlsx.CN_DATE),
    xlsx.Column("签发人", 10),
    xlsx.Column("主送及抄送单位数", 10, xlsx.INTEGER),
    xlsx.Column("签收数", 8, xlsx.INTEGER),
]


def list_xlsx(campaign, found: list[Row], *, q: str = "", by=None) -> tuple[str, bytes]:
    """The archive list as a spreadsheet (write-only, streamed)."""
    book = Workbook(write_only=True)
    subtitle = f"共{len(found)}件    导出时间：{cn_date(timezone.localdate())}"
    if q:
        subtitle += f"    检索：{q}"
    xlsx.sheet(
        book,
        title=f"{campaign.name} 公文归档目录",
        subtitle=subtitle,
        columns=COLUMNS,
        rows=(
            [
                n,
                r.document.number,
                str(r.document.get_kind_display()),
                r.document.title,
                issued_day(r.document),
                r.document.signer_name,
                r.recipients,
                r.receipts,
            ]
            for n, r in enumerate(found, start=1)
        ),
        name="公文目录",
    )
    return f"{campaign.name}_公文归档目录_{timezone.localdate():%Y%m%d}.xlsx", xlsx.workbook_bytes(book)


# --- the final archive: one ZIP -----------------------------------------------------------------


def archive_params(user, params: dict) -> dict:
    """The campaign the user sees (else 404)."""
    from boards.exports import ExportError

    try:
        pk = int(params.get("campaign") or 0)
    except (TypeError, ValueError):
        raise ExportError("导出参数有误：专项行动应为编号") from None
    return {"campaign": get_object_or_404(campaigns_for(user), pk=pk).pk}


def _file_name(n: int, document: Document, ext: str) -> str:
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", f"{n:03d}_{document.number}_{document.title}")[:100]
    return f"{stem}.{ext}"


INDEX_COLUMNS = [
    xlsx.Column("序号", 6, xlsx.INTEGER),
    xlsx.Column("发文字号", 22),
    xlsx.Column("文种", 12),
    xlsx.Column("标题", 40),
    xlsx.Column("印发日期", 15, xlsx.CN_DATE),
    xlsx.Column("签发人", 10),
    xlsx.Column("PDF 文件", 40),
    xlsx.Column("PDF SHA-256", 66),
    xlsx.Column("DOCX SHA-256", 66),
]


def build_archive(user, params: dict, progress: Progress) -> tuple[str, bytes]:
    """The campaign's final archive: per issued document its stored PDF and DOCX (the bytes as served),
    index.xlsx (number, kind, title, date, signer, sha256) and manifest.json."""
    from boards.exports import ExportError
    from utilities.uploads import open_stored

    campaign = get_object_or_404(campaigns_for(user), pk=params.get("campaign"))
    documents = list(issued(user, campaign))
    if not documents:
        raise ExportError("该专项行动还没有已印发的公文")
    buffer = BytesIO()
    entries, index = [], []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, d in enumerate(documents, start=1):
            files = {}
            for ext in ("pdf", "docx"):
                stored = getattr(d, ext)
                if not stored:
                    raise ExportError(f"公文{d.number}的{ext.upper()}文件缺失，无法归档")
                with open_stored(stored) as f:
                    data = f.read()
                name = f"{ext}/{_file_name(n, d, ext)}"
                archive.writestr(name, data)
                files[ext] = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            day = issued_day(d)
            entries.append(
                {
                    "seq": n,
                    "id": d.pk,
                    "number": d.number,
                    "kind": d.kind,
                    "title": d.title,
                    "issuing_unit": d.issuing_unit.name,
                    "issued_at": d.issued_at.isoformat(),
                    "signer": d.signer_name,
                    "issue_no": d.issue_no,
                    "text_hash": d.text_hash,
                    "files": files,
                }
            )
            index.append(
                [
                    n,
                    d.number,
                    str(d.get_kind_display()),
                    d.title,
                    day,
                    d.signer_name,
                    files["pdf"]["name"],
                    files["pdf"]["sha256"],
                    files["docx"]["sha256"],
                ]
            )
            progress(5 + n * 85 // len(documents))
        book = Workbook(write_only=True)
        xlsx.sheet(
            book,
            title=f"{campaign.name} 公文归档索引",
            subtitle=f"共{len(documents)}件    归档时间：{cn_date(timezone.localdate())}",
            columns=INDEX_COLUMNS,
            rows=index,
            name="归档索引",
        )
        archive.writestr("index.xlsx", xlsx.workbook_bytes(book))
        manifest = {
            "campaign": {"id": campaign.pk, "code": campaign.code, "name": campaign.name},
            "made_at": timezone.now().isoformat(),
            "made_by": user.username,
            "documents": entries,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return f"{campaign.name}_公文归档_{timezone.localdate():%Y%m%d}.zip", buffer.getvalue()


register(Kind("document_archive", _("Documents archive (ZIP)"), build_archive, validate=archive_params))
