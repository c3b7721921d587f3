"""The document as a Word file (DOCX) in the official layout, written with python-docx into a copy of the
template file the office may replace (``settings.DOCUMENT_TEMPLATE``, by default
``documents/templates/official.docx``): the template holds the page (A4, margins 37/35/28/26 mm), the
footer with the page number "— 1 —" and the styles; this module fills in the content
(``content.compose``). A style the office's template lacks is replaced by Normal with the font set here.

``make_template`` writes the default template (``manage.py shell -c "from documents.render.docx import
make_template; make_template()"``); the repository holds its output.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.conf import settings
from docx import Document as open_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from boards.charts import png

from .content import chart_of

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "official.docx"
RED = RGBColor(0xFF, 0x00, 0x00)
FANGSONG, XIAOBIAOSONG, HEITI, KAITI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
# name: (East Asian font, size in points, bold, alignment, first-line indent in characters)
STYLES = {
    "公文正文": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "公文版头": (XIAOBIAOSONG, 36, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "公文发文字号": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "公文标题": (XIAOBIAOSONG, 22, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "公文主送": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 0),
    "公文一级标题": (HEITI, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 2),
    "公文二级标题": (KAITI, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 2),
    "公文三级标题": (FANGSONG, 16, True, WD_ALIGN_PARAGRAPH.LEFT, 2),
    "公文四级标题": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 2),
    "公文落款": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.RIGHT, 0),
    "公文版记": (FANGSONG, 14, False, WD_ALIGN_PARAGRAPH.LEFT, 0),
    "公文表格": (FANGSONG, 12, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
}
HEADING_STYLE = {1: "公文一级标题", 2: "公文二级标题", 3: "公文三级标题", 4: "公文四级标题"}
LINE = Pt(28.95)  # 22 lines on the type area


def template_path() -> Path:
    return Path(getattr(settings, "DOCUMENT_TEMPLATE", "") or DEFAULT_TEMPLATE)


def _east_asian(run_or_style, font: str) -> None:
    """The Chinese face (w:eastAsia) with Times New Roman for Latin letters and digits."""
    run_or_style.font.name = "Times New Roman"
    r_pr = run_or_style.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font)


def _border(paragraph, side: str, *, color: str = "000000", size: int = 6) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


def _page_number_field(paragraph) -> None:
    """ "— PAGE —": Word fills the field in on every page."""
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    paragraph.add_run(" —")


def make_template(path: Path = DEFAULT_TEMPLATE) -> Path:
    """Write the default template: page, footer and the styles of ``STYLES``."""
    doc = open_docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Mm(7)
    normal = doc.styles["Normal"]
    _east_asian(normal, FANGSONG)
    normal.font.size = Pt(16)
    for name, (font, size, bold, align, indent) in STYLES.items():
        style = doc.styles.add_style(name, 1)  # WD_STYLE_TYPE.PARAGRAPH
        style.base_style = normal
        _east_asian(style, font)
        style.font.size, style.font.bold = Pt(size), bold
        fmt = style.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Pt(size * indent) if indent else None
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(max(size * 1.8, 28.95))
        fmt.space_before = fmt.space_after = Pt(0)
        if name == "公文版头":
            style.font.color.rgb = RED
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_field(footer)
    for run in footer.runs:
        _east_asian(run, "宋体")
        run.font.size = Pt(14)
    doc.core_properties.title = "公文模板"
    doc.core_properties.author = "专项行动任务督办系统"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def render_docx(content: dict) -> bytes:
    doc = open_docx(str(template_path()))
    body = doc.element.body
    for child in list(body):  # the template's own paragraphs go; its section (page, footer) stays
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    names = {s.name for s in doc.styles}

    def para(text: str, style: str, *, color: RGBColor | None = None):
        p = doc.add_paragraph(style=style if style in names else "Normal")
        run = p.add_run(text)
        if style not in names:  # the office's template lacks it: set the font here
            font, size, bold, align, _indent = STYLES[style]
            _east_asian(run, font)
            run.font.size, run.font.bold = Pt(size), bold
            p.alignment = align
        if color is not None:
            run.font.color.rgb = color
        return p

    width = doc.sections[0].page_width - doc.sections[0].left_margin - doc.sections[0].right_margin
    para(content["masthead"], "公文版头", color=RED)
    if content["issue_no"]:
        para(content["issue_no"], "公文发文字号")
    number = content["number"] + (f"　　签发人：{content['signer']}" if content["signer"] else "")
    _border(para(number or " ", "公文发文字号"), "bottom", color="FF0000", size=18)  # the red line
    para(content["title"], "公文标题")
    if content["addressee"]:
        para(content["addressee"] + "：", "公文主送")
    for block in content["blocks"]:
        if block["t"] == "heading":
            para(block["label"] + block["text"], HEADING_STYLE[block["level"]])
        elif block["t"] == "para":
            para(block["text"], "公文正文")
        elif block["t"] == "table":
            rows = [block["columns"], *block["rows"]]
            table = doc.add_table(rows=len(rows), cols=len(block["columns"]))
            if "Table Grid" in names:
                table.style = doc.styles["Table Grid"]
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.paragraphs[0].style = doc.styles["公文表格"] if "公文表格" in names else doc.styles["Normal"]
                    run = cell.paragraphs[0].add_run(str(value))
                    run.font.bold = r == 0
        elif block["t"] == "chart":
            doc.add_picture(BytesIO(png(chart_of(block["chart"]), width=900, height=380)), width=width)
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for n, name in enumerate(content["attachments"], 1):
        para(("附件：" if n == 1 else "　　　") + f"{n}．{name}", "公文正文")
    para(content["issuer"], "公文落款")
    if content["date"]:
        para(content["date"], "公文落款")
    if content["cc"]:
        _border(para(f"抄送：{content['cc']}", "公文版记"), "top")
    printed = para(content["printed"], "公文版记")
    _border(printed, "bottom")
    if not content["cc"]:
        _border(printed, "top")
    doc.core_properties.title = content["title"]
    doc.core_properties.author = content["issuer"]
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
