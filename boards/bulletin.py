"""The bulletin (工作通报) of a period — a week of the campaign or a round — as a print page and an A4 PDF.

``bulletin_context`` gathers what both show, in the words and order of an official 通报: the red
header (专项行动工作通报, 第N期, the issuing office and date), the title, the overall progress, the
results statistics with 同比/环比, the ranking, the laggards called in (通报约谈), overdue work,
supervision findings, and the requirements for the next period. Every figure is read as the
requesting user (``accounts.scope``), so a sub-bureau's bulletin covers its subtree only.

The PDF reuses the notice's CJK font and red header (``inspections.notice_pdf``); the charts are the
PNGs of ``boards.charts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpResponse
from django.utils import timezone
from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounts import scope
from accounts.models import Unit
from audit.models import AuditEvent
from inspections import notice_pdf as paper
from inspections.models import Finding, FindingStatus, Inspection, InspectionStatus
from stats import queries as stats
from stats.ranking import firsts as first_words
from stats.ranking import rankings
from tasks.models import Assignment, AssignmentRole, AssignmentStatus, Campaign
from tasks.queries import planned_q, submitted_on_time_q
from utilities.cn import cn_date, cn_percent, cn_range
from utilities.uploads import download

from .charts import Chart, Series, png
from .models import BoardDelta
from .queries import board_counts
from .ranking import branch_sums, end_of, finding_sums, ranking

OVERDUE_SHOWN = 20
S_SUBMITTED = AssignmentStatus.SUBMITTED
FINDINGS_SHOWN = 10
REQUIREMENTS = [
    "一要压实工作责任。各单位主要负责人要亲自研究部署，对照责任清单逐项抓好落实，确保按时保质完成。",
    "二要抓好问题整改。对督导检查发现的问题，要建立台账、限期整改、逐项销号，整改情况按时报送。",
    "三要严格报送纪律。各单位要按时报送工作进展和战果统计数据，确保数据真实准确，杜绝迟报、漏报。",
]


@dataclass(frozen=True)
class Period:
    """What a bulletin covers: a week of the campaign (Monday to Sunday), a round, a month, the campaign so
    far (行动以来, to a day) or any range of days."""

    start: date
    end: date
    number: int | None  # 第N期 of a week or a round; None: numbered when issued (docs/boards.md)
    label: str  # 第3周（7月13日至19日） / 第一轮集中统一行动（7月7日至9日） / 8月 / 行动以来（截至8月25日）
    round_id: int | None = None
    key: str = ""  # how the page names it: w<day> r<id> m<yyyy-mm> c<day> d<day>..<day>

    @property
    def number_text(self) -> str:
        return f"第{self.number}期" if self.number else "（期号签发时编定）"


def week_of(campaign: Campaign, day: date) -> Period:
    """The campaign week holding ``day``: weeks run Monday to Sunday, the first from the campaign's start."""
    day = min(max(day, campaign.start), campaign.end)
    first_monday = campaign.start - timedelta(days=campaign.start.weekday())
    n = (day - first_monday).days // 7 + 1
    start = max(first_monday + timedelta(days=7 * (n - 1)), campaign.start)
    end = min(first_monday + timedelta(days=7 * n - 1), campaign.end)
    return Period(start, end, n, f"第{n}周（{cn_range(start, end)}）", key=f"w{start.isoformat()}")


def weeks(campaign: Campaign, until: date) -> list[Period]:
    """The campaign's weeks from its start to the one holding ``until`` (or its end)."""
    out, day = [], campaign.start
    while day <= min(until, campaign.end):
        out.append(week_of(campaign, day))
        day = out[-1].end + timedelta(days=1)
    return out


def default_period(campaign: Campaign, today: date | None = None) -> Period:
    """The last whole week before today (the week in progress when the campaign is in its first)."""
    today = today or timezone.localdate()
    week = week_of(campaign, today)
    if week.end >= today and week.start > campaign.start:
        week = week_of(campaign, week.start - timedelta(days=1))
    return week


def round_period(campaign: Campaign, round_, rounds: list[int] | None = None) -> Period:
    """The round as a period, numbered by its place among the campaign's ``rounds`` (their keys in order: read
    here when not given)."""
    if rounds is None:
        rounds = list(campaign.rounds.values_list("pk", flat=True))
    return Period(
        round_.start,
        round_.end,
        rounds.index(round_.pk) + 1,
        f"{round_.name}（{cn_range(round_.start, round_.end)}）",
        round_.pk,
        key=f"r{round_.pk}",
    )


def _clamped(campaign: Campaign, start: date, end: date) -> tuple[date, date]:
    start, end = max(start, campaign.start), min(end, campaign.end)
    return start, max(start, end)


def month_period(campaign: Campaign, day: date) -> Period:
    """The calendar month holding ``day``, within the campaign."""
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start, end = _clamped(campaign, first, last)
    whole = (start, end) == (first, last)
    label = f"{start.month}月份" + ("" if whole else f"（{cn_range(start, end)}）")
    return Period(start, end, None, label, key=f"m{first:%Y-%m}")


def so_far_period(campaign: Campaign, day: date) -> Period:
    """行动以来: from the campaign's start to the end of ``day`` (截至X月X日), the figures cumulative."""
    start, end = _clamped(campaign, campaign.start, day)
    return Period(start, end, None, f"行动以来（截至{end.month}月{end.day}日）", key=f"c{end.isoformat()}")


def range_period(campaign: Campaign, first: date, last: date) -> Period:
    """Any range of days within the campaign (the two ends in either order)."""
    start, end = _clamped(campaign, *sorted((first, last)))
    return Period(start, end, None, cn_range(start, end), key=f"d{start.isoformat()}..{end.isoformat()}")


DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
PERIOD_KEY = re.compile(rf"\A(?:r[0-9]{{1,18}}|[wc]{DAY}|m[0-9]{{4}}-[0-9]{{2}}|d{DAY}\.\.{DAY})\Z")


def parse_key(value: str) -> tuple[str, Any]:
    """A period's key as the pages name it (``Period.key``, ASCII digits) → (kind, value): "w<day>" the week
    holding that day, "r<round id>", "m<yyyy-mm>" a month, "c<day>" the campaign so far to that day,
    "d<day>..<day>" a range. ValueError when it is none of them or names no real day."""
    if not PERIOD_KEY.match(value):
        raise ValueError(value)
    kind, rest = value[0], value[1:]
    if kind == "r":
        return "round", int(rest)
    if kind == "m":
        return "month", date.fromisoformat(f"{rest}-01")
    if kind == "d":
        first, last = rest.split("..")
        return "range", (date.fromisoformat(first), date.fromisoformat(last))
    return {"w": "week", "c": "so_far"}[kind], date.fromisoformat(rest)


def period_of(campaign: Campaign, kind: str, value: Any) -> Period | None:
    """The period a parsed key names (``parse_key``); None for a round not of the campaign."""
    if kind == "round":
        round_ = campaign.rounds.filter(pk=value).first()
        return round_period(campaign, round_) if round_ else None
    if kind == "month":
        return month_period(campaign, value)
    if kind == "so_far":
        return so_far_period(campaign, value)
    if kind == "range":
        return range_period(campaign, *value)
    return week_of(campaign, value)


def period_between(campaign: Campaign, start: date, end: date, round_=None) -> Period:
    """The period a stored bulletin covers, from its days (and round): the week, the month or the campaign so
    far those days are, else the range."""
    if round_ is not None:
        return round_period(campaign, round_)
    for candidate in (week_of(campaign, start), month_period(campaign, start), so_far_period(campaign, end)):
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    return range_period(campaign, start, end)


def months(campaign: Campaign, until: date) -> list[Period]:
    """The campaign's months from its start to the one holding ``until`` (or its end)."""
    out, day = [], campaign.start
    while day <= min(until, campaign.end):
        out.append(month_period(campaign, day))
        day = out[-1].end + timedelta(days=1)
    return out


def _completion_chart(user, campaign: Campaign, unit: Unit, until: date, now: tuple[int, int]) -> Chart:
    """Completion over time: the share of the work in the plan accepted as of each week's end. ``now`` is
    (in the plan, accepted) as of ``until``; each earlier week's end takes back the ledger's changes since
    (one grouped query over the changes after the first week, not the plan's creation)."""
    shown = weeks(campaign, until)
    by_day = dict(
        (d, (t, n))
        for d, t, n in board_counts(user, campaign, unit, model=BoardDelta)
        .filter(day__gt=shown[0].end, day__lte=until)
        .order_by()
        .values("day")
        .annotate(n_total=Sum("total"), n_accepted=Sum("accepted"))
        .values_list("day", "n_total", "n_accepted")
    )
    values = []
    for w in shown:
        later = [v for d, v in by_day.items() if d > w.end]
        total = now[0] - sum(t for t, _ in later)
        done = now[1] - sum(n for _, n in later)
        values.append(round(done * 100 / total, 1) if total else None)
    return Chart(
        title="任务完成率（%）", x=[f"第{w.number}周" for w in shown], series=[Series("完成率", values)], percent=True
    )


def _findings_chart(user, campaign: Campaign, unit: Unit, until: date) -> Chart:
    """Findings opened and closed per week: counted per day found and per day closed within the weeks shown
    (two grouped queries of a hundred rows each, rather than one of every (found, closed) pair)."""
    shown = weeks(campaign, until)
    found = scope.restrict(Finding.objects.filter(campaign=campaign, unit__path__startswith=unit.path), user).order_by()

    def per_day(field: str) -> dict[date, int]:
        return dict(
            found.filter(
                **{f"{field}__gte": end_of(shown[0].start - timedelta(days=1)), f"{field}__lt": end_of(shown[-1].end)}
            )
            .annotate(d=TruncDate(field))
            .values("d")
            .annotate(n=Count("id"))
            .values_list("d", "n")
        )

    def per_week(counts: dict[date, int]) -> list[int]:
        return [sum(n for d, n in counts.items() if w.start <= d <= w.end) for w in shown]

    return Chart(
        title="督导发现问题与整改销号（处）",
        x=[f"第{w.number}周" for w in shown],
        series=[
            Series("发现", per_week(per_day("found_at")), kind="bar"),
            Series("整改销号", per_week(per_day("closed_at")), kind="bar"),
        ],
    )


def charts(user, campaign: Campaign, unit: Unit, until: date, now: tuple[int, int]) -> list[Chart]:
    """The bulletin's two charts up to ``until``; ``now``: (in the plan, accepted) as of that day."""
    return [_completion_chart(user, campaign, unit, until, now), _findings_chart(user, campaign, unit, until)]


def issue_date(period: Period, today: date | None = None) -> date:
    """A bulletin is issued the day after its period ends (a running period's: today), so issuing it again
    later gives the same text."""
    return min(period.end + timedelta(days=1), today or timezone.localdate())


CHUNK = 200  # rows changed since the day, put back as they were at a time


def _as_they_were(rows: list[tuple], end: datetime) -> list[tuple]:
    """(id, due date, status, submitted on) of assignments changed since ``end``, as they were then: the
    status and due date before their first audited change since (a change without an audit event, by a
    raw writer, is not known: the row as it is)."""
    was = {pk: [due, status, submitted_on] for pk, due, status, submitted_on in rows}
    seen: set[tuple[str, int]] = set()
    for pk, changes in (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Assignment), object_id__in=list(was), at__gte=end
        )
        .order_by("at", "id")
        .values_list("object_id", "changes")
    ):
        for field, i in (("due_date", 0), ("status", 1)):
            if isinstance(changes, dict) and field in changes and (field, pk) not in seen:
                seen.add((field, pk))
                before = changes[field][0]
                was[pk][i] = date.fromisoformat(str(before)[:10]) if field == "due_date" else before
    return [(pk, *values) for pk, values in was.items()]


def overdue_as_of(work, day: date, limit: int) -> list[Assignment]:
    """The ``limit`` oldest assignments of ``work`` overdue at the end of ``day`` (due by then, neither
    accepted nor waiting after an on-time submission), by due date then id, without sorting the overdue.
    Rows not changed since that day are as they were: the open ones come in due order from an index
    (``assignment_open_due``), at most ``limit``; the rows changed since, due no later than the last of
    those, are walked in the same order, ``CHUNK`` at a time, put back as they were (``_as_they_were``) and
    merged, until none can come earlier. A submission day after ``day`` is not known then: that work
    counts as late; work extended since beyond the last row shown is not looked for."""
    end = end_of(day)
    keys = list(
        work.filter(~Q(status=AssignmentStatus.ACCEPTED), updated_at__lt=end, due_date__lte=day)
        .exclude(submitted_on_time_q())
        .order_by("due_date", "id")
        .values_list("due_date", "id")[:limit]
    )
    changed = work.filter(updated_at__gte=end).order_by("due_date", "id")
    after: Q = Q()
    while True:
        bound = keys[limit - 1] if len(keys) >= limit else (day, None)
        window = Q(due_date__lte=bound[0]) & after
        chunk = list(changed.filter(window).values_list("id", "due_date", "status", "submitted_on")[:CHUNK])
        for pk, due, status, submitted_on in _as_they_were(chunk, end) if chunk else []:
            on_time = submitted_on is not None and submitted_on <= day and submitted_on <= due
            if due <= day and status != AssignmentStatus.ACCEPTED and not (status == S_SUBMITTED and on_time):
                keys.append((due, pk))
        keys = sorted(keys)[:limit]
        if len(chunk) < CHUNK:
            break
        last_due, last_pk = chunk[-1][1], chunk[-1][0]
        if len(keys) >= limit and (last_due, last_pk) >= keys[-1]:
            break
        after = Q(due_date__gt=last_due) | Q(due_date=last_due, id__gt=last_pk)
    shown = [pk for _, pk in keys]
    rows = work.filter(pk__in=shown).select_related("unit", "item").in_bulk(shown)
    return [rows[pk] for pk in shown if pk in rows]


HEADLINES = 4  # the indicators whose first unit the bulletin names (破案数全市第一)


def results_firsts(user, campaign: Campaign, unit: Unit, window: stats.Window, lines: list[stats.Line]) -> list[str]:
    """The section's lines naming the first unit(s) under ``unit`` for each headline indicator — the first
    ``HEADLINES`` that should rise (not 警情) with a figure in the period — over the period's figures (dated in it, so as of its end):
    "破获刑事案件全市第一：城东分局（35起）", "并列第一" for a tie; an indicator nobody leads (all 0) is
    left out. Two queries (``stats.ranking.rankings``), none without a headline."""
    headline = [line.indicator for line in lines if line.total and line.indicator.up_is_good][:HEADLINES]
    if not headline:
        return []
    return [text for r in rankings(user, campaign, unit, headline, window) if (text := first_words(r))]


CASES_SHOWN = 10


def cases_as_of(user, campaign: Campaign, unit: Unit, as_of: date) -> tuple[str, list[dict]]:
    """挂牌督办案件 (issue 21, ``docs/directives.md``) as of the end of ``as_of``: the major cases of the campaign
    registered by then whose lead work lies under ``unit``, as ``user`` sees them — how many, how many closed by
    then (by outcome), how many still open and past their 限期 (the item's due date), and those named. ("", [])
    when there are none. Two queries."""
    from directives.models import Directive  # directives read the boards' app nowhere: no cycle, kept local

    lead_under = Assignment.objects.filter(
        item_id=OuterRef("item_id"), role=AssignmentRole.LEAD, unit__path__startswith=unit.path, is_active=True
    )
    cases = list(
        Directive.objects.visible_to(user)
        .filter(item__campaign=campaign, is_case=True, created_at__lt=end_of(as_of))
        .filter(Exists(lead_under))
        .select_related("item")
        .order_by("item__due_date", "item__seq", "id")
    )
    if not cases:
        return "", []
    closed = [d for d in cases if d.closed_at is not None and d.closed_at < end_of(as_of)]
    still = [d for d in cases if d not in closed]
    late = [d for d in still if d.item.due_date is not None and d.item.due_date <= as_of]
    outcomes = {}
    for d in closed:
        if d.outcome:
            outcomes[d.get_outcome_display()] = outcomes.get(d.get_outcome_display(), 0) + 1
    how = "、".join(f"{word}{n}起" for word, n in outcomes.items())
    text = (
        f"挂牌督办案件方面，截至{cn_date(as_of)}共挂牌督办案件{len(cases)}起，已办结{len(closed)}起"
        + (f"（{how}）" if how else "")
        + f"，尚未办结{len(still)}起"
        + (f"，其中超过办案期限{len(late)}起。" if late else "。")
    )
    leads = (
        dict(
            Assignment.objects.filter(item_id__in=[d.item_id for d in late[:CASES_SHOWN]], role=AssignmentRole.LEAD)
            .order_by("item_id", "unit__path")
            .values_list("item_id", "unit__name")
        )
        if late
        else {}
    )
    named = [
        {"code": d.item.code, "title": d.item.title, "unit": leads.get(d.item_id, ""), "due": cn_date(d.item.due_date)}
        for d in late[:CASES_SHOWN]
    ]
    return text, named


def bulletin_context(
    user, campaign: Campaign, unit: Unit, period: Period, *, issued: date | None = None, zeros: bool = False
) -> dict:
    """Everything the print page and the PDF show, in order; read as ``user``. Every figure is as of the end
    of the period (or of today, for a period still running), from the board rollup and its ledger
    (docs/boards.md, "As of a day"), so issuing a past period's bulletin again gives the same text. The
    results leave out an indicator that is 0 in the period and was 0 (or unreported) a year before, unless
    ``zeros``: a round's issue does not print seventeen lines of "0起"."""
    issued = issued or issue_date(period)
    as_of = min(period.end, issued)
    work = scope.restrict(
        Assignment.objects.filter(planned_q(), campaign=campaign, is_active=True, unit__path__startswith=unit.path),
        user,
    )
    sums = branch_sums(user, campaign, unit, as_of=as_of)
    counts = {k: sum(s[k] for s in sums.values()) for k in ("total", "done", "overdue", "units")}
    pct = counts["done"] * 100 / counts["total"] if counts["total"] else None
    overview = (
        f"截至{cn_date(as_of)}，{unit.name}{counts['units']}个单位共承担任务{counts['total']}项，"
        f"已完成{counts['done']}项，完成率{cn_percent(round(pct, 1) if pct is not None else None)}"
        + (f"；逾期未完成{counts['overdue']}项。" if counts["overdue"] else "，无逾期任务。")
    )
    window = stats.Window(
        period.start, period.end, campaign.rounds.filter(pk=period.round_id).first() if period.round_id else None
    )
    totals = stats.totals(user, campaign, unit, window)
    parts = []
    for line in totals.lines:
        if line.total is None:  # a rate with nothing to divide by, or none entered by the unit itself
            continue
        if not zeros and not line.total and not line.last_year:
            continue
        compared = "，".join(filter(None, [line.yoy, line.mom]))
        parts.append(f"{line.indicator.name}{line.text}" + (f"（{compared}）" if compared else ""))
    results = f"{period.label}，{unit.name}共" + "；".join(parts) + "。" if parts else ""
    firsts = results_firsts(user, campaign, unit, window, totals.lines)
    start = end_of(period.start - timedelta(days=1))  # the moments, not each row's local date: no conversion per row
    f_sums = finding_sums(  # the ranking's findings and the supervision's counts: one query
        user,
        campaign,
        unit,
        as_of=as_of,
        b_found=Count("id", filter=Q(found_at__gte=start, found_at__lt=end_of(period.end))),
        b_closed=Count("id", filter=Q(closed_at__gte=start, closed_at__lt=end_of(period.end))),
        b_late=Count(
            "id",
            filter=(Q(closed_at__isnull=True) | Q(closed_at__gte=end_of(as_of)))
            & Q(deadline__lt=as_of + timedelta(days=1))
            & ~Q(status=FindingStatus.SUBMITTED),
        ),
    )
    r = ranking(user, campaign, unit, as_of=as_of, sums=sums, findings=f_sums)
    standings = [
        {
            "rank": s.rank,
            "unit": s.unit.name,
            "score": s.score,
            "completion": s.completion,
            "overdue": s.overdue,
            "open_findings": s.open_findings,
        }
        for s in r.standings
        if s.rank
    ]
    laggards = [{"unit": s.unit.name, "code": s.unit.code, "reasons": "，".join(s.reasons())} for s in r.laggards]
    called = (
        f"经综合评分，{'、'.join(x['unit'] for x in laggards)}排名靠后，予以通报。请上述单位主要负责人于"
        f"{cn_date(issued + timedelta(days=3))}前到领导小组办公室说明情况，并书面报送整改措施。"
        if laggards
        else ""
    )
    overdue = [
        {"unit": a.unit.name, "item": f"{a.item.code} {a.item.title}", "due": cn_date(a.due_date)}
        for a in overdue_as_of(work, as_of, OVERDUE_SHOWN)
    ]
    findings = scope.restrict(
        Finding.objects.filter(campaign=campaign, unit__path__startswith=unit.path, found_at__lt=end_of(as_of)),
        user,
    )
    # as of the period's end: not closed by then; past its deadline and not awaiting verification (as now)
    still_open = Q(closed_at__isnull=True) | Q(closed_at__gte=end_of(as_of))
    late_then = still_open & Q(deadline__lt=as_of + timedelta(days=1)) & ~Q(status=FindingStatus.SUBMITTED)
    f_counts = {"found": 0, "closed": 0, "open": 0, "late": 0}
    for row in f_sums.values():
        for name, column in (
            ("found", "b_found"),
            ("closed", "b_closed"),
            ("open", "open_findings"),
            ("late", "b_late"),
        ):
            f_counts[name] += row[column]
    visits = (
        Inspection.objects.filter(
            campaign=campaign,
            status=InspectionStatus.COMPLETED,
            completed_at__lt=end_of(as_of),
            planned_on__gte=period.start,
            planned_on__lte=period.end,
            units__path__startswith=unit.path,
        )
        .visible_to(user)
        .distinct()
        .count()
    )
    supervision = (
        f"{period.label}共开展督导检查{visits}次，发现问题{f_counts['found']}处，整改销号{f_counts['closed']}处；"
        f"截至{cn_date(as_of)}尚有{f_counts['open']}处问题未整改完毕，其中超过整改期限{f_counts['late']}处。"
    )
    late_findings = [
        {"unit": f.unit.name, "place": f.place, "description": f.description[:60], "deadline": cn_date(f.deadline)}
        for f in findings.filter(late_then).select_related("unit").order_by("deadline", "id")[:FINDINGS_SHOWN]
    ]
    cases, late_cases = cases_as_of(user, campaign, unit, as_of)
    from documents.summons import summonses_held  # documents read the bulletin: kept local, no cycle

    summoned = summonses_held(user, campaign, unit, period.start, as_of, label=period.label)
    issuer = f"{campaign.owner.name}专项行动领导小组办公室"
    return {
        "masthead": "专项行动工作通报",
        "number": period.number_text,
        "issuer": issuer,
        "issue_date": cn_date(issued),
        "as_of": cn_date(as_of),
        "as_of_day": as_of,
        "title": f"关于{campaign.name}{period.label}工作情况的通报",
        "addressee": f"{unit.name}各单位：",
        "opening": f"现将{campaign.name}{period.label}工作情况通报如下：",
        "overview": overview,
        "results": results,
        "firsts": firsts,
        "standings": standings,
        "laggards": laggards,
        "called": called,
        "summoned": summoned,
        "overdue": overdue,
        "overdue_more": max(counts["overdue"] - len(overdue), 0),
        "supervision": supervision,
        "late_findings": late_findings,
        "cases": cases,
        "late_cases": late_cases,
        "requirements": REQUIREMENTS,
        "charts": charts(user, campaign, unit, as_of, (counts["total"], counts["done"])),
        "filename": f"{campaign.name}工作通报（{f'第{period.number}期' if period.number else period.label}）.pdf",
        "period": period,
    }


def render_pdf(ctx: dict) -> bytes:
    """The bulletin as an A4 PDF: red header, sections with headings (一、二、…), the ranking as a table."""
    font = paper.font_name()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=26 * mm,
        rightMargin=24 * mm,
        topMargin=22 * mm,
        bottomMargin=26 * mm,
        title=ctx["title"],
        author=ctx["issuer"],
        creator="专项行动任务督办系统",
        lang="zh-CN",
        initialFontName=font,
    )
    size, leading = 15, 26
    body = ParagraphStyle(
        "b",
        fontName=font,
        fontSize=size,
        leading=leading,
        wordWrap="CJK",
        alignment=TA_JUSTIFY,
        firstLineIndent=2 * size,
    )
    flat = ParagraphStyle("f", parent=body, firstLineIndent=0)
    heading = ParagraphStyle("h", parent=flat, fontSize=size + 1, leading=leading + 2, spaceBefore=6)
    small = ParagraphStyle("s", parent=flat, fontSize=11, leading=15)
    centre = ParagraphStyle("c", parent=small, alignment=TA_CENTER)

    def p(text, style=body):
        return Paragraph(escape(text), style)

    meta = Table(
        [[p(ctx["issuer"], small), p(ctx["issue_date"], ParagraphStyle("r", parent=small, alignment=2))]],
        colWidths=[doc.width * 0.6, doc.width * 0.4],
    )
    meta.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story = [
        paper._Centred(ctx["masthead"], font, 32, paper.RED, space=4, after=4),
        p(ctx["number"], centre),
        meta,
        paper._RedRule(),
        paper._Centred(ctx["title"], font, 20, black, space=1, before=10, after=12),
        p(ctx["addressee"], flat),
        p(ctx["opening"]),
        p("一、总体进展", heading),
        p(ctx["overview"]),
    ]
    if ctx["results"]:
        story += [p("二、战果统计", heading), p(ctx["results"])]
        story += [p(line) for line in ctx["firsts"]]
    story.append(p(f"三、综合排名（截至{ctx['as_of']}）", heading))
    if ctx["standings"]:
        rows = [["名次", "单位", "综合得分", "完成率", "逾期任务", "未整改问题"]] + [
            [s["rank"], s["unit"], f"{s['score']:g}", cn_percent(s["completion"]), s["overdue"], s["open_findings"]]
            for s in ctx["standings"]
        ]
        table = Table(
            [[Paragraph(escape(str(c)), centre) for c in row] for row in rows],
            colWidths=[doc.width * w for w in (0.1, 0.34, 0.14, 0.14, 0.14, 0.14)],
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
        story.append(table)
    if ctx["called"]:
        story += [Spacer(0, 6), p(ctx["called"])]
        story += [p(f"{n}．{x['unit']}：{x['reasons']}。") for n, x in enumerate(ctx["laggards"], start=1)]
    if ctx.get("summoned"):
        story.append(p(ctx["summoned"]))
    story.append(p("四、逾期未完成任务", heading))
    if ctx["overdue"]:
        story += [p(f"{n}．{o['unit']}：{o['item']}（时限{o['due']}）", small) for n, o in enumerate(ctx["overdue"], 1)]
        if ctx["overdue_more"]:
            story.append(p(f"另有{ctx['overdue_more']}项逾期任务，详见任务台账。", small))
    else:
        story.append(p("无逾期未完成任务。"))
    story += [p("五、督导检查", heading), p(ctx["supervision"])]
    story += [
        p(f"{n}．{f['unit']} {f['place']}：{f['description']}（整改期限{f['deadline']}）", small)
        for n, f in enumerate(ctx["late_findings"], 1)
    ]
    if ctx.get("cases"):
        story.append(p(ctx["cases"]))
        story += [
            p(f"{n}．{c['code']} {c['title']}（{c['unit']}，限期{c['due']}）", small)
            for n, c in enumerate(ctx["late_cases"], 1)
        ]
    for chart in ctx["charts"]:
        story += [
            Spacer(0, 6),
            Image(BytesIO(png(chart, width=900, height=380)), width=doc.width, height=doc.width * 380 / 900),
        ]
    story.append(p("六、下步工作要求", heading))
    story += [p(line) for line in ctx["requirements"]]
    story += [
        Spacer(0, 18),
        p(ctx["issuer"], ParagraphStyle("sig", parent=flat, alignment=2)),
        p(ctx["issue_date"], ParagraphStyle("sig2", parent=flat, alignment=2)),
    ]
    doc.build(story, canvasmaker=paper._canvas_class(font))
    return buffer.getvalue()


def pdf_response(ctx: dict) -> HttpResponse:
    response = HttpResponse(render_pdf(ctx), content_type="application/pdf")
    return download(response, ctx["filename"], fallback="bulletin.pdf")
