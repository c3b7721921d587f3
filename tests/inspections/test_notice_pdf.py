"""The rectification notice as the paper form: its words, the PDF (CJK font embedded, red header,
text that extracts back as Chinese), the printable page, and the download responses.

The PDF checks use poppler-utils (pdftoppm, pdftotext, pdfinfo), installed by scripts/bootstrap-system.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import RequestFactory
from PIL import Image

from inspections import notice_pdf
from inspections import services as svc
from inspections.models import InspectionKind

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
DEADLINE = date(2026, 7, 27)
REQUIREMENTS = "立即清理消防通道，更换过期灭火器，建立夜间巡查台账"


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: install Debian's poppler-utils (run scripts/bootstrap-system as root)"
    return path


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def flat(text: str) -> str:
    """Extracted text without the line breaks and spaces the layout put in."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def visit(city, published):
    return svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )


def log(city, visit, place, description, **kw):
    return svc.log_finding(
        by=city["inspector"],
        inspection=visit,
        unit=city.units["33031001"],
        place=place,
        description=description,
        **kw,
    )


@pytest.fixture
def notice(city, visit):
    findings = [
        log(city, visit, "夜宵摊聚集区", "消防通道堵塞，灭火器过期", category="fire", severity="serious"),
        log(city, visit, "城关旅馆", "住宿登记不全，<未按规定>上传 & 核验旅客信息"),
    ]
    return svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=findings,
        deadline=DEADLINE,
        requirements=REQUIREMENTS,
        inspection=visit,
    )


@pytest.fixture
def pdf_file(notice, tmp_path):
    path = tmp_path / "notice.pdf"
    path.write_bytes(notice_pdf.render_pdf(notice))
    return path


# --- The words ----------------------------------------------------------------------------------------


def test_context_has_the_forms_sentences(notice):
    ctx = notice_pdf.notice_context(notice)
    assert ctx["title"] == "责令整改通知书"
    assert ctx["number"] == notice.number == "江城市督〔2026〕1号"
    assert ctx["issuer"] == "江城市公安局"
    assert ctx["addressee_line"] == "城关派出所："
    assert ctx["opening"] == "我局于2026年7月20日对你单位开展夜间检查，发现以下问题："
    assert [(f["label"], f["text"]) for f in ctx["findings"]] == [
        ("1．", "夜宵摊聚集区：消防通道堵塞，灭火器过期。"),
        ("2．", "城关旅馆：住宿登记不全，<未按规定>上传 & 核验旅客信息。"),
    ]
    assert ctx["findings"][0]["category"] == "消防安全隐患" and ctx["findings"][0]["severity"] == "较大"
    assert ctx["findings"][0]["deadline"] == "2026年7月27日"
    assert ctx["requirements"] == [f"整改要求：{REQUIREMENTS}。"]
    assert ctx["deadline_sentence"] == "请于2026年7月27日前整改完毕，并将整改情况书面报送江城市公安局。"
    assert ctx["issue_date"] == "2026年7月20日"
    assert ctx["signature"] == "签收人：________  签收日期：____年__月__日"
    assert ctx["filename"] == "责令整改通知书（江城市督〔2026〕1号）.pdf"


def test_without_an_inspection_and_with_several_requirements(city, published):
    found = svc.log_finding(
        by=city["inspector"], campaign=published, unit=city.units["33031002"], place="东湖市场", description="监控损坏"
    )
    notice = svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031002"],
        findings=[found],
        deadline=date(2026, 8, 5),
        requirements="1.修复监控\n2.落实值守",
        issuing_unit=city.units["330310"],
    )
    ctx = notice_pdf.notice_context(notice)
    assert ctx["number"] == "城东分局督〔2026〕1号" and ctx["addressee_line"] == "东湖派出所："
    assert ctx["opening"] == "经督导检查，你单位存在以下问题："
    assert ctx["requirements"] == ["整改要求：", "1.修复监控。", "2.落实值守。"]
    assert ctx["deadline_sentence"] == "请于2026年8月5日前整改完毕，并将整改情况书面报送城东分局。"


def test_dates_have_no_leading_zeros():
    assert notice_pdf.cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert notice_pdf.cn_date(date(2026, 10, 31)) == "2026年10月31日"


# --- The PDF ---------------------------------------------------------------------------------------------


def test_pdf_embeds_the_cjk_font(pdf_file):
    data = pdf_file.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/FontFile2" in data  # a TrueType font program embedded (a subset), not a reference
    assert b"/ToUnicode" in data  # so the text can be copied and searched
    assert re.search(r"^Pages:\s+1$", run(poppler("pdfinfo"), str(pdf_file)), re.M)
    fonts = run(poppler("pdffonts"), str(pdf_file)).splitlines()[2:]
    assert fonts and all(re.search(r"TrueType .* yes yes yes ", row) for row in fonts), fonts  # emb sub uni


def test_pdf_text_reads_back_as_chinese(pdf_file):
    text = flat(run(poppler("pdftotext"), "-enc", "UTF-8", str(pdf_file), "-"))
    for piece in (
        "江城市公安局",
        "责令整改通知书",
        "江城市督〔2026〕1号",
        "城关派出所：",
        "我局于2026年7月20日对你单位开展夜间检查，发现以下问题：",
        "1．夜宵摊聚集区：消防通道堵塞，灭火器过期。",
        "2．城关旅馆：住宿登记不全，<未按规定>上传&核验旅客信息。",
        f"整改要求：{REQUIREMENTS}。",
        "请于2026年7月27日前整改完毕，并将整改情况书面报送江城市公安局。",
        "2026年7月20日",
        "签收人：________签收日期：____年__月__日",
    ):
        assert piece in text, piece
    assert "—1—" not in text  # one page: no page number


def test_pdf_page_looks_like_the_form(pdf_file, tmp_path):
    run(poppler("pdftoppm"), "-r", "60", "-png", "-singlefile", str(pdf_file), str(tmp_path / "page"))
    image = Image.open(tmp_path / "page.png").convert("RGB")
    width, height = image.size
    assert (width, height) in {(496, 702), (497, 702)}  # A4 at 60 dpi

    def count(box, test) -> int:
        return sum(1 for px in image.crop(box).get_flattened_data() if test(*px))

    def red(r, g, b):
        return r > 170 and g < 90 and b < 90

    def dark(r, g, b):
        return r < 110 and g < 110 and b < 110

    header = (0, 0, width, int(height * 0.2))
    body = (0, int(height * 0.25), width, int(height * 0.75))
    assert count(header, red) > 400  # the red name and the red rule
    assert count(body, dark) > 1500  # the text
    assert count(body, red) == 0  # only the header is red
    # the red rule: one row spanning most of the type area
    rows = [sum(1 for x in range(width) if red(*image.getpixel((x, y)))) for y in range(header[3])]
    assert max(rows) > width * 0.6


def test_long_notice_runs_to_numbered_pages(city, visit, tmp_path, django_assert_max_num_queries):
    findings = [
        log(city, visit, f"检查点{i}", "安全出口指示灯损坏，疏散通道堆放杂物，值班记录缺失") for i in range(1, 19)
    ]
    notice = svc.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=findings,
        deadline=DEADLINE,
        requirements=REQUIREMENTS,
        inspection=visit,
    )
    with django_assert_max_num_queries(2):
        data = notice_pdf.render_pdf(notice)
    path = tmp_path / "long.pdf"
    path.write_bytes(data)
    pages = int(re.search(r"Pages:\s+(\d+)", run(poppler("pdfinfo"), str(path))).group(1))
    assert pages >= 2
    text = run(poppler("pdftotext"), "-enc", "UTF-8", str(path), "-")
    assert "— 1 —" in text and f"— {pages} —" in text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if line[0] in "，。；：、）"]  # no line starts with a closing mark
    last = flat(text.split("\f")[pages - 1])
    assert "18．检查点18" in flat(text) and "签收人" in last and "江城市公安局" in last


def test_missing_font_names_the_debian_package(notice, settings, tmp_path):
    settings.NOTICE_PDF_FONT = str(tmp_path / "none.ttc")
    with pytest.raises(notice_pdf.NoticeFontMissing, match="fonts-arphic-uming"):
        notice_pdf.render_pdf(notice)


# --- The printable page and the responses ---------------------------------------------------------------


def test_print_page_has_the_same_words_and_nothing_inline(notice):
    html = render_to_string(notice_pdf.TEMPLATE, notice_pdf.notice_context(notice) | {"pdf_url": "/notices/1/pdf/"})
    for piece in (
        "<title>责令整改通知书（江城市督〔2026〕1号）</title>",
        "css/print.css",
        '<a class="button" href="/notices/1/pdf/" download>下载PDF</a>',
        "江城市公安局",
        "江城市督〔2026〕1号",
        "城关派出所：",
        "我局于2026年7月20日对你单位开展夜间检查，发现以下问题：",
        "1．夜宵摊聚集区：消防通道堵塞，灭火器过期。",
        "2．城关旅馆：住宿登记不全，&lt;未按规定&gt;上传 &amp; 核验旅客信息。",
        "请于2026年7月27日前整改完毕，并将整改情况书面报送江城市公安局。",
        "2026年7月20日",
        "签收人：________  签收日期：____年__月__日",
    ):
        assert piece in html, piece
    assert "style=" not in html and "<style" not in html
    assert "<script" not in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert 'class="top"' not in html  # standalone: not the app's page frame


def test_print_css_is_the_a4_form():
    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/print.css")).read_text(encoding="utf-8")
    assert "size: A4" in css and "@media print" in css and "url(" not in css  # no web font


def test_responses(notice):
    request = RequestFactory().get("/notices/1/print/")
    page = notice_pdf.print_response(request, notice, "/notices/1/pdf/")
    assert page.status_code == 200 and "下载PDF" in page.content.decode()
    assert page["X-Content-Type-Options"] == "nosniff"

    pdf = notice_pdf.pdf_response(notice)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert "private" in pdf["Cache-Control"]
    disposition = pdf["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"notice-2026-1.pdf\"; filename*=UTF-8''")
    assert "%E8%B4%A3%E4%BB%A4" in disposition  # 责令 … percent-encoded
