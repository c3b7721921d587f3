"""Gunicorn in production: ``gunicorn -c ops/gunicorn.conf.py`` (docs/deployment.md).

Each setting reads an environment variable, with a default for a host of 2–4 cores behind nginx on
the same host. Threaded workers (gthread): most requests wait on PostgreSQL, so a few processes with
a few threads each keep the cores busy without a process per connection. Every thread keeps its own
database connection (CONN_MAX_AGE), so PostgreSQL sees up to hosts × workers × threads connections,
plus the Celery workers': keep that under its max_connections (100 by default).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "ops.wsgi:application"
bind = [part.strip() for part in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if part.strip()]
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("GUNICORN_THREADS", 4)
# A request's longest honest work is a bulletin PDF or a 20 MB sheet upload (seconds); anything past
# this is stuck: the worker is killed and replaced. Exports run in Celery, not here.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # a restart lets running requests finish
# Behind nginx, gunicorn must not be the one to close an idle kept-alive connection: nginx could
# send the next request on it at that very moment and, for a POST, answer 502 rather than retry.
# nginx closes its idle upstream connections after 60 s (keepalive_timeout in ops/deploy/nginx.conf).
# (The load test saw the race with gunicorn's default of 5 s: connections reset under locust.)
keepalive = _int("GUNICORN_KEEPALIVE", 75)
backlog = _int("GUNICORN_BACKLOG", 2048)
# Recycling workers after N requests is off: a recycled worker closes its kept-alive connections under
# clients that are sending on them (the load test saw a GET reset and a POST left unanswered, once each
# per 5-minute run; behind nginx a POST would be a 502). Turn it on only if a worker's memory grows.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# The worker heartbeat file is touched every second: on a disk that can block under I/O, in memory never.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 (a tmpfs, not a shared temp file)

# Logs go to stdout/stderr (journald under systemd) unless a file is named.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# client (as nginx passed it), user, time, request, status, bytes, milliseconds, user agent
access_log_format = '%({x-real-ip}i)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Only nginx on this host may say the request came over https (X-Forwarded-Proto); see
# SECURE_PROXY_SSL_HEADER in docs/deployment.md.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn's control socket (gunicornc) defaults to one path per user: several gunicorns on one host
# (the scale-out test, a blue/green restart) would fight over it. Off unless a path is given.
if control := os.environ.get("GUNICORN_CONTROL_SOCKET", ""):
    control_socket = control
else:
    control_socket_disable = True

proc_name = os.environ.get("GUNICORN_PROC_NAME", "tracker-web")


# The garbage collector's full pass walks every tracked object of the worker: the ≈190,000 of Django, the
# app and its caches cost ≈90–120 ms per pass (measured in-process on the bench province), and a pass
# comes every 30–60 board requests — a request's time ×2–4 at the tail. Objects made while the worker
# starts and warms up live as long as the worker: frozen (``gc.freeze``, moved out of the collector's
# sight) once the app is loaded and again after the first requests have imported the views, templates and
# serializers they use lazily. Garbage made later is collected as before. (docs/cpu.md, "The collector")
FREEZE_AFTER_REQUESTS = _int("GUNICORN_GC_FREEZE_AFTER", 50)


def _freeze() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(worker) -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module now, not on its first request)
    _freeze()


def post_request(worker, req, environ, resp) -> None:
    worker.served = getattr(worker, "served", 0) + 1  # the threads may race: counted about, frozen once
    if worker.served >= FREEZE_AFTER_REQUESTS and not getattr(worker, "refrozen", False):
        worker.refrozen = True
        _freeze()
