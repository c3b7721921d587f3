"""The issued document's files: the PDF (pdftotext reads the Chinese back, the first page drawn as PNG has
the red 版头) and the DOCX (python-docx reads the paragraphs, styles, fonts, the red line, the footer's page
number and the table back); an office's own template without our styles still gives a document."""

from __future__ import annotations

import io
import re
import subprocess

import docx
import pytest
from docx.oxml.ns import qn
from PIL import Image

from boards.bulletin import week_of
from documents import services as svc
from documents.render import content as build
from documents.render.docx import make_template, render_docx

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


def issued_bulletin(city, campaign, leader):
    doc = svc.draft_bulletin(by=city["hq"], campaign=campaign, unit=city.units["3303"], period=week_of(campaign, WEEK))
    doc = svc.update_draft(document=doc, by=city["hq"], cc="省厅治安总队", attachments="各单位排名明细\n督导问题清单")
    doc = svc.submit_document(document=doc, by=city["hq"])
    doc = svc.check_document(document=doc, by=city["hq"])
    return svc.sign_document(document=doc, by=leader)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_reads_back_and_has_the_red_head(city, worked, city_leader, tmp_path):
    doc = issued_bulletin(city, worked, city_leader)
    path = tmp_path / "doc.pdf"
    path.write_bytes(doc.pdf.read())
    text = flat(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout)
    for words in (
        "专项行动工作通报",
        "第1期",
        "江城市通〔2026〕1号",
        "签发人：陈局长",
        "一、总体进展",
        "综合排名",
        "抄送：省厅治安总队",
        "附件：1．各单位排名明细",
        "2026年9月1日",
        "印发",
        "—1—",
    ):
        assert words in text, words
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    width, height = image.size
    top = [image.getpixel((x, y)) for x in range(0, width, 2) for y in range(int(height * 0.1), int(height * 0.2))]
    assert any(r > 180 and g < 80 and b < 80 for r, g, b in top)  # the red masthead


def test_the_docx_reads_back_with_styles_fonts_and_numbers(city, worked, city_leader):
    doc = issued_bulletin(city, worked, city_leader)
    word = docx.Document(io.BytesIO(doc.docx.read()))
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    assert paragraphs[0] == ("公文版头", "专项行动工作通报")
    assert ("公文发文字号", "江城市通〔2026〕1号　　签发人：陈局长") in paragraphs
    assert ("公文一级标题", "一、总体进展") in paragraphs
    assert ("公文主送", "江城市公安局各单位：") in paragraphs
    assert ("公文版记", "抄送：省厅治安总队") in paragraphs
    assert ("公文落款", "2026年9月1日") in paragraphs
    assert word.paragraphs[0].runs[0].font.color.rgb == docx.shared.RGBColor(0xFF, 0, 0)
    number = next(p for p in word.paragraphs if p.text.startswith("江城市通"))
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"  # the red line under the number
    body = word.styles["公文正文"]
    assert body.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert body.font.size.pt == 16
    assert word.styles["公文标题"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"
    section = word.sections[0]
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "— " in section.footer.paragraphs[0].text
    table = word.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["名次", "单位", "综合得分", "完成率", "逾期任务", "未整改问题"]
    assert len(word.inline_shapes) == 2  # the two charts
    # the DOCX and the PDF are of one content: the words of the stored content are in the DOCX
    words = "\n".join(p.text for p in word.paragraphs)
    assert all(b["label"] + b["text"] in words for b in doc.content["blocks"] if b["t"] == "heading")


def test_an_office_template_without_the_styles(city, published, settings, tmp_path):
    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    settings.DOCUMENT_TEMPLATE = str(plain)
    draft = svc.draft_document(by=city["hq"], campaign=published, kind="notice", unit=city.units["3303"], title="通知")
    draft = svc.update_draft(document=draft, by=city["hq"], requirements="第一段", next_steps="第二段")
    content = build.compose(draft, number="江城市发〔2026〕1号", day=WEEK)
    word = docx.Document(io.BytesIO(render_docx(content)))
    assert [p.text for p in word.paragraphs][:3] == ["江城市公安局", "江城市发〔2026〕1号", "通知"]
    assert all(p.style.name == "Normal" for p in word.paragraphs)
    title = word.paragraphs[2].runs[0]
    assert title.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"


def test_the_template_in_the_repository_is_the_one_make_template_writes(tmp_path):
    made = docx.Document(str(make_template(tmp_path / "t.docx")))
    kept = docx.Document(str(build.__file__.rsplit("/render/", 1)[0] + "/templates/official.docx"))
    assert sorted(s.name for s in made.styles) == sorted(s.name for s in kept.styles)
