"""The people of the seeded city (``manage.py seed_load``) at work, for ``scripts/loadtest``.

Unit leads (weight 200) list their assignments, open one, report progress and now and then the day's
figure; inspectors (20) list and log findings; HQ (10) read the battle board, the ranking, the
statistics, the board page and ask for an XLSX export now and then (made by the Celery worker).
Every call is a real endpoint with a body that succeeds (see tests/test_api_matrix.py). Each user
acts every 2–8 s (HQ 3–9 s): a busy morning for 230 people, about 45 requests a second in all.

Every write carries a token of its own — ``LT-<hex>`` in a report's or a finding's text, a unique
number as a figure's value, the id of an export — and is logged to ``LOADTEST_WRITES`` (JSON lines)
with its outcome: ``accepted`` (2xx), ``rejected`` (an HTTP error: must not be in the database) or
``unknown`` (no answer, or the user stopped while it was under way: it may be there, once at most),
each after a ``sent`` line. ``loadtest/verify.py`` counts them in the database afterwards.

API calls authenticate with a token (no cookies, no CSRF): the leads' phone app keeps the one
``seed_load`` issued; inspectors and HQ sign in at the start (``POST /api/v1/auth/token/``: 30
password checks of a million PBKDF2 rounds each while the users spawn). The HQ board page signs in
through the login form with a session of its own.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task
from locust.clients import HttpSession
from locust.exception import StopUser

SEED: dict[str, Any] = json.loads(Path(os.environ["LOADTEST_USERS"]).read_text(encoding="utf-8"))
WRITES = Path(os.environ["LOADTEST_WRITES"]).open("a", encoding="utf-8", buffering=1)  # noqa: SIM115 (for the run)
CAMPAIGN = SEED["campaign"]
OPEN = {"pending", "in_progress", "returned"}  # the statuses a report is accepted in
_figure_tokens = itertools.count(1_000_000_001)  # far above any seeded figure: each value is one write
_accounts = {role: itertools.count() for role in ("leads", "inspectors", "hq")}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def account(role: str) -> dict[str, str]:
    """The next account of ``role``: with no more locust users than accounts, each user its own."""
    people = SEED[role]
    return people[next(_accounts[role]) % len(people)]


def logged(kind: str, token: str | int, response, who: str, **extra: Any) -> None:
    """One line per write; ``response=None`` before it is sent, so a user stopped in the middle of a
    request (the end of the run) leaves its write as "sent": unknown, like one never answered."""
    status = 0 if response is None else response.status_code or 0
    outcome = (
        "sent" if response is None else "accepted" if 200 <= status < 300 else "unknown" if not status else "rejected"
    )
    line = {"kind": kind, "token": token, "outcome": outcome, "status": status, "who": who, "t": time.time(), **extra}
    WRITES.write(json.dumps(line, ensure_ascii=False) + "\n")


class Staff(HttpUser):
    abstract = True
    role = ""

    def on_start(self) -> None:
        me = account(self.role)
        self.username, self.unit = me["username"], me["unit"]
        if "token" in me:  # a lead's app keeps its token (manage.py seed_load issued it)
            self.client.headers["Authorization"] = f"Token {me['token']}"
            return
        with self.client.post(
            "/api/v1/auth/token/",
            json={"username": self.username, "password": SEED["password"]},
            name="POST /api/v1/auth/token/",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in of {self.username}: HTTP {response.status_code}")
                raise StopUser
            self.client.headers["Authorization"] = f"Token {response.json()['token']}"

    def write(self, kind: str, token: str | int, url: str, body: dict, *, expect: int = 201, **extra: Any):
        logged(kind, token, None, self.username, **extra)
        with self.client.post(url, json=body, name=f"POST {kind}", catch_response=True) as response:
            logged(kind, token, response, self.username, **extra)
            if response.status_code != expect:
                response.failure(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
            return response


class UnitLead(Staff):
    weight = 200
    role = "leads"
    wait_time = between(2, 8)

    def on_start(self) -> None:
        super().on_start()
        self.assignments: dict[int, str] = {}
        self.list_mine()

    @task(5)
    def list_mine(self) -> None:
        query = random.choice(("", "&overdue=true", "&status=in_progress&status=pending", "&ordering=-updated_at"))
        response = self.client.get(f"/api/v1/assignments/?mine=true{query}", name="GET /api/v1/assignments/?mine")
        if response.ok and not query:  # the whole list (30 rows, one page): what the lead may report on
            self.assignments = {a["id"]: a["status"] for a in response.json()["results"] if a["is_active"]}

    @task(4)
    def open_one(self) -> None:
        if self.assignments:
            pk = random.choice(list(self.assignments))
            self.client.get(f"/api/v1/assignments/{pk}/", name="GET /api/v1/assignments/[id]/")

    @task(3)
    def report(self) -> None:
        open_ones = [pk for pk, status in self.assignments.items() if status in OPEN]
        if not open_ones:
            return
        pk, token, value = random.choice(open_ones), f"LT-{uuid.uuid4().hex}", random.randint(1, 5)
        body = {"value": value, "text": f"{token} 本周检查重点场所{value}家次"}
        response = self.write("report", token, f"/api/v1/assignments/{pk}/reports/", body, assignment=pk, value=value)
        if response.status_code == 201:
            self.assignments[pk] = "in_progress"

    @task(1)
    def figure(self) -> None:
        token = next(_figure_tokens)
        body = {"campaign": CAMPAIGN, "unit": self.unit, "day": SEED["day"], "values": {SEED["indicator"]: token}}
        self.write("figure", token, "/api/v1/stats/figures/", body, unit=self.unit)

    @task(1)
    def inbox(self) -> None:
        self.client.get("/api/v1/inbox/?unread=true", name="GET /api/v1/inbox/")


class Inspector(Staff):
    weight = 20
    role = "inspectors"
    wait_time = between(2, 8)

    def on_start(self) -> None:
        super().on_start()
        self.findings: list[int] = []

    @task(3)
    def list_findings(self) -> None:
        response = self.client.get(f"/api/v1/findings/?campaign={CAMPAIGN}", name="GET /api/v1/findings/")
        if response.ok:
            self.findings = [f["id"] for f in response.json()["results"]]

    @task(1)
    def open_finding(self) -> None:
        if self.findings:
            self.client.get(f"/api/v1/findings/{random.choice(self.findings)}/", name="GET /api/v1/findings/[id]/")

    @task(2)
    def log_finding(self) -> None:
        token = f"LT-{uuid.uuid4().hex}"
        station = random.choice(SEED["stations"])["unit"]
        body = {
            "campaign": CAMPAIGN,
            "unit": station,
            "place": "辖区某娱乐场所",
            "description": f"{token} 消防通道堵塞，未落实实名登记",
            "severity": "general",
        }
        self.write("finding", token, "/api/v1/findings/", body, unit=station)

    @task(1)
    def counts(self) -> None:
        self.client.get(f"/api/v1/inspection-counts/?campaign={CAMPAIGN}", name="GET /api/v1/inspection-counts/")


class HQ(Staff):
    weight = 10
    role = "hq"
    wait_time = between(3, 9)

    def on_start(self) -> None:
        super().on_start()
        self.export: int | None = None
        # the pages sign in with a session of their own: a session cookie on the API client would make
        # DRF's SessionAuthentication ask its POSTs for a CSRF token
        self.pages = HttpSession(base_url=self.host, request_event=self.environment.events.request, user=self)
        page = self.pages.get("/accounts/login/", name="GET /accounts/login/")
        found = CSRF.search(page.text)
        form = {
            "username": self.username,
            "password": SEED["password"],
            "csrfmiddlewaretoken": found.group(1) if found else "",
        }
        with self.pages.post(
            "/accounts/login/", data=form, name="POST /accounts/login/", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"page sign-in of {self.username}: HTTP {response.status_code}")

    @task(3)
    def battle(self) -> None:
        self.client.get(f"/api/v1/boards/battle/?campaign={CAMPAIGN}", name="GET /api/v1/boards/battle/")

    @task(2)
    def ranking(self) -> None:
        self.client.get(f"/api/v1/boards/ranking/?campaign={CAMPAIGN}", name="GET /api/v1/boards/ranking/")

    @task(2)
    def totals(self) -> None:
        self.client.get(f"/api/v1/stats/totals/?campaign={CAMPAIGN}", name="GET /api/v1/stats/totals/")

    @task(1)
    def overdue(self) -> None:
        self.client.get(
            f"/api/v1/assignments/?campaign={CAMPAIGN}&overdue=true", name="GET /api/v1/assignments/?overdue"
        )

    @task(1)
    def board_page(self) -> None:
        self.pages.get(f"/board/?campaign={CAMPAIGN}", name="GET /board/")

    @task(1)
    def export(self) -> None:
        """Ask for the battle board as XLSX when the last one is done (at most one waiting per person)."""
        if self.export is not None:
            state = self.client.get(f"/api/v1/exports/{self.export}/", name="GET /api/v1/exports/[id]/")
            if not state.ok or state.json()["status"] not in ("done", "failed"):
                return
        body = {"kind": "battle", "params": {"campaign": CAMPAIGN}}
        with self.client.post("/api/v1/exports/", json=body, name="POST export", catch_response=True) as response:
            token = response.json()["id"] if response.status_code == 201 else f"refused-{uuid.uuid4().hex}"
            logged("export", token, response, self.username)
            if response.status_code != 201:
                response.failure(f"export: HTTP {response.status_code} {response.text[:200]}")
                return
            self.export = token
