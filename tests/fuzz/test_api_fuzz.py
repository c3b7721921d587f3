"""Schemathesis against the served OpenAPI schema (``/api/schema/``), as a user of each role, in-process.

The schema is loaded from the Django WSGI application itself (``schemathesis.openapi.from_wsgi``) and
every call goes through that application, so it runs inside pytest-django's test database: the world
of ``tests/matrix_support.py`` (two campaigns, assignments with evidence and extension requests,
inspections, findings with photos, notices, hotspots, figures), plus each persona's inbox messages
and exports. Each test is one (role, operation): examples generated from the schema, positive and
negative (invalid data), with the ids, campaigns, unit codes … in paths, queries and bodies often
replaced by real ones (in and out of the persona's scope), so the success paths run as well as the
refusals. Every answer must pass:

- ``not_a_server_error``: no 5xx, whatever is sent;
- ``status_code_conformance``: the status is one the schema declares for the operation;
- ``content_type_conformance`` and ``response_schema_conformance``: the body is what it declares.

Default run: ``examples(5)`` per (role, operation), each (role, operation) with a fixed seed of its own;
``scripts/fuzz`` raises the count with ``FUZZ_EXAMPLES`` and varies the seeds with ``FUZZ_SEED``. A
server error's traceback is attached to the failure.
"""

from __future__ import annotations

import json
import traceback
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from werkzeug.test import Client as WsgiClient

from accounts.models import Role, Unit, User
from boards.models import Export
from inspections.models import Finding, Hotspot, HotspotCriterion, Inspection, Notice, Photo
from notifications.models import Message, Reminder
from stats.models import Indicator, Round
from stats.sheets import unit_sheet
from tasks.models import Assignment, Campaign, Evidence, ExtensionRequest, Item, LineOfAction

from ..matrix_support import PNG, World, build_world
from .conftest import COUNTS, examples, fuzz_seed

pytestmark = pytest.mark.django_db

# One persona of each role, from the ``city`` fixture's table (tests/conftest.py).
PERSONA_OF_ROLE = {Role.HQ: "hq", Role.UNIT_LEAD: "east_lead", Role.INSPECTOR: "inspector", Role.LEADER: "east_leader"}

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKED = [
    getattr(schemathesis.checks, name)
    for name in (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
]

# --- the world -------------------------------------------------------------------------------------


def delivered(user: User, campaign: Campaign, n: int = 2) -> None:
    """``n`` inbox messages of ``user`` as the drain leaves them (one read)."""
    for i in range(n):
        reminder = Reminder.objects.create(
            kind="overdue",
            subject_type="assignment",
            subject_id=1_000_000 + user.pk * 10 + i,
            occurrence=f"fuzz {i}",
            recipient=user,
            audience="lead",
            colour="red",
            unit=user.unit,
            campaign=campaign,
            due_date=timezone.localdate(),
            batch="fuzz",
        )
        Message.objects.create(
            reminder=reminder,
            recipient=user,
            channel="inbox",
            status="sent",
            sent_at=timezone.now(),
            subject=f"督办提醒 {user.username} {i}",
            read_at=timezone.now() if i == 0 else None,
            unit=user.unit,
        )


def exported(user: User) -> None:
    """A finished export with its file, one waiting and one failed."""
    done = Export.objects.create(user=user, kind="ledger", status="done", progress=100, filename="台账.xlsx", size=4)
    done.file.save("fuzz.xlsx", ContentFile(b"PK\x03\x04"))
    Export.objects.create(user=user, kind="ledger", params={"campaign": 1})
    Export.objects.create(user=user, kind="battle", status="failed", message="导出失败")


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The matrix world plus inboxes, exports and tokens, built once and rolled back after the module
    (each test runs in a savepoint of it, like tests/test_api_matrix.py)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world(tmp_path_factory.mktemp("fuzz-plan"), tmp_path_factory.mktemp("fuzz-media"))
            campaign = world.campaigns["XJ"]
            with override_settings(MEDIA_ROOT=str(world.media_root)):
                for name in PERSONA_OF_ROLE.values():
                    delivered(world.people[name], campaign)
                    exported(world.people[name])
            tokens = {role: Token.objects.create(user=world.people[name]).key for role, name in PERSONA_OF_ROLE.items()}
            connection.check_constraints()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world, tokens, {}  # the last: by role, what its lists show (seen_by), filled on first use
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db, settings) -> tuple[World, dict[str, str], dict[str, dict[str, list[Any]]]]:
    settings.MEDIA_ROOT = str(shared_world[0].media_root)
    return shared_world


@pytest.fixture
def in_process():
    """Requests run in the test's transaction: like Django's test client, keep the end of a request from
    closing the connection (it would mark the test's transaction for rollback), and record a server
    error's traceback for the failure report."""
    errors: list[str] = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(record)
    try:
        yield errors
    finally:
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# --- real references, in and out of each persona's scope --------------------------------------------

# the collection in a path -> the rows its {id} names
PATH_ROWS = {
    "units": Unit,
    "users": User,
    "campaigns": Campaign,
    "actions": LineOfAction,
    "items": Item,
    "assignments": Assignment,
    "evidence": Evidence,
    "extension-requests": ExtensionRequest,
    "inspections": Inspection,
    "findings": Finding,
    "finding-photos": Photo,
    "notices": Notice,
    "hotspots": Hotspot,
    "inbox": Message,
    "exports": Export,
}


def references() -> dict[str, list[Any]]:
    """What a parameter or body field may name, from the database: ids, unit codes, usernames, dates."""
    ids = {name: list(model.objects.order_by("pk").values_list("pk", flat=True)) for name, model in PATH_ROWS.items()}
    today, xj = timezone.localdate(), Campaign.objects.get(code="XJ")
    return {
        **ids,
        "campaign": ids["campaigns"],
        "assignment": ids["assignments"],
        "inspection": ids["inspections"],
        "finding": ids["findings"],
        "hotspot": ids["hotspots"],
        "notice": ids["notices"],
        "item": ids["items"],
        "action": ids["actions"],
        "unit": list(Unit.objects.order_by("path").values_list("code", flat=True)),
        "user": list(User.objects.order_by("pk").values_list("username", flat=True)),
        "criterion": list(HotspotCriterion.objects.values_list("pk", flat=True)),
        "round": list(Round.objects.values_list("pk", flat=True)) or [1],
        "indicator": list(Indicator.objects.values_list("code", flat=True)),
        "open finding": list(Finding.objects.filter(status="open").values_list("pk", "unit__code")),
        "station": list(Unit.objects.filter(kind="station").values_list("code", flat=True)),
        "date": [(today + timedelta(days=n)).isoformat() for n in (-3, 0, 1, 7, 14, 30)],
        "campaign day": [(xj.start + timedelta(days=n)).isoformat() for n in (0, 7, 30, (xj.end - xj.start).days)],
        "xj": [xj.pk],
    }


# a query parameter or body field -> the kind of reference it takes (a list: several)
FIELD_REFS = {
    "campaign": "campaign",
    "assignment": "assignment",
    "inspection": "inspection",
    "hotspot": "hotspot",
    "notice": "notice",
    "item": "item",
    "action": "action",
    "parent": "assignment",
    "unit": "unit",
    "under": "unit",
    "round": "round",
    "criterion": "criterion",
    "id": "assignment",
    "username": "user",
    "units": ["unit"],
    "team": ["user"],
    "items": ["item"],
    "findings": ["finding"],
}
FILE_FIELDS = {"files", "photos"}  # multipart lists of evidence: a real PNG often
KIND_OF_COLLECTION = {
    "campaigns": "campaign",
    "assignments": "assignment",
    "inspections": "inspection",
    "findings": "finding",
    "hotspots": "hotspot",
    "notices": "notice",
    "items": "item",
    "actions": "action",
}


def seen_by(token: str) -> dict[str, list[Any]]:
    """What the persona's own lists show (first pages), to aim most references inside its scope."""
    # through the WSGI application, as the fuzzed calls (Django's test client would reconnect the
    # close_old_connections signal that ``in_process`` keeps off)
    client = WsgiClient(SCHEMA.app)
    seen: dict[str, list[Any]] = {}
    for name in PATH_ROWS:
        body = json.loads(client.get(f"/api/v1/{name}/", headers={"Authorization": f"Token {token}"}).get_data())
        rows = body["results"] if isinstance(body, dict) else body
        seen[name] = [row["id"] for row in rows]
        if kind := KIND_OF_COLLECTION.get(name):
            seen[kind] = seen[name]
        if name == "units":
            seen["unit"] = [row["code"] for row in rows]
    return seen


@dataclass
class Refs:
    """Draws real references: two times in three from what the persona sees, else from every row."""

    every: dict[str, list[Any]]
    seen: dict[str, list[Any]]
    data: st.DataObject

    def coin(self, what: str) -> bool:
        return self.data.draw(st.booleans(), label=what)

    def pick(self, kind: str) -> Any:
        pool = self.every[kind]
        if self.seen.get(kind) and self.data.draw(st.integers(0, 2), label=f"{kind} from the persona's lists"):
            pool = self.seen[kind]
        return self.data.draw(st.sampled_from(pool), label=kind)

    def some(self, kind: str) -> list[Any]:
        return [self.pick(kind) for _ in range(self.data.draw(st.integers(1, 3), label=f"how many {kind}"))]


def patched(value: Any, refs: Refs, files: bool = False) -> Any:
    """A generated body or query with some named references replaced by real ones (drawn, so shrinkable);
    ``files``: a multipart body, whose evidence may be a real PNG."""
    if isinstance(value, list):
        return [patched(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key in list(out):
        kind = FIELD_REFS.get(key)
        if files and key in FILE_FIELDS and refs.coin(f"real {key}"):
            out[key] = [PNG]
        elif key == "password" and refs.coin("real password"):
            out[key] = "pw-" + refs.pick("user")
        elif key == "values" and isinstance(out[key], dict) and refs.coin("real values"):
            out[key] = {code: refs.data.draw(st.integers(0, 10**6)) for code in refs.every["indicator"]}
        elif isinstance(kind, list) and refs.every[kind[0]] and refs.coin(f"real {key}"):
            out[key] = refs.some(kind[0])
        elif isinstance(kind, str) and refs.every[kind] and refs.coin(f"real {key}"):
            out[key] = refs.pick(kind)
        else:
            out[key] = patched(out[key], refs)
    return out


def coherent(label: str, body: Any, refs: Refs) -> Any:
    """A body made to hang together (the finding named belongs to the unit named, the password to the
    user, no stale version …), so that the writes' success paths run as well as their refusals. Fields
    not set here stay as generated."""
    pick = refs.pick
    if label == "POST /api/v1/assignments/{id}/pass-down/" and isinstance(body, list):
        # shares to one or two stations, each once (a unit twice, or none, is refused before anything)
        units = refs.data.draw(st.lists(st.sampled_from(refs.every["station"]), min_size=1, max_size=2, unique=True))
        return [{"unit": unit} for unit in units]
    if isinstance(body, list):  # bulk transitions: each row
        return [coherent(label, row, refs) for row in body]
    if not isinstance(body, dict):
        return body
    fields: dict[str, Any] = {}
    match label:
        case "POST /api/v1/auth/token/":
            user = pick("user")
            fields = {"username": user, "password": "pw-" + user}
        case "POST /api/v1/exports/":
            kind = refs.data.draw(st.sampled_from(["battle", "ledger", "ranking", "stats"]), label="kind")
            fields = {"kind": kind, "params": {"campaign": pick("campaign")}}
        case "POST /api/v1/notices/":
            finding, unit = pick("open finding")
            fields = {"unit": unit, "findings": [finding], "deadline": pick("date"), "inspection": None}
        case "POST /api/v1/stats/figures/":
            fields = {"campaign": pick("xj"), "unit": pick("unit"), "day": pick("campaign day")}
            fields["values"] = {code: refs.data.draw(st.integers(0, 1000)) for code in refs.every["indicator"]}
        case "POST /api/v1/stats/figures/upload/":
            unit = Unit.objects.get(code=pick("unit"))
            sheet = unit_sheet(Campaign.objects.get(pk=refs.every["xj"][0]), unit, until=timezone.localdate())
            fields = {"campaign": refs.every["xj"][0], "unit": unit.code, "file": sheet}
        case "POST /api/v1/stats/figures/summary/":
            codes = refs.every["indicator"]
            rows = [f"{pick('unit')}," + ",".join(str(refs.data.draw(st.integers(0, 1000))) for _ in codes)]
            sheet = "\n".join(["单位代码," + ",".join(codes), *rows]).encode()
            fields = {"campaign": refs.every["xj"][0], "day": pick("campaign day"), "file": sheet}
        case "POST /api/v1/plans/":
            plan = "行动,序号,工作任务,牵头单位,完成时限\n行动一,1,夜间巡逻,各派出所,8月底前\n"
            fields = {"campaign": pick("campaign"), "file": plan.encode(), "dry_run": True}
        case "POST /api/v1/assignments/{id}/reports/":
            fields = {"period": None, "version": None, "value": refs.data.draw(st.integers(0, 100))}
        case "POST /api/v1/assignments/{id}/transition/" | "POST /api/v1/assignments/bulk-transition/":
            fields = {"version": None}
        case "POST /api/v1/assignments/{id}/extensions/":
            fields = {"requested_due": pick("date")}
        case "POST /api/v1/findings/":
            fields = {"unit": pick("unit"), "campaign": pick("xj"), "inspection": None, "item": None, "hotspot": None}
        case "POST /api/v1/findings/{id}/verify/":
            fields = {"new_deadline": pick("date")}
        case "POST /api/v1/hotspots/":
            fields = {"campaign": pick("xj"), "unit": pick("unit"), "listed_on": None, "deadline": pick("date")}
            fields |= {"inspect_every_days": 7, "criteria": ["无占道经营"], "responsible_name": "张警官"}
        case "POST /api/v1/inspections/":
            fields = {"campaign": pick("xj"), "units": [pick("unit")], "team": [], "items": [], "hotspot": None}
            fields["planned_on"] = pick("date")
        case "POST /api/v1/inspections/{id}/complete/":
            fields = {"verdicts": None, "extend_to": None}
    # None: leave the field out, which means the same to these serializers and survives a multipart body
    made = {**body, **{k: v for k, v in fields.items() if v is not None}}
    return {k: v for k, v in made.items() if fields.get(k, "") is not None}


def collection(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/", 1)[0]


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
@pytest.mark.parametrize("role", list(PERSONA_OF_ROLE), ids=str)
def test_operation(world, in_process, role, operation):
    _world, tokens, seen = world
    every = references()
    if role not in seen:
        seen[role] = seen_by(tokens[role])
    headers = {"Authorization": f"Token {tokens[role]}"}
    name = collection(operation.path)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    COUNTS["api-ops", role] += 1

    # A seed of its own per role and operation: repeatable, and not the same choices everywhere.
    @seed(zlib.crc32(f"{fuzz_seed()} {role} {operation.label}".encode()))
    @settings(
        max_examples=examples(5),
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case, data):
        COUNTS["api", role] += 1
        refs = Refs(every, seen[role], data)
        if "id" in (case.path_parameters or {}) and every.get(name) and refs.data.draw(st.integers(0, 3)):
            case.path_parameters = {**case.path_parameters, "id": refs.pick(name)}
        if isinstance(case.query, dict):
            case.query = patched(case.query, refs)
        if isinstance(case.body, (dict, list)):
            case.body = patched(case.body, refs, files=case.media_type == "multipart/form-data")
            if refs.coin("coherent body"):
                case.body = coherent(operation.label, case.body, refs)
        in_process.clear()
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKED)
            COUNTS["api-status", role, operation.label, response.status_code // 100] += 1
        except BaseException as exc:
            for error in in_process:
                exc.add_note(f"server traceback:\n{error}")
            raise

    run()


def test_a_path_no_route_matches_answers_json_under_the_api(client):
    """The fuzzer's first find: /api/v1/assignments/1.5/pass-down/ matched no route and Django answered its
    HTML page, a content type the schema does not declare; under /api/ the 404 is JSON (ops/handlers.py)."""
    response = client.post("/api/v1/assignments/1.5/pass-down/", data=[], content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "未找到。"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_odd_text_in_parameters_read_by_hand_is_a_located_400(world):
    """Found by the full run (FUZZ_SEED=264715735): a NUL character in ?unit= of /inspection-counts/ and in the
    unit of a sheet upload reached PostgreSQL, which refuses it (ValueError, a 500); ?campaign=² passed
    str.isdigit and failed int(). Both views now parse their parameters with a serializer."""
    w, tokens, _seen = world
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[Role.HQ]}")
    xj = w.campaigns["XJ"].pk
    counts = "/api/v1/inspection-counts/"
    response = client.get(counts, {"campaign": xj, "unit": "3303\x00"})
    assert (response.status_code, list(response.json())) == (400, ["unit"])
    response = client.get(counts, {"campaign": "²"})
    assert response.status_code == 400 and "campaign" in response.json()["detail"]
    upload = {"campaign": xj, "unit": "3303\x00", "file": SimpleUploadedFile("战果.csv", b"x")}
    response = client.post("/api/v1/stats/figures/upload/", upload, format="multipart")
    assert (response.status_code, list(response.json())) == (400, ["unit"])
    assert client.get(counts, {"campaign": xj, "unit": "3303"}).status_code == 200
