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
whatever its size, where the figures of a province's whole campaign are ≈1.6 million rows; the
periods' sums and the 代填 count are then one statement (UNION ALL) instead of one query each. The
numbers are the same as the portable queries' (SQLite, or the fast paths off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Substr

from accounts import scope
from accounts.models import Unit
from tasks.models import Assignment, Campaign
from utilities.cn import cn_day, cn_range
from utilities.db import fast_paths

from . import numbers
from .models import Figure, Indicator, Kind, Round

STEP = Unit.steplen


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    round: Round | None = None
    period: str = ""  # how it was asked: "" (from–to or a round), or one of PERIODS

    @property
    def words(self) -> str:
        """The window as the statistics page names it: 行动以来（截至7月20日）, 第3周（7月13日至19日）,
        7月（7月1日至31日）, 第一轮（7月7日至9日）, 7月1日至20日."""
        span = cn_range(self.start, self.end)
        if self.round is not None:
            return f"{self.round.name}（{span}）"
        if self.period == SINCE:
            return f"行动以来（截至{cn_day(self.end)}）"
        if self.period == MONTH:
            return f"{self.start.month}月（{span}）"
        return span

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, delta: timedelta) -> Window:
        return Window(self.start + delta, self.end + delta)

    def before(self) -> Window:
        """The window of equal length just before (环比)."""
        return Window(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


SINCE, WEEK, MONTH = "since", "week", "month"
PERIODS = (SINCE, WEEK, MONTH)


def period_window(campaign: Campaign, period: str, day: date) -> Window:
    """The window of a period ending or holding ``day`` (kept inside the campaign): 行动以来 (``since``:
    the campaign's first day to ``day``, 截至 it), the campaign week holding it (Monday to Sunday, as the
    bulletin's), or its calendar month."""
    day = min(max(day, campaign.start), campaign.end)
    if period == SINCE:
        return Window(campaign.start, day, period=SINCE)
    if period == WEEK:
        monday = day - timedelta(days=day.weekday())
        return Window(max(monday, campaign.start), min(monday + timedelta(days=6), campaign.end), period=WEEK)
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Window(max(first, campaign.start), min(last, campaign.end), period=MONTH)


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


def change(now, before, indicator: Indicator | None = None) -> tuple[str, Decimal | None]:
    """("up"|"down"|"flat"|"none", amount) — see ``stats.numbers.change``."""
    return numbers.change(indicator, now, before)


def words(label: str, now, before, indicator: Indicator | None = None) -> str:
    """E.g. ``words("同比", 124, 100)`` → "同比增长24%"; "同比持平"; "" when there is nothing to compare
    (``stats.numbers.words``: the indicator's direction and kind choose the words)."""
    return numbers.words(label, indicator, now, before)


Number = int | Decimal  # a count's sums are ints (as before issue 20), the other kinds' Decimals


def ratio(numerator: Number | None, denominator: Number | None) -> Decimal | None:
    """A computed rate in percent from its summed parts; none without a denominator."""
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) * 100 / Decimal(denominator)


def _typed(indicator: Indicator, value: Number | None) -> Number | None:
    if value is None:
        return None
    return int(value) if indicator.kind == Kind.COUNT else Decimal(value)


@dataclass
class Line:
    """One indicator: the total and its comparisons, and the total per column unit."""

    indicator: Indicator
    total: Number | None = 0  # a rate: None when there is no denominator (computed) or no figure (entered)
    last_year: Number | None = None
    previous: Number | None = None  # 环比: the round before, or the equal window just before
    by_unit: dict[int, Number | None] = field(default_factory=dict)
    # 含代填: how many of the figures summed were entered by HQ on a unit's behalf, in all and per column
    behalf: int = 0
    behalf_by_unit: dict[int, int] = field(default_factory=dict)

    @property
    def yoy(self) -> str:
        return words("同比", self.total, self.last_year, self.indicator)

    @property
    def mom(self) -> str:
        return words("环比", self.total, self.previous, self.indicator)

    def yoy_change(self) -> tuple[str, Decimal | None]:
        return change(self.total, self.last_year, self.indicator)

    @property
    def yoy_tone(self) -> str:
        """ "good"/"bad": the colour of 同比 by the indicator's direction (警情 up is bad)."""
        return numbers.tone(self.indicator, self.total, self.last_year)

    @property
    def mom_tone(self) -> str:
        return numbers.tone(self.indicator, self.total, self.previous)

    @property
    def text(self) -> str:
        """The total as a report writes it (1.1万人次, 950.5万元, 95.0%)."""
        return numbers.text(self.indicator, self.total)

    @property
    def last_year_text(self) -> str:
        return numbers.text(self.indicator, self.last_year)

    @property
    def shown(self) -> str:
        """The total in a table whose header names the measure (1.1万, 950.5, 95.0%)."""
        return numbers.bare(self.indicator, self.total)

    @property
    def last_year_shown(self) -> str:
        return numbers.bare(self.indicator, self.last_year)

    def unit_shown(self, unit_pk: int) -> str:
        return numbers.bare(self.indicator, self.by_unit.get(unit_pk))


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


def _sums(qs, *, key: str) -> dict[str, Decimal]:
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


# The totals' statement reads a few thousand index rows per column (≈28,000 for a province's whole campaign)
# and answers in a few ms alone; PostgreSQL plans it with 2 parallel workers, whose start-up cost the
# request far more than they save (issue 20, docs/figures.md: a round's 15 ms instead of 3). In the same
# execute (psycopg2 sends one simple query: an implicit transaction, which SET LOCAL ends with), so still one
# statement; not inside a transaction, where SET LOCAL would hold for the caller's later statements too.
SERIAL = "SET LOCAL max_parallel_workers_per_gather = 0;\n"


def _fetch_serial(sql: str, params: list) -> list[tuple]:
    """``_fetch``, planned without parallel workers outside a transaction (``SERIAL``)."""
    return _fetch(sql if connection.in_atomic_block else SERIAL + sql, params)


def _subtree_sums(unit: Unit, w: Window, *, campaign: Campaign) -> list[tuple]:
    """(indicator id, day, sum) over the unit's whole subtree (its rollup rows and its own figures) in
    ``w`` (the charts' series and the rounds' sums; the totals read theirs in ``_rollup_totals``)."""
    t = _tables()
    sql = f"""
        SELECT x.indicator_id, x.day, SUM(x.total) FROM (
            SELECT r.indicator_id, r.day, r.total FROM {t["rollup"]} r
            WHERE r.campaign_id = %s AND r.ancestor_id = %s AND r.day BETWEEN %s AND %s
            UNION ALL
            SELECT f.indicator_id, f.day, f.value FROM {t["figure"]} f
            WHERE f.campaign_id = %s AND f.unit_id = %s AND f.day BETWEEN %s AND %s
        ) x GROUP BY x.indicator_id, x.day"""  # noqa: S608
    return _fetch(sql, [campaign.pk, unit.pk, w.start, w.end, campaign.pk, unit.pk, w.start, w.end])


def _rollup_totals(campaign: Campaign, unit: Unit, w: Window, before: Window, other: Campaign | None, earlier):
    """The fast path's figures of ``totals`` in ONE statement (UNION ALL) of rows (part, indicator id,
    key, number): "now", this window per indicator and column (key: the column's path; the children's
    rollup rows and the own figures of the unit and its children, grouped as the portable query groups
    them); "behalf", how many of those HQ entered (key: the column's path; the partial index of the
    flagged figures); "last_year", the subtree's sums in ``before`` (key: the indicator's code; of
    ``other``, else of any campaign of the owner); with ``earlier``, "previous", the subtree's sums in
    it. Each part is the query it replaced: one round trip and one plan instead of four."""
    t = _tables()
    below, depth, width = unit.path + "%", unit.depth + 1, len(unit.path) + STEP
    if other is not None:
        then, chosen = "= %s", [other.pk]
    else:  # any campaign of the owner (同比 when none is compared with)
        then, chosen = f"IN (SELECT id FROM {t['campaign']} WHERE owner_id = %s)", [campaign.owner_id]  # noqa: S608

    def subtree(campaigns: str, ids: list, span: Window) -> tuple[str, list]:
        sql = f"""(
            SELECT r.indicator_id, r.total FROM {t["rollup"]} r
            WHERE r.campaign_id {campaigns} AND r.ancestor_id = %s AND r.day BETWEEN %s AND %s
            UNION ALL
            SELECT f.indicator_id, f.value FROM {t["figure"]} f
            WHERE f.campaign_id {campaigns} AND f.unit_id = %s AND f.day BETWEEN %s AND %s)"""  # noqa: S608
        return sql, [*ids, unit.pk, span.start, span.end, *ids, unit.pk, span.start, span.end]

    # Only table names (from the models and the migration) are interpolated; values are parameters.
    now = f"""
        SELECT 'now', x.indicator_id, x.branch, SUM(x.total) FROM (
            SELECT r.indicator_id, c.path AS branch, r.total
            FROM {t["rollup"]} r JOIN {t["unit"]} c ON c.id = r.ancestor_id
            WHERE r.campaign_id = %s AND r.day BETWEEN %s AND %s AND c.path LIKE %s AND c.depth = %s
            UNION ALL
            SELECT f.indicator_id, u.path, f.value
            FROM {t["figure"]} f JOIN {t["unit"]} u ON u.id = f.unit_id
            WHERE f.campaign_id = %s AND f.day BETWEEN %s AND %s AND u.path LIKE %s AND u.depth <= %s
        ) x GROUP BY 2, 3"""  # noqa: S608
    params: list = [campaign.pk, w.start, w.end, below, depth, campaign.pk, w.start, w.end, below, depth]
    behalf = f"""
        SELECT 'behalf', f.indicator_id, SUBSTR(u.path, 1, %s), COUNT(*)
        FROM {t["figure"]} f JOIN {t["unit"]} u ON u.id = f.unit_id
        WHERE f.campaign_id = %s AND f.on_behalf AND f.day BETWEEN %s AND %s AND u.path LIKE %s
        GROUP BY 2, 3"""  # noqa: S608
    params += [width, campaign.pk, w.start, w.end, below]
    sql, more = subtree(then, chosen, before)
    last_year = f"""
        SELECT 'last_year', NULL, i.code, SUM(x.total) FROM {sql} x
        JOIN {t["indicator"]} i ON i.id = x.indicator_id GROUP BY 3"""  # noqa: S608
    parts, params = [now, behalf, last_year], params + more
    if earlier is not None:
        sql, more = subtree("= %s", [campaign.pk], earlier)
        parts.append(f"SELECT 'previous', x.indicator_id, '', SUM(x.total) FROM {sql} x GROUP BY 2")  # noqa: S608
        params += more
    return _fetch_serial("\nUNION ALL\n".join(parts), params)


def previous_window(campaign: Campaign, w: Window) -> Window | None:
    """What 环比 compares ``w`` with: the round before a round, else the equal window just before
    (None when that would start before the campaign)."""
    if w.round is not None:
        # the campaign's rounds (few), as read with the window when it was a round's (``boards.forms``)
        before = [r for r in campaign.rounds.all() if r.end < w.round.start]
        earlier = max(before, key=lambda r: (r.start, r.pk), default=None)
        return Window(earlier.start, earlier.end, earlier) if earlier else None
    before = w.before()
    return before if before.start >= campaign.start else None


def _catalogue(campaign: Campaign) -> dict[int, Indicator]:
    """The campaign's indicators by id in their order (seq, id: the model's ordering within one campaign,
    without its join of the campaign), a computed rate's parts linked from among them (the totals read them
    there): one query, no join."""
    catalogue = {i.pk: i for i in campaign.indicators.order_by("seq", "pk")}
    parts = (Indicator._meta.get_field("numerator"), Indicator._meta.get_field("denominator"))
    for i in catalogue.values():
        for part in parts:
            linked = catalogue.get(getattr(i, part.attname))
            if linked is not None:
                part.set_cached_value(i, linked)
    return catalogue


def totals(user, campaign: Campaign, unit: Unit, w: Window) -> Totals:
    """Totals under ``unit`` (in the user's scope, checked by the caller) in ``w``, whatever the number of
    units: the figures (this window per column, how many of them HQ entered, last year, the window
    before) in one statement on PostgreSQL's rollup (``_rollup_totals``), in up to 4 portable queries
    elsewhere; the catalogue and the columns one query each; for entered rates (never summed) one per
    period for the units' own figures. A computed rate is the ratio of its parts' sums in the same
    column and period (docs/figures.md)."""
    catalogue = _catalogue(campaign)
    indicators = [i for i in catalogue.values() if i.is_active]
    lines = {i.pk: Line(i) for i in indicators}
    other, before = baseline(campaign, w)
    codes = {i.code: i.pk for i in catalogue.values()}
    earlier = previous_window(campaign, w)
    fast = _rollup(user, unit)
    if fast:  # one statement for the four
        got: dict[str, list] = {"now": [], "behalf": [], "last_year": [], "previous": []}
        for part, indicator, key, n in _rollup_totals(campaign, unit, w, before, other, earlier):
            got[part].append((indicator, key, n))
        grouped = [{"indicator_id": i, "branch": b, "total": n} for i, b, n in got["now"]]
        behalf = [{"indicator_id": i, "branch": b, "n": int(n)} for i, b, n in got["behalf"]]
        last_year = {code: n for _, code, n in got["last_year"] if code in codes}
        previous = {i: n for i, _, n in got["previous"]}
    else:
        grouped = (
            _figures(user, unit, w, campaign=campaign)
            .annotate(branch=Substr("unit__path", 1, len(unit.path) + STEP))
            .values("indicator_id", "branch")
            .annotate(total=Sum("value"))
        )
        behalf = _behalf(user, campaign, unit, w)
        last_year = _sums(
            _figures(user, unit, before, campaign=other, owner=campaign.owner).filter(indicator__code__in=codes),
            key="indicator__code",
        )
        previous = _sums(_figures(user, unit, earlier, campaign=campaign), key="indicator_id") if earlier else {}
    by_path = {u.path: u for u in scope.children(user, unit)}
    own = False
    sums: dict[int, Decimal] = {}  # every indicator's, the parts of a rate included (reported or not)
    column_sums: dict[tuple[int, int], Decimal] = {}
    by_indicator: dict[int, dict[int, Decimal]] = {}  # the same per indicator: column unit id → sum
    for row in grouped:
        column = unit if row["branch"] == unit.path else by_path.get(row["branch"])
        if row["indicator_id"] not in catalogue or column is None:
            continue
        own |= column.pk == unit.pk
        key = (row["indicator_id"], column.pk)
        column_sums[key] = column_sums.get(key, 0) + row["total"]
        by_indicator.setdefault(row["indicator_id"], {})[column.pk] = column_sums[key]
        sums[row["indicator_id"]] = sums.get(row["indicator_id"], 0) + row["total"]
    columns = ([unit] if own else []) + list(by_path.values())
    for line in lines.values():
        i = line.indicator
        if i.computed:
            line.total = ratio(sums.get(i.numerator_id), sums.get(i.denominator_id))
            for c in columns:
                part = column_sums.get((i.denominator_id, c.pk))
                if part is not None:
                    line.by_unit[c.pk] = ratio(column_sums.get((i.numerator_id, c.pk), 0), part)
        elif i.summed:
            line.total = _typed(i, sums.get(i.pk, 0))
            line.by_unit = {c: _typed(i, v) for c, v in by_indicator.get(i.pk, {}).items()}
    for row in behalf:
        line = lines.get(row["indicator_id"])
        column = unit if row["branch"] == unit.path else by_path.get(row["branch"])
        if line is None or column is None or not line.indicator.summed:
            continue
        line.behalf_by_unit[column.pk] = line.behalf_by_unit.get(column.pk, 0) + row["n"]
        line.behalf += row["n"]
    for line in lines.values():
        i = line.indicator
        if i.computed:
            num, den = catalogue[i.numerator_id], catalogue[i.denominator_id]
            line.last_year = ratio(last_year.get(num.code), last_year.get(den.code))
            if earlier:
                line.previous = ratio(previous.get(num.pk), previous.get(den.pk))
        elif i.summed:
            line.last_year = _typed(i, last_year.get(i.code))
            if earlier:
                line.previous = _typed(i, previous.get(i.pk, 0))
    entered = [line for line in lines.values() if not line.indicator.summed and not line.indicator.computed]
    if entered:
        _entered_rates(user, campaign, unit, columns, w, before, other, earlier, entered)
    return Totals(campaign, unit, w, other, before, columns, [lines[i.pk] for i in indicators])


def _latest(qs) -> dict[tuple, Decimal]:
    """(key…) → the value of the latest day, from rows ordered by day."""
    out: dict[tuple, Decimal] = {}
    for *key, value in qs:
        out[tuple(key)] = value
    return out


def _entered_rates(user, campaign, unit, columns, w, before, other, earlier, lines: list[Line]) -> None:
    """Rates units enter themselves (no parts reported) are never summed: a column shows its unit's own
    figure, the latest in the window; the chosen unit its own (docs/figures.md)."""
    ids = [line.indicator.pk for line in lines]
    here = Figure.objects.filter(
        campaign=campaign, indicator__in=ids, unit__in=[c.pk for c in columns] + [unit.pk], day__range=(w.start, w.end)
    )
    now = _latest(scope.restrict(here, user).order_by("day").values_list("indicator_id", "unit_id", "value"))
    then = Figure.objects.filter(
        unit=unit, day__range=(before.start, before.end), indicator__code__in=[line.indicator.code for line in lines]
    )
    then = then.filter(campaign=other) if other is not None else then.filter(campaign__owner=campaign.owner)
    last_year = _latest(then.order_by("day").values_list("indicator__code", "value"))
    previous = {}
    if earlier:
        prev = Figure.objects.filter(
            campaign=campaign, unit=unit, indicator__in=ids, day__range=(earlier.start, earlier.end)
        )
        previous = _latest(prev.order_by("day").values_list("indicator_id", "value"))
    for line in lines:
        pk = line.indicator.pk
        line.total = now.get((pk, unit.pk))
        line.by_unit = {c.pk: now[(pk, c.pk)] for c in columns if (pk, c.pk) in now}
        line.last_year = last_year.get((line.indicator.code,))
        line.previous = previous.get((pk,))


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


def derived(indicators, sums: dict[int, Decimal]) -> dict[int, Number]:
    """Per indicator, a period's value from its sums (``sums``: indicator id → the sum of its figures):
    a summed kind its sum (a count an int), a computed rate the ratio of its parts' sums, an entered rate
    nothing (never summed)."""
    out: dict[int, Number] = {}
    for i in indicators:
        if i.computed:
            value = ratio(sums.get(i.numerator_id), sums.get(i.denominator_id))
            if value is not None:
                out[i.pk] = value
        elif i.summed and i.pk in sums:
            out[i.pk] = _typed(i, sums[i.pk])
    return out


def series(user, campaign: Campaign, unit: Unit, w: Window) -> dict[int, dict[date, Number]]:
    """Per indicator, the total of each day in ``w`` under ``unit`` (for the charts): one query (and one
    for the catalogue). A computed rate is each day's ratio of its parts; an entered rate has none."""
    by_day: dict[date, dict[int, Decimal]] = {}
    for indicator, day, total in _by_day(user, campaign, unit, w):
        by_day.setdefault(day, {})[indicator] = total
    indicators = list(campaign.indicators.all())
    out: dict[int, dict[date, Number]] = {}
    for day, sums in by_day.items():
        for indicator, value in derived(indicators, sums).items():
            out.setdefault(indicator, {})[day] = value
    return out


@dataclass
class Daily:
    """The daily chart's numbers by the day the work was done (issue 20.8): the days of a window, each
    indicator's figures of the days outside rounds, and a round's figures — reported once, dated its last
    day — spread over the round's days (``spread``: a summed kind its daily mean, a computed rate the
    round's rate), so a round of 3 days shows as 3 days of work and not as a spike on its last."""

    days: list[date]
    by_day: dict[int, dict[date, Number]]
    spread: dict[int, dict[date, Decimal]]
    rounds: list[Round]


SPREAD_PLACES = Decimal("0.01")


def daily(user, campaign: Campaign, unit: Unit, w: Window) -> Daily:
    """Per indicator, each day of ``w`` (up to the campaign's end) under ``unit``, the rounds spread over
    their days: one query for the figures (a round ending after ``w`` is read to its end), one for the
    rounds, one for the catalogue."""
    last = min(w.end, campaign.end)
    days = [w.start + timedelta(days=n) for n in range((last - w.start).days + 1)]
    rounds = [r for r in campaign.rounds.all() if r.start <= last and r.end >= w.start]
    read = Window(w.start, max([last, *(r.end for r in rounds)]))
    plain: dict[date, dict[int, Decimal]] = {}
    in_round: dict[int, dict[int, Decimal]] = {r.pk: {} for r in rounds}
    for indicator, day, total in _by_day(user, campaign, unit, read):
        r = next((r for r in rounds if r.start <= day <= r.end), None)
        if r is not None:
            in_round[r.pk][indicator] = in_round[r.pk].get(indicator, 0) + total
        elif day <= last:
            plain.setdefault(day, {})[indicator] = total
    indicators = list(campaign.indicators.all())
    by_day: dict[int, dict[date, Number]] = {}
    for day, sums in plain.items():
        for indicator, value in derived(indicators, sums).items():
            by_day.setdefault(indicator, {})[day] = value
    kinds = {i.pk: i for i in indicators}
    spread: dict[int, dict[date, Decimal]] = {}
    for r in rounds:
        length = (r.end - r.start).days + 1
        for indicator, value in derived(indicators, in_round[r.pk]).items():
            each = Decimal(value) if kinds[indicator].computed else Decimal(value) / length
            for day in days:
                if r.start <= day <= r.end:
                    spread.setdefault(indicator, {})[day] = each.quantize(SPREAD_PLACES)
    return Daily(days, by_day, spread, rounds)


def _by_day(user, campaign: Campaign, unit: Unit, w: Window) -> list[tuple[int, date, Decimal]]:
    """(indicator id, day, total under ``unit``) for each day of ``w`` with figures."""
    if _rollup(user, unit):
        return _subtree_sums(unit, w, campaign=campaign)
    rows = _figures(user, unit, w, campaign=campaign).values("indicator_id", "day").annotate(total=Sum("value"))
    return [(row["indicator_id"], row["day"], row["total"]) for row in rows]


def per_round(user, campaign: Campaign, unit: Unit) -> dict[int, dict[int, Number]]:
    """Per round, the total of each indicator under ``unit``: one query per campaign (rounds are few)."""
    rounds = list(campaign.rounds.all())
    if not rounds:
        return {}
    w = Window(min(r.start for r in rounds), max(r.end for r in rounds))
    sums: dict[int, dict[int, Decimal]] = {r.pk: {} for r in rounds}
    for indicator, day, total in _by_day(user, campaign, unit, w):
        for r in rounds:
            if r.start <= day <= r.end:
                sums[r.pk][indicator] = sums[r.pk].get(indicator, 0) + total
    indicators = list(campaign.indicators.all())
    return {pk: derived(indicators, round_sums) for pk, round_sums in sums.items()}


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


def subtree_totals(campaign_id: int, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Decimal]:
    """For each (unit id, indicator id) of ``pairs``, the sum of the figures the unit and its subtree
    reported for that indicator over the whole campaign: the progress of a target linked to the
    indicator (``tasks.targets``). One query for all the pairs; the caller has scoped the units (an
    assignment it may see: its unit's subtree is in reach). On PostgreSQL from the rollup."""
    if not pairs:
        return {}
    t = _tables()
    units = sorted({u for u, _ in pairs})
    indicators = sorted({i for _, i in pairs})
    marks_u, marks_i = ", ".join(["%s"] * len(units)), ", ".join(["%s"] * len(indicators))
    if fast_paths():
        sql = f"""
            SELECT x.unit_id, x.indicator_id, SUM(x.total) FROM (
                SELECT r.ancestor_id AS unit_id, r.indicator_id, r.total FROM {t["rollup"]} r
                WHERE r.campaign_id = %s AND r.ancestor_id IN ({marks_u}) AND r.indicator_id IN ({marks_i})
                UNION ALL
                SELECT f.unit_id, f.indicator_id, f.value FROM {t["figure"]} f
                WHERE f.campaign_id = %s AND f.unit_id IN ({marks_u}) AND f.indicator_id IN ({marks_i})
            ) x GROUP BY x.unit_id, x.indicator_id"""  # noqa: S608
        params = [campaign_id, *units, *indicators, campaign_id, *units, *indicators]
    else:
        sql = f"""
            SELECT a.id, f.indicator_id, SUM(f.value) FROM {t["figure"]} f
            JOIN {t["unit"]} u ON u.id = f.unit_id
            JOIN {t["unit"]} a ON u.path LIKE a.path || '%%'
            WHERE f.campaign_id = %s AND a.id IN ({marks_u}) AND f.indicator_id IN ({marks_i})
            GROUP BY a.id, f.indicator_id"""  # noqa: S608
        params = [campaign_id, *units, *indicators]
    return {(u, i): Decimal(str(total)) for u, i, total in _fetch(sql, params) if (u, i) in pairs}
