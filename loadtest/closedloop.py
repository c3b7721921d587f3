"""Closed-loop users for ``scripts/loadtest --capacity`` (issue 19, item 5): no think time, so each user
sends its next request as soon as the last one is answered and the server's throughput is what is
measured. Two classes, run one at a time (``locust … Mix`` / ``locust … Trivial``) on the same gunicorn:

``Mix``
    the realistic mix: the unit lead's tasks of ``loadtest/locustfile.py`` (list, open one, report
    progress, the day's figure, the inbox; the same methods) and HQ's battle board, ranking and
    statistics totals, weighted as the 230-user load test makes them: of every ~294 requests 100
    lists, 80 details, 60 reports, 20 figures, 20 inboxes and 14 HQ reads (6 boards, 4 rankings, 4
    totals; ~5%, as 10 HQ users beside 200 leads). Each user is a lead (its seeded token); the HQ
    reads carry one HQ token signed in before the run (``LOADTEST_HQ_TOKEN``), so no password check
    is measured; each lead knows its active work from the start (``LOADTEST_ASSIGNMENTS``).
``Trivial``
    the cheapest authenticated API view on the same stack: ``GET /api/v1/auth/tokens/`` (the caller's
    own tokens: token authentication, the middleware, DRF, one small query), as the same leads.

Writes are logged to ``LOADTEST_WRITES`` as the load test logs them (for the record: a figure's value
repeats across the runs of one capacity test, so ``loadtest.verify writes`` is not run on them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from locust import constant, task

from loadtest.locustfile import CAMPAIGN, Staff, UnitLead

HQ_TOKEN = os.environ.get("LOADTEST_HQ_TOKEN", "")
WORK: dict[str, dict[str, str]] = (
    json.loads(Path(os.environ["LOADTEST_ASSIGNMENTS"]).read_text(encoding="utf-8"))
    if os.environ.get("LOADTEST_ASSIGNMENTS")
    else {}
)
TRIVIAL_URL = "/api/v1/auth/tokens/"


def _as_hq() -> dict[str, str]:
    return {"Authorization": f"Token {HQ_TOKEN}"}


class Mix(UnitLead):
    weight = 1
    wait_time = constant(0)

    def battle(self) -> None:
        self.client.get(
            f"/api/v1/boards/battle/?campaign={CAMPAIGN}", name="GET /api/v1/boards/battle/", headers=_as_hq()
        )

    def ranking(self) -> None:
        self.client.get(
            f"/api/v1/boards/ranking/?campaign={CAMPAIGN}", name="GET /api/v1/boards/ranking/", headers=_as_hq()
        )

    def totals(self) -> None:
        self.client.get(
            f"/api/v1/stats/totals/?campaign={CAMPAIGN}", name="GET /api/v1/stats/totals/", headers=_as_hq()
        )

    # the lead's weights of the load test (5, 4, 3, 1, 1) × 20, and HQ's (3, 2, 2) × 2: 10 HQ users to 200 leads
    tasks = {
        UnitLead.list_mine: 100,
        UnitLead.open_one: 80,
        UnitLead.report: 60,
        UnitLead.figure: 20,
        UnitLead.inbox: 20,
        battle: 6,
        ranking: 4,
        totals: 4,
    }

    def on_start(self) -> None:
        """Signed in, with the lead's work in hand (``LOADTEST_ASSIGNMENTS``: unit → {id: status}, read
        from the database before the run). The load test's lead learns its work from an unfiltered list;
        here that would put 230 lists at the start of every measured window."""
        if not HQ_TOKEN:
            raise RuntimeError("LOADTEST_HQ_TOKEN: the HQ token for the boards (scripts/loadtest --capacity signs in)")
        Staff.on_start(self)
        self.assignments = {int(pk): status for pk, status in WORK.get(self.unit, {}).items()}


class Trivial(Staff):
    role = "leads"
    wait_time = constant(0)

    @task
    def own_tokens(self) -> None:
        self.client.get(TRIVIAL_URL, name=f"GET {TRIVIAL_URL}")
