"""Real processes for the tests that need them: Celery workers and beat on Redis, a throwaway Redis, a
throwaway PostgreSQL cluster, an app server (gunicorn) — and the test database seen from outside.

Shared by ``tests/notifications/test_worker.py`` and ``tests/faults/``. Everything started here is
this test's own: a fault is injected on a throwaway server on its own port, never on the shared
PostgreSQL (5432) or Redis (6379). Waiting is by polling for a condition, never by a timed sleep.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# each xdist process its own Redis database (12, 13 …) and its own ports for throwaway servers
NODE = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
SHARED_REDIS = f"redis://127.0.0.1:6379/{12 + NODE % 4}"
OWN_REDIS_PORT = 6390 + NODE


def until(predicate: Callable, what: str, timeout: float = 20):
    """Poll (a subprocess is at work, not a clock to travel) until ``predicate`` gives something true."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- PostgreSQL: the test database, seen from outside ---------------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def lock_waits() -> list[str]:
    """The statements of this database's sessions that wait for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [query for (query,) in cursor.fetchall()]


def waiting(table: str, count: int = 1) -> Callable[[], bool]:
    return lambda: sum(f"INSERT INTO {table}" in q for q in lock_waits()) >= count


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another session holds ``table`` in EXCLUSIVE mode until the block ends: writers wait."""
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    try:
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        yield
    finally:
        other.rollback()
        other.close()


def others_gone() -> None:
    """Wait for the sessions of killed processes to end (a session blocked on a lock notices its client
    is gone only when it runs again); end what is left, so the database can be flushed and dropped."""
    query = "SELECT {} FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cursor.execute(query.format("count(*)"))
            if not cursor.fetchone()[0]:
                return
            time.sleep(0.05)
        cursor.execute(query.format("pg_terminate_backend(pid)"))


# --- A throwaway PostgreSQL cluster -----------------------------------------------------------------------


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: the newest under /usr/lib/postgresql, else on the PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(found[-1]) if found else shutil.which(name)


class OwnPostgres:
    """A cluster made with initdb in a temporary directory, on its own port, trusting local connections,
    to be stopped and restarted at will. initdb refuses root: as root the cluster belongs to ``postgres``."""

    def __init__(self, port: int):
        self.port = port
        self.directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run(
            pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        )
        self.start()

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory} -c fsync=off"
        )
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *args)

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart -m fast``: open transactions are cut, clients see their connections end."""
        self._ctl("-m", mode, "restart")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    @contextmanager
    def cursor(self, name: str = "postgres") -> Iterator:
        """A cursor of an autocommit session on database ``name``, closed at the end of the block."""
        conn = psycopg2.connect(dbname=name, user="postgres", host="127.0.0.1", port=self.port)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            conn.close()

    def createdb(self, name: str) -> str:
        with self.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def app_env(database: str, **env: str) -> dict[str, str]:
    """The environment of a production-like process of the app (DEBUG off) on loopback over plain HTTP."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ops.settings",
        "DATABASE_URL": database,
        "DEBUG": "0",
        "SECRET_KEY": "faults-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "REDIS_URL": "",
        **env,
    }


def manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class AppServer:
    """gunicorn serving ``ops.wsgi`` on a free loopback port, in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "ops.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
        ]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        until(lambda: self.proc.poll() is not None or self.listening(), "gunicorn listening", timeout=30)
        assert self.proc.poll() is None, log.read_text(errors="replace")

    def listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- Redis, the worker and the scheduler ------------------------------------------------------------------


class OwnRedis:
    """A throwaway redis-server that keeps nothing on disk, to be restarted (the shared one is not)."""

    def __init__(self, port: int, directory: Path):
        self.port, self.directory = port, directory
        self.url = f"redis://127.0.0.1:{port}/12"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        until(self.up, f"redis-server on port {self.port}", timeout=10)

    def up(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class CeleryProcess:
    """``celery -A ops <command>`` in its own process group, on the test database and ``broker``."""

    def __init__(self, command: list[str], broker: str, log: Path, env: dict[str, str]):
        self.log = log
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ops.settings",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "REDIS_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "TIME_ZONE": settings.TIME_ZONE,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **env,
        }
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "ops", *command],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the main process and its children: nothing is acknowledged, nothing cleaned up."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class Worker(CeleryProcess):
    """A worker (prefork pool of ``concurrency`` processes)."""

    def __init__(self, broker: str, log: Path, concurrency: int, env: dict[str, str]):
        self.name = f"w{NODE}-{uuid.uuid4().hex[:6]}"
        command = [
            "worker",
            "--pool=prefork",
            "-c",
            str(concurrency),
            "-l",
            "info",
            "-n",
            f"{self.name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        super().__init__(command, broker, log, env)
        until(lambda: self.proc.poll() is not None or self.ready(), f"worker {self.name} ready")
        assert self.proc.poll() is None, self.text()

    def ready(self) -> bool:
        return f"{self.name}@" in (text := self.text()) and " ready." in text

    def results(self, task: str) -> list[dict]:
        found = re.findall(rf"Task {re.escape(task)}\[[\w-]+\] succeeded in [\d.]+s: (\{{.*\}})", self.text())
        return [ast.literal_eval(r) for r in found]

    def wait_results(self, task: str, count: int, timeout: float = 20) -> list[dict]:
        return until(
            lambda: len(r := self.results(task)) >= count and r, f"{count} × {task} done in {self.log}", timeout
        )

    def settled_results(self, task: str, at_least: int, quiet: float = 3, timeout: float = 60) -> list[dict]:
        """The results of ``task`` once there are ``at_least`` and no other has come for ``quiet`` seconds
        (how many will come is not known: a scheduler killed may not have sent its last)."""
        found = self.wait_results(task, at_least, timeout)
        calm = time.monotonic() + quiet
        while time.monotonic() < calm:
            time.sleep(0.2)
            if len(now := self.results(task)) != len(found):
                found, calm = now, time.monotonic() + quiet
        return found

    def children(self) -> list[int]:
        return [int(pid) for pid in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]


class Beat(CeleryProcess):
    """``celery beat`` with the database schedule of the settings (django-celery-beat), its own pid file."""

    def __init__(self, broker: str, log: Path, env: dict[str, str]):
        pidfile = log.with_suffix(".pid")
        super().__init__(["beat", "-l", "info", f"--pidfile={pidfile}"], broker, log, env)
        until(lambda: self.proc.poll() is not None or "beat: Starting..." in self.text(), "beat started")
        assert self.proc.poll() is None, self.text()

    def sent(self, task: str) -> int:
        """How many times this scheduler put ``task`` in the queue."""
        return len(re.findall(rf"Sending due task [^\n]*\({re.escape(task)}\)", self.text()))


@pytest.fixture
def broker() -> Iterator[str]:
    """This xdist process's database on the shared Redis, empty before and after."""
    r = redis.Redis.from_url(SHARED_REDIS)
    r.flushdb()
    yield SHARED_REDIS
    r.flushdb()


@pytest.fixture
def start_worker(transactional_db, request, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start workers (on the shared Redis, ``broker``, unless told another); all are killed at the end."""
    started: list[Worker] = []

    def start(*, concurrency: int = 2, on: str = "", **env: str) -> Worker:
        on = on or request.getfixturevalue("broker")  # the shared Redis is touched only if used
        worker = Worker(on, tmp_path / f"worker-{len(started)}.log", concurrency, env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
    others_gone()


@contextmanager
def sender(url: str) -> Iterator[Celery]:
    """What beat or a web process does: put tasks in the queue by name."""
    app = Celery("sender", broker=url, set_as_current=False)
    try:
        yield app
    finally:
        app.close()
