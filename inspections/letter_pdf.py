"""The risk letter (风险提示函) as a printable page and as an A4 PDF, on the notice's paper form.

``letter_context`` writes its sentences as an office writes them (2026年7月20日), in Chinese whatever the
reader's language; the layout, the font and the responses are the notice's (``notice_pdf.render_form``,
``notice_pdf.private``, ``templates/inspections/paper_form.html``). The callers have checked that the user
may see the letter (``scope.get_or_404`` over its addressee).
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from utilities.cn import cn_date
from utilities.uploads import download

from .models import LetterSource, RiskLetter
from .notice_pdf import KIND_WORDS, SIGNATURE, _own_name, _sentence, private, render_form

TITLE = "风险提示函"
TEMPLATE = "inspections/letter_print.html"


def filename(letter: RiskLetter) -> str:
    """风险提示函（江公风险提示〔2026〕3号）.pdf — with no character a file system refuses."""
    number = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", letter.number)
    return f"{TITLE}（{number}）.pdf"


def _lines(text: str) -> list[str]:
    return [_sentence(line) for line in text.splitlines() if line.strip()]


def letter_context(letter: RiskLetter) -> dict:
    """Everything the print page and the PDF show, in the order they show it."""
    issuer, addressee = letter.issuing_unit.name, letter.unit.name
    inspection = letter.inspection
    if letter.source == LetterSource.INSPECTION and inspection is not None:
        kind = KIND_WORDS.get(inspection.kind) or inspection.get_kind_display()
        opening = f"{_own_name(issuer)}于{cn_date(inspection.planned_on)}对你单位开展{kind}，发现存在以下风险："
    else:
        opening = f"经{_own_name(issuer)}分析研判，你单位存在以下风险："
    risks = _lines(letter.risk)
    measures = _lines(letter.requirements)
    # one line runs on after its heading; several stand as paragraphs under it
    required = [f"防范要求：{measures[0]}"] if len(measures) == 1 else ["防范要求：", *measures]
    reply_by = cn_date(letter.reply_by)
    return {
        "title": TITLE,
        "number": letter.number,
        "issuer": issuer,
        "addressee": addressee,
        "addressee_line": f"{addressee}：",
        "opening": opening,
        "body": [opening, *risks, *required],
        "closing": f"请你单位高度重视，于{reply_by}前将采取的防范措施书面反馈{issuer}。",
        "reply_by": reply_by,
        "issue_date": cn_date(timezone.localdate(letter.issued_at)),
        "signature": SIGNATURE,
        "filename": filename(letter),
    }


def _load(letter: RiskLetter) -> RiskLetter:
    if letter.pk and not {"issuing_unit", "unit"} <= set(letter._state.fields_cache):
        letter = RiskLetter.objects.select_related("issuing_unit", "unit", "inspection").get(pk=letter.pk)
    return letter


def render_pdf(letter: RiskLetter) -> bytes:
    ctx = letter_context(_load(letter))
    return render_form(ctx, ctx["body"], ctx["closing"])


def print_response(request, letter: RiskLetter, pdf_url: str) -> HttpResponse:
    """The printable page (Ctrl+P prints it as the form) with a screen-only link to the PDF."""
    context = letter_context(_load(letter)) | {"pdf_url": pdf_url}
    return private(render(request, TEMPLATE, context))


def pdf_response(letter: RiskLetter) -> HttpResponse:
    letter = _load(letter)
    response = HttpResponse(render_pdf(letter), content_type="application/pdf")
    return download(response, filename(letter), fallback=f"risk-letter-{letter.year}-{letter.seq}.pdf")
