"""The bulletin (工作通报): periods, the words it prints against the figures, scope, the print page and
the PDF (text extracted with pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from boards.bulletin import bulletin_context, default_period, overdue_as_of, render_pdf, round_period, week_of
from boards.ranking import ranking
from inspections.models import Finding
from stats.models import Round
from tasks.models import Assignment
from tasks.queries import overdue_q, planned_q
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.workflow import transition_assignment
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


# --- As of its period's end (issue 20.4) -----------------------------------------------------------


def _words(ctx: dict) -> dict:
    """What a bulletin says: every text and figure (the charts' data too), not the period object."""
    return {
        k: ([(c.title, c.x, [(s.name, s.values) for s in c.series]) for c in v] if k == "charts" else v)
        for k, v in ctx.items()
        if k != "period"
    }


def _pdf_text(ctx: dict, tmp_path) -> str:
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(render_pdf(ctx))
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _lead(city, a: Assignment):
    """The unit lead who reports for ``a``'s unit, or None (the city's own units)."""
    for code, who in (("330310", "east_lead"), ("330320", "west_lead")):
        if a.unit.path.startswith(city.units[code].path):
            return city[who]
    return None


def _move(a: Assignment, name: str, by) -> None:
    a.refresh_from_db()
    transition_assignment(assignment=a, name=name, by=by, note="理由", confirm_shortfall=True)
    a.refresh_from_db()


def _finish(city, a: Assignment) -> None:
    """Started and submitted by its unit, accepted by HQ, through the services (audited), today."""
    lead = _lead(city, a)
    if a.status == "pending":
        _move(a, "start", lead)
    if a.status == "returned":
        _move(a, "resume", lead)
    if a.status == "in_progress":
        _move(a, "submit", lead)
    _move(a, "accept", city["hq"])


def test_reissued_later_the_bulletin_says_the_same(city, worked, tmp_path):
    """Last week's bulletin issued again after more work was done and accepted, some reopened, some
    extended, and findings closed, gives the same words (and the same PDF text)."""
    period = week_of(worked, date(2026, 8, 25))
    first = bulletin_context(city["hq"], worked, city.units["3303"], period)
    pdf = _pdf_text(first, tmp_path) if shutil.which("pdftotext") else None
    hq = city["hq"]
    open_work = [
        a
        for a in Assignment.objects.filter(campaign=worked).exclude(status="accepted").select_related("unit")
        if _lead(city, a)
    ]
    assert open_work
    _finish(city, open_work[0])  # overdue at the period's end, done today
    reopened = next(
        a
        for a in Assignment.objects.filter(campaign=worked, status="accepted").select_related("unit").order_by("id")
        if _lead(city, a) and a.pk != open_work[0].pk
    )
    _move(reopened, "reopen", hq)  # done by then, reopened today and extended
    request = request_extension(assignment=reopened, by=_lead(city, reopened), due=date(2026, 10, 8), reason="警力不足")
    decide_extension(request=request, by=hq, approve=True, note="")
    Finding.objects.filter(campaign=worked, closed_at__isnull=True).update(status="closed", closed_at=timezone.now())
    again = bulletin_context(city["hq"], worked, city.units["3303"], period)
    assert _words(again) == _words(first)
    if pdf is not None:
        assert _pdf_text(again, tmp_path) == pdf
    this_week = bulletin_context(city["hq"], worked, city.units["3303"], week_of(worked, date(2026, 9, 1)))
    assert this_week["overview"] != first["overview"]  # today's work shows in today's bulletin


def test_the_ranking_and_the_overview_agree_on_overdue_work(city, published):
    """Everything due by the period's end was done; one assignment falls due after it and is late today:
    the bulletin says 无逾期任务 and calls nobody in for overdue work (the ranking as of today would)."""
    from tests.boards.conftest import morning

    period = week_of(published, date(2026, 8, 25))  # to 8月30日; today 9月1日
    work = Assignment.objects.filter(campaign=published).order_by("id")
    late = work.first()
    Assignment.objects.filter(pk=late.pk).update(due_date=date(2026, 8, 31))
    Assignment.objects.exclude(pk=late.pk).filter(campaign=published).update(
        status="accepted", submitted_on=date(2026, 7, 20), updated_at=morning(date(2026, 7, 21))
    )
    ctx = bulletin_context(city["hq"], published, city.units["3303"], period)
    assert "无逾期任务" in ctx["overview"] and ctx["overdue"] == []
    assert all("逾期" not in x["reasons"] for x in ctx["laggards"])
    assert sum(s["overdue"] for s in ctx["standings"]) == 0
    today = ranking(city["hq"], published, city.units["3303"])
    assert sum(s.overdue for s in today.standings) == 1  # as of today it is overdue


def test_the_oldest_overdue_as_they_were(city, worked):
    """The bulletin's overdue list is the work overdue at the period's end, oldest first, whatever happened
    since: work done since is still listed (its audited changes put it back as it was)."""
    end = date(2026, 8, 30)
    work = Assignment.objects.filter(planned_q(), campaign=worked, is_active=True)
    before = [a.pk for a in work.filter(overdue_q(end + timedelta(days=1))).order_by("due_date", "id")]
    assert before, "the fixture has overdue work"
    assert [a.pk for a in overdue_as_of(work, end, 20)] == before[:20]
    for a in work.filter(pk__in=before).select_related("unit"):
        if _lead(city, a):
            _finish(city, a)
    assert work.filter(pk__in=before, status="accepted").exists()
    assert [x.pk for x in overdue_as_of(work, end, 20)] == before[:20]
    assert [x.pk for x in overdue_as_of(work, end, 1)] == before[:1]
    assert [x.pk for x in overdue_as_of(work, end - timedelta(days=60), 20)] == []  # nothing due by 7月1日


def test_the_bulletin_page_reads_a_fixed_number_of_queries(city, worked, django_assert_num_queries):
    hq = login(city["hq"])
    url = f"/board/bulletin/?campaign={worked.pk}&period=w2026-08-25"
    hq.get(url)  # the session and the caches warmed
    with django_assert_num_queries(QUERIES[connection.vendor]):
        assert hq.get(url).status_code == 200


# 28 before issue 23.2, six of them over every assignment (the statistics' totals read one more on PostgreSQL);
# the findings chart reads two short groupings (per day found, per day closed) instead of every pair of days
# (and the major cases of issue 21: one query, two when some are late; the 约谈 held in the period, issue 22.5:
# one query, two when some were held); the units' sums as of the period's end are one statement (the rollup
# minus the later changes, per unit then per branch), not two; on PostgreSQL the statistics' window, 代填,
# 同比 and 环比 are one statement over the rollup (stats.queries._rollup_totals), not four; the session's user
# comes with its grants (accounts.backends)
QUERIES = {"postgresql": 21, "sqlite": 23}


def test_the_findings_chart_counts_each_week_found_and_closed(city, worked):
    """Each week's bars: the findings found and those closed that week (local days), up to the period's end."""
    unit = city.units["3303"]
    findings = list(Finding.objects.filter(campaign=worked, unit__path__startswith=unit.path))
    assert findings, "the fixture holds findings"
    # one found in week 2 and closed in week 3, at the edge of the local days
    edge = findings[0]
    found = timezone.make_aware(datetime(2026, 7, 12, 23, 30))  # Sunday night: week 2
    closed = timezone.make_aware(datetime(2026, 7, 13, 0, 10))  # Monday: week 3
    Finding.objects.filter(pk=edge.pk).update(found_at=found, closed_at=closed)
    ctx = bulletin_context(city["hq"], worked, unit, week_of(worked, date(2026, 8, 25)))
    chart = ctx["charts"][1]
    weeks = [week_of(worked, worked.start + timedelta(days=7 * i)) for i in range(len(chart.x))]
    weeks[0] = week_of(worked, worked.start)
    local = timezone.localdate
    rows = list(Finding.objects.filter(campaign=worked, unit__path__startswith=unit.path))
    expected_found = [sum(1 for f in rows if w.start <= local(f.found_at) <= w.end) for w in weeks]
    expected_closed = [sum(1 for f in rows if f.closed_at and w.start <= local(f.closed_at) <= w.end) for w in weeks]
    assert chart.series[0].values == expected_found and chart.series[1].values == expected_closed
    assert expected_found[1] >= 1 and expected_closed[2] >= 1
    assert len(chart.x) == 9  # to the period's week, not beyond


def test_findings_as_of_a_day_end_at_local_midnight(city, worked):
    """As of day D: found (or closed) at 23:30 local on D counts, at 00:10 on D+1 does not."""
    from boards.ranking import finding_sums

    unit = city.units["3303"]
    day = date(2026, 8, 30)
    a, b = Finding.objects.filter(campaign=worked, unit__path__startswith=unit.path).order_by("pk")[:2]
    late_night = timezone.make_aware(datetime(2026, 8, 30, 23, 30))
    next_morning = timezone.make_aware(datetime(2026, 8, 31, 0, 10))

    def counted():
        rows = finding_sums(city["hq"], worked, unit, as_of=day).values()
        return sum(r["findings"] for r in rows), sum(r["open_findings"] for r in rows)

    Finding.objects.filter(pk__in=[a.pk, b.pk]).update(found_at=late_night, closed_at=None, status="open")
    both = counted()
    Finding.objects.filter(pk=b.pk).update(found_at=next_morning)
    assert counted() == (both[0] - 1, both[1] - 1)  # b not yet found at D's end
    Finding.objects.filter(pk=a.pk).update(closed_at=late_night, status="closed")
    assert counted() == (both[0] - 1, both[1] - 2)  # a closed by D's end
    Finding.objects.filter(pk=a.pk).update(closed_at=next_morning)
    assert counted() == (both[0] - 1, both[1] - 1)  # closed after D: still open then


def test_a_month_the_campaign_so_far_and_any_range(published):
    from boards.bulletin import month_period, months, range_period, so_far_period

    august = month_period(published, date(2026, 8, 17))
    assert (august.start, august.end, august.label, august.key) == (
        date(2026, 8, 1),
        date(2026, 8, 31),
        "8月份",
        "m2026-08",
    )
    october = month_period(published, date(2026, 10, 2))  # cut at the campaign's end (10-08)
    assert (october.end, october.label) == (date(2026, 10, 8), "10月份（10月1日至8日）")
    so_far = so_far_period(published, date(2026, 8, 25))
    assert (so_far.start, so_far.end, so_far.label) == (published.start, date(2026, 8, 25), "行动以来（截至8月25日）")
    assert so_far.number is None and so_far.number_text == "（期号签发时编定）"
    backwards = range_period(published, date(2026, 8, 20), date(2026, 8, 1))
    assert (backwards.start, backwards.end, backwards.key) == (
        date(2026, 8, 1),
        date(2026, 8, 20),
        "d2026-08-01..2026-08-20",
    )
    assert range_period(published, date(2025, 1, 1), date(2099, 1, 1)).start == published.start
    assert [m.label for m in months(published, date(2026, 9, 1))] == ["7月份", "8月份", "9月份"]
    assert week_of(published, date(2026, 8, 25)).number_text == "第9期"


@pytest.mark.parametrize(
    "query, words",
    [
        ("period=m2026-08", "关于{name}8月份工作情况的通报"),
        ("period=c2026-08-25", "关于{name}行动以来（截至8月25日）工作情况的通报"),
        ("end=2026-08-25", "关于{name}行动以来（截至8月25日）工作情况的通报"),
        ("start=2026-08-01&end=2026-08-10", "关于{name}8月1日至10日工作情况的通报"),
        ("period=d2026-08-01..2026-08-10", "关于{name}8月1日至10日工作情况的通报"),
        ("period=m2026-13", "关于{name}第9周（8月24日至30日）工作情况的通报"),  # malformed: the default week
    ],
)
def test_the_page_opens_each_kind_of_period(city, worked, query, words):
    hq = login(city["hq"])
    page = hq.get(f"/board/bulletin/?campaign={worked.pk}&{query}")
    assert page.status_code == 200
    html = text(page)
    assert words.format(name=worked.name) in html
    key = page.context["chosen"]
    assert f"period={key}" in page.context["pdf_url"] and key in dict(page.context["periods"])
    pdf = hq.get(page.context["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_indicators_at_zero_then_and_a_year_before_are_left_out_unless_asked(city, worked):
    from stats.models import Indicator

    Indicator.objects.create(campaign=worked, code="zero", name="缴获爆炸物", measure="起")
    period = week_of(worked, date(2026, 8, 25))
    plain = bulletin_context(city["hq"], worked, city.units["3303"], period)
    kept = bulletin_context(city["hq"], worked, city.units["3303"], period, zeros=True)
    assert "缴获爆炸物" not in plain["results"]
    assert "缴获爆炸物0起" in kept["results"]
    hq = login(city["hq"])
    page = hq.get(f"/board/bulletin/?campaign={worked.pk}&period=w2026-08-25&zeros=1")
    assert "缴获爆炸物0起" in text(page) and page.context["pdf_url"].endswith("&zeros=1")
