"""The rectification notice (责令整改通知书) as a printable page and as an A4 PDF like the paper form.

``notice_context`` gathers every sentence both renderings show, written as a Chinese office writes
them (2026年7月20日, no leading zeros), whatever language the reader's pages are in.
``render_pdf`` lays them out with ReportLab: the issuing unit's name in red over a red rule
(红头), the number, the title, the addressee, the body with a two-character first-line indent, the
issuer and date at the bottom right, and the receipt line (签收) at the foot of the last page.

Chinese text needs a TrueType CJK font on the machine: ``settings.NOTICE_PDF_FONT`` (a path; a
``.ttc`` collection takes ``NOTICE_PDF_FONT_INDEX``), by default AR PL UMing CN from Debian's
``fonts-arphic-uming`` (installed by ``scripts/bootstrap-system``). Nothing is fetched from outside.
ReportLab cannot embed the CFF-outline Noto CJK fonts, so those do not do here.

The layout (``render_form``, ``private``, the template ``paper_form.html``) is shared with the risk
letter (``letter_pdf``). ``print_response`` and ``pdf_response`` answer for a notice the caller has
already checked the user may see (``scope.get_or_404`` over the notice's unit).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from reportlab.lib import textsplit
from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus import paragraph as rl_paragraph

from utilities.cn import cn_date
from utilities.uploads import download

from .models import Notice

TITLE = "责令整改通知书"
SIGNATURE = "签收人：________  签收日期：____年__月__日"
DEFAULT_FONT = "/usr/share/fonts/truetype/arphic/uming.ttc"  # AR PL UMing CN, a Song (Ming) face
FONT_PACKAGE = "fonts-arphic-uming"
TEMPLATE = "inspections/notice_print.html"

# The notice is always in Chinese: its own words for the codes, not the pages' translations.
KIND_WORDS = {"routine": "督导检查", "special": "专项检查", "night": "夜间检查", "joint": "联合验收"}
CATEGORY_WORDS = {
    "order": "治安隐患",
    "fire": "消防安全隐患",
    "dangerous": "危险物品隐患",
    "management": "管理漏洞",
    "records": "台账资料不全",
    "other": "其他问题",
}
SEVERITY_WORDS = {"general": "一般", "serious": "较大", "major": "重大"}
_OWN_NAME = (("派出所", "我所"), ("支队", "我支队"), ("大队", "我大队"), ("中队", "我中队"), ("局", "我局"))
_ENDS_SENTENCE = tuple("。；！？.;!?")
_JOINS = (*_ENDS_SENTENCE, "，", "、", "：", ",", ":")

RED = Color(0.84, 0.0, 0.0)  # 公文红
BODY_SIZE = 16  # 三号
BODY_LEADING = 28.5  # 22 lines on the A4 type area, as the paper form
TITLE_SIZE = 22  # 二号


# ReportLab's CJK line breaking keeps Japanese closing punctuation off the start of a line (it hangs
# in the margin instead) but does not know the full-width Chinese marks: teach it them (避头).
# Both of its splitters (one frag, several frags) read the module-level string at call time.
_CANNOT_START = "，；：！？、。）》」』】〕”’…"
for _module in (textsplit, rl_paragraph):
    _module.ALL_CANNOT_START += "".join(c for c in _CANNOT_START if c not in _module.ALL_CANNOT_START)


class NoticeFontMissing(ImproperlyConfigured):
    """No CJK TrueType font where ``NOTICE_PDF_FONT`` says: the PDF cannot be written."""


# --- The words --------------------------------------------------------------------------------------


def _own_name(unit_name: str) -> str:
    """How the issuing unit calls itself in the body: 我局, 我支队, 我所 …"""
    return next((own for suffix, own in _OWN_NAME if unit_name.endswith(suffix)), "我单位")


def _one_line(text: str) -> str:
    """A multi-line entry as one sentence run: lines joined, a missing stop between them supplied."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out = ""
    for line in filter(None, lines):
        if out and not out.endswith(_JOINS):
            out += "；"
        out += line
    return out


def _sentence(text: str) -> str:
    text = _one_line(text)
    return text if not text or text.endswith(_ENDS_SENTENCE) else text + "。"


def filename(notice: Notice) -> str:
    """责令整改通知书（城东督〔2026〕71号）.pdf — with no character a file system refuses."""
    number = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", notice.number)
    return f"{TITLE}（{number}）.pdf"


def notice_context(notice: Notice) -> dict:
    """Everything the print page and the PDF show, in the order they show it."""
    issuer = notice.issuing_unit.name
    addressee = notice.unit.name
    inspection = notice.inspection
    if inspection is not None:
        kind = KIND_WORDS.get(inspection.kind) or inspection.get_kind_display()
        opening = f"{_own_name(issuer)}于{cn_date(inspection.planned_on)}对你单位开展{kind}，发现以下问题："
    else:
        opening = "经督导检查，你单位存在以下问题："
    findings = []
    for n, finding in enumerate(notice.findings.order_by("found_at", "id"), 1):
        place, description = _one_line(finding.place).rstrip("：:"), _sentence(finding.description)
        findings.append(
            {
                "n": n,
                "label": f"{n}．",
                "place": place,
                "description": description,
                "text": f"{place}：{description}",
                "category": CATEGORY_WORDS.get(finding.category) or finding.get_category_display(),
                "severity": SEVERITY_WORDS.get(finding.severity) or finding.get_severity_display(),
                "deadline": cn_date(finding.deadline) if finding.deadline else "",
            }
        )
    lines = [_sentence(line) for line in notice.requirements.splitlines() if line.strip()]
    # one requirement runs on after the heading; several stand as paragraphs under it
    requirements = [f"整改要求：{lines[0]}"] if len(lines) == 1 else ["整改要求：", *lines]
    issued_on = timezone.localdate(notice.issued_at)
    return {
        "title": TITLE,
        "number": notice.number,
        "issuer": issuer,
        "addressee": addressee,
        "addressee_line": f"{addressee}：",
        "opening": opening,
        "findings": findings,
        "requirements": requirements,
        "deadline": cn_date(notice.deadline),
        "deadline_sentence": f"请于{cn_date(notice.deadline)}前整改完毕，并将整改情况书面报送{issuer}。",
        "issue_date": cn_date(issued_on),
        "signature": SIGNATURE,
        "filename": filename(notice),
    }


def _load(notice: Notice) -> Notice:
    """The notice with its units and inspection in one query (the findings are one more)."""
    if notice.pk and not {"issuing_unit", "unit"} <= set(notice._state.fields_cache):
        notice = Notice.objects.select_related("issuing_unit", "unit", "inspection").get(pk=notice.pk)
    return notice


# --- The PDF ----------------------------------------------------------------------------------------

_fonts: dict[tuple[str, int], str] = {}
_fonts_lock = threading.Lock()


def font_name() -> str:
    """Register the configured CJK font once per process and return its ReportLab name."""
    path = str(getattr(settings, "NOTICE_PDF_FONT", DEFAULT_FONT))
    index = int(getattr(settings, "NOTICE_PDF_FONT_INDEX", 0))
    key = (path, index)
    with _fonts_lock:
        if key not in _fonts:
            if not Path(path).is_file():
                raise NoticeFontMissing(
                    f"整改通知书PDF需要中文字体 {path}，未找到：请安装 Debian 软件包 {FONT_PACKAGE}"
                    f"（scripts/bootstrap-system），或将 NOTICE_PDF_FONT 设为一个 TrueType 中文字体文件。"
                )
            name = f"NoticeCJK{len(_fonts)}"
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except Exception as exc:
                raise NoticeFontMissing(
                    f"字体 {path} 不能嵌入PDF（{exc}）：请安装 {FONT_PACKAGE}，或换一个 TrueType 中文字体"
                ) from exc
            _fonts[key] = name
        return _fonts[key]


class _Centred(Flowable):
    """One line centred across the frame, made bold by stroking the glyphs (the face has no bold)."""

    def __init__(self, text: str, font: str, size: float, color, *, space: float = 0, before=0, after=0):
        super().__init__()
        self.text, self.font, self.size, self.color, self.space = text, font, size, color, space
        self.before, self.after = before, after

    def wrap(self, aw, ah):
        self.width = aw
        # shrink a long name to fit the line
        natural = pdfmetrics.stringWidth(self.text, self.font, self.size) + self.space * (len(self.text) - 1)
        if natural > aw:
            scale = aw / natural
            self.size, self.space = self.size * scale, self.space * scale
        self.height = self.before + self.size * 1.2 + self.after
        return aw, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setFillColor(self.color)
        c.setStrokeColor(self.color)
        c.setLineWidth(self.size * 0.035)
        c.setFont(self.font, self.size)
        c.drawCentredString(self.width / 2, self.after + self.size * 0.25, self.text, mode=2, charSpace=self.space)
        c.restoreState()


class _RedRule(Flowable):
    """The red line under the header: a heavy rule over a light one."""

    def wrap(self, aw, ah):
        self.width, self.height = aw, 5
        return aw, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setStrokeColor(RED)
        c.setLineWidth(2.2)
        c.line(0, 4, self.width, 4)
        c.setLineWidth(0.6)
        c.line(0, 0.6, self.width, 0.6)
        c.restoreState()


class _Signed(Flowable):
    """The issuer's name centred over the date, the date four characters in from the right margin,
    with room above for the seal."""

    def __init__(self, issuer: str, day: str, font: str):
        super().__init__()
        self.issuer, self.day, self.font = issuer, day, font

    def wrap(self, aw, ah):
        self.width, self.height = aw, BODY_LEADING * 4
        return aw, self.height

    def draw(self):
        c = self.canv
        c.setFont(self.font, BODY_SIZE)
        day_width = pdfmetrics.stringWidth(self.day, self.font, BODY_SIZE)
        right = self.width - 4 * BODY_SIZE
        centre = right - day_width / 2
        if centre + pdfmetrics.stringWidth(self.issuer, self.font, BODY_SIZE) / 2 > self.width:
            centre = self.width - pdfmetrics.stringWidth(self.issuer, self.font, BODY_SIZE) / 2
        c.drawCentredString(centre, BODY_LEADING + 6, self.issuer)
        c.drawRightString(right, 6, self.day)


class _Receipt(Flowable):
    """The receipt line at the foot of the page it ends on, under a thin rule (as the form's 版记)."""

    def __init__(self, text: str, font: str):
        super().__init__()
        self.text, self.font = text, font
        self.need = BODY_LEADING * 2

    def wrap(self, aw, ah):
        self.width = aw
        self.height = max(self.need, ah - 0.1)  # take the rest of the frame: drawn at its bottom
        return aw, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setStrokeColor(black)
        c.setLineWidth(0.7)
        c.line(0, BODY_LEADING + 4, self.width, BODY_LEADING + 4)
        c.setFont(self.font, 14)
        c.drawString(14, 10, self.text)
        c.restoreState()


def _canvas_class(font: str):
    """A canvas that numbers the pages "— 1 —" at the foot, only when there is more than one
    (it keeps each page until the end to know how many there are)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                if total > 1:
                    self.setFont(font, 14)
                    self.drawCentredString(A4[0] / 2, 18 * mm, f"— {self._pageNumber} —")
                super().showPage()
            super().save()

    return NumberedCanvas


def render_form(ctx: dict, body: Sequence[str], closing: str) -> bytes:
    """A paper form (the notice, the risk letter) as an A4 PDF with the CJK font embedded (a subset):
    red header with ``ctx``'s issuer, number, title, addressee line, the ``body`` paragraphs, the
    ``closing`` sentence kept with the issuer and date, the receipt line at the foot; ~50 KB a page."""
    font = font_name()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=25 * mm,
        bottomMargin=28 * mm,
        title=f"{ctx['title']}（{ctx['number']}）",
        author=ctx["issuer"],
        subject=f"{ctx['addressee']}{ctx['title']}",
        creator="专项行动任务督办系统",
        lang="zh-CN",
        initialFontName=font,  # not Helvetica: every font in the file is embedded
    )
    plain = ParagraphStyle(
        "body", fontName=font, fontSize=BODY_SIZE, leading=BODY_LEADING, wordWrap="CJK", alignment=TA_JUSTIFY
    )
    para = ParagraphStyle("para", parent=plain, firstLineIndent=2 * BODY_SIZE)
    number = ParagraphStyle("number", parent=plain, alignment=TA_RIGHT)

    def p(text: str, style=para) -> Paragraph:
        return Paragraph(escape(text), style)

    story: list[Flowable] = [
        _Centred(ctx["issuer"], font, 34, RED, space=6, after=8),
        _RedRule(),
        Spacer(0, 4),
        p(ctx["number"], number),
        _Centred(ctx["title"], font, TITLE_SIZE, black, space=4, before=10, after=14),
        p(ctx["addressee_line"], plain),
        *(p(text) for text in body),
        KeepTogether([p(closing), _Signed(ctx["issuer"], ctx["issue_date"], font)]),
        _Receipt(ctx["signature"], font),
    ]
    doc.build(story, canvasmaker=_canvas_class(font))
    return buffer.getvalue()


def render_pdf(notice: Notice) -> bytes:
    """The notice as an A4 PDF: a page or two, ~50 KB."""
    ctx = notice_context(_load(notice))
    body = [ctx["opening"], *(f["label"] + f["text"] for f in ctx["findings"]), *ctx["requirements"]]
    return render_form(ctx, body, ctx["deadline_sentence"])


# --- Responses --------------------------------------------------------------------------------------


def private(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def print_response(request, notice: Notice, pdf_url: str) -> HttpResponse:
    """The printable page (Ctrl+P prints it as the form) with a screen-only link to the PDF."""
    context = notice_context(_load(notice)) | {"pdf_url": pdf_url}
    return private(render(request, TEMPLATE, context))


def pdf_response(notice: Notice) -> HttpResponse:
    """The PDF as a download named after the notice's number."""
    notice = _load(notice)
    response = HttpResponse(render_pdf(notice), content_type="application/pdf")
    return download(response, filename(notice), fallback=f"notice-{notice.year}-{notice.seq}.pdf")
