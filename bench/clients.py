"""Several clients at once on the boards (``bench_boards --clients N``, issue 19): N processes, each with
its own database connection and its own signed-in session (test ``Client``, the whole Django stack as
``bench.timing.time_page`` measures it), each asking for the same boards in turn, all started together
(a barrier after their warm-up): what N HQ officers opening the province's board at the same moment
see. Processes, not threads, so they do not share one interpreter lock — as gunicorn's workers do not.

Forked from the measuring command (``fork``: "today" moved by time_machine and the settings are
inherited; the parent's connections are closed first so no child shares its socket).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.test import Client

from accounts.models import User
from bench.timing import WARMUP, ms, nearest_rank

GOAL_SINGLE_MS = 50.0  # issue 19: the province's battle board and ranking, p95 with one client …
GOAL_CONCURRENT_MS = 150.0  # … and with 4 at once


@dataclass
class Concurrent:
    """One page under ``clients`` clients: every client's timed requests together."""

    name: str
    url: str
    clients: int
    times_ms: list[float]
    statuses: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return nearest_rank(self.times_ms, 95)

    def summary(self, wall_s: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "clients": self.clients,
            "requests": len(self.times_ms),
            "p50_ms": round(self.p50, 1),
            "p95_ms": round(self.p95, 1),
            "max_ms": round(max(self.times_ms), 1),
            "statuses": sorted(set(self.statuses)),
            "goal_p95_ms": GOAL_CONCURRENT_MS,
            "goal_met": self.p95 <= GOAL_CONCURRENT_MS,
            "wall_s": round(wall_s, 2),
        }


def _client(user_pk: int, pages: list[tuple[str, str]], repeat: int, barrier, results) -> None:
    """One client's process: sign in, warm up, wait for the others, then ``repeat`` rounds of the pages."""
    try:
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(pk=user_pk))
        for _name, url in pages:
            for _ in range(WARMUP):
                client.get(url)
        barrier.wait(timeout=300)
        times: dict[str, list[float]] = {name: [] for name, _ in pages}
        statuses: dict[str, list[int]] = {name: [] for name, _ in pages}
        started = time.monotonic()
        for _ in range(repeat):
            for name, url in pages:
                t0 = time.perf_counter()
                response = client.get(url)
                times[name].append(ms(time.perf_counter() - t0))
                statuses[name].append(response.status_code)
        results.put({"times": times, "statuses": statuses, "start": started, "end": time.monotonic()})
    except BaseException as e:  # the parent must hear of it rather than wait
        barrier.abort()
        results.put({"error": f"{type(e).__name__}: {e}"})
    finally:
        connections.close_all()


def run_clients(user: User, pages: list[tuple[str, str]], clients: int, repeat: int) -> tuple[list[Concurrent], float]:
    """``clients`` processes each asking ``repeat`` times for every page of ``pages`` ((name, URL), in
    turn) as ``user``; the pages' times over all clients, and the wall time from the first start to the
    last end."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    connections.close_all()  # each child opens its own
    workers = [ctx.Process(target=_client, args=(user.pk, pages, repeat, barrier, results)) for _ in range(clients)]
    for w in workers:
        w.start()
    got = [results.get(timeout=600) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    if errors := [g["error"] for g in got if "error" in g]:
        raise RuntimeError(f"a client failed: {errors[0]}")
    wall = max(g["end"] for g in got) - min(g["start"] for g in got)
    out = [
        Concurrent(
            name,
            url,
            clients,
            [t for g in got for t in g["times"][name]],
            [s for g in got for s in g["statuses"][name]],
        )
        for name, url in pages
    ]
    return out, wall


def lines(rows: list[dict[str, Any]], single: dict[str, float]) -> list[str]:
    """The pages under N clients beside their p95 with one (``single``: name → p95 ms)."""
    if not rows:
        return []
    n = rows[0]["clients"]
    out = [
        f"{n} clients at once (processes, each its own connection and session), {rows[0]['requests'] // n} "
        f"requests each per page, in turn, after {WARMUP} warm-up; {rows[0]['wall_s']} s in all:",
        f"   {'page':36}{'1 client p95':>13}{f'{n} p50':>9}{f'{n} p95':>9}{'max':>9}  goal p95 ≤ {GOAL_SINGLE_MS:g} "
        f"/ ≤ {GOAL_CONCURRENT_MS:g} ms",
    ]
    for r in rows:
        one = single.get(r["name"])
        one_text = "—" if one is None else f"{one:.1f}"
        ok_one = one is not None and one <= GOAL_SINGLE_MS
        out.append(
            f"   {r['name'][:35]:36}{one_text:>13}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}  "
            f"{'ok' if ok_one else 'MISSED'} / {'ok' if r['goal_met'] else 'MISSED'}"
            + ("" if r["statuses"] == [200] else f"  HTTP {r['statuses']}")
        )
    return out
