"""``/healthz/`` for the load balancer and monitoring, and the Celery worker heartbeat it reads.

The answer names only what was checked and a status word — no versions, hosts, counts of rows or
error texts (the endpoint is anonymous; the reason of a failure goes to the log). ``?scope=web``
checks what a web host needs (database, Redis), for the load balancer:

    200 {"database": "ok", "redis": "ok", "worker": "ok (2)"}
    503 {"database": "ok", "redis": "failed", "worker": "unknown"}

Workers announce themselves: ``WorkerHeartbeat``, a bootstep of every ``celery -A ops worker``
(registered in ``ops/celery.py``), writes ``tracker:worker:<hostname>`` with a TTL when the worker
starts and again every ``HEARTBEAT_EVERY`` seconds, and deletes it on a clean stop. A worker that is
killed, or whose main process hangs, stops refreshing its key, which expires ``HEARTBEAT_TTL`` seconds later; health then
counts one worker less, and 503 once none is left. Celery's own heartbeats and ``inspect ping`` were
not used: they need events/gossip (the tests start workers without them) and a broadcast round trip
on every probe, where a key lookup costs one Redis call.

Without ``REDIS_URL`` (the embedded development setup) there is no broker and tasks run eagerly in
the web process: Redis and the worker are "not configured", which is healthy.
"""

from __future__ import annotations

import logging
import socket

import redis
from celery import bootsteps
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "tracker:worker:"
HEARTBEAT_EVERY = 15  # seconds between refreshes
HEARTBEAT_TTL = 60  # four refreshes missed before a worker counts as gone
TIMEOUT = 2  # seconds: a probe must answer well within the balancer's own timeout


def redis_client(url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(url or settings.REDIS_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def beat(hostname: str, client: redis.Redis | None = None) -> None:
    """Mark the worker ``hostname`` alive for ``HEARTBEAT_TTL`` seconds (what the bootstep does)."""
    (client or redis_client()).set(HEARTBEAT_PREFIX + hostname, timezone.now().isoformat(), ex=HEARTBEAT_TTL)


def forget(hostname: str, client: redis.Redis | None = None) -> None:
    """A worker stopping cleanly leaves at once rather than after its TTL."""
    (client or redis_client()).delete(HEARTBEAT_PREFIX + hostname)


def live_workers(client: redis.Redis | None = None) -> list[str]:
    """Host names of the workers whose heartbeat has not expired (SCAN: never blocks Redis)."""
    keys = (client or redis_client()).scan_iter(match=HEARTBEAT_PREFIX + "*", count=100)
    return sorted(key.decode().removeprefix(HEARTBEAT_PREFIX) for key in keys)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Keeps ``tracker:worker:<hostname>`` alive on the worker's own timer (its event loop)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None
        self.hostname = ""

    def include_if(self, parent) -> bool:
        return bool(settings.REDIS_URL)  # no Redis: no broker, no worker process to announce

    def start(self, parent) -> None:
        self.hostname = parent.hostname or socket.gethostname()
        self.client = redis_client()
        self._beat()
        self.tref = parent.timer.call_repeatedly(HEARTBEAT_EVERY, self._beat, priority=10)

    def _beat(self) -> None:
        try:
            beat(self.hostname, self.client)
        except redis.RedisError as exc:
            # Redis is down: the worker cannot take tasks either, and the key will expire — say so once
            # per refresh in the worker's log instead of a traceback from the timer
            log.warning("worker heartbeat not written: %s", exc)

    def stop(self, parent) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.hostname:
            try:
                forget(self.hostname, self.client)
            except redis.RedisError as exc:
                log.warning("worker heartbeat not removed (it expires by itself): %s", exc)

    def terminate(self, parent) -> None:
        self.stop(parent)


# --- the view -----------------------------------------------------------------------------------------


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("health: database check failed")
        return "failed"
    return "ok"


def _redis_and_workers() -> tuple[str, str]:
    if not settings.REDIS_URL:
        return "not configured", "not configured"
    try:
        client = redis_client()
        client.ping()
        workers = live_workers(client)
    except redis.RedisError:
        log.exception("health: Redis check failed")
        return "failed", "unknown"
    if not workers:
        return "ok", "none"
    return "ok", f"ok ({len(workers)})"


HEALTHY = {"ok", "not configured"}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Anonymous; no session, no data. 503 if any part failed, naming which.

    ``?scope=web`` leaves the workers out: what a load balancer asks of each web host. A dead worker
    delays reminders and exports but every page still works, so it must not take the web hosts out
    of rotation; monitoring asks the whole question (no parameter) and raises the alarm.
    """
    checks = {"database": _database()}
    checks["redis"], checks["worker"] = _redis_and_workers()
    if request.GET.get("scope") == "web":
        del checks["worker"]
    ok = all(v in HEALTHY or v.startswith("ok (") for v in checks.values())
    return JsonResponse(checks, status=200 if ok else 503)
