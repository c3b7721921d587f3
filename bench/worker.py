"""The far ends of a delivery benchmark: one real Celery worker process, a local webhook receiver,
and the CPU seconds of the processes involved (``bench_reminders``)."""

from __future__ import annotations

import ast
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

TICK = os.sysconf("SC_CLK_TCK")


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.receiver.got(
            self.headers.get("X-Idempotency-Key", ""), self.headers.get("X-Signature-SHA256", ""), body
        )
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class Receiver:
    """The webhook's far end (an SMS gateway, a messaging bot) on 127.0.0.1: answers 200 at once,
    counts each idempotency key and checks each signature."""

    def __init__(self, secret: str):
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.keys: Counter[str] = Counter()
        self.unsigned = 0
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.receiver = self
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def got(self, key: str, signature: str, body: bytes) -> None:
        expected = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        with self.lock:
            self.keys[key] += 1
            self.unsigned += not hmac.compare_digest(expected, signature)

    def reset(self) -> None:
        with self.lock:
            self.keys, self.unsigned = Counter(), 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process (Linux /proc); processes gone are left out."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return seconds


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (none when it runs elsewhere)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class CpuMeter:
    """CPU seconds of a set of processes over a stretch of time, sampled as it goes (a process may
    end before the stretch does: a worker closes a database connection older than CONN_MAX_AGE)."""

    def __init__(self, pids):
        self.pids = pids  # a callable giving the processes to follow
        self.before = _cpu_by_pid(pids())
        self.seen = dict(self.before)

    def sample(self) -> None:
        self.seen.update(_cpu_by_pid(self.pids()))

    def total(self) -> float:
        self.sample()
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def database_url() -> str:
    """This connection's database as a DATABASE_URL for the worker process."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


class Worker:
    """``celery -A ops worker`` (prefork, concurrency 1) in its own process group."""

    def __init__(self, directory: Path, env: dict[str, str], task: str):
        self.task = task  # the task whose results and failures the log is read for
        self.log = directory / "worker.log"
        self.name = f"bench-reminders-{uuid.uuid4().hex[:6]}"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ops",
            "worker",
            "--pool=prefork",
            "-c",
            "1",
            "-l",
            "info",
            "-n",
            f"{self.name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
                command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise CommandError(f"the Celery worker did not start:\n{self.tail()}")
            time.sleep(0.1)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, chars: int = 4000) -> str:
        return self.text()[-chars:]

    def ready(self) -> bool:
        return f"{self.name}@" in (text := self.text()) and " ready." in text

    def results(self) -> list[dict]:
        """What each finished ``task`` returned, in order (from the worker's log)."""
        found = re.findall(rf"Task {re.escape(self.task)}\[[\w-]+\] succeeded in [\d.]+s: (\{{.*\}})", self.text())
        return [ast.literal_eval(r) for r in found]

    def failures(self) -> int:
        return len(re.findall(rf"Task {re.escape(self.task)}\[[\w-]+\] raised", self.text()))

    def pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # warm shutdown: its own process group only
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
