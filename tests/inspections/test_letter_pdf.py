"""The risk letter as the paper form (the notice's layout, ``notice_pdf.render_form``): its words, the
PDF read back with poppler's pdftotext (CJK font embedded), and the download's name."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from inspections import letter_pdf, letters
from inspections import services as svc
from inspections.models import InspectionKind, RiskLetter
from tests.inspections.test_notice_pdf import flat, poppler, run

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_from_analysis_with_several_measures(city):
    letter = letters.issue_letter(
        by=city["inspector"],
        unit=city.units["33031001"],
        title="关于夜市消防安全风险的提示",
        risk="夜市摊点密集，消防通道多处堵塞\n电动车违规充电",
        requirements="1.立即排查\n2.落实专人巡查",
        reply_by=date(2026, 7, 27),
    )
    ctx = letter_pdf.letter_context(letter)
    assert ctx["title"] == "风险提示函" and ctx["number"] == "江城市风险提示〔2026〕1号"
    assert ctx["addressee_line"] == "城关派出所："
    assert ctx["body"] == [
        "经我局分析研判，你单位存在以下风险：",
        "夜市摊点密集，消防通道多处堵塞。",
        "电动车违规充电。",
        "防范要求：",
        "1.立即排查。",
        "2.落实专人巡查。",
    ]
    assert ctx["closing"] == "请你单位高度重视，于2026年7月27日前将采取的防范措施书面反馈江城市公安局。"
    assert ctx["filename"] == "风险提示函（江城市风险提示〔2026〕1号）.pdf"
    fresh = letter_pdf._load(RiskLetter.objects.get(pk=letter.pk))  # its units and inspection in one query
    assert {"issuing_unit", "unit", "inspection"} <= set(fresh._state.fields_cache)


def test_pdf_reads_back_as_the_form(city, published, tmp_path):
    visit = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )
    letter = letters.issue_letter(
        by=city["inspector"],
        unit=city.units["33031001"],
        title="夜市风险",
        risk="通道堵塞",
        requirements="落实巡查",
        reply_by=TODAY + timedelta(days=7),
        inspection=visit,
    )
    ctx = letter_pdf.letter_context(letter)
    assert ctx["body"][0] == "我局于2026年7月20日对你单位开展夜间检查，发现存在以下风险："
    assert ctx["body"][-1] == "防范要求：落实巡查。"
    path = tmp_path / "letter.pdf"
    path.write_bytes(letter_pdf.render_pdf(letter))
    assert re.search(r"^Pages:\s+1$", run(poppler("pdfinfo"), str(path)), re.M)
    fonts = run(poppler("pdffonts"), str(path)).splitlines()[2:]
    assert fonts and all(re.search(r"TrueType .* yes yes yes ", row) for row in fonts), fonts  # emb sub uni
    text = flat(run(poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"))
    for words in (
        "江城市公安局",
        "江城市风险提示〔2026〕1号",
        "风险提示函",
        "城关派出所：",
        "我局于2026年7月20日对你单位开展夜间检查，发现存在以下风险：",
        "通道堵塞。",
        "防范要求：落实巡查。",
        "于2026年7月27日前将采取的防范措施书面反馈江城市公安局。",
        "2026年7月20日",
        "签收人：",
    ):
        assert words in text, words
