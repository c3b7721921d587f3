"""Ranking the units under a chosen one (排名) by a score HQ weighs, and the laggards it calls in (通报约谈).

Each unit's measures cover its whole subtree, as on the battle board, from two grouped queries (the
board rollup's counts of the assignments, ``boards.rollup``, and the findings, each grouped by the
unit's path prefix), whatever the number of units:

- completion: accepted ÷ assigned;
- on time: of the work due by today, the share submitted by its due date (and not sent back since);
- nothing overdue: 100 − the overdue share;
- rectified in time: of the findings whose deadline has passed or that are closed, the share closed
  by the deadline;
- few findings: findings per 100 assignments, scaled against the unit with the most (the most → 0);
- directives done in time (督办事项): of the directives' work (the line "督办事项") due by today, the share
  submitted by its due date — read in the same grouped query as the rest.

The score is the weighted mean of the measures a unit has (a unit with no findings due has no
rectification measure: its weight is left out rather than counted as 0 or 100). Ties go to the higher
completion, then to the unit's code. A unit holding no directive work due has no directives measure,
so a campaign without directives ranks exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, Subquery
from django.db.models.functions import Substr
from django.utils import timezone

from accounts import scope
from accounts.models import Unit
from inspections.models import Finding, FindingStatus
from tasks.models import DIRECTIVE_LINE, Campaign

from . import rollup
from .models import Weights
from .queries import board_changes, board_counts

STEP = Unit.steplen
MEASURES = Weights.MEASURES


@dataclass
class Standing:
    unit: Unit
    total: int = 0
    done: int = 0
    due: int = 0
    in_time: int = 0
    overdue: int = 0
    findings: int = 0
    findings_due: int = 0
    rectified_in_time: int = 0
    open_findings: int = 0
    directives_due: int = 0
    directives_in_time: int = 0
    measures: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    rank: int | None = None

    @property
    def completion(self) -> float | None:
        return round(self.done * 100 / self.total, 1) if self.total else None

    def reasons(self) -> list[str]:
        """Why a laggard is called in, in a bulletin's words."""
        out = []
        if self.completion is not None:
            out.append(f"完成率{self.completion:g}%")
        if self.overdue:
            out.append(f"逾期未完成{self.overdue}项")
        late = self.findings_due - self.rectified_in_time
        if late:
            out.append(f"问题整改超期{late}处")
        if self.open_findings:
            out.append(f"未整改问题{self.open_findings}处")
        return out


@dataclass
class Ranking:
    campaign: Campaign
    unit: Unit
    weights: dict[str, int]
    standings: list[Standing]  # ranked, best first; units with no work last, unranked
    laggards: list[Standing]


def weights_for(campaign: Campaign) -> Weights:
    """HQ's weights for the campaign, or the defaults (unsaved) when HQ has set none."""
    return Weights.objects.filter(campaign=campaign).first() or Weights(campaign=campaign)


def end_of(day: date) -> datetime:
    """The end of local ``day`` (the next midnight): a moment compared with a timestamp column as it is,
    rather than each row's timestamp turned into a local date first."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _branch(unit: Unit, field_name: str = "unit__path"):
    return Substr(field_name, 1, len(unit.path) + STEP)


def _directive_sums(campaign: Campaign, today: date) -> dict:
    """The directives' work due before ``today`` and, of it, what went in by its due date: the rollup's
    rows of the campaign's line "督办事项" (its code ``DIRECTIVE_LINE``) — named by its id, found once by the
    statement (a scalar subquery), rather than by joining every rollup row to its line."""
    line = Q(action_id=Subquery(campaign.actions.filter(code=DIRECTIVE_LINE).values("pk")[:1]))
    return {
        "directives_due": rollup.count("total", Q(due_date__lt=today) & line),
        "directives_in_time": rollup.count(
            F("submitted_on_time") + F("accepted_on_time"), Q(due_date__lt=today) & line
        ),
    }


def branch_sums(user, campaign: Campaign, unit: Unit, *, as_of: date | None = None) -> dict[str, dict[str, int]]:
    """Per branch under ``unit`` (a child's path; the unit's own path for its own work): total, done, due, in
    time, overdue and ``units`` (how many have work), from the rollup — as of the end of day ``as_of`` (the
    rollup minus the ledger's later changes), else as of now. One statement, bounded by the rollup's rows
    and the changes since ``as_of``, not by the assignments (``rollup.branch_sums_as_of``)."""
    today = as_of + timedelta(days=1) if as_of else timezone.localdate()
    return rollup.branch_sums_as_of(
        board_counts(user, campaign, unit),
        board_changes(user, campaign, unit, after=as_of),
        len(unit.path) + STEP,
        {
            "total": rollup.count("total"),
            "done": rollup.count("accepted"),
            "due": rollup.due(today),
            "in_time": rollup.in_time(today),
            "overdue": rollup.overdue(today),
            **_directive_sums(campaign, today),
        },
    )


def finding_sums(
    user, campaign: Campaign, unit: Unit, *, as_of: date | None = None, today: date | None = None, **extra
) -> dict[str, dict[str, int]]:
    """The findings' counts per child of ``unit`` (by path prefix; the unit's own under its path), now or as
    of the end of day ``as_of``, and any ``extra`` counts asked for (the bulletin's): one grouped query."""
    today = as_of + timedelta(days=1) if as_of else today or timezone.localdate()
    F_ = FindingStatus
    findings = scope.restrict(Finding.objects.filter(campaign=campaign, unit__path__startswith=unit.path), user)
    if as_of is None:
        closed = Q(status=F_.CLOSED)
    else:  # as of that day's end: found by then, closed by then (the deadline is today's)
        findings = findings.filter(found_at__lt=end_of(as_of))
        closed = Q(closed_at__lt=end_of(as_of))
    closed_in_time = closed & Q(deadline__isnull=False, closed_at__date__lte=F("deadline"))
    return {
        row.pop("branch"): row
        for row in findings.order_by()
        .annotate(branch=_branch(unit))
        .values("branch")
        .annotate(
            findings=Count("id"),
            findings_due=Count("id", filter=Q(deadline__isnull=False) & (closed | Q(deadline__lt=today))),
            rectified_in_time=Count("id", filter=closed_in_time),
            open_findings=Count("id", filter=~closed),
            **extra,
        )
    }


def standings(
    user,
    campaign: Campaign,
    unit: Unit,
    *,
    today: date | None = None,
    as_of: date | None = None,
    sums: dict[str, dict[str, int]] | None = None,
    findings: dict[str, dict[str, int]] | None = None,
) -> dict[str, Standing]:
    """Raw counts per child of ``unit`` (by path), over each child's subtree: two queries. ``as_of``: as of
    the end of that day (a bulletin's period), the findings too; ``sums``: the ``branch_sums`` already read
    (the bulletin reads them once for its overview and its ranking), ``findings`` the ``finding_sums``."""
    if as_of is not None:
        today = as_of + timedelta(days=1)
    today = today or timezone.localdate()
    out = {u.path: Standing(u) for u in scope.children(user, unit)}
    if as_of is None and sums is None:  # now: the rollup grouped by branch straight away (no units to count)
        sums = {
            row["branch"]: {
                "total": row["sum_total"],
                "done": row["sum_done"],
                "due": row["sum_due"],
                "in_time": row["sum_in_time"],
                "overdue": row["sum_overdue"],
                "directives_due": row["sum_directives_due"],
                "directives_in_time": row["sum_directives_in_time"],
            }
            for row in board_counts(user, campaign, unit)
            .order_by()
            .annotate(branch=_branch(unit))
            .values("branch")
            .annotate(
                # named apart from the rollup's columns, which the sums read
                sum_total=rollup.count("total"),
                sum_done=rollup.count("accepted"),
                sum_due=rollup.due(today),
                sum_in_time=rollup.in_time(today),
                sum_overdue=rollup.overdue(today),
                **{f"sum_{k}": v for k, v in _directive_sums(campaign, today).items()},
            )
        }
    elif sums is None:
        sums = branch_sums(user, campaign, unit, as_of=as_of)
    for path, counts in sums.items():
        s = out.get(path[: len(unit.path) + STEP])
        if s is not None:
            s.total += counts["total"]
            s.done += counts["done"]
            s.due += counts["due"]
            s.in_time += counts["in_time"]
            s.overdue += counts["overdue"]
            s.directives_due += counts.get("directives_due", 0)
            s.directives_in_time += counts.get("directives_in_time", 0)
    if findings is None:
        findings = finding_sums(user, campaign, unit, as_of=as_of, today=today)
    for branch, row in findings.items():
        s = out.get(branch)
        if s is not None:
            s.findings, s.findings_due = row["findings"], row["findings_due"]
            s.rectified_in_time, s.open_findings = row["rectified_in_time"], row["open_findings"]
    return out


def _pct(part: int, whole: int) -> float | None:
    return part * 100 / whole if whole else None


def score(rows: list[Standing], weights: dict[str, int]) -> None:
    """Fill each standing's measures and score (0–100, one decimal)."""
    density = {id(s): s.findings * 100 / s.total for s in rows if s.total}
    worst = max(density.values(), default=0)
    for s in rows:
        if not s.total:
            s.measures = dict.fromkeys(MEASURES)
            s.score = None
            continue
        s.measures = {
            "completion": _pct(s.done, s.total),
            "on_time": _pct(s.in_time, s.due),
            "overdue": 100 - s.overdue * 100 / s.total,
            "rectification": _pct(s.rectified_in_time, s.findings_due),
            "findings": 100 - density[id(s)] * 100 / worst if worst else 100.0,
            "directives": _pct(s.directives_in_time, s.directives_due),
        }
        counted = [(weights[m], v) for m, v in s.measures.items() if v is not None and weights[m]]
        total_weight = sum(w for w, _ in counted)
        s.score = round(sum(w * v for w, v in counted) / total_weight, 1) if total_weight else None


def ranking(
    user,
    campaign: Campaign,
    unit: Unit,
    *,
    weights: dict[str, int] | None = None,
    today=None,
    as_of: date | None = None,
    sums: dict[str, dict[str, int]] | None = None,
    findings: dict[str, dict[str, int]] | None = None,
    setting: Weights | None = None,
) -> Ranking:
    """The children of ``unit`` (in the user's scope, checked by the caller) ranked; laggards last. As of now,
    or of the end of day ``as_of`` (``standings``). ``setting``: the campaign's ``weights_for``, when the
    caller has read it."""
    setting = setting or weights_for(campaign)
    weights = weights or setting.as_dict()
    rows = list(standings(user, campaign, unit, today=today, as_of=as_of, sums=sums, findings=findings).values())
    score(rows, weights)
    ranked = sorted(
        (s for s in rows if s.score is not None),
        key=lambda s: (-s.score, -(s.completion or 0), s.unit.code),
    )
    previous = None
    for position, s in enumerate(ranked, start=1):
        s.rank = previous.rank if previous and previous.score == s.score else position
        previous = s
    unranked = [s for s in rows if s.score is None]
    # the last few, never more than a third of the units ranked (of three units, one is called in)
    called = min(setting.laggards, max(1, len(ranked) // 3)) if len(ranked) > 1 else 0
    laggards = list(reversed(ranked[-called:])) if called else []
    return Ranking(campaign, unit, weights, ranked + unranked, laggards)
