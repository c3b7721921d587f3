"""Units ranked by one indicator of the results statistics over a window (issue 20.5: 破案数全市第一).

The units ranked are the children of a unit, or every unit of one level under it (``level``: a depth of
the tree), each over its whole subtree, as the statistics page's columns are: their values are
``stats.queries.totals``' per column (the same sums, the same rules: docs/figures.md).

- A summed kind (count, quantity, money): the sum of the subtree's figures in the window; a unit with
  none has 0 and is ranked.
- A computed rate: the ratio of the subtree's summed parts (never a sum or mean of rates), ranked by the
  exact fraction; a unit with nothing to divide by has no rate and is not ranked.
- An entered rate: the unit's own figure (the last day of the window it reported), never summed; only
  the units that entered it are ranked.

Ties share a rank (1, 1, 3 — 并列第一). An indicator whose rise is bad (警情: ``up_is_good`` false) ranks
the smallest first. One grouped query reads the sums whatever the number of units (PostgreSQL: the
``stats_rollup`` rows of the ranked units plus their own figures; elsewhere the figures grouped by the
ranked unit's path prefix), and one reads the units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Sum
from django.db.models.functions import Substr

from accounts import scope
from accounts.models import Unit, UnitKind
from tasks.checklist import cn_ordinal
from tasks.models import Campaign

from . import numbers
from .models import Figure, Indicator
from .queries import STEP, Number, Window, _fetch, _figures, _rollup, _tables, _typed, ratio


@dataclass
class Place:
    """One ranked (or unrankable) unit."""

    unit: Unit
    value: Number | None  # None: a rate with nothing to divide by, or none entered
    rank: int | None = None  # None: not ranked
    tied: bool = False  # shares its rank with another unit (并列)
    key: Fraction | None = field(default=None, repr=False)  # the exact value ranked by

    def text(self, indicator: Indicator) -> str:
        """The value as a report writes it (1.1万人次, 95.0%)."""
        return numbers.text(indicator, self.value)

    @property
    def rank_words(self) -> str:
        """第一, 并列第三; empty when not ranked."""
        if self.rank is None:
            return ""
        return ("并列" if self.tied else "") + "第" + cn_ordinal(self.rank)


@dataclass
class Ranking:
    campaign: Campaign
    unit: Unit
    indicator: Indicator
    window: Window
    level: int  # the depth of the units ranked
    places: list[Place]  # ranked first (by rank, then path), then those without a value

    @property
    def first(self) -> list[Place]:
        """The unit(s) ranked first, if any."""
        return [p for p in self.places if p.rank == 1]


def ranked_indicators(campaign: Campaign):
    """The indicators one may rank by: every reported or computed one of the campaign."""
    return campaign.indicators.filter(is_active=True).select_related("numerator", "denominator")


def _sums(
    user, campaign: Campaign, unit: Unit, w: Window, ids: list[int], level: int
) -> dict[tuple[int, str], Decimal]:
    """(indicator id, the ranked unit's path) → the sum of its subtree's figures in ``w``: one query."""
    width = level * STEP
    if _rollup(user, unit):
        t = _tables()
        marks = ", ".join(["%s"] * len(ids))
        # Only table names are interpolated (and placeholders); values are parameters.
        sql = f"""
            SELECT x.indicator_id, x.branch, SUM(x.total) FROM (
                SELECT r.indicator_id, c.path AS branch, r.total
                FROM {t["rollup"]} r JOIN {t["unit"]} c ON c.id = r.ancestor_id
                WHERE r.campaign_id = %s AND r.indicator_id IN ({marks}) AND r.day BETWEEN %s AND %s
                  AND c.path LIKE %s AND c.depth = %s
                UNION ALL
                SELECT f.indicator_id, u.path, f.value
                FROM {t["figure"]} f JOIN {t["unit"]} u ON u.id = f.unit_id
                WHERE f.campaign_id = %s AND f.indicator_id IN ({marks}) AND f.day BETWEEN %s AND %s
                  AND u.path LIKE %s AND u.depth = %s
            ) x GROUP BY x.indicator_id, x.branch"""  # noqa: S608
        below = unit.path + "%"
        part = [campaign.pk, *ids, w.start, w.end, below, level]
        return {(i, b): n for i, b, n in _fetch(sql, part + part)}
    rows = (
        _figures(user, unit, w, campaign=campaign)
        .filter(indicator__in=ids, unit__depth__gte=level)
        .annotate(branch=Substr("unit__path", 1, width))
        .values("indicator_id", "branch")
        .annotate(total=Sum("value"))
    )
    return {(row["indicator_id"], row["branch"]): row["total"] for row in rows}


def _entered(user, campaign: Campaign, units: list[Unit], indicator: Indicator, w: Window) -> dict[int, Decimal]:
    """Unit id → its own figure of an entered rate, the last day of ``w`` it reported: one query."""
    qs = Figure.objects.filter(
        campaign=campaign, indicator=indicator, unit__in=[u.pk for u in units], day__range=(w.start, w.end)
    )
    return dict(scope.restrict(qs, user).order_by("day").values_list("unit_id", "value"))


def places(values: list[tuple[Unit, Number | None, Fraction | None]], *, up_is_good: bool) -> list[Place]:
    """Ranked places from (unit, value shown, exact key): equal keys share a rank (1, 1, 3), the best
    first (the largest, or the smallest when a rise is bad); units without a key come last, unranked."""
    ranked = sorted(
        (Place(u, v, key=k) for u, v, k in values if k is not None),
        key=lambda p: (-p.key if up_is_good else p.key, p.unit.path),
    )
    for n, p in enumerate(ranked):
        before = ranked[n - 1] if n else None
        p.rank = before.rank if before is not None and before.key == p.key else n + 1
    counts: dict[int, int] = {}
    for p in ranked:
        counts[p.rank] = counts.get(p.rank, 0) + 1
    for p in ranked:
        p.tied = counts[p.rank] > 1
    rest = sorted((Place(u, v) for u, v, k in values if k is None), key=lambda p: p.unit.path)
    return ranked + rest


def rank(user, campaign: Campaign, unit: Unit, indicator: Indicator, w: Window, *, level: int | None = None) -> Ranking:
    """The units under ``unit`` (in the user's scope, checked by the caller) of depth ``level`` (default:
    its children) ranked by ``indicator`` in ``w``: two queries (three for an entered rate)."""
    return rankings(user, campaign, unit, [indicator], w, level=level)[0]


def rankings(
    user, campaign: Campaign, unit: Unit, indicators: list[Indicator], w: Window, *, level: int | None = None
) -> list[Ranking]:
    """``rank`` for several indicators at once: one query for the units, one for every sum, and one per
    entered rate (the bulletin's headline indicators)."""
    level = unit.depth + 1 if level is None else level
    units = list(
        Unit.objects.filter(depth=level, path__startswith=unit.path, is_active=True).visible_to(user).order_by("path")
    )
    ids = sorted(
        {pk for i in indicators if i.computed for pk in (i.numerator_id, i.denominator_id)}
        | {i.pk for i in indicators if i.summed}
    )
    sums = _sums(user, campaign, unit, w, ids, level) if ids and units else {}
    out = []
    for indicator in indicators:
        values: list[tuple[Unit, Number | None, Fraction | None]] = []
        if indicator.computed:
            for u in units:
                num = sums.get((indicator.numerator_id, u.path), 0)
                den = sums.get((indicator.denominator_id, u.path))
                exact = Fraction(Decimal(num)) * 100 / Fraction(Decimal(den)) if den else None
                values.append((u, ratio(num, den), exact))
        elif indicator.summed:
            for u in units:
                value = _typed(indicator, sums.get((indicator.pk, u.path), 0))
                values.append((u, value, Fraction(Decimal(value))))
        else:
            own = _entered(user, campaign, units, indicator, w)
            values = [(u, own.get(u.pk), Fraction(own[u.pk]) if u.pk in own else None) for u in units]
        out.append(Ranking(campaign, unit, indicator, w, level, places(values, up_is_good=indicator.up_is_good)))
    return out


def area_word(unit: Unit) -> str:
    """全省, 全市, 全区 or 全县: the reach of ``unit`` as a bulletin names it, by its kind (a sub-bureau of
    a county 全县); any other unit 全局."""
    if unit.kind == UnitKind.SUBBUREAU:
        return "全县" if "县" in unit.name else "全区"
    return {UnitKind.PROVINCE: "全省", UnitKind.CITY: "全市"}.get(unit.kind, "全局")


def firsts(ranking: Ranking) -> str:
    """破获刑事案件全市第一：城东分局（35起）; 并列第一 for a tie; empty when no unit is first, the first has
    nothing to show for it (0), or the indicator should fall (警情: the fewest may be a unit that did not
    report, not one to praise)."""
    top = ranking.first
    i = ranking.indicator
    if not top or not i.up_is_good or not top[0].value:
        return ""
    names = "、".join(p.unit.short_name or p.unit.name for p in top)
    return f"{i.name}{area_word(ranking.unit)}{top[0].rank_words}：{names}（{top[0].text(i)}）"
