"""Issue 18's figures measured in ``bench_boards``, on its province: the battle board with the 签收 count
against the same board without it (``boards.queries.battle_board(receipts=False)``), timed alternately in
the same run; and a 催办 (``tasks.services.chase.chase_assignments``) of up to 5,000 open assignments of
the board's fullest cell (a column's 合计, a city's open work: one line of action of a city holds ≈1,000),
every unit given a lead so that the messages are written, in a transaction rolled back afterwards (the
data is reused by the next run, and a chase is once a day)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Unit, User
from bench.reminders import create_leads
from bench.timing import measure, ms, nearest_rank
from boards.queries import battle_board, cell_work
from notifications.models import Event, Message
from tasks.models import Campaign
from tasks.services.chase import OPEN, chase_assignments

BOARD_GOAL_RATIO = 1.2  # the board with receipt counts within 1.2× of the board without them
CHASE_GOAL_S = 1.0  # a 催办 of 5,000 assignments from one cell under 1 s
CHASE_ROWS = 5_000
EMAIL_PCT = 30  # of the leads, with an email address (bench_reminders' default)


@dataclass
class BoardPair:
    runs: int
    with_ms: list[float]
    without_ms: list[float]
    queries: int

    def summary(self) -> dict[str, Any]:
        p50 = nearest_rank(self.with_ms, 50), nearest_rank(self.without_ms, 50)
        p95 = nearest_rank(self.with_ms, 95), nearest_rank(self.without_ms, 95)
        return {
            "runs": self.runs,
            "queries": self.queries,
            "with_receipts_p50_ms": round(p50[0], 1),
            "with_receipts_p95_ms": round(p95[0], 1),
            "without_p50_ms": round(p50[1], 1),
            "without_p95_ms": round(p95[1], 1),
            "ratio_p50": round(p50[0] / p50[1], 3) if p50[1] else None,
            "ratio_p95": round(p95[0] / p95[1], 3) if p95[1] else None,
            "goal_ratio": BOARD_GOAL_RATIO,
        }


def time_board_pair(hq: User, campaign: Campaign, unit: Unit, today: date, runs: int) -> BoardPair:
    """The board under ``unit`` with and without the receipt count, alternately (a load spike hits both)."""
    with CaptureQueriesContext(connection) as ctx:
        battle_board(hq, campaign, unit, today=today)
    with_ms, without_ms = [], []
    for _ in range(2):  # warm-up
        battle_board(hq, campaign, unit, today=today, receipts=False)
    for _ in range(runs):
        for receipts, into in ((True, with_ms), (False, without_ms)):
            started = time.perf_counter()
            battle_board(hq, campaign, unit, today=today, receipts=receipts)
            into.append(ms(time.perf_counter() - started))
    return BoardPair(runs, with_ms, without_ms, len(ctx.captured_queries))


def time_chase(hq: User, campaign: Campaign, unit: Unit, today: date, prefix: str) -> dict[str, Any]:
    """催办 of the open work of the board's fullest cell (at most ``CHASE_ROWS`` of it), rolled back."""
    board = battle_board(hq, campaign, unit, today=today)
    column_id, _ = max(board.column_totals.items(), key=lambda kv: (kv[1].total - kv[1].done, kv[0]))
    column = Unit.objects.get(pk=column_id)
    work = cell_work(hq, campaign, column, status=OPEN, today=today)
    ids = list(work.order_by("id").values_list("id", flat=True)[:CHASE_ROWS])
    with transaction.atomic():
        # every unit's lead (bench_reminders' 30 % with email), so the chase writes its messages
        made = create_leads(prefix, EMAIL_PCT, 0)
        chased = measure(lambda: chase_assignments(assignments=ids, by=hq, note="请抓紧办理（基准测试）"))
        result = chased.value
        events = Event.objects.filter(kind="chased", campaign=campaign)
        messages = Message.objects.filter(event__in=events).count()
        transaction.set_rollback(True)
    return {
        "cell": f"合计 × {column.name}",
        "asked": len(ids),
        "chased": result.chased,
        "units_told": result.units,
        "messages": messages,
        "leads": made.get("unit_leads", 0),
        "seconds": round(chased.seconds, 3),
        "queries": chased.queries,
        "goal_s": CHASE_GOAL_S,
        "top_statements": [{"count": c, "sql": s[:150]} for c, s in chased.shapes],
    }


def lines(pair: dict[str, Any], chase: dict[str, Any]) -> list[str]:
    return [
        f"battle board · province, with the 签收 count vs without it ({pair['runs']} each, alternately, "
        f"{pair['queries']} queries): p50 {pair['with_receipts_p50_ms']} / {pair['without_p50_ms']} ms, "
        f"p95 {pair['with_receipts_p95_ms']} / {pair['without_p95_ms']} ms; ratio p50 {pair['ratio_p50']}×, "
        f"p95 {pair['ratio_p95']}× (goal ≤ {pair['goal_ratio']}×)",
        f"催办 of {chase['chased']:,} assignments of one cell ({chase['cell']}; {chase['units_told']} units told, "
        f"{chase['messages']:,} messages to {chase['leads']:,} leads): {chase['seconds']:.3f} s, "
        f"{chase['queries']} queries (goal < {chase['goal_s']} s; rolled back)",
    ]
