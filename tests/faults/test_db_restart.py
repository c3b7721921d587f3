"""Fault 1: PostgreSQL restarted under a stream of writes.

A throwaway cluster (initdb, its own port), the app migrated and seeded on it, served by gunicorn as in
production (DEBUG off, persistent connections with health checks: ``CONN_MAX_AGE=60``), and several
threads posting progress reports through the API, each with its own token. Meanwhile the cluster is
restarted (``pg_ctl restart -m fast``: transactions in flight are cut) and then stopped until the
requests have met the outage, and started again. Phases follow what the threads observed, never a clock.

Checked afterwards, against the database itself: a request made while the server was down failed
cleanly (503, JSON, Retry-After — never a 2xx); every request started after the server was back
succeeded (the app reconnected without a restart); every report answered 201 is there exactly once,
with the id the answer gave and its audit event; no report exists that was not sent, none without its
audit event; every assignment's progress is the sum of its reports and its version moved once per report.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.faults.conftest import LONG
from tests.processes import NODE, ROOT, AppServer, OwnPostgres, app_env, manage, pg_bin, until

pytestmark = pytest.mark.skipif(not pg_bin("initdb"), reason="needs the PostgreSQL server programs (initdb, pg_ctl)")

THREADS = 8 if LONG else 6
CYCLES = 5 if LONG else 1  # each: a restart under load, then an outage held until requests met it
MET_OUTAGE = 5 * THREADS if LONG else THREADS  # requests that must fail while the server is down


@dataclass
class Sent:
    marker: str
    assignment: int
    started: float  # time.monotonic() before the request left
    finished: float = 0.0  # … and once its answer (or error) was in
    status: int = 0  # 0: no HTTP answer (connection refused, reset)
    report: int | None = None  # the id a 201 answered
    detail: str = ""
    json: bool = False
    retry_after: str | None = None


class Load:
    """``THREADS`` threads posting progress reports (value 1, a unique text) until stopped."""

    def __init__(self, port: int, people: list[dict]):
        self.port, self.people = port, people
        self.sent: list[Sent] = []  # appended from the threads (list.append is atomic)
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(p,), daemon=True) for p in people]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.halt.set()
        for thread in self.threads:
            thread.join(60)

    def _run(self, person: dict) -> None:
        n = 0
        while not self.halt.is_set():
            assignment = person["assignments"][n % len(person["assignments"])]
            n += 1
            self.sent.append(self.post(person["token"], assignment))

    def post(self, token: str, assignment: int) -> Sent:
        sent = Sent(marker=f"fault-{uuid.uuid4().hex}", assignment=assignment, started=time.monotonic())
        body = json.dumps({"value": "1", "text": sent.marker})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                "POST",
                f"/api/v1/assignments/{assignment}/reports/",
                body=body,
                headers={
                    "Authorization": f"Token {token}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
            response = conn.getresponse()
            raw = response.read()
            sent.status, sent.retry_after = response.status, response.getheader("Retry-After")
            try:
                answer = json.loads(raw)
                sent.json = True
                sent.report = answer.get("id") if sent.status == 201 else None
                sent.detail = str(answer.get("detail", ""))
            except ValueError:
                sent.detail = raw[:200].decode(errors="replace")
        except OSError as exc:
            sent.detail = repr(exc)
        finally:
            conn.close()
        sent.finished = time.monotonic()
        return sent

    def since(self, moment: float) -> list[Sent]:
        return [s for s in list(self.sent) if s.started > moment]

    def ok_since(self, moment: float) -> int:
        return sum(s.status == 201 for s in self.since(moment))

    def failed_since(self, moment: float) -> int:
        return sum(s.status != 201 for s in self.since(moment))


@pytest.fixture
def cluster():
    pg = OwnPostgres(5444 + NODE)
    pg.init()
    yield pg
    pg.destroy()


def test_postgres_restarted_under_load(cluster, tmp_path, figures):
    database = cluster.createdb("tracker")
    env = app_env(database, CONN_MAX_AGE="60", VAR_DIR=str(tmp_path / "var"), MEDIA_ROOT=str(tmp_path / "media"))
    manage("migrate", "-v0", env=env)
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed", str(THREADS)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    server = AppServer(env, tmp_path / "gunicorn.log")
    # the server certainly up (from pg_ctl -w returning to the next pg_ctl called) or down (from the stop
    # returning to the start called); a request inside one phase from start to end must behave accordingly
    ups: list[tuple[float, float]] = []
    downs: list[tuple[float, float]] = []
    try:
        with Load(server.port, seed["people"]) as load:
            up_since = time.monotonic()
            until(lambda: load.ok_since(up_since) >= 2 * THREADS, "writes before the fault", timeout=60)
            for _cycle in range(CYCLES):
                ups.append((up_since, time.monotonic()))
                cluster.restart()  # -m fast: sessions and their transactions in flight are cut
                up_since = time.monotonic()
                until(lambda: load.ok_since(up_since) >= 2 * THREADS, "writes after the restart", timeout=60)
                ups.append((up_since, time.monotonic()))
                cluster.stop()
                stopped = time.monotonic()
                until(lambda: load.failed_since(stopped) >= MET_OUTAGE, "requests meeting the outage", timeout=60)
                downs.append((stopped, time.monotonic()))
                cluster.start()
                up_since = time.monotonic()
                until(lambda: load.ok_since(up_since) >= 2 * THREADS, "writes after recovery", timeout=60)
            ups.append((up_since, time.monotonic()))
        sent = list(load.sent)
    finally:
        server.stop()

    def within(s: Sent, phases: list[tuple[float, float]]) -> bool:
        return any(a < s.started and s.finished < b for a, b in phases)

    up = [s for s in sent if within(s, ups)]
    down = [s for s in sent if within(s, downs)]
    across = [s for s in sent if not within(s, ups) and not within(s, downs)]
    statuses = Counter(s.status for s in sent)
    written = _check_database(cluster, sent, seed["versions"])
    figures.update(
        {
            "threads": THREADS,
            "restarts": CYCLES,
            "outages": CYCLES,
            "requests": len(sent),
            "answered 201": statuses[201],
            "answered 503": statuses[503],
            "other answers": sum(n for code, n in statuses.items() if code not in (201, 503)),
            "server up: 201 / all": f"{sum(s.status == 201 for s in up)} / {len(up)}",
            "server down: 503 / all": f"{sum(s.status == 503 for s in down)} / {len(down)}",
            "across a restart: 201 / 503": f"{sum(s.status == 201 for s in across)} / {sum(s.status == 503 for s in across)}",
            **written,
        }
    )

    # nothing but success or a clean refusal: no 500 page, no connection reset
    assert set(statuses) <= {201, 503}, Counter((s.status, s.detail[:80]) for s in sent if s.status != 201)
    assert all(s.json and "稍后重试" in s.detail and s.retry_after for s in sent if s.status == 503)
    # while the server was down: refused, never a 2xx
    assert down and all(s.status == 503 for s in down)
    # while it was up — the first time and after each restart — every request succeeded: the app
    # reconnected by itself (persistent connections dropped by their health check), no restart of it
    assert len(up) >= 2 * THREADS * (2 * CYCLES + 1) and all(s.status == 201 for s in up)


def _check_database(cluster: OwnPostgres, sent: list[Sent], versions: dict[str, int]) -> dict:
    """Compare the database with what the threads were told; returns the figures."""
    with cluster.cursor("tracker") as cursor:
        cursor.execute("SELECT id, text, assignment_id, value FROM tasks_progressreport")
        reports = cursor.fetchall()
        cursor.execute("SELECT (changes->>'report')::bigint FROM audit_auditevent WHERE verb = 'assignment.reported'")
        events = Counter(r for (r,) in cursor.fetchall())
        cursor.execute("SELECT id, progress, version FROM tasks_assignment")
        assignments = cursor.fetchall()
    by_marker: dict[str, list[int]] = {}
    for pk, text, _a, _v in reports:
        by_marker.setdefault(text, []).append(pk)
    markers = {s.marker: s for s in sent}
    # every 201: exactly one row, the one the answer named
    for s in sent:
        if s.status == 201:
            assert by_marker.get(s.marker) == [s.report], (s, by_marker.get(s.marker))
    # nothing written that was not sent; a failed request wrote nothing, or — cut at COMMIT — one row
    assert set(by_marker) <= set(markers), set(by_marker) - set(markers)
    assert all(len(ids) == 1 for ids in by_marker.values())
    ambiguous = [m for m, s in markers.items() if s.status != 201 and m in by_marker]
    # no half-written rows: each report has exactly one audit event, and each event its report
    assert {pk: events[pk] for pk, *_ in reports} == {pk: 1 for pk, *_ in reports}
    assert set(events) == {pk for pk, *_ in reports}
    # totals: progress = the sum of the reports; the version moved once per report
    total: dict[int, Decimal] = {}
    count: Counter[int] = Counter()
    for _pk, _text, assignment, value in reports:
        total[assignment] = total.get(assignment, Decimal(0)) + (value or 0)
        count[assignment] += 1
    for pk, progress, version in assignments:
        assert progress == total.get(pk, Decimal(0)), (pk, progress, total.get(pk))
        assert version - versions[str(pk)] == count[pk], (pk, version, versions[str(pk)], count[pk])
    return {
        "rows checked": len(reports),
        "audit events": sum(events.values()),
        "assignments checked": len(assignments),
        "503 but written (cut at or after COMMIT)": len(ambiguous),
    }
