"""The document as an A4 PDF in the official layout, from the same content as the DOCX
(``content.compose``), with the CJK font the notice and the bulletin embed (``inspections.notice_pdf``):
the red 版头 and line, the number (and 签发人), the title, 主送, the numbered body, tables and charts,
附件, 落款, the 抄送 and 印发 lines, page numbers "— 1 —"."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from boards.charts import png
from inspections import notice_pdf as paper

from .content import chart_of

SIZE, LEADING = 16, 28.5


def render_pdf(content: dict) -> bytes:
    font = paper.font_name()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=37 * mm,
        bottomMargin=35 * mm,
        title=content["title"],
        author=content["issuer"],
        creator="专项行动任务督办系统",
        lang="zh-CN",
        initialFontName=font,
    )
    flat = ParagraphStyle("flat", fontName=font, fontSize=SIZE, leading=LEADING, wordWrap="CJK", alignment=TA_JUSTIFY)
    body = ParagraphStyle("body", parent=flat, firstLineIndent=2 * SIZE)
    centre = ParagraphStyle("centre", parent=flat, alignment=TA_CENTER)
    right = ParagraphStyle("right", parent=flat, alignment=TA_RIGHT, rightIndent=2 * SIZE)
    title = ParagraphStyle("title", parent=centre, fontSize=paper.TITLE_SIZE, leading=paper.TITLE_SIZE * 1.5)
    cell = ParagraphStyle("cell", parent=flat, fontSize=11, leading=15, alignment=TA_CENTER)
    record = ParagraphStyle("record", parent=flat, fontSize=14, leading=24, alignment=TA_LEFT, leftIndent=14)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    story: list[Flowable] = [paper._Centred(content["masthead"], font, 34, paper.RED, space=4, after=6)]
    if content["issue_no"]:
        story.append(p(content["issue_no"], centre))
    number = content["number"] + (f"　　签发人：{content['signer']}" if content["signer"] else "")
    if number:
        story.append(p(number, centre))
    story += [
        paper._RedRule(),
        Spacer(0, 14),
        p(content["title"], title),  # a long title wraps, centred, as the DOCX's
        Spacer(0, 14),
    ]
    if content["addressee"]:
        story.append(p(content["addressee"] + "：", flat))
    for block in content["blocks"]:
        if block["t"] == "heading":
            story.append(p(block["label"] + block["text"], body))
        elif block["t"] == "para":
            story.append(p(block["text"]))
        elif block["t"] == "table":
            rows = [block["columns"], *block["rows"]]
            n = len(block["columns"])
            table = Table(
                [[Paragraph(escape(str(c)), cell) for c in row] for row in rows],
                colWidths=[doc.width / n] * n,
                repeatRows=1,
            )
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, black),
                        ("BACKGROUND", (0, 0), (-1, 0), Color(0.9, 0.92, 0.95)),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story += [Spacer(0, 4), table, Spacer(0, 4)]
        elif block["t"] == "chart":
            image = png(chart_of(block["chart"]), width=900, height=380)
            story.append(Image(BytesIO(image), width=doc.width, height=doc.width * 380 / 900))
    for n, name in enumerate(content["attachments"], 1):
        story.append(p(("附件：" if n == 1 else "　　　") + f"{n}．{name}", body))
    story += [Spacer(0, LEADING), p(content["issuer"], right)]
    if content["date"]:
        story.append(p(content["date"], right))
    story += [Spacer(0, LEADING), HRFlowable(width="100%", thickness=0.7, color=black, spaceAfter=2)]
    if content["cc"]:
        story += [p(f"抄送：{content['cc']}", record), HRFlowable(width="100%", thickness=0.5, color=black)]
    story += [p(content["printed"], record), HRFlowable(width="100%", thickness=0.7, color=black)]
    doc.build(story, canvasmaker=paper._canvas_class(font))
    return buffer.getvalue()
