"""Demo results statistics: the catalogue, three rounds, last year's campaign with its figures, and
this year's figures from every unit holding work up to yesterday — so 同比 and 环比 have something to
compare, and one or two units have not reported yesterday yet.

The rounds fall where the seed plan has them (第一轮7月7日至9日 …), moved with the campaign: the first
two are over and reported, the third is still to come (no figures). Last year's campaign starts on the
same day of the year and has the whole of its 100 days. Figures are drawn from a fixed random seed and
written in bulk: they stand for what units reported, not for edits made in the app, so no audit events.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant
from tasks.models import Assignment, Campaign, CampaignStatus
from tasks.services.items import link_targets
from utilities.db import bulk_insert

from .models import Figure, Indicator, Kind, Round

# code, name, measure, a unit's daily mean this year, last year's level relative to this year's
CATALOGUE = [
    ("police", "出动警力", "人次", 24, 0.93),
    ("places", "检查场所", "家次", 11, 0.88),
    ("violations", "查处违法行为", "起", 3, 0.87),
    ("fugitives", "抓获逃犯", "名", 0.15, 1.1),
    ("hazards", "整改隐患", "处", 4, 0.95),
    ("leaflets", "发放宣传资料", "份", 70, 1.2),
]
# issue 20: the other kinds, as the reports write them (警情同比下降24.8%, 破案率95%, 缴获毒品27.3克,
# 涉案资金950余万元): code, name, measure, kind, up is good, a unit's daily mean (money in 元) this year,
# last year's level relative to this year's, the share of days with any (seizures and money are rare)
KINDS = [
    ("alerts", "接报治安警情", "起", Kind.COUNT, False, 2.5, 1.25, 1.0),
    ("filed", "刑事立案", "起", Kind.COUNT, True, 0.8, 1.0, 1.0),
    ("solved", "破获刑事案件", "起", Kind.COUNT, True, 0.0, 0.9, 1.0),  # each case filed solved with SOLVED
    ("drugs", "缴获毒品", "克", Kind.QUANTITY, True, 9.0, 0.8, 0.3),
    ("funds", "涉案资金", "万元", Kind.MONEY, True, 120_000, 0.9, 0.2),
]
SOLVED = 0.85  # a case filed is solved with this chance (times the level: last year's fewer)
RATES = [("solve_rate", "破案率", "solved", "filed")]  # computed: 破获刑事案件 ÷ 刑事立案
ROUNDS = [  # days of the campaign, first and last (the seed plan's 7月7日至9日 for a 1 July start)
    ("第一轮集中统一行动", 6, 8),
    ("第二轮集中统一行动", 34, 36),
    ("第三轮集中统一行动", 69, 71),
]
ROUND_INTENSITY = 2.5  # a round's days see this much more work than an ordinary day


def _catalogue(campaign: Campaign) -> list[Indicator]:
    """The counted indicators of ``CATALOGUE`` and ``KINDS`` (in their order), and the computed rates."""
    made = [
        Indicator.objects.get_or_create(campaign=campaign, code=code, defaults={"name": name, "measure": m, "seq": n})[
            0
        ]
        for n, (code, name, m, _mean, _ly) in enumerate(CATALOGUE, start=1)
    ]
    seq = len(made)
    for code, name, m, kind, up, *_rest in KINDS:
        seq += 1
        made.append(
            Indicator.objects.get_or_create(
                campaign=campaign,
                code=code,
                defaults={"name": name, "measure": m, "seq": seq, "kind": kind, "up_is_good": up},
            )[0]
        )
    by_code = {i.code: i for i in made}
    for code, name, numerator, denominator in RATES:
        seq += 1
        Indicator.objects.get_or_create(
            campaign=campaign,
            code=code,
            defaults={
                "name": name,
                "measure": "%",
                "seq": seq,
                "kind": Kind.RATE,
                "numerator": by_code[numerator],
                "denominator": by_code[denominator],
            },
        )
    return made


def _rounds(campaign: Campaign) -> list[Round]:
    day = campaign.start
    return [
        Round.objects.get_or_create(
            campaign=campaign,
            name=name,
            defaults={"start": day + timedelta(days=a), "end": day + timedelta(days=b)},
        )[0]
        for name, a, b in ROUNDS
    ]


FIGURE_FIELDS = ("campaign", "indicator", "unit", "day", "value", "reported_by", "reported_at")


def _figures(campaign, units, reporters, *, level: dict[str, float], last_day: date, draw, skip=()) -> list[tuple]:
    """The figures as rows in ``FIGURE_FIELDS`` order (about 100,000 for the demo: written by COPY on
    PostgreSQL, ``utilities.db.bulk_insert``)."""
    indicators = _catalogue(campaign)
    rounds = _rounds(campaign)
    in_round = {r.start + timedelta(days=i): r for r in rounds for i in range((r.end - r.start).days + 1)}
    rows = []
    now = timezone.now()
    size = {u: draw.uniform(0.5, 1.6) for u in units}
    day = campaign.start
    while day <= last_day:
        r = in_round.get(day)
        if r is not None and (day != r.end or r.end > last_day):
            day += timedelta(days=1)
            continue  # a round is reported once, as its totals on its last day
        span = (r.end - r.start).days + 1 if r else 1
        boost = ROUND_INTENSITY if r else 1.0
        for unit in units:
            if (unit, day) in skip:
                continue
            values = {}
            for indicator, (_code, _name, _m, mean, _ly) in zip(indicators, CATALOGUE, strict=False):
                expected = mean * level[indicator.code] * size[unit] * span * boost * draw.uniform(0.6, 1.4)
                values[indicator] = int(expected) + (1 if draw.random() < expected - int(expected) else 0)
            for indicator, (code, _n, _m, kind, _up, mean, _ly, share) in zip(
                indicators[len(CATALOGUE) :], KINDS, strict=True
            ):
                if code == "solved":  # each case filed that day solved or not
                    filed = values[indicators[len(CATALOGUE) + 1]]
                    values[indicator] = sum(draw.random() < SOLVED * level[code] for _ in range(filed))
                    continue
                if draw.random() > min(1.0, share * span):
                    values[indicator] = 0
                    continue
                expected = mean * level[code] * size[unit] * span * boost * draw.uniform(0.3, 1.7) / share
                if kind == Kind.COUNT:
                    values[indicator] = int(expected) + (1 if draw.random() < expected - int(expected) else 0)
                elif kind == Kind.QUANTITY:  # grams to one decimal, as weighed
                    values[indicator] = Decimal(str(round(expected, 1)))
                else:  # money in 元, to the hundred
                    values[indicator] = Decimal(int(expected / 100) * 100)
            by = reporters.get(unit) or reporters[None]
            rows.extend((campaign.pk, indicator.pk, unit, day, value, by, now) for indicator, value in values.items())
        day += timedelta(days=1)
    return rows


def seed_statistics(campaign: Campaign, *, today: date, seed: int = 7) -> bool:
    """Seed the statistics of ``campaign`` and of last year's as of ``today``; False if it already has indicators."""
    if campaign.indicators.exists():
        return False
    draw = random.Random(seed)
    units = sorted(set(Assignment.objects.filter(campaign=campaign, is_active=True).values_list("unit_id", flat=True)))
    reporters = dict(RoleGrant.objects.filter(role=Role.UNIT_LEAD).values_list("unit_id", "user_id"))
    reporters[None] = RoleGrant.objects.filter(role=Role.HQ).values_list("user_id", flat=True).first()
    start, end = campaign.start, campaign.end
    ly_start = start.replace(year=start.year - 1, day=min(start.day, 28) if start.month == 2 else start.day)
    with transaction.atomic():
        last_year, _ = Campaign.objects.get_or_create(
            code=f"{campaign.code}-{start.year - 1}",
            defaults={
                "name": campaign.name.replace(str(start.year), str(start.year - 1)) + f"（{start.year - 1}年）",
                "owner": campaign.owner,
                "start": ly_start,
                "end": ly_start + (end - start),
                "status": CampaignStatus.CLOSED,
            },
        )
        campaign.compare_to = last_year
        campaign.save(update_fields=["compare_to"])
        this_year = {code: 1.0 for code, *_ in CATALOGUE + KINDS}
        before = {code: ly for code, _n, _m, _mean, ly in CATALOGUE} | {k[0]: k[6] for k in KINDS}
        last_day = min(end, today - timedelta(days=1))  # today's figures come in this evening
        late = set(draw.sample(units, k=min(3, len(units) // 10)))  # not yet reported the last day
        rows = _figures(last_year, units, reporters, level=before, last_day=last_year.end, draw=draw)
        rows += _figures(
            campaign,
            units,
            reporters,
            level=this_year,
            last_day=last_day,
            draw=draw,
            skip={(u, last_day) for u in late},
        )
        bulk_insert(Figure, FIGURE_FIELDS, rows)
        # targets naming an indicator (整改隐患不少于500处, 抓获逃犯不少于150名) take their progress from it
        link_targets(campaign=campaign, by=None, source="load_demo")
    return True
