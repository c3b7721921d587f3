"""``/healthz/``: database, Redis and live workers, against the real Redis (a database of its own per
xdist process, emptied before and after) and, once, a real ``celery worker`` whose bootstep writes
its heartbeat. Anonymous, and the answer holds status words only."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.test import Client

from ops import health
from tests.processes import Worker, until

NODE = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
# Redis databases 10 and 11: not the suite's (REDIS_URL, 15), not the worker tests' (12–15)
OWN_DB = 10 + NODE % 2
ON_REDIS = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


def closed_port() -> int:
    """A loopback port nobody listens on: bound and released at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_redis(settings) -> Iterator[str]:
    """REDIS_URL pointed at this process's own database on the suite's Redis server, empty."""
    shared = urlsplit(os.environ["REDIS_URL"])
    url = f"redis://{shared.hostname}:{shared.port or 6379}/{OWN_DB}"
    r = redis.Redis.from_url(url)
    r.flushdb()
    settings.REDIS_URL = url
    yield url
    r.flushdb()


def probe(query: str = "") -> tuple[int, dict]:
    response = Client().get(f"/healthz/{query}")  # anonymous
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


@pytest.mark.smoke
@pytest.mark.django_db
def test_without_redis_the_embedded_setup_is_healthy(settings):
    settings.REDIS_URL = ""  # tasks run eagerly in the web process: nothing to check
    assert probe() == (200, {"database": "ok", "redis": "not configured", "worker": "not configured"})


@ON_REDIS
@pytest.mark.django_db
def test_live_workers_are_counted(own_redis):
    client = health.redis_client(own_redis)
    health.beat("w1@host-a", client)  # what each worker's bootstep does every 15 s
    health.beat("w2@host-b", client)
    assert probe() == (200, {"database": "ok", "redis": "ok", "worker": "ok (2)"})
    assert 0 < client.ttl("tracker:worker:w1@host-a") <= health.HEARTBEAT_TTL  # gone unless refreshed
    health.forget("w2@host-b", client)  # a clean stop
    assert probe() == (200, {"database": "ok", "redis": "ok", "worker": "ok (1)"})


@ON_REDIS
@pytest.mark.django_db
def test_no_live_worker_is_503_but_the_web_hosts_stay_in_rotation(own_redis):
    assert probe() == (503, {"database": "ok", "redis": "ok", "worker": "none"})
    # the balancer's question: pages work without a worker (reminders and exports wait)
    assert probe("?scope=web") == (200, {"database": "ok", "redis": "ok"})


@pytest.mark.django_db
def test_redis_unreachable_is_503(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    assert probe() == (503, {"database": "ok", "redis": "failed", "worker": "unknown"})
    assert probe("?scope=web") == (503, {"database": "ok", "redis": "failed"})  # the cache is Redis too


@pytest.mark.django_db
def test_only_get_and_head(settings):
    settings.REDIS_URL = ""
    assert Client().head("/healthz/").status_code == 200
    assert Client().post("/healthz/").status_code == 405


@ON_REDIS
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the worker process shares the test database: PostgreSQL (SQLite's is in memory)",
)
def test_a_real_worker_announces_itself_and_leaves_on_a_clean_stop(own_redis, tmp_path):
    worker = Worker(own_redis, tmp_path / "worker.log", concurrency=1, env={})
    try:
        # written when the worker starts (then every 15 s): by the time it says "ready" it is there
        assert until(lambda: probe()[1]["worker"] == "ok (1)", "the worker's heartbeat", timeout=10)
        [name] = health.live_workers(health.redis_client(own_redis))
        assert name.startswith(f"{worker.name}@")
        os.killpg(worker.proc.pid, signal.SIGTERM)  # warm shutdown: the bootstep's stop removes the key
        assert worker.proc.wait(timeout=30) == 0, worker.text()
        assert probe() == (503, {"database": "ok", "redis": "ok", "worker": "none"})
    finally:
        worker.kill()
