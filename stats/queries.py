"""Totals of the results statistics under a unit, with 同比 and 环比, in a fixed number of queries.

A window is a date range of the campaign (a day, a week, a round, the campaign so far). The totals
are one grouped query per period: the figures in the window of the units under the chosen one,
summed per indicator and per child of the chosen unit (``SUBSTR(path, 1, len + STEP)``), like the
battle board. 同比 (year over year) reads the same window of the campaign it is compared with
(``Campaign.compare_to``, matched by day of the campaign: day 8 against day 8), or the same dates a
year before when none is set; indicators match by code. 环比 (period over period) reads the round
before a round, else the window of equal length just before.

On PostgreSQL (``utilities.db.fast_paths()``) the sums read ``stats_rollup`` (stats migration 0002: per unit,
indicator and day, the sum of the figures below the unit, kept exact by triggers) plus the own
figures of the chosen unit and its children: a child's subtree is one row per indicator and day,
whatever its size, where the figures of a province's whole campaign are ≈1.6 million rows. The
numbers are the same as the portable queries' (SQLite, or the fast paths off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Substr

from accounts import scope
from accounts.models import Unit
from tasks.models import Assignment, Campaign
from utilities.cn import cn_percent
from utilities.db import fast_paths

from .models import Figure, Indicator, Round

STEP = Unit.steplen


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    round: Round | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, delta: timedelta) -> Window:
        return Window(self.start + delta, self.end + delta)

    def before(self) -> Window:
        """The window of equal length just before (环比)."""
        return Window(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def window(campaign: Campaign, *, round: Round | None = None, start=None, end=None, today=None) -> Window:
    """A round's dates, or ``start``..``end`` (default: the campaign's first day to today or its last)."""
    if round is not None:
        return Window(round.start, round.end, round)
    last = min(campaign.end, today) if today else campaign.end
    return Window(start or campaign.start, max(end or last, start or campaign.start))


def year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def baseline(campaign: Campaign, w: Window) -> tuple[Campaign | None, Window]:
    """What 同比 compares ``w`` with: the compared campaign's same days, else the same dates a year before
    (figures of any campaign of the same owner)."""
    if campaign.compare_to_id:
        other = campaign.compare_to
        return other, w.shifted(other.start - campaign.start)
    return None, Window(year_before(w.start), year_before(w.end))


def change(now: int, before: int | None) -> tuple[str, float | None]:
    """("up"|"down"|"flat"|"none", percent) — the words a report uses: 同比上升12.5%."""
    if not before:
        return "none", None
    pct = round((now - before) * 100 / before, 1)
    return ("up" if pct > 0 else "down" if pct < 0 else "flat"), abs(pct)


def words(label: str, now: int, before: int | None) -> str:
    """E.g. ``words("同比", 124, 100)`` → "同比上升24%"; "同比持平"; "" when there is nothing to compare."""
    direction, pct = change(now, before)
    if direction == "none":
        return ""
    if direction == "flat":
        return f"{label}持平"
    return f"{label}{'上升' if direction == 'up' else '下降'}{cn_percent(pct)}"


@dataclass
class Line:
    """One indicator: the total and its comparisons, and the total per column unit."""

    indicator: Indicator
    total: int = 0
    last_year: int | None = None
    previous: int | None = None  # 环比: the round before, or the equal window just before
    by_unit: dict[int, int] = field(default_factory=dict)
    # 含代填: how many of the figures summed were entered by HQ on a unit's behalf, in all and per column
    behalf: int = 0
    behalf_by_unit: dict[int, int] = field(default_factory=dict)

    @property
    def yoy(self) -> str:
        return words("同比", self.total, self.last_year)

    @property
    def mom(self) -> str:
        return words("环比", self.total, self.previous)

    def yoy_change(self) -> tuple[str, float | None]:
        return change(self.total, self.last_year)


@dataclass
class Totals:
    campaign: Campaign
    unit: Unit
    window: Window
    compared_with: Campaign | None
    last_year_window: Window
    columns: list[Unit]
    lines: list[Line]


def _figures(user, unit: Unit, w: Window, *, campaign: Campaign | None = None, owner: Unit | None = None):
    qs = Figure.objects.filter(day__gte=w.start, day__lte=w.end)
    qs = qs.filter(campaign=campaign) if campaign is not None else qs.filter(campaign__owner=owner)
    qs = qs.filter(unit__path__startswith=unit.path)
    return scope.restrict(qs, user).order_by()


def _sums(qs, *, key: str) -> dict[str, int]:
    return {row[key]: row["total"] for row in qs.values(key).annotate(total=Sum("value"))}


# --- PostgreSQL: the rollup (stats migration 0002) -----------------------------------------------------

ROLLUP = "stats_rollup"


def _rollup(user, unit: Unit) -> bool:
    """Whether to read the rollup: PostgreSQL's fast path, and the unit in the user's scope (then so is
    its whole subtree, which the rollup's sums cover; the callers have checked it, this keeps the
    portable queries' answer otherwise)."""
    return fast_paths() and scope.scope_for(user, scope.Action.VIEW).contains(unit)


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "rollup": quote(ROLLUP),
        "figure": quote(Figure._meta.db_table),
        "unit": quote(Unit._meta.db_table),
        "indicator": quote(Indicator._meta.db_table),
        "campaign": quote(Campaign._meta.db_table),
    }


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _column_sums(campaign: Campaign, unit: Unit, w: Window) -> list[dict]:
    """Per indicator and column (``branch``: the unit's path or a child's), as the portable query groups
    them: the children's rollup rows, and the own figures of the unit and of its children."""
    t = _tables()
    # Only table names (from the models and the migration) are interpolated; values are parameters.
    sql = f"""
        SELECT x.indicator_id, x.branch, SUM(x.total)::bigint FROM (
            SELECT r.indicator_id, c.path AS branch, r.total
            FROM {t["rollup"]} r JOIN {t["unit"]} c ON c.id = r.ancestor_id
            WHERE r.campaign_id = %s AND r.day BETWEEN %s AND %s AND c.path LIKE %s AND c.depth = %s
            UNION ALL
            SELECT f.indicator_id, u.path, f.value
            FROM {t["figure"]} f JOIN {t["unit"]} u ON u.id = f.unit_id
            WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s AND u.depth <= %s
        ) x GROUP BY x.indicator_id, x.branch"""  # noqa: S608
    below = unit.path + "%"
    params = [campaign.pk, w.start, w.end, below, unit.depth + 1, campaign.pk, w.start, w.end, below, unit.depth + 1]
    return [{"indicator_id": i, "branch": b, "total": n} for i, b, n in _fetch(sql, params)]


def _subtree_sums(unit: Unit, w: Window, *, campaign: Campaign | None, owner: Unit | None = None, by: str):
    """Sums over the unit's whole subtree (its rollup rows and its own figures) in ``w``, by ``by``:
    "indicator" (its id), "day" (indicator id and day) or "code" (the indicator's code)."""
    t = _tables()
    if campaign is not None:
        campaigns, chosen = "= %s", [campaign.pk]
    else:  # any campaign of the owner (同比 when none is compared with)
        campaigns, chosen = f"IN (SELECT id FROM {t['campaign']} WHERE owner_id = %s)", [owner.pk]  # noqa: S608
    keys = {"indicator": "x.indicator_id", "day": "x.indicator_id, x.day", "code": "i.code"}[by]
    join = f"JOIN {t['indicator']} i ON i.id = x.indicator_id" if by == "code" else ""
    sql = f"""
        SELECT {keys}, SUM(x.total)::bigint FROM (
            SELECT r.indicator_id, r.day, r.total FROM {t["rollup"]} r
            WHERE r.campaign_id {campaigns} AND r.ancestor_id = %s AND r.day BETWEEN %s AND %s
            UNION ALL
            SELECT f.indicator_id, f.day, f.value FROM {t["figure"]} f
            WHERE f.campaign_id {campaigns} AND f.unit_id = %s AND f.day BETWEEN %s AND %s
        ) x {join} GROUP BY {keys}"""  # noqa: S608
    return _fetch(sql, [*chosen, unit.pk, w.start, w.end, *chosen, unit.pk, w.start, w.end])


def previous_window(campaign: Campaign, w: Window) -> Window | None:
    """What 环比 compares ``w`` with: the round before a round, else the equal window just before
    (None when that would start before the campaign)."""
    if w.round is not None:
        earlier = campaign.rounds.filter(end__lt=w.round.start).order_by("-start").first()
        return Window(earlier.start, earlier.end, earlier) if earlier else None
    before = w.before()
    return before if before.start >= campaign.start else None


def totals(user, campaign: Campaign, unit: Unit, w: Window) -> Totals:
    """Totals under ``unit`` (in the user's scope, checked by the caller) in ``w``: 4 queries for the
    figures (this window per column, how many of them HQ entered, last year, the window before) whatever
    the number of units."""
    indicators = list(campaign.indicators.filter(is_active=True))
    lines = {i.pk: Line(i) for i in indicators}
    fast = _rollup(user, unit)
    if fast:
        grouped = _column_sums(campaign, unit, w)
    else:
        grouped = (
            _figures(user, unit, w, campaign=campaign)
            .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
            .values("indicator_id", "branch")
            .annotate(total=Sum("value"))
        )
    by_path = {u.path: u for u in scope.children(user, unit)}
    own = False
    for row in grouped:
        line = lines.get(row["indicator_id"])
        column = unit if row["branch"] == unit.path else by_path.get(row["branch"])
        if line is None or column is None:
            continue
        own |= column.pk == unit.pk
        line.by_unit[column.pk] = line.by_unit.get(column.pk, 0) + row["total"]
        line.total += row["total"]
    for row in _behalf(user, campaign, unit, w):
        line = lines.get(row["indicator_id"])
        column = unit if row["branch"] == unit.path else by_path.get(row["branch"])
        if line is None or column is None:
            continue
        line.behalf_by_unit[column.pk] = line.behalf_by_unit.get(column.pk, 0) + row["n"]
        line.behalf += row["n"]
    other, before = baseline(campaign, w)
    codes = {i.code: i.pk for i in indicators}
    earlier = previous_window(campaign, w)
    if fast:
        found = _subtree_sums(unit, before, campaign=other, owner=campaign.owner, by="code")
        last_year = {code: n for code, n in found if code in codes}
        previous = dict(_subtree_sums(unit, earlier, campaign=campaign, by="indicator")) if earlier else {}
    else:
        last_year = _sums(
            _figures(user, unit, before, campaign=other, owner=campaign.owner).filter(indicator__code__in=codes),
            key="indicator__code",
        )
        previous = _sums(_figures(user, unit, earlier, campaign=campaign), key="indicator_id") if earlier else {}
    for code, pk in codes.items():
        lines[pk].last_year = last_year.get(code)
        if earlier:
            lines[pk].previous = previous.get(pk, 0)
    columns = ([unit] if own else []) + list(by_path.values())
    return Totals(campaign, unit, w, other, before, columns, [lines[i.pk] for i in indicators])


def _behalf(user, campaign: Campaign, unit: Unit, w: Window):
    """How many figures HQ entered on a unit's behalf (代填) in ``w`` under ``unit``, per indicator and
    column: one grouped query over the few flagged figures (a partial index holds only them)."""
    return (
        _figures(user, unit, w, campaign=campaign)
        .filter(on_behalf=True)
        .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
        .values("indicator_id", "branch")
        .annotate(n=Count("pk"))
    )


def behalf_days(campaign: Campaign, unit: Unit) -> set[date]:
    """The days on which some of ``unit``'s figures were entered by HQ (代填): one query."""
    return set(Figure.objects.filter(campaign=campaign, unit=unit, on_behalf=True).values_list("day", flat=True))


def series(user, campaign: Campaign, unit: Unit, w: Window) -> dict[int, dict[date, int]]:
    """Per indicator, the total of each day in ``w`` under ``unit`` (for the charts): one query."""
    out: dict[int, dict[date, int]] = {}
    for indicator, day, total in _by_day(user, campaign, unit, w):
        out.setdefault(indicator, {})[day] = total
    return out


def _by_day(user, campaign: Campaign, unit: Unit, w: Window) -> list[tuple[int, date, int]]:
    """(indicator id, day, total under ``unit``) for each day of ``w`` with figures."""
    if _rollup(user, unit):
        return _subtree_sums(unit, w, campaign=campaign, by="day")
    rows = _figures(user, unit, w, campaign=campaign).values("indicator_id", "day").annotate(total=Sum("value"))
    return [(row["indicator_id"], row["day"], row["total"]) for row in rows]


def per_round(user, campaign: Campaign, unit: Unit) -> dict[int, dict[int, int]]:
    """Per round, the total of each indicator under ``unit``: one query per campaign (rounds are few)."""
    rounds = list(campaign.rounds.all())
    if not rounds:
        return {}
    w = Window(min(r.start for r in rounds), max(r.end for r in rounds))
    out: dict[int, dict[int, int]] = {r.pk: {} for r in rounds}
    for indicator, day, total in _by_day(user, campaign, unit, w):
        for r in rounds:
            if r.start <= day <= r.end:
                out[r.pk][indicator] = out[r.pk].get(indicator, 0) + total
    return out


def reporting_units(user, campaign: Campaign, unit: Unit):
    """The units expected to report: those under ``unit`` holding work in the campaign."""
    holding = Assignment.objects.filter(campaign=campaign, is_active=True).values("unit_id")
    return (
        Unit.objects.filter(path__startswith=unit.path, pk__in=holding, is_active=True)
        .visible_to(user)
        .order_by("path")
    )


def non_reporters(user, campaign: Campaign, unit: Unit, day: date):
    """Units under ``unit`` expected to report that have no figure for ``day`` (a round: its last day)."""
    reported = Figure.objects.filter(campaign=campaign, day=day).values("unit_id")
    return reporting_units(user, campaign, unit).exclude(pk__in=reported)


def round_for(campaign: Campaign, day: date) -> Round | None:
    """The round whose window holds ``day``, if any."""
    return campaign.rounds.filter(start__lte=day, end__gte=day).first()
