"""The bulletin (工作通报): periods, the words it prints against the figures, scope, the print page and
the PDF (text extracted with pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest

from boards.bulletin import bulletin_context, default_period, render_pdf, round_period, week_of
from boards.ranking import ranking
from stats.models import Round
from tasks.models import Assignment
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.smoke, pytest.mark.usefixtures("mid_campaign")]


def test_weeks_run_monday_to_sunday_from_the_campaign_start(published):
    first = week_of(published, date(2026, 7, 1))  # a Wednesday
    assert (first.start, first.end, first.number) == (date(2026, 7, 1), date(2026, 7, 5), 1)
    assert first.label == "第1周（7月1日至5日）"
    third = week_of(published, date(2026, 7, 15))
    assert (third.start, third.end, third.number) == (date(2026, 7, 13), date(2026, 7, 19), 3)
    assert week_of(published, date(2026, 10, 8)).end == date(2026, 10, 8)  # the last, cut at the campaign's end
    assert default_period(published) == week_of(published, date(2026, 8, 30))  # the last whole week
    r = Round.objects.create(campaign=published, name="第一轮", start=date(2026, 7, 7), end=date(2026, 7, 9))
    assert round_period(published, r).label == "第一轮（7月7日至9日）" and round_period(published, r).number == 1


def test_the_words_agree_with_the_figures(city, worked):
    period = week_of(worked, date(2026, 8, 25))
    ctx = bulletin_context(city["hq"], worked, city.units["3303"], period)
    work = Assignment.objects.filter(campaign=worked, is_active=True)
    # accepted by the period's end (the day after it went in: the fixture)
    done = work.filter(status="accepted", submitted_on__lt=date(2026, 8, 30)).count()
    assert f"共承担任务{work.count()}项，已完成{done}项" in ctx["overview"]
    r = ranking(city["hq"], worked, city.units["3303"], as_of=date(2026, 8, 30))  # as of the period's end too
    assert [s["unit"] for s in ctx["standings"]] == [s.unit.name for s in r.standings if s.rank]
    assert [x["unit"] for x in ctx["laggards"]] == [s.unit.name for s in r.laggards]
    if ctx["laggards"]:
        assert ctx["laggards"][0]["unit"] in ctx["called"] and "予以通报" in ctx["called"]
    assert ctx["title"] == f"关于{worked.name}第9周（8月24日至30日）工作情况的通报"
    assert "发现问题" in ctx["supervision"]


def test_a_sub_bureau_bulletin_covers_its_subtree(city, worked):
    ctx = bulletin_context(city["east_leader"], worked, city.units["330310"], week_of(worked, date(2026, 8, 25)))
    east = Assignment.objects.filter(campaign=worked, is_active=True, unit__path__startswith=city.units["330310"].path)
    assert f"共承担任务{east.count()}项" in ctx["overview"]
    assert all(o["unit"] in {"城东分局", "城关派出所", "东湖派出所", "城东交警大队"} for o in ctx["overdue"])


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed (scripts/bootstrap-system)")
def test_the_pdf_reads_as_the_bulletin(city, worked, tmp_path):
    ctx = bulletin_context(city["hq"], worked, city.units["3303"], week_of(worked, date(2026, 8, 25)))
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(render_pdf(ctx))
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squeezed = "".join(words.split())
    for part in ("专项行动工作通报", "第9期", "综合排名", "下步工作要求", ctx["standings"][0]["unit"]):
        assert "".join(part.split()) in squeezed, part


def test_the_print_page_and_the_pdf_download(city, worked):
    hq = login(city["hq"])
    page = hq.get(f"/board/bulletin/?campaign={worked.pk}&period=w2026-08-25")
    assert page.status_code == 200
    html = text(page)
    assert "第9期" in html and "综合排名" in html and 'data-chart="bchart0-data"' in html
    pdf = hq.get(f"/board/bulletin/pdf/?campaign={worked.pk}&period=w2026-08-25")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in pdf["Content-Disposition"]
    leader = login(city["east_leader"])
    assert leader.get(f"/board/bulletin/?campaign={worked.pk}&unit=3303").status_code == 404
    assert leader.get(f"/board/bulletin/?campaign={worked.pk}&period=r999").status_code == 404
    assert "城东分局各单位" in text(leader.get(f"/board/bulletin/?campaign={worked.pk}"))
