"""Fixtures of the delivery tests: one overdue assignment, and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.models import Preference
from tasks.models import Assignment
from tests.processes import broker, start_worker  # noqa: F401 (fixtures of test_worker, shared with tests/faults)

SECRET = "webhook-test-secret"


@pytest.fixture
def one_assignment(city, published) -> Assignment:
    """The station's share of item 1.1 (8月底前), the only active assignment, its item led by the
    sub-bureau's leader: three days overdue it reminds the station lead, the leader and the lead of
    城东分局 — three people, each by single messages (the leader chose them over its default, the
    daily digest: ``test_digest``)."""
    a = Assignment.objects.select_related("item").get(item__code="1.1", unit__code="33031001")
    a.item.leader = city["east_leader"]
    a.item.save(update_fields=["leader"])
    Preference.objects.create(user=city["east_leader"], digest=False)
    Assignment.objects.exclude(pk=a.pk).update(is_active=False)
    return a


@dataclass
class Received:
    key: str
    signature: str
    body: bytes
    status: int = 0  # what the receiver answered (0: the caller was gone before the answer)

    def signed_with(self, secret: str) -> bool:
        expected = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)


@dataclass
class Webhook:
    """A receiver (SMS gateway, messaging bot) answering each POST with the next of ``replies`` (HTTP
    statuses), then 200. ``delay`` makes it slow (real seconds, in its own thread); clearing ``open``
    holds every request until it is set again; ``arrived`` is set by each request."""

    url: str = ""
    replies: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    open: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def keys(self, status: int | None = None) -> list[str]:
        return [r.key for r in self.received if status is None or r.status == status]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        hook: Webhook = self.server.hook
        got = Received(
            self.headers.get("X-Idempotency-Key", ""),
            self.headers.get("X-Signature-SHA256", ""),
            self.rfile.read(int(self.headers.get("Content-Length", 0))),
        )
        hook.received.append(got)
        hook.arrived.set()
        hook.open.wait(timeout=30)
        if hook.delay:
            time.sleep(hook.delay)  # a slow receiver, past the sender's timeout
        status = hook.replies.pop(0) if hook.replies else 200
        got.status = status  # before answering: the sender may check it as soon as the answer is out
        try:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:  # the sender gave up (timeout) and closed the connection
            got.status = 0

    def log_message(self, format, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a sender that timed out leaves a broken pipe behind; not the test's business


@pytest.fixture
def webhook():
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hook = hook = Webhook(url=f"http://127.0.0.1:{server.server_port}/notify")
    hook.open.set()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield hook
    hook.open.set()
    server.shutdown()
    server.server_close()
