"""Digests: many reminders in one message.

**Daily** (08:30): a leader or HQ user — or anyone who chose it — gets its reminders not one by one
but gathered: the sweep records them (``Reminder``) without messages, and this run writes one
``Digest`` per such user and day with the count per colour, the units with most, and the worst ten,
then queues it on the user's channels like any message. A reminder belongs to at most one digest.

**Weekly** (Mondays 08:40): HQ and leaders get the state of their scope — the checklist's completion,
what is overdue and due this week, open and overdue findings, the units furthest behind.

Each run is one transaction, serialised by a lock on the default rules' row (PostgreSQL; SQLite
serialises writers anyway), and unique per (recipient, kind, period): running it twice writes nothing
new. A user whose digest of the day is written keeps later reminders for the next day's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.scope import OVERSEERS, scopes_of_roles
from inspections.models import Finding, FindingStatus, Hotspot, Notice, RiskLetter
from stats.models import Round
from tasks.models import Assignment, AssignmentStatus, Campaign, CampaignStatus
from tasks.queries import overdue_q, planned_q

from .models import Colour, Digest, DigestKind, Kind, Message, Policy, Reminder
from .sweep import queue, quiet_until

RECENT = timedelta(days=7)  # reminders older than this and still undigested are left out (stale)
WORST = 10  # lines listed per digest
SEVERITY = {Colour.RED: 0, Colour.YELLOW: 1, Colour.BLUE: 2}
COLOUR_WORDS = {Colour.RED: "红色（逾期）", Colour.YELLOW: "黄色（进度落后或退回）", Colour.BLUE: "蓝色（临近期限）"}
OPEN = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)


def _lock() -> Policy | None:
    return Policy.objects.select_for_update().filter(campaign=None).first()


def _md(day: date) -> str:
    return date_format(day, "MONTH_DAY_FORMAT")


# --- Daily -----------------------------------------------------------------------------------------


def daily(now: datetime | None = None) -> int:
    """Write today's digest for every user with reminders kept for one; returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        _lock()
        done = Digest.objects.filter(kind=DigestKind.DAILY, period=str(today)).values("recipient_id")
        waiting = (
            Reminder.objects.filter(digest=None, created_at__gt=now - RECENT, created_at__lte=now)
            .exclude(Exists(Message.objects.filter(reminder=OuterRef("pk"))))
            .exclude(recipient_id__in=done)
            .select_related("unit")
            .order_by("recipient_id", "due_date", "id")
        )
        per_user: dict[int, list[Reminder]] = defaultdict(list)
        for r in waiting:
            per_user[r.recipient_id].append(r)
        if not per_user:
            return 0
        users = User.objects.in_bulk(per_user)
        labels = _labels([r for rows in per_user.values() for r in _worst(rows)])
        digests = [_daily_digest(users[uid], rows, today, now, labels) for uid, rows in per_user.items()]
        Digest.objects.bulk_create(digests)
        todays = Digest.objects.filter(recipient=OuterRef("recipient"), kind=DigestKind.DAILY, period=str(today))
        Reminder.objects.filter(pk__in=[r.pk for rows in per_user.values() for r in rows]).update(
            digest=Subquery(todays.values("pk")[:1])
        )
        _queue(DigestKind.DAILY, str(today), now)
    return len(digests)


def _worst(rows: list[Reminder]) -> list[Reminder]:
    return sorted(rows, key=lambda r: (SEVERITY.get(r.colour, 3), r.due_date, r.pk))[:WORST]


def _labels(rows: list[Reminder]) -> dict[tuple[str, int], str]:
    """What each listed reminder is about, in a few words: the item's number, the problem's place."""
    ids: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        ids[r.subject_type].add(r.subject_id)
    found: dict[tuple[str, int], str] = {}
    for pk, code in Assignment.objects.filter(pk__in=ids["assignment"] | ids["checkin"]).values_list(
        "pk", "item__code"
    ):
        found[("assignment", pk)] = f"第{code}项"
        found[("checkin", pk)] = f"第{code}项定期报送"
    for pk, name in Campaign.objects.filter(pk__in=ids["unacked"]).values_list("pk", "name"):
        found[("unacked", pk)] = f"《{name}》任务"
    for pk, number in Notice.objects.filter(pk__in=ids["notice_unack"]).values_list("pk", "number"):
        found[("notice_unack", pk)] = f"整改通知书{number}"
    for pk, number in RiskLetter.objects.filter(pk__in=ids["letter_unack"]).values_list("pk", "number"):
        found[("letter_unack", pk)] = f"风险提示函{number}"
    from documents.models import Document  # documents is above notifications: not at import

    for pk, number in Document.objects.filter(pk__in=ids["doc_unack"]).values_list("pk", "number"):
        found[("doc_unack", pk)] = f"公文{number}"
    for pk, place in Finding.objects.filter(pk__in=ids["finding"]).values_list("pk", "place"):
        found[("finding", pk)] = f"{place}问题整改"
    for pk, name in Hotspot.objects.filter(pk__in=ids["hotspot"]).values_list("pk", "name"):
        found[("hotspot", pk)] = f"挂牌点位“{name}”督导检查"
    for pk, name in Round.objects.filter(pk__in=ids["round"]).values_list("pk", "name"):
        found[("round", pk)] = f"{name}战果报送"
    return found


def _line(r: Reminder, today: date, labels: dict) -> str:
    what = labels.get((r.subject_type, r.subject_id), r.get_subject_type_display())
    if r.kind == Kind.OVERDUE:
        when = f"已逾期{(today - r.due_date).days}天"
    elif r.kind == Kind.BEHIND:
        when = "进度落后于序时进度"
    elif r.kind == Kind.UNACKED:
        when = "尚未签收"
    elif r.due_date == today:
        when = "今天到期"
    else:
        when = f"{_md(r.due_date)}到期"
    return f"· {r.unit.name} {what}，{when}"


def _daily_digest(user: User, rows: list[Reminder], today: date, now: datetime, labels: dict) -> Digest:
    colours = Counter(r.colour for r in rows)
    per_unit = Counter(r.unit.name for r in rows)
    worst = min(colours, key=lambda c: SEVERITY.get(c, 3))
    parts = "、".join(f"{COLOUR_WORDS[c]}{colours[c]}条" for c in SEVERITY if colours[c])
    lines = [
        f"{user.get_full_name()}：",
        f"{_md(today)}督办提醒汇总：共{len(rows)}条，其中{parts}。",
        "涉及单位："
        + "、".join(f"{name}{n}条" for name, n in per_unit.most_common(10))
        + (f"等{len(per_unit)}个单位" if len(per_unit) > 10 else "")
        + "。",
        "需重点关注：",
        *(_line(r, today, labels) for r in _worst(rows)),
    ]
    if len(rows) > WORST:
        lines.append(f"另有{len(rows) - WORST}条，详见系统“督办提醒”。")
    return Digest(
        recipient=user,
        kind=DigestKind.DAILY,
        period=str(today),
        unit_id=user.unit_id or rows[0].unit_id,
        colour=worst,
        subject=f"【督办提醒汇总】{_md(today)}共{len(rows)}条（红{colours[Colour.RED]}条）",
        body="\n".join(lines),
        figures={"total": len(rows), **{c: colours[c] for c in SEVERITY}},
        created_at=now,
    )


# --- Weekly ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    items: int
    done: int
    overdue: int
    due_soon: int
    returned: int
    findings_open: int
    findings_overdue: int
    laggards: list[tuple[str, int]]

    @property
    def rate(self) -> str:
        return f"{self.done * 100 / self.items:.1f}%" if self.items else "—"


def summary(scope, today: date) -> Summary:
    """The state of a scope's checklist and findings (three queries)."""
    work = Assignment.objects.filter(
        scope.q("unit"), planned_q(), is_active=True, campaign__status=CampaignStatus.PUBLISHED
    )
    late = overdue_q(today)
    figures = work.aggregate(
        items=Count("pk"),
        done=Count("pk", filter=Q(status=AssignmentStatus.ACCEPTED)),
        overdue=Count("pk", filter=late),
        due_soon=Count("pk", filter=Q(status__in=OPEN, due_date__gte=today, due_date__lt=today + timedelta(days=7))),
        returned=Count("pk", filter=Q(status=AssignmentStatus.RETURNED)),
    )
    problems = Finding.objects.filter(scope.q("unit"), campaign__status=CampaignStatus.PUBLISHED).aggregate(
        findings_open=Count("pk", filter=~Q(status=FindingStatus.CLOSED)),
        findings_overdue=Count("pk", filter=Q(status=FindingStatus.ORDERED, deadline__lt=today)),
    )
    laggards = list(
        work.filter(late).values_list("unit__name").annotate(n=Count("pk")).order_by("-n", "unit__name")[:5]
    )
    return Summary(**figures, **problems, laggards=laggards)


def weekly(now: datetime | None = None) -> int:
    """Write this week's summary for every HQ user and leader who takes it; returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    year, week, weekday = today.isocalendar()
    period = f"{year}-W{week:02d}"
    monday = today - timedelta(days=weekday - 1)
    with transaction.atomic():
        _lock()
        readers = sorted(OVERSEERS)  # HQ and leaders
        users = list(
            User.objects.filter(is_active=True, grants__role__in=readers)
            .exclude(reminder_preference__weekly=False)
            .exclude(digests__kind=DigestKind.WEEKLY, digests__period=period)
            .distinct()
            .order_by("pk")
        )
        scopes = scopes_of_roles(users, readers)  # one query for all of them
        cache: dict[tuple[str, ...], Summary] = {}
        digests = []
        for user in users:
            scope, first_unit = scopes[user.pk]
            if scope.paths not in cache:
                cache[scope.paths] = summary(scope, today)
            digests.append(
                _weekly_digest(user, cache[scope.paths], period, week, monday, user.unit_id or first_unit, now)
            )
        Digest.objects.bulk_create(digests)
        _queue(DigestKind.WEEKLY, period, now)
    return len(digests)


def _weekly_digest(user, s: Summary, period: str, week: int, monday: date, unit_id: int, now) -> Digest:
    lines = [
        f"{user.get_full_name()}：",
        f"第{week}周（{_md(monday)}—{_md(monday + timedelta(days=6))}）督办汇总：",
        f"清单任务{s.items}项，已完成{s.done}项（完成率{s.rate}），逾期未完成{s.overdue}项，"
        f"未来7日到期{s.due_soon}项，退回整改{s.returned}项。",
        f"检查发现问题未整改销号{s.findings_open}处，其中整改逾期{s.findings_overdue}处。",
    ]
    if s.laggards:
        lines.append("逾期较多的单位：" + "、".join(f"{name}（{n}项）" for name, n in s.laggards) + "。")
    colour = Colour.RED if s.overdue or s.findings_overdue else ""
    return Digest(
        recipient=user,
        kind=DigestKind.WEEKLY,
        period=period,
        unit_id=unit_id,
        colour=colour,
        subject=f"【每周督办汇总】第{week}周：完成率{s.rate}，逾期{s.overdue}项",
        body="\n".join(lines),
        figures={
            "items": s.items,
            "done": s.done,
            "overdue": s.overdue,
            "due_soon": s.due_soon,
            "returned": s.returned,
            "findings_open": s.findings_open,
            "findings_overdue": s.findings_overdue,
        },
        created_at=now,
    )


# --- Messages of digests ----------------------------------------------------------------------------


def _queue(kind: str, period: str, now: datetime) -> None:
    """The period's digests on their recipients' channels, as the sweep queues reminders (the push
    ones after the default rules' quiet hours: a digest spans campaigns)."""
    default = Policy.objects.filter(campaign=None).first() or Policy()
    where = "r.kind = %(kind)s AND r.period = %(period)s"
    with connection.cursor() as cursor:
        queue(
            cursor, now, quiet_until(default, now), where=where, params={"kind": kind, "period": period}, digests=True
        )
