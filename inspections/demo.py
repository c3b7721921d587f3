"""Demo supervision, from the campaign's start to ``today``, in the order it happens.

Two listed hotspots (挂牌整治) from the end of the first week, each inspected weekly (the night market
missed its third week, the bus station its last one); a routine inspection or two every week, each
finding logged on the day of its inspection; a rectification notice a day or two later; the units'
answers before the deadline (one late, one still unanswered past it); verification a day or two after
the answer (one sent back for a second round); last week's findings still being answered; a
self-inspection (自查) finding; a visit under way this morning and a night inspection planned for
tomorrow.

Everything is written through the services like real use (so the history is there too), then dated
back to its day: the services stamp "now", so the rows and their audit events are moved afterwards.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, RoleGrant, Unit, User
from audit.models import AuditEvent
from tasks.models import Campaign

from . import letters
from . import services as svc
from .models import Answer, Finding, Hotspot, Inspection, InspectionKind, Notice, RiskLetter

OFFICE = "3303"
WALKTHROUGH = "33031101"  # 城关派出所 (lead_chengguan)
# stations and brigades visited in turn, the walkthrough's station among the first
VISITED = [
    "33031101",
    "33031401",
    "33031301",
    "33031201",
    "33031102",
    "33031501",
    "33031202",
    "33031103",
    "33031302",
    "33031402",
    "33031104",
    "33031203",
]
# (place, problem, category, severity)
PROBLEMS = [
    ("辖区KTV", "未落实营业场所治安登记制度，从业人员信息登记不全", "management", "general"),
    ("夜宵摊聚集区", "占道经营，夜间酒后滋事警情集中，巡逻盘查记录缺失", "order", "general"),
    ("某宾馆", "未按规定登记住宿旅客身份信息", "records", "serious"),
    ("某加油站", "散装汽油销售未落实实名登记", "dangerous", "serious"),
    ("出租屋集中区", "群租房消防通道堵塞，电动车室内充电", "fire", "serious"),
    ("派出所值班室", "重点场所清查台账未按日更新", "records", "general"),
    ("寄递网点", "收寄验视制度未落实，过机安检记录缺失", "management", "general"),
    ("网吧", "未落实上网人员实名登记", "management", "general"),
    ("校园周边", "上下学时段护学岗警力不足", "order", "general"),
    ("废品收购站", "收购生产性废旧金属未登记", "records", "general"),
]
REQUIREMENTS = "请对所列问题逐项整改，建立整改台账，整改完毕后附照片等佐证材料书面报告督察支队。"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@contextmanager
def on(at: datetime):
    """What the services record inside happened at ``at``: their audit events are dated so."""
    last = AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0
    yield
    AuditEvent.objects.filter(id__gt=last).update(at=at)


def _visit(hotspot: Hotspot, by, office: Unit, day: date) -> None:
    at = _at(day, 21, 30)
    with on(at):
        visit = svc.plan_inspection(
            by=by,
            campaign=hotspot.campaign,
            units=[hotspot.unit],
            hotspot=hotspot,
            planned_on=day,
            issuing_unit=office,
        )
        svc.complete_inspection(inspection=visit, by=by, summary=f"挂牌乱点周督导：现场检查{hotspot.name}整治情况")
    Inspection.objects.filter(pk=visit.pk).update(started_at=at, completed_at=at, created_at=at - timedelta(days=2))


def _weekly_visits(hotspot: Hotspot, by, office: Unit, today: date, skip: set[int]) -> None:
    """The hotspot's weekly supervision, two days into each window so far, except the ``skip``-th
    windows (so the board shows a missed week)."""
    step = timedelta(days=hotspot.inspect_every_days)
    day, n = hotspot.listed_on + timedelta(days=2), 0
    while day < today:
        if n not in skip:
            _visit(hotspot, by, office, day)
        day, n = day + step, n + 1


def _inspect(campaign, by, office, unit, day, problems, *, hotspot=None) -> tuple[Inspection, list[Finding]]:
    """A routine inspection of ``unit`` on ``day`` logging ``problems``, completed that evening."""
    with on(_at(day, 9)):
        inspection = svc.plan_inspection(by=by, campaign=campaign, units=[unit], planned_on=day, issuing_unit=office)
    with on(_at(day, 14)):
        svc.start_inspection(inspection=inspection, by=by)
    found = []
    for n, (place, problem, category, severity) in enumerate(problems):
        at = _at(day, 15, 10 * n)
        with on(at):
            finding = svc.log_finding(
                by=by,
                inspection=inspection,
                unit=unit,
                place=f"{unit.name[:-3]}{place}",
                description=problem,
                category=category,
                severity=severity,
                hotspot=hotspot,
            )
        Finding.objects.filter(pk=finding.pk).update(found_at=at)
        found.append(finding)
    at = _at(day, 17, 30)
    with on(at):
        svc.complete_inspection(inspection=inspection, by=by, summary=f"督导检查{unit.name}，发现问题{len(found)}处")
    Inspection.objects.filter(pk=inspection.pk).update(
        started_at=_at(day, 14), completed_at=at, created_at=_at(day - timedelta(days=2), 9)
    )
    return inspection, found


def _order(by, inspection, unit, findings, day, deadline, today) -> Notice:
    """The notice for ``findings``, issued on ``day`` with ``deadline`` (the service refuses a past
    deadline, so it is set back after)."""
    with on(_at(day, 10)):
        notice = svc.issue_notice(
            by=by,
            unit=unit,
            findings=findings,
            deadline=max(deadline, today, timezone.localdate()),
            requirements=REQUIREMENTS,
            inspection=inspection,
        )
    Notice.objects.filter(pk=notice.pk).update(issued_at=_at(day, 10), deadline=deadline)
    Finding.objects.filter(notice=notice).update(deadline=deadline)
    return notice


def _answer(finding: Finding, by, day: date) -> None:
    with on(_at(day, 16)):
        answer = svc.answer_finding(
            finding=finding, by=by, text="已按通知书要求整改到位，整改前后照片见附件，台账已更新。"
        )
    Answer.objects.filter(pk=answer.pk).update(answered_at=_at(day, 16))


def _verify(finding: Finding, by, day: date, today: date, *, accept: bool = True, again: date | None = None) -> None:
    at = _at(day, 11)
    with on(at):
        svc.verify_finding(
            finding=finding,
            by=by,
            accept=accept,
            note="" if accept else "整改不彻底，复查仍有问题，限期重新整改",
            new_deadline=None if accept else max(again, today, timezone.localdate()),
        )
    Answer.objects.filter(finding=finding, verified_at__isnull=False, verified_by=by).update(verified_at=at)
    if accept:
        Finding.objects.filter(pk=finding.pk).update(closed_at=at)
    else:
        Finding.objects.filter(pk=finding.pk).update(deadline=again)


def seed_supervision(campaign: Campaign, *, today: date, seed: int = 11) -> int:
    """Seed the campaign's supervision as of ``today``; returns how many findings. Run on a fresh campaign."""
    draw = random.Random(seed)
    units = {u.code: u for u in Unit.objects.filter(code__in=[OFFICE, *VISITED])}
    Unit.objects.filter(code=OFFICE).update(doc_prefix="江公督")
    office = units[OFFICE]
    office.refresh_from_db()
    inspector = User.objects.get(username="insp_huang")
    lead = User.objects.get(username="lead_chengguan")
    leads = {g.unit.code: g.user for g in RoleGrant.objects.filter(role=Role.UNIT_LEAD).select_related("unit", "user")}
    start = campaign.start
    listed = start + timedelta(days=4)

    with on(_at(listed, 10)):
        night_market = svc.list_hotspot(
            by=inspector,
            campaign=campaign,
            unit=units[WALKTHROUGH],
            name="城关夜市片区",
            area="解放路至人民路夜市一带",
            problems="夜间打架斗殴警情集中；占道经营；消防通道堵塞",
            responsible_name="田志勇",
            responsible=lead,
            listed_on=listed,
            deadline=start + timedelta(days=74),
            criteria=["夜间警情同比下降30%以上", "无占道经营", "消防通道全部畅通"],
        )
        bus_station = svc.list_hotspot(
            by=inspector,
            campaign=campaign,
            unit=units["33031201"],
            name="西门客运站周边",
            area="西门客运站及周边200米",
            problems="黑车揽客；盗窃警情多发",
            responsible_name="西门派出所所长",
            listed_on=listed,
            deadline=start + timedelta(days=74),
            criteria=["盗窃警情同比下降20%以上", "黑车揽客整治到位"],
        )
    _weekly_visits(night_market, inspector, office, today, skip={2})
    windows = (today - listed).days // 7  # whole windows so far; the last complete one is missed
    _weekly_visits(bus_station, inspector, office, today, skip={windows - 1})

    # routine inspections: one or two a week, from the campaign's second week to last week
    findings = 0
    visit = 0
    week = start + timedelta(days=7)
    while week + timedelta(days=2) < today:
        for n in range(1 + (draw.random() < 0.5)):
            day = week + timedelta(days=1 + 2 * n)
            if day >= today:
                break
            unit = units[VISITED[visit % len(VISITED)]]
            if n == 0 and week + timedelta(days=9) >= today:
                unit = units[WALKTHROUGH]  # last week: the walkthrough's station, with a notice to answer
            else:
                visit += 1
            problems = draw.sample(PROBLEMS, k=draw.randint(1, 3))
            hotspot = night_market if unit.code == WALKTHROUGH and day >= listed else None
            inspection, found = _inspect(campaign, inspector, office, unit, day, problems, hotspot=hotspot)
            findings += len(found)
            # the unit's lead answers, else the lead of the unit above it (a sub-bureau for its station)
            answerer = next(leads[c] for c in (unit.code, unit.code[:-2], unit.code[:-4]) if c in leads)
            _follow_up(inspection, unit, found, day, today, inspector, answerer, draw)
        week += timedelta(days=7)

    # the station's own self-inspection, two days ago
    at = _at(today - timedelta(days=2), 10)
    with on(at):
        own = svc.log_finding(
            by=lead,
            campaign=campaign,
            unit=units[WALKTHROUGH],
            place="辖区网吧",
            description="自查发现2家网吧未落实上网人员实名登记",
            category="management",
        )
    Finding.objects.filter(pk=own.pk).update(found_at=at)
    # this morning's visit to the walkthrough's station and its neighbour, under way
    at = min(timezone.now(), _at(today, 9))
    with on(at):
        visit = svc.plan_inspection(
            by=inspector,
            campaign=campaign,
            units=[units[WALKTHROUGH], units["33031102"]],
            planned_on=today,
            issuing_unit=office,
        )
        svc.start_inspection(inspection=visit, by=inspector)
    Inspection.objects.filter(pk=visit.pk).update(started_at=at, created_at=at - timedelta(days=1))
    # tonight's night inspection of the walkthrough's station and its neighbour, planned the day before
    with on(_at(today - timedelta(days=1), 15)):
        svc.plan_inspection(
            by=inspector,
            campaign=campaign,
            units=[units[WALKTHROUGH], units["33031102"]],
            kind=InspectionKind.NIGHT,
            planned_on=today + timedelta(days=1),
            issuing_unit=office,
        )
    _risk_letters(campaign, office, inspector, units, leads, today)
    return findings + 1


LETTERS = [
    # (unit, days ago issued, title, risk, measures, what happened since: open | answered | closed)
    (
        WALKTHROUGH,
        3,
        "关于暑期夜市人员密集场所安全风险的提示",
        "近期夜市片区夜间人流量同比上升约40%，临时摊点占用消防通道，电动车集中停放充电，存在踩踏、火灾风险。",
        "加密夜间巡逻频次\n会同市场监管部门清理占道摊点\n排查电动车违规充电",
        "open",
    ),
    (
        "33031102",
        8,
        "关于辖区出租房屋治安隐患的风险提示",
        "分析近一月警情，辖区城中村出租房屋盗窃警情环比上升，部分出租房屋未落实承租人信息登记。",
        "开展出租房屋集中排查，落实“以房管人”登记制度",
        "answered",
    ),
    (
        WALKTHROUGH,
        20,
        "关于网吧未成年人上网管理风险的提示",
        "专项检查中发现辖区网吧实名登记落实不到位，存在未成年人违规上网风险。",
        "督促网吧落实实名登记，开展一次联合检查",
        "closed",
    ),
]


def _risk_letters(campaign, office, inspector, units, leads, today: date) -> None:
    """Three risk letters (风险提示函): one waiting for the station's receipt, one answered for HQ to
    close or return, one closed."""
    for code, ago, title, risk, measures, state in LETTERS:
        unit = Unit.objects.get(code=code)
        issued = today - timedelta(days=ago)
        with on(_at(issued, 9)):
            letter = letters.issue_letter(
                by=inspector,
                unit=unit,
                title=title,
                risk=risk,
                requirements=measures,
                reply_by=max(issued + timedelta(days=10), timezone.localdate()),
                campaign=campaign,
                issuing_unit=office,
            )
        RiskLetter.objects.filter(pk=letter.pk).update(issued_at=_at(issued, 9), reply_by=issued + timedelta(days=10))
        if state == "open":
            continue
        lead = leads[code]
        answered = issued + timedelta(days=min(ago - 1, 6))
        with on(_at(answered, 15)):
            letters.answer_letter(
                letter=letter, by=lead, text="已组织专项排查，落实整改措施，排查台账和现场照片已存档。"
            )
        RiskLetter.objects.filter(pk=letter.pk).update(answered_at=_at(answered, 15), acknowledged_at=_at(answered, 15))
        if state == "closed":
            with on(_at(answered + timedelta(days=1), 10)):
                letters.close_letter(letter=letter, by=inspector, note="措施落实到位，予以办结。")
            RiskLetter.objects.filter(pk=letter.pk).update(closed_at=_at(answered + timedelta(days=1), 10))


def _follow_up(inspection, unit, found, day, today, inspector, lead, draw) -> None:
    """The notice a day or two after the inspection, the answers and their verification, as far as
    ``today`` has got: old findings closed, last week's answered or still open."""
    issued = day + timedelta(days=draw.randint(1, 2))
    if issued >= today:
        return  # found this week: not yet ordered
    deadline = issued + timedelta(days=10)
    _order(inspector, inspection, unit, found, issued, deadline, today)
    for n, finding in enumerate(found):
        finding.refresh_from_db()
        answered = issued + timedelta(days=draw.randint(3, 9))
        if unit.code == "33031401" and n == 0:
            continue  # a laggard station: no answer even past its deadline
        if answered >= today:
            continue
        _answer(finding, lead, answered)
        verified = answered + timedelta(days=draw.randint(1, 2))
        if verified >= today:
            continue
        finding.refresh_from_db()
        if unit.code == "33031301" and n == 0:  # sent back once: a second round, answered again
            _verify(finding, inspector, verified, today, accept=False, again=verified + timedelta(days=7))
            again = verified + timedelta(days=4)
            if again < today:
                finding.refresh_from_db()
                _answer(finding, lead, again)
            continue
        _verify(finding, inspector, verified, today)
