"""A leader's landing page (领导首页, ``web:boards-leader``): on one screen, for the lines of action a
分管领导 is in charge of (the bureau chief, HQ and a leader with no line of his own: every line), the
completion and overdue work of each line — the battle board's own row totals, so the figures are the
board's —, the units with the most overdue work, the findings awaiting rectification, the hotspots
near or past their deadline, this week's results against the same week last year, and the requests
for his instruction (报请领导批示) still open. Everything through the user's scope; a fixed number of
queries whatever the number of units (docs/boards.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, Count, IntegerField, Value, When

from accounts import scope
from accounts.models import Role, Unit
from accounts.scope import Action
from inspections.models import Finding, FindingStatus, Hotspot
from inspections.queries import findings_for
from stats.queries import Totals, Window, totals
from tasks.models import Campaign, Comment, CommentKind, LineOfAction
from tasks.queries import overdue_q

from .queries import Cell, battle_board, board_work

TOP_UNITS = 5
LISTED = 10  # findings, hotspots and requests shown; the count says how many there are
HOTSPOT_DAYS = 14  # a listed hotspot's deadline this near is marked 即将到期


def may_open(user) -> bool:
    """The page is a leader's (a ``leader`` grant), and HQ's (manage) for the lines in its scope."""
    return bool(scope.of_role(user, Role.LEADER) or scope.scope_for(user, Action.MANAGE))


@dataclass
class OverdueUnit:
    unit: Unit
    overdue: int
    by_action: list[tuple[LineOfAction, int]] = field(default_factory=list)


@dataclass
class Desk:
    campaign: Campaign
    unit: Unit
    today: date
    all_lines: bool  # every line of the campaign (the bureau chief, HQ), not the leader's own
    lines: list[tuple[LineOfAction, Cell]]
    total: Cell
    units: list[OverdueUnit]
    findings: list[Finding]
    findings_count: int
    hotspots: list[Hotspot]  # still listed, the nearest deadline first
    hotspots_count: int
    hotspots_near: date  # a deadline up to this day is marked 即将到期
    week: Window | None
    stats: Totals | None
    requests: list[Comment]
    requests_count: int
    addressed_to_me: bool  # the requests addressed to the user (a leader), else all in scope (HQ)


def lines_led(user, campaign: Campaign) -> list[LineOfAction]:
    """The lines of action ``user`` is in charge of (``LineOfAction.leader``) as a leader; none for the
    bureau chief (no line of his own), HQ, or anyone without a leader grant: they see every line."""
    if not scope.of_role(user, Role.LEADER):
        return []
    return list(campaign.actions.filter(leader=user).order_by("seq", "id"))


def this_week(campaign: Campaign, today: date) -> Window | None:
    """Monday of this week to today, inside the campaign; ``None`` when the campaign has not run this week."""
    start = max(today - timedelta(days=today.weekday()), campaign.start)
    end = min(today, campaign.end)
    return Window(start, end) if start <= end else None


def desk(user, campaign: Campaign, unit: Unit, *, today: date) -> Desk:
    """The leader's page under ``unit`` (in the user's scope, checked by the caller)."""
    own = lines_led(user, campaign)
    board = battle_board(user, campaign, unit, today=today)
    rows = own or board.rows
    lines = [(a, board.row_totals.get(a.pk) or Cell()) for a in rows]
    total = Cell()
    for _a, c in lines:
        total.add(c)

    # the units holding the most overdue work (of the leader's lines), each with its lines
    late = board_work(user, campaign, unit).filter(overdue_q(today))
    if own:
        late = late.filter(item__action__in=own)
    top = list(
        late.order_by()
        .values("unit_id", "unit__code", "unit__name", "unit__short_name", "unit__path")
        .annotate(n=Count("id"))
        .order_by("-n", "unit__path")[:TOP_UNITS]
    )
    actions = {a.pk: a for a in rows}
    units = {
        r["unit_id"]: OverdueUnit(
            Unit(
                pk=r["unit_id"],
                code=r["unit__code"],
                name=r["unit__name"],
                short_name=r["unit__short_name"],
                path=r["unit__path"],
            ),
            r["n"],
        )
        for r in top
    }
    if units:
        split = late.filter(unit_id__in=units).order_by().values("unit_id", "item__action_id").annotate(n=Count("id"))
        order = {pk: n for n, pk in enumerate(actions)}
        for r in sorted(split, key=lambda r: order[r["item__action_id"]]):
            units[r["unit_id"]].by_action.append((actions[r["item__action_id"]], r["n"]))

    # findings awaiting rectification: ordered (the overdue first) or submitted, awaiting verification
    findings = (
        findings_for(user)
        .filter(campaign=campaign, unit__path__startswith=unit.path)
        .filter(status__in=[FindingStatus.ORDERED, FindingStatus.SUBMITTED])
        .annotate(
            late=Case(When(Finding.overdue_q(today), then=Value(0)), default=Value(1), output_field=IntegerField())
        )
    )
    hotspots = Hotspot.objects.visible_to(user).filter(
        campaign=campaign,
        unit__path__startswith=unit.path,
        status=Hotspot.Status.LISTED,
    )

    week = this_week(campaign, today)
    stats = totals(user, campaign, unit, week) if week else None

    mine = bool(scope.of_role(user, Role.LEADER))
    requests = Comment.objects.visible_to(user).filter(
        kind=CommentKind.REQUEST,
        answer__isnull=True,
        assignment__campaign=campaign,
        assignment__unit__path__startswith=unit.path,
    )
    if mine:
        requests = requests.filter(addressed_to=user)
    return Desk(
        campaign=campaign,
        unit=unit,
        today=today,
        all_lines=not own,
        lines=lines,
        total=total,
        units=list(units.values()),
        findings=list(findings.select_related("unit", "notice").order_by("late", "deadline", "id")[:LISTED]),
        findings_count=findings.count(),
        hotspots=list(hotspots.select_related("unit").order_by("deadline", "id")[:LISTED]),
        hotspots_count=hotspots.count(),
        hotspots_near=today + timedelta(days=HOTSPOT_DAYS),
        week=week,
        stats=stats,
        requests=list(
            requests.select_related("assignment__item", "assignment__unit", "author", "addressed_to").order_by(
                "created_at", "id"
            )[:LISTED]
        ),
        requests_count=requests.count(),
        addressed_to_me=mine,
    )
