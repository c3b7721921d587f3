"""The demo campaign, placed around the day it is loaded: some weeks into its 100 days, work moving.

``demo_dates`` puts the campaign's start on a Monday five to six weeks before ``today``; the seed plan
(written for 1 July to 8 October 2026) is moved there by ``shifted_plan``, which rewrites its dates
(7月15日前, 8月底前, 第一轮7月7日至9日) by the same number of days, so the texts and the due dates the
importer reads from them agree. ``seed_progress`` then gives each assignment a fate from a fixed
random draw, weighted per unit so units differ (about one in eight lags):

- due before today: accepted (on time, a few late), a few awaiting acceptance, a few overdue;
- due later: most in progress about on the planned pace (序时进度), a few behind it, some done early;
- cadence items (每周五前, 每月5日前, 每日): a report for nearly every past period, a few late or missed.

An item's later targets (查处违法违规场所≥30家 after 检查娱乐场所不少于500家次: ``Target`` seq 2 …) that are
"at least" a number — not 同比, not linked to an indicator (those take the statistics' figures) — get
reports naming them (``ProgressReport.target``), one or two per assignment: the whole amount by the
submission on submitted and accepted work, most of it on overdue work, on open work about the planned
pace — behind where the first target is, and on its own for one target in fifty (one in ten at a
lagging unit). A rate (实名登记率100%) has no pace: it is reported once, reached, at the submission.
Each target draws from its own seeded stream, so the first target's picture is the one it was.

Accepted work has reports adding up to its target, the last one with a photo as evidence. History is
written as the services write it (``assignment.reported`` / ``.submit`` / ``.accept`` events), dated
the day the work was done and marked as demo data in the event's source.
"""

from __future__ import annotations

import copy
import hashlib
import io
import random
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, Unit, User
from audit import services as audit
from utilities.db import fast_paths

from .models import (
    RATES,
    Assignment,
    AssignmentStatus,
    Campaign,
    Comment,
    Comparator,
    Evidence,
    ProgressReport,
    Target,
)
from .services import checkins
from .services.cascade import recount_targets

S = AssignmentStatus
SEED_START = date(2026, 7, 1)  # the seed plan's dates are written for 2026-07-01 … 2026-10-08
DAYS = 100
AGE = 38  # at least this many days in (the start is the Monday on or before): past the second round
UNIT_DILIGENCE = (0.95, 0.92, 0.9, 0.88, 0.85, 0.8, 0.7, 0.35)
WALKTHROUGH = {"33031101"}  # 城关派出所, whose lead (lead_chengguan) the README's walkthrough signs in as
SOURCE = "演示数据"


def demo_dates(today: date) -> tuple[date, date]:
    """The campaign's first and last day: 100 days starting on the Monday 38 to 44 days before ``today``."""
    start = today - timedelta(days=AGE)
    start -= timedelta(days=start.weekday())
    return start, start + timedelta(days=DAYS - 1)


# --- The plan, moved --------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{1,2})月(\d{1,2})日(?:至(\d{1,2})日)?|(\d{1,2})月(底|末|上旬|中旬|下旬)")


def shift_text(text: str, delta: timedelta) -> str:
    """``text`` with every month-day of the seed year moved by ``delta``: 7月15日前 → 8月26日前,
    8月底前 → 10月11日前 (a moved month end is just a day), 7月7日至9日 → 8月18日至20日."""
    if not delta or not isinstance(text, str):
        return text

    def moved(day: date) -> date:
        return day + delta

    def write(match: re.Match) -> str:
        if match[1]:
            first = moved(date(SEED_START.year, int(match[1]), int(match[2])))
            out = f"{first.month}月{first.day}日"
            if match[3]:
                last = moved(date(SEED_START.year, int(match[1]), int(match[3])))
                out += f"至{last.day}日" if last.month == first.month else f"至{last.month}月{last.day}日"
            return out
        month = int(match[4])
        day = {"上旬": 10, "中旬": 20}.get(match[5])
        if day is None:  # 底, 末, 下旬: the month's last day, as the importer reads them
            day = ((date(SEED_START.year, month % 12 + 1, 1) - timedelta(days=1)).day) if month < 12 else 31
        last = moved(date(SEED_START.year, month, day))
        return f"{last.month}月{last.day}日"

    return _DATE.sub(write, text)


def shifted_plan(plan: dict, start: date) -> dict:
    """The seed plan (``seeds/plan.yaml``) for a campaign starting on ``start``."""
    delta = start - SEED_START
    out = copy.deepcopy(plan)
    out["campaign"]["start"], out["campaign"]["end"] = start, start + timedelta(days=DAYS - 1)
    for action in out["actions"]:
        for item in action["items"]:
            for key in ("task", "measures", "target", "deadline", "acceptance"):
                if key in item:
                    item[key] = shift_text(item[key], delta)
    return out


def write_plan(seeds: Path, name: str, start: date, folder: Path) -> Path:
    """The seed plan ``name`` (plan.xlsx, plan.docx or plan.yaml) for a campaign starting on ``start``,
    written into ``folder``; the seed file itself when the campaign starts on the seed's own day."""
    if start == SEED_START:
        return seeds / name
    plan = shifted_plan(yaml.safe_load((seeds / "plan.yaml").read_text(encoding="utf-8")), start)
    path = folder / name
    if name.endswith((".yaml", ".yml")):
        path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path
    from seeds import build  # the builder of the seed files writes the moved plan the same way

    (build.build_docx if name.endswith(".docx") else build.build_xlsx)(plan, path)
    return path


# --- Progress ------------------------------------------------------------------------------------


def _at(day: date, hour: int = 16, minute: int = 30) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _photo() -> bytes:
    """A small JPEG standing for a photo taken on site (the same bytes for every demo report)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (96, 125, 139))
    ImageDraw.Draw(image).rectangle((20, 70, 140, 110), fill=(176, 190, 197))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=70)
    return buf.getvalue()


@dataclass
class _Plan:
    """What the draw decided for one assignment."""

    status: str = S.PENDING
    amount: Decimal | None = None  # the progress to reach by today
    submitted_on: date | None = None
    accepted_on: date | None = None
    behind: bool = False  # drawn behind the planned pace (the later targets follow)


def _reporters(campaign: Campaign) -> tuple[dict[int, int], int]:
    """For each unit, who reports for it: its lead, else the nearest lead above it; and HQ's officer."""
    leads = dict(RoleGrant.objects.filter(role=Role.UNIT_LEAD).order_by("-pk").values_list("unit_id", "user_id"))
    hq = RoleGrant.objects.filter(role=Role.HQ, unit=campaign.owner).order_by("pk").values_list("user_id", flat=True)
    hq_id = hq.first()
    by_path = dict(Unit.objects.values_list("path", "pk"))
    out = {}
    for path, pk in by_path.items():
        found = None
        for n in range(len(path), 0, -Unit.steplen):
            found = leads.get(by_path.get(path[:n]))
            if found:
                break
        out[pk] = found or hq_id
    return out, hq_id


def _numeric(a: Assignment) -> bool:
    """Work measured against a planned pace: an "at least" amount, not a rate compared with last year."""
    item = a.item
    return bool(a.target) and item.target_comparator in (Comparator.GE, Comparator.GT) and not item.target_basis


def _decide(a: Assignment, draw: random.Random, base: float, today: date) -> _Plan:
    start, due = a.campaign.start, a.due_date
    target = a.target
    laggard = base < 0.5  # about one unit in eight
    done_amount = target if target and target > 0 else None
    if due < today:  # its deadline has passed
        roll = draw.random()
        if roll < (0.2 if laggard else 0.01):  # overdue: still open, most of it done
            share = Decimal(str(round(draw.uniform(0.55, 0.9), 2)))
            return _Plan(S.IN_PROGRESS, (target * share).quantize(Decimal("1")) if done_amount else None)
        late = draw.random() < (0.3 if laggard else 0.06)
        submitted = due + timedelta(days=draw.randint(1, 4)) if late else due - timedelta(days=draw.randint(0, 5))
        submitted = min(max(submitted, start + timedelta(days=3)), today - timedelta(days=1))
        accepted = submitted + timedelta(days=draw.randint(1, 3))
        if accepted >= today:
            return _Plan(S.SUBMITTED, done_amount, submitted)
        return _Plan(S.ACCEPTED, done_amount, submitted, accepted)
    elapsed = Decimal((today - start).days) / Decimal(max((due - start).days, 1))
    cadence = checkins.has_cadence(a.item)
    if not cadence and a.item.deadline_kind == "date" and draw.random() < 0.7 * float(elapsed) ** 3 * base:
        submitted = start + timedelta(days=int((today - start).days * draw.uniform(0.55, 0.97)))
        accepted = submitted + timedelta(days=draw.randint(1, 3))
        if accepted >= today:
            return _Plan(S.SUBMITTED, done_amount, submitted)
        return _Plan(S.ACCEPTED, done_amount, submitted, accepted)
    if not _numeric(a):
        if not cadence and draw.random() > base * 0.9:
            return _Plan(S.PENDING)
        return _Plan(S.IN_PROGRESS, None)
    behind = draw.random() < (0.15 if laggard else 0.005)
    pace = draw.uniform(0.45, 0.85) if behind else draw.uniform(1.02, 1.3)
    amount = (target * elapsed * Decimal(str(round(pace, 2)))).quantize(Decimal("1"), rounding="ROUND_CEILING")
    return _Plan(S.IN_PROGRESS, min(amount, target), behind=behind)


def _later_targets(campaign: Campaign) -> dict[int, list[Target]]:
    """Each item's later targets that its units report toward: "at least" a number (not 同比), neither
    linked to an indicator nor to be linked by the demo's statistics (``stats.demo`` makes its catalogue
    after the progress, then links 整改隐患不少于150处 to 整改隐患: its figures are its progress). Two queries."""
    from stats.demo import CATALOGUE, KINDS  # stats imports the tasks models
    from stats.models import Indicator

    from .targets import indicator_for

    coming = [Indicator(name=name, measure=m) for _code, name, m, *_rest in CATALOGUE]
    coming += [Indicator(name=name, measure=m, kind=kind) for _code, name, m, kind, *_rest in KINDS]
    coming += list(Indicator.objects.filter(campaign=campaign))
    found: dict[int, list[Target]] = {}
    for t in Target.objects.filter(item__campaign=campaign, seq__gt=1, indicator=None).order_by("item_id", "seq"):
        if t.at_least and t.value > 0 and not any(indicator_for(t, [i]) for i in coming):
            found.setdefault(t.item_id, []).append(t)
    return found


def _later_reports(
    a: Assignment, plan: _Plan, target: Target, draw: random.Random, base: float, today: date
) -> list[tuple[datetime, Decimal, date | None, Target]]:
    """Reports naming ``target`` (a later one) as of ``today``, as ``plan`` decided the assignment's
    fate: the whole amount by the submission, most of it on overdue work, else about the planned pace."""
    from .targets import amount as target_amount

    need = target_amount(a, target)
    if not need:
        return []
    start = a.campaign.start
    if target.unit in RATES:  # a level, not an amount done day by day: reached, as the submission says
        return (
            [(_at(plan.submitted_on, 11, _minute(a.pk + target.seq, plan.submitted_on)), need, None, target)]
            if (plan.submitted_on and not checkins.has_cadence(a.item))
            else []
        )
    if plan.submitted_on:
        done, last = need, plan.submitted_on
    elif a.due_date < today:  # overdue: still open, most of it done
        done, last = (need * Decimal(str(round(draw.uniform(0.55, 0.9), 2)))).quantize(Decimal("1")), today
    else:
        elapsed = Decimal((today - start).days) / Decimal(max((a.due_date - start).days, 1))
        behind = plan.behind or draw.random() < (0.1 if base < 0.5 else 0.02)
        pace = Decimal(str(round(draw.uniform(0.45, 0.85) if behind else draw.uniform(1.02, 1.3), 2)))
        done, last = min((need * elapsed * pace).quantize(Decimal("1"), rounding="ROUND_CEILING"), need), today
    last -= timedelta(days=0 if plan.submitted_on else 1)
    if done <= 0 or last < start:
        return []
    span = (last - start).days
    days = sorted(
        {start + timedelta(days=draw.randint(min(2, span), span)) for _ in range(max(1, min(span // 20 + 1, 2)))}
    )
    cadence = checkins.has_cadence(a.item)
    out = []
    for day, value in _split(done, days, draw):
        found = checkins.current_period(a, day) if cadence else None
        out.append((_at(day, 11, _minute(a.pk + target.seq, day)), value, found and found.due, target))
    return out


def _split(total: Decimal | None, days: list[date], draw: random.Random) -> list[tuple[date, Decimal | None]]:
    """``total`` reported over ``days`` in whole-number parts adding up to it (the last takes the rest)."""
    if total is None:
        return [(d, None) for d in days]
    days = days[-max(1, min(len(days), int(total))) :]  # no report of nothing: 2 done is at most 2 reports
    weights = [draw.uniform(0.6, 1.4) for _ in days]
    parts = [(total * Decimal(str(w / sum(weights)))).quantize(Decimal("1")) for w in weights[:-1]]
    parts.append(total - sum(parts, Decimal(0)))
    return list(zip(days, parts, strict=True))


def _report_text(a: Assignment, value: Decimal | None, period: date | None, target: Target | None = None) -> str:
    if target is not None:  # a later target: what was done toward it (1.1万人次, 123.46万元 as offices write)
        from stats.numbers import scaled

        if target.unit in RATES:
            return f"{target.metric}达到{scaled(value)}{target.unit}"
        return f"本阶段{target.metric}{scaled(value)}{target.unit}"
    item = a.item
    what = item.target_metric or item.title[:16]
    if period is not None:
        head = f"{period.month}月{period.day}日前报送："
        return head + (
            f"{what}{value:f}{item.target_unit}" if value is not None else f"{item.title[:20]}，工作正常推进"
        )
    if value is None:
        return f"{item.title[:20]}：已部署落实，工作台账同步更新"
    return f"本阶段{what}{value:f}{item.target_unit}"


def seed_progress(campaign: Campaign, *, today: date, seed: int = 2026, evidence: bool = True) -> int:
    """Move the campaign's assignments along as of ``today``; returns how many moved. Run on a fresh campaign."""
    reporters, hq = _reporters(campaign)
    later = _later_targets(campaign)
    photo = _photo() if evidence else b""
    digest = hashlib.sha256(photo).hexdigest()
    rows = list(Assignment.objects.filter(campaign=campaign, is_active=True).select_related("unit", "item", "campaign"))
    reported = {}  # assignment pk → [(at, value, period, target)], in time order
    plans: dict[int, _Plan] = {}
    for a in rows:
        # one draw per assignment, whatever order the rows come in: the same demo every time
        draw = random.Random(f"{seed}:{a.unit.code}:{a.item.code}")
        base = 0.85 if a.unit.code in WALKTHROUGH else UNIT_DILIGENCE[zlib.crc32(a.unit.code.encode()) % 8]
        plan = _decide(a, draw, base, today)
        plans[a.pk] = plan
        if plan.status == S.PENDING:
            continue
        if checkins.has_cadence(a.item):
            found = [
                (_at(d, 15, _minute(a.pk, d)), v, p, None) for d, v, p in _checkin_reports(a, plan, draw, base, today)
            ]
        else:
            last = (plan.submitted_on or today - timedelta(days=1)) - campaign.start
            count = max(1, min(last.days // 9 + 1, 4))
            days = sorted({campaign.start + timedelta(days=draw.randint(2, max(2, last.days))) for _ in range(count)})
            if plan.submitted_on:
                days = [*(d for d in days if d < plan.submitted_on), plan.submitted_on]
            found = [(_at(d, 16, _minute(a.pk, d)), v, None, None) for d, v in _split(plan.amount, days, draw)]
        for target in later.get(a.item_id, ()):  # each its own stream: the first target's draws stay as they were
            mine = random.Random(f"{seed}:{a.unit.code}:{a.item.code}:{target.seq}")
            found += _later_reports(a, plan, target, mine, base, today)
        reported[a.pk] = sorted(found, key=lambda r: r[0])

    new_reports, events, files = [], [], []
    for a in rows:
        plan = plans[a.pk]
        # 签收: most units acknowledge their work within a day or two of publication, and any unit that
        # has reported has (its first report stamps it, as ``receipts.stamp`` does); a few never have
        if a.unit_id in reporters:
            draw = random.Random(f"{seed}:ack:{a.unit.code}:{a.item.code}")
            if plan.status != S.PENDING or draw.random() < 0.85:
                a.acknowledged_at = _at(campaign.start, 9, 0) + timedelta(hours=draw.randint(1, 40))
                a.acknowledged_by_id = reporters[a.unit_id]
        if plan.status == S.PENDING:
            continue
        lead = reporters.get(a.unit_id) or hq
        progress = Decimal(0)
        for at, value, period, target in reported.get(a.pk, []):
            report = ProgressReport(
                assignment=a,
                value=value,
                text=_report_text(a, value, period, target),
                reported_by_id=lead,
                reported_at=at,
                period=period,
                target=target,
            )
            new_reports.append(report)
            if target is None:  # a later target's amount stays on its report (``tasks.targets``)
                progress += value or 0
        a.progress = progress
        a.status = plan.status
        a.submitted_on = plan.submitted_on
        a.version += 1 + len(reported.get(a.pk, [])) + (plan.submitted_on is not None) + (plan.accepted_on is not None)
        a.updated_at = _at(plan.accepted_on or plan.submitted_on or (today - timedelta(days=1)))
    with transaction.atomic():
        ProgressReport.objects.bulk_create(new_reports, batch_size=1000)
        recount_targets(campaign.pk)  # the later targets' running totals (``TargetProgress``), as reports keep them
        by_assignment: dict[int, list[ProgressReport]] = {}
        for report in new_reports:
            by_assignment.setdefault(report.assignment_id, []).append(report)
        for a in rows:
            plan = plans[a.pk]
            if plan.status == S.PENDING:
                continue
            lead = reporters.get(a.unit_id) or hq
            running, status = Decimal(0), S.PENDING
            for report in by_assignment.get(a.pk, []):
                before = {"status": status, "progress": running}
                if report.target_id is None:
                    running += report.value or 0
                status = S.IN_PROGRESS
                changes = audit.diff(before, {"status": status, "progress": running})
                changes.update({"report": report.pk, "value": report.value, "text": report.text, "files": []})
                if report.period:
                    changes["period"] = report.period
                if report.target_id is not None:
                    changes["target"] = report.target.seq
                events.append(_event(a, "assignment.reported", lead, changes, report.reported_at))
            if plan.submitted_on:
                events.append(
                    _event(
                        a,
                        "assignment.submit",
                        lead,
                        {"status": [S.IN_PROGRESS, S.SUBMITTED]},
                        _at(plan.submitted_on, 17, 30),
                    )
                )
            if plan.accepted_on:
                events.append(
                    _event(a, "assignment.accept", hq, {"status": [S.SUBMITTED, S.ACCEPTED]}, _at(plan.accepted_on, 10))
                )
                last = [r for r in by_assignment[a.pk] if r.target_id is None][-1]  # the photo with the last
                if evidence:
                    files.append(_evidence(a, last, photo, digest))
        _update([a for a in rows if plans[a.pk].status != S.PENDING or a.acknowledged_at])
        Evidence.objects.bulk_create(files, batch_size=500)
        audit.record(events)
    return sum(plans[a.pk].status != S.PENDING for a in rows)


def _update(rows: list[Assignment]) -> None:
    """The moved assignments written back: on PostgreSQL one ``UPDATE … FROM (VALUES …)`` (the rollup's
    statement triggers then run once, not once per row), elsewhere one prepared statement run per row
    (``bulk_update``'s CASE per row is ten times slower on a few thousand rows)."""
    if not rows:
        return
    ops = connection.ops
    table = Assignment._meta.db_table
    values = [
        (
            a.pk,
            a.status,
            ops.adapt_decimalfield_value(a.progress, 14, 2),
            ops.adapt_datefield_value(a.submitted_on),
            a.version,
            ops.adapt_datetimefield_value(a.updated_at),
            ops.adapt_datetimefield_value(a.acknowledged_at),
            a.acknowledged_by_id,
        )
        for a in rows
    ]
    with connection.cursor() as cursor:
        if fast_paths():
            from psycopg2.extras import execute_values  # PostgreSQL's driver: only on its path

            execute_values(
                cursor.cursor,
                f"UPDATE {table} AS a SET status = v.status, progress = v.progress, "  # noqa: S608
                "submitted_on = v.submitted_on, version = v.version, updated_at = v.updated_at, "
                "acknowledged_at = v.acknowledged_at, acknowledged_by_id = v.acknowledged_by_id "
                "FROM (VALUES %s) AS v(id, status, progress, submitted_on, version, updated_at, acknowledged_at, "
                "acknowledged_by_id) WHERE a.id = v.id",
                values,
                template="(%s::bigint, %s::varchar, %s::numeric, %s::date, %s::integer, %s::timestamptz, "
                "%s::timestamptz, %s::bigint)",
                page_size=len(values),
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET status = %s, progress = %s, submitted_on = %s, version = %s, updated_at = %s, "  # noqa: S608
            "acknowledged_at = %s, acknowledged_by_id = %s WHERE id = %s",
            [(*row[1:], row[0]) for row in values],
        )


def _minute(pk: int, day: date) -> int:
    return (pk * 7 + day.toordinal()) % 60


def _checkin_reports(a: Assignment, plan: _Plan, draw: random.Random, base: float, today: date) -> list[tuple]:
    """A report for each period due before today — a laggard skips or is late for a few — whose values
    add up to the planned progress (a per-period target: about that much each period)."""
    periods = [p for p in checkins.assignment_periods(a) if p.due < today]
    out = []
    per = None
    if a.item.target_per and a.item.target_value:
        per = a.item.target_value
    elif plan.amount is not None and periods:
        per = (plan.amount / len(periods)).quantize(Decimal("0.01"))
    recent = today - timedelta(days=14)
    # the walkthrough's station has not sent last week's weekly report yet: one red line in its list
    forgot = periods[-1].due if periods and a.unit.code in WALKTHROUGH and a.item.deadline_kind == "weekly" else None
    for p in periods:
        roll = draw.random()
        if p.due == forgot:
            continue
        if roll > (0.985 if base >= 0.5 else 0.92):
            if p.due >= recent:
                continue  # missed, and recent enough to be chased
            day = p.due + timedelta(days=draw.randint(1, 3))  # reported late
        else:
            day = p.due if draw.random() < 0.6 else max(p.start, p.due - timedelta(days=1))
        value = None
        if per is not None:  # whole numbers, unless each period's share is small (a rate over 100 days)
            value = (per * Decimal(str(round(draw.uniform(1.0, 1.25), 2)))).quantize(
                Decimal(1 if per >= 20 else "0.01")
            )
        out.append((min(day, today - timedelta(days=1)), value, p.due))
    return out


def _evidence(a: Assignment, report: ProgressReport, photo: bytes, digest: str) -> Evidence:
    evidence = Evidence(
        assignment=a,
        report=report,
        name="现场照片.jpg",
        content_type="image/jpeg",
        extension=".jpg",
        size=len(photo),
        sha256=digest,
        uploaded_by_id=report.reported_by_id,
        uploaded_at=report.reported_at,
    )
    name = evidence.file.field.generate_filename(evidence, "photo.jpg")
    evidence.file.name = default_storage.save(name, ContentFile(photo))
    return evidence


def _event(a: Assignment, verb: str, actor_id, changes: dict, at: datetime):
    e = audit.event(a, verb, changes=changes, unit=a.unit, source=SOURCE)
    e.actor_id = actor_id
    e.at = at
    return e


# --- 报请领导批示: what waits on the bureau chief's page ---------------------------------------------

CHIEF = "leader_chen"  # 局长: no line of his own, every line on his landing page
REQUESTS = (
    "该项工作涉及多警种协同，本单位现有警力不足，恳请领导协调治安支队抽调警力支援。",
    "辖区夜市整治涉及城管、市场监管等部门，请领导批示是否提请市政府牵头开展联合整治。",
    "因重点人员排查数量超出预期，申请延长排查时限一周，请领导批示。",
)
HQ_REQUEST = "该单位此项任务已逾期且进度滞后，拟对单位主要负责人进行约谈，请领导批示。"
ANSWERED = ("此项工作需要交警部门配合，请领导批示协调。", "同意。请交警支队指定专人对接，务必于本周内完成。")


def seed_instructions(campaign: Campaign, *, today: date) -> int:
    """Requests for instruction (``progress.request_instruction``) on overdue work, three by the units'
    leads and one by HQ, open on the bureau chief's page, made on the days before ``today``; one more
    asked of a line's leader and answered by him. Through the services: audited, the leaders told."""
    from inspections.demo import on
    from tasks.queries import overdue_q
    from tasks.services.progress import default_leader, give_instruction, request_instruction

    chief = User.objects.filter(username=CHIEF).first()
    if chief is None:
        return 0
    reporters, _hq = _reporters(campaign)  # the unit's lead, else the nearest lead above it
    people = User.objects.in_bulk(set(reporters.values()))
    late = (
        Assignment.objects.filter(campaign=campaign, parent=None, is_active=True)
        .filter(overdue_q(today))
        .select_related("unit", "campaign", "item__leader", "item__action__leader")
        .order_by("due_date", "unit__path", "item__seq")
    )
    wanted = len(REQUESTS) + 2
    rows = list(late[:200])
    chosen: list[Assignment] = []
    for a in rows:  # different units and items first, then any other overdue work
        if a.unit_id not in {c.unit_id for c in chosen} and a.item_id not in {c.item_id for c in chosen}:
            chosen.append(a)
    chosen += [a for a in rows if a not in chosen][: max(0, wanted - len(chosen))]
    chosen = chosen[:wanted]
    made = 0
    for n, (a, words) in enumerate(zip(chosen, REQUESTS, strict=False)):
        with on(_at(today - timedelta(days=len(REQUESTS) - n), 10, 15)):
            asked = request_instruction(assignment=a, by=people[reporters[a.unit_id]], text=words, leader=chief)
        Comment.objects.filter(pk=asked.pk).update(created_at=_at(today - timedelta(days=len(REQUESTS) - n), 10, 15))
        made += 1
    hq = User.objects.filter(grants__role=Role.HQ, grants__unit=campaign.owner).order_by("pk").first()
    rest = chosen[len(REQUESTS) :]
    if hq is not None and rest:
        with on(_at(today - timedelta(days=1), 16, 0)):
            asked = request_instruction(assignment=rest[0], by=hq, text=HQ_REQUEST, leader=chief)
        Comment.objects.filter(pk=asked.pk).update(created_at=_at(today - timedelta(days=1), 16, 0))
        made += 1
    if len(rest) > 1 and default_leader(rest[1]) is not None:
        a = rest[1]
        with on(_at(today - timedelta(days=2), 9, 0)):
            asked = request_instruction(assignment=a, by=people[reporters[a.unit_id]], text=ANSWERED[0])
        with on(_at(today - timedelta(days=1), 8, 40)):
            answer = give_instruction(assignment=a, by=asked.addressed_to, text=ANSWERED[1])
        Comment.objects.filter(pk=asked.pk).update(created_at=_at(today - timedelta(days=2), 9, 0))
        Comment.objects.filter(pk=answer.pk).update(created_at=_at(today - timedelta(days=1), 8, 40))
        made += 2
    return made
