"""Odd input never makes a server error (issue 15, defect 6): every page and API endpoint that takes
parameters is fed odd Unicode digits (², ٣, ①, fullwidth １ …: digits to ``str.isdigit``, not to ``int``),
huge and negative numbers, NUL, dates of year 1 and 9999, spreadsheet formulas, mixed with real values
so the deeper paths run too, as HQ and as a station lead; every answer must be below 500.

The pages come from the URL conf (``PAGE_PARAMS`` must name every page of ``web``: a page added without
an entry fails ``test_every_page_is_listed``); the API's operations and their parameters (query and body)
come from its OpenAPI schema, so a new endpoint is fuzzed without being listed. The examples are
derandomized (the same ones every run) and few per endpoint, so the module runs in a few minutes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from boards.ranking import MEASURES
from notifications.models import Message
from stats.models import Indicator, Round

from ..matrix_support import World, build_world, kept_for_the_module

pytestmark = pytest.mark.django_db

EXAMPLES = 6  # per (persona, endpoint, method), besides the explicit ones below
PERSONAS = ("hq", "station_lead")
SITE = "33031001"  # the station lead's own unit: its objects are seen by both personas

# Digits to str.isdigit() that int() refuses (superscript, circled, Kharosthi), digits int() takes from
# other scripts (Arabic-Indic, fullwidth, N'Ko, Lao, mathematical bold)
ODD_DIGITS = ["²", "³", "①", "𐩀", "٣", "１", "߃", "໓", "𝟙"]
ATOMS = [
    *ODD_DIGITS,
    "１２",
    "٣٣",
    "²²",
    "-1",
    "0",
    "00",
    "+1",
    "1.5",
    "1e999",
    "NaN",
    "Infinity",
    "0x10",
    "2147483648",
    str(2**63),
    "9" * 30,
    "9" * 5000,
    "\x00",
    "1\x00",
    "0001-01-01",
    "9999-12-31",
    "0000-01-01",
    "2026-02-30",
    "10000-01-01",
    "２０２６-０７-０１",
    "=1+1",
    '=HYPERLINK("http://x")',
    "@SUM(A1)",
    "",
    " ",
    "%",
    "'",
    "🙂",
    "true",
    "[]",
    "{}",
]
PREFIXES = ["", "r", "w", "w0001-01-0", "-", "1", "v"]
odd = st.one_of(
    st.sampled_from(ATOMS),
    st.tuples(st.sampled_from(PREFIXES), st.sampled_from(ATOMS)).map("".join),
    st.text(st.sampled_from([*ODD_DIGITS, *"0123456789-"]), min_size=1, max_size=12),
)
# Explicit examples, besides the generated ones: every parameter alone set to each of ALONE (the others
# absent, so that a malformed neighbour does not hide it), and all parameters at once to each of UNIFORM.
ALONE = ["²", "0001-01-01", "9999-12-31"]
UNIFORM = ["①", "٣", "１", "r²", "w9999-12-31", "\x00", "9" * 30, "-1"]


def explicit(check, first: str, firsts, second: str, seconds, lists=frozenset()):
    """``check`` with the examples of ALONE and UNIFORM over its two dictionaries of parameters."""

    def one(names, atom):
        return {n: [atom] if n in lists else atom for n in names}

    for atom in UNIFORM:
        check = example(**{first: one(firsts, atom), second: one(seconds, atom)})(check)
    for atom in ALONE:
        for name in firsts:
            check = example(**{first: one([name], atom), second: {}})(check)
        for name in seconds:
            check = example(**{first: {}, second: one([name], atom)})(check)
    return check


# --- the pages: every page of ``web`` and the parameters it reads (GET, then POST) -------------------


@dataclass(frozen=True)
class Page:
    get: tuple[str, ...] = ()
    post: tuple[str, ...] | None = None  # None: not a form; () a form without fields


BOARD = ("campaign", "unit", "action", "due_by")
WINDOW = (*BOARD, "round", "start", "end")
PAGE_PARAMS: dict[str, Page] = {
    "web:home": Page(),
    "web:tasks-my": Page(("q", "status", "campaign", "below")),
    "web:tasks-assignment": Page(),
    "web:tasks-report": Page(post=("value", "text", "period", "version")),
    "web:tasks-transition": Page(post=("name", "note", "version", "confirm_shortfall")),
    "web:tasks-comment": Page(post=("text",)),
    "web:tasks-acknowledge": Page(post=()),
    "web:tasks-pass-down": Page(
        post=(
            "keep_remainder",
            "share-TOTAL_FORMS",
            "share-INITIAL_FORMS",
            "share-0-unit",
            "share-0-target",
            "share-0-due_date",
            "share-0-note",
        )
    ),
    "web:tasks-extension": Page(post=("requested_due", "reason")),
    "web:tasks-decide": Page(post=("approve", "note")),
    "web:tasks-review": Page(("page", "q", "campaign", "action", "unit", "since", "evidence", "order")),
    "web:tasks-review-bulk": Page(("q", "unit", "since"), post=("rows", "action", "reason")),
    "web:tasks-items": Page(("campaign",)),
    "web:tasks-items-export": Page(("campaign", "format", "progress")),
    "web:tasks-item": Page(("status", "overdue", "receipt", "page")),
    "web:tasks-item-edit": Page(
        post=(
            "title",
            "measures",
            "target_text",
            "target_value",
            "deadline_text",
            "due_date",
            "lead_text",
            "lead_units",
            "cooperating_text",
            "cooperating_units",
            "confirm",
        )
    ),
    "web:tasks-campaigns": Page(),
    "web:tasks-campaign": Page(),
    "web:tasks-campaign-copy": Page(post=("name", "code", "start", "end")),
    "web:tasks-campaign-publish": Page(post=()),
    "web:tasks-campaign-close": Page(post=("note",)),
    "web:tasks-campaign-reopen": Page(post=("reason",)),
    "web:tasks-plans": Page(post=("campaign", "name", "code", "start", "end", "owner")),
    "web:tasks-plan": Page(post=("publish",)),
    "web:tasks-plan-status": Page(),
    "web:tasks-plan-file": Page(),
    "web:boards-battle": Page(BOARD),
    "web:boards-work": Page((*BOARD, "own", "overdue", "status", "page")),
    "web:boards-leader": Page(BOARD),
    "web:boards-work-chase": Page(post=(*BOARD, "own", "overdue", "status", "ids", "all", "note")),
    "web:boards-exports": Page(),
    "web:boards-export-new": Page(post=("kind", *BOARD)),
    "web:boards-export-status": Page(),
    "web:boards-export-download": Page(),
    "web:boards-ranking": Page(("campaign", "unit"), post=("campaign", "unit", *MEASURES, "laggards")),
    "web:boards-bulletin": Page(("campaign", "unit", "period")),
    "web:boards-bulletin-pdf": Page(("campaign", "unit", "period")),
    "web:stats": Page((*WINDOW, "period", "rank", "level", "zeros")),
    "web:stats-report": Page(("campaign", "unit", "day"), post=("campaign", "unit", "day", "v{indicator}")),
    "web:stats-upload": Page(post=("campaign", "unit")),
    "web:stats-sheet": Page(("campaign", "unit")),
    "web:stats-summary": Page(("campaign", "day"), post=("campaign", "day")),
    "web:stats-summary-sheet": Page(("campaign", "day")),
    "web:stats-round-report": Page(("unit",)),
    "web:stats-catalogue": Page(
        ("campaign", "rows"),
        post=(
            "form",
            "source",
            "rule",
            "days",
            "name_pattern",
            "ind-TOTAL_FORMS",
            "ind-INITIAL_FORMS",
            "ind-0-id",
            "ind-0-name",
            "ind-0-measure",
            "ind-0-seq",
            "ind-0-is_active",
            "rnd-TOTAL_FORMS",
            "rnd-INITIAL_FORMS",
            "rnd-0-id",
            "rnd-0-name",
            "rnd-0-start",
            "rnd-0-end",
            "rnd-0-delete",
        ),
    ),
    "web:notifications-inbox": Page(("page",)),
    "web:notifications-inbox-read": Page(post=()),
    "web:notifications-inbox-read-all": Page(post=()),
    "web:notifications-preferences": Page(post=("email", "webhook", "digest", "weekly")),
    "web:notifications-outbox": Page(("q", "status", "channel", "about", "page")),
    "web:notifications-outbox-retry": Page(("q", "status", "channel", "about"), post=("message",)),
    "web:notifications-outbox-message": Page(),
    "web:notifications-policy": Page(
        post=(
            "before_days",
            "on_the_day",
            "behind_weekday",
            "receipt_hours",
            "quiet_start",
            "quiet_end",
            *(f"{field}_{i}" for i in range(6) for field in ("day", "audience")),
        )
    ),
    "web:notifications-policy-reset": Page(post=()),
    "web:accounts-tokens": Page(post=()),
    "web:inspections-findings": Page(("q", "status", "overdue", "mine", "campaign", "page")),
    "web:inspections-finding-new": Page(
        ("inspection", "unit"),
        post=("inspection", "unit", "place", "description", "category", "severity", "campaign"),
    ),
    "web:inspections-finding-counts": Page(("campaign",)),
    "web:inspections-finding": Page(),
    "web:inspections-finding-answer": Page(post=("text",)),
    "web:inspections-finding-verify": Page(post=("accept", "note", "new_deadline")),
    "web:inspections-rectification": Page(),
    "web:inspections-notices": Page(("status", "page")),
    "web:inspections-notice-new": Page(
        ("unit", "inspection", "finding"), post=("unit", "inspection", "findings", "deadline", "requirements")
    ),
    "web:inspections-notice": Page(),
    "web:inspections-notice-print": Page(),
    "web:inspections-notice-acknowledge": Page(post=("next",)),
    "web:inspections-notice-pdf": Page(),
    "web:documents": Page(("campaign", "kind", "state", "page")),
    "web:documents-archive": Page(("campaign", "q", "page")),
    "web:documents-archive-xlsx": Page(("campaign", "q")),
    "web:documents-rules": Page(("campaign",), post=("kind", "step", "username", "role")),
    "web:documents-rule-delete": Page(post=()),
    "web:documents-new-bulletin": Page(post=("campaign", "unit", "period")),
    "web:documents-new-notice": Page(post=()),
    "web:documents-document": Page(
        post=("version", "title", "recipients", "opening", "requirements", "next_steps", "attachments", "cc")
    ),
    "web:documents-step": Page(post=("step", "note")),
    "web:documents-recipients": Page(post=("version", "units", "copies", "bodies", "body_copies")),
    "web:documents-acknowledge": Page(post=("unit",)),
    "web:documents-chase": Page(post=("note",)),
    "web:documents-sent": Page(post=("recipient", "channel", "sent_on")),
    "web:documents-pdf": Page(),
    "web:documents-docx": Page(),
    "web:summons": Page(("campaign", "state", "unit", "page")),
    "web:summons-new": Page(post=("units", "day", "at", "place", "attendance")),
    "web:summons-summons": Page(),
    "web:summons-hold": Page(post=("held_on", "attendees", "chaired_by", "minutes", "text_1", "deadline_1")),
    "web:summons-cancel": Page(post=("note",)),
    "web:inspections-letters": Page(("status", "unit", "overdue", "page")),
    "web:inspections-letter-new": Page(
        ("unit", "inspection", "finding"), post=("unit", "title", "risk", "requirements", "reply_by", "campaign")
    ),
    "web:inspections-letter": Page(),
    "web:inspections-letter-print": Page(),
    "web:inspections-letter-pdf": Page(),
    "web:inspections-letter-acknowledge": Page(post=()),
    "web:inspections-letter-answer": Page(post=("text",)),
    "web:inspections-letter-close": Page(post=("note",)),
    "web:inspections-letter-return": Page(post=("reason", "reply_by")),
    "web:inspections": Page(("status", "page")),
    "web:inspections-inspection-new": Page(
        ("hotspot", "kind"), post=("kind", "planned_on", "units", "hotspot", "campaign")
    ),
    "web:inspections-inspection": Page(),
    "web:inspections-inspection-start": Page(post=()),
    "web:inspections-inspection-complete": Page(
        post=("summary", "extend_to", "reason", "passed_{criterion}", "note_{criterion}")
    ),
    "web:inspections-hotspots": Page(("status",)),
    "web:inspections-hotspot-new": Page(
        post=(
            "name",
            "area",
            "unit",
            "responsible_name",
            "problems",
            "criteria",
            "listed_on",
            "deadline",
            "inspect_every_days",
            "campaign",
        ),
    ),
    "web:inspections-hotspot": Page(),
    "web:directives": Page(("campaign", "source", "level", "unit", "status", "overdue", "q", "page")),
    "web:directives-new": Page(
        post=(
            "campaign",
            "title",
            "source",
            "text",
            "instruction",
            "instructed_by",
            "instructed_on",
            "lead_units",
            "cooperating_units",
            "due_date",
            "level",
            "leader_name",
            "secret",
            "is_case",
            "case_no",
            "case_type",
            "crime_date",
            "hand_down",
        )
    ),
    "web:directives-ledger": Page(("campaign", "source", "level", "unit", "status", "overdue", "q")),
    "web:directives-directive": Page(),
    "web:directives-hand-down": Page(post=()),
    "web:directives-complete": Page(post=("report", "unit")),
    "web:directives-review": Page(post=("decision", "reason", "unit", "outcome")),
    "web:directives-rate": Page(post=("rating", "note")),
}


def web_patterns() -> dict[str, URLPattern]:
    resolver = get_resolver()
    web = next(r for r in resolver.url_patterns if getattr(r, "namespace", None) == "web")
    return {f"web:{p.name}": p for p in web.url_patterns}


def test_every_page_is_listed():
    assert set(web_patterns()) == set(PAGE_PARAMS)


# --- the API: operations and parameters from the schema ---------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...]
    body: tuple[str, ...]
    lists: frozenset[str]  # body fields that are lists
    multipart: bool


def api_operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})

    def properties(media) -> dict:
        ref = media.get("schema", {})
        if "$ref" in ref:
            ref = components[ref["$ref"].rsplit("/", 1)[1]]
        if ref.get("type") == "array":  # many=True bodies (bulk transition, pass-down): one row
            ref = ref.get("items", {})
            if "$ref" in ref:
                ref = components[ref["$ref"].rsplit("/", 1)[1]]
        return ref.get("properties", {})

    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            query = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            content = op.get("requestBody", {}).get("content", {})
            media = content.get("application/json") or content.get("multipart/form-data") or {}
            props = properties(media)
            found.append(
                Operation(
                    method,
                    path,
                    query,
                    tuple(props),
                    frozenset(k for k, v in props.items() if v.get("type") == "array"),
                    "application/json" not in content and bool(content),
                )
            )
    return found


OPERATIONS = api_operations()

# --- the world: the API matrix's, plus a round of concentrated operations -----------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    def build():
        world = build_world(tmp_path_factory.mktemp("odd-plan"), tmp_path_factory.mktemp("odd-media"))
        xj = world.campaigns["XJ"]
        Round.objects.create(campaign=xj, name="第一轮", start=date(2026, 7, 7), end=date(2026, 7, 9))
        return world

    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


@pytest.fixture
def world(shared_world, db, settings) -> World:
    settings.MEDIA_ROOT = str(shared_world.media_root)
    return shared_world


def objects(w: World) -> dict[str, int]:
    """The id put in a path, by what the path is about: objects of the station seen by both personas."""
    s = w.supervision
    xj = w.campaigns["XJ"]
    message = Message.objects.filter(recipient=w.people["station_lead"]).first()
    return {
        "assignment": w.work[SITE].pk,
        "assignments": w.work[SITE].pk,
        "item": xj.items.first().pk,
        "items": xj.items.first().pk,
        "extension": w.extension[SITE].pk,
        "extension-requests": w.extension[SITE].pk,
        "evidence": w.evidence[SITE].pk,
        "finding": s.finding[SITE].pk,
        "findings": s.finding[SITE].pk,
        "notice": s.notice[SITE].pk,
        "notices": s.notice[SITE].pk,
        "document": w.documents["doc_draft"][SITE].pk,
        "documents": w.documents["doc_draft"][SITE].pk,
        "step": w.documents["doc_checking"][SITE].pk,
        "new": s.notice[SITE].pk,  # documents/new/notice/<pk>/
        "pdf": w.documents["doc_issued"][SITE].pk,
        "docx": w.documents["doc_issued"][SITE].pk,
        "letter": s.letter_answered[SITE].pk,
        "risk-letters": s.letter_answered[SITE].pk,
        "risk-letter-files": s.letter_file[SITE].pk,
        "inspection": s.tour["tour"].pk,
        "inspections": s.tour["tour"].pk,
        "hotspot": s.hotspot[SITE].pk,
        "hotspots": s.hotspot[SITE].pk,
        "directive": w.directive[SITE].pk,
        "directives": w.directive[SITE].pk,
        "finding-photos": s.photo[SITE].pk,
        "campaigns": xj.pk,
        "campaign": xj.pk,
        "actions": xj.actions.first().pk,
        "units": w.units[SITE].pk,
        "users": w.people["station_lead"].pk,
        "round": xj.rounds.first().pk,
        "inbox": message.pk if message else 1,
        "outbox": message.pk if message else 1,
        "export": 1,
        "exports": 1,
    }


def real_values(w: World) -> dict[str, list[str]]:
    """Real values of the parameters, drawn besides the odd ones so that the deeper paths run."""
    xj = w.campaigns["XJ"]
    s = w.supervision
    r = xj.rounds.first()
    return {
        "campaign": [str(xj.pk)],
        "unit": [SITE, "3303", "330310"],
        "units": [SITE],
        "action": [str(xj.actions.first().pk)],
        "round": [str(r.pk)],
        "period": [f"r{r.pk}", "w2026-07-06"],
        "day": ["2026-07-08", "2026-07-02"],
        "start": ["2026-07-01"],
        "end": ["2026-07-20"],
        "due_by": ["2026-08-01"],
        "inspection": [str(s.tour["tour"].pk)],
        "hotspot": [str(s.hotspot[SITE].pk)],
        "finding": [str(s.finding[SITE].pk)],
        "findings": [str(s.finding[SITE].pk)],
        "kind": ["battle", "routine", "joint"],
        "status": ["open", "pending"],
        "message": [str(objects(w)["outbox"])],
        "name": ["start", "submit"],
        "approve": ["1"],
        "accept": ["0", "1"],
        "team": ["station_lead", "inspector"],
        "place": ["夜市"],
        "description": ["占道"],
        "text": ["整改完毕"],
        "requirements": ["立即整改"],
        "title": ["夜市风险"],
        "risk": ["通道堵塞"],
        "reply_by": ["2026-08-01"],
        "reason": ["不具体"],
        "criteria": ["无占道经营"],
        "responsible_name": ["赵关"],
        "lead_units": ["330302", "330302 33031001"],
        "cooperating_units": ["33031003", ""],
        # the statistics catalogue page: which of its forms, and a table of one row
        "form": ["indicators", "rounds", "recurring", "copy"],
        "rule": ["weekends", "month_start"],
        "ind-TOTAL_FORMS": ["1"],
        "ind-INITIAL_FORMS": ["0", "1"],
        "rnd-TOTAL_FORMS": ["1"],
        "rnd-INITIAL_FORMS": ["0", "1"],
        "rnd-0-start": ["2026-07-20"],
        "rnd-0-end": ["2026-07-21"],
    }


def params(names, real: dict[str, list[str]], *, lists=frozenset()) -> st.SearchStrategy[dict]:
    """Each parameter absent, real or odd; a list parameter may be one odd value in a list."""

    def value(name):
        plain = st.one_of(odd, st.sampled_from(real[name])) if name in real else odd
        return st.one_of(plain, st.lists(plain, min_size=1, max_size=2)) if name in lists else plain

    return st.fixed_dictionaries({}, optional={n: value(n) for n in names})


def client_for(w: World, persona: str) -> Client:
    client = Client()
    client.force_login(w.people[persona])
    return client


def fill(name: str, w: World) -> list[str]:
    """A page's parameter names with the world's ids (``v{indicator}``, ``passed_{criterion}``)."""
    indicator = Indicator.objects.filter(campaign=w.campaigns["XJ"]).first()
    criterion = w.supervision.hotspot[SITE].criteria.first()
    return name.format(indicator=indicator.pk if indicator else 0, criterion=criterion.pk if criterion else 0)


def answered(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])


SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def page_cases():
    return [(name, persona) for name in PAGE_PARAMS for persona in PERSONAS if PAGE_PARAMS[name] != Page()]


@pytest.mark.parametrize(("name", "persona"), page_cases())
def test_page_takes_odd_parameters(world, name, persona):
    pattern = web_patterns()[name]
    route = str(pattern.pattern)
    ids = objects(world)
    key = name.removeprefix("web:").partition("-")[2].split("-")[0]  # web:<domain>-<what>-…: the <what>
    path = "/" + re.sub(r"<int:pk>", str(ids.get(key, 1)), route)
    page = PAGE_PARAMS[name]
    client = client_for(world, persona)
    real = real_values(world)
    gets = [fill(n, world) for n in page.get]
    posts = [fill(n, world) for n in page.post or ()]

    @SETTINGS
    @given(query=params(gets, real), form=params(posts, real, lists={"units", "findings"}))
    def check(query, form):
        if page.get:
            answered(client.get(path, query), (path, query))
        if page.post is not None:
            answered(client.post(f"{path}?{urlencode(query)}", form), (path, query, form))

    explicit(check, "query", gets, "form", posts, lists={"units", "findings"})()


def api_cases():
    return [(op, persona) for op in OPERATIONS for persona in PERSONAS if op.query or op.body]


@pytest.mark.parametrize(
    ("op", "persona"), api_cases(), ids=lambda v: f"{v.method} {v.path}" if isinstance(v, Operation) else v
)
def test_api_takes_odd_parameters(world, op, persona):
    ids = objects(world)
    parts = op.path.strip("/").split("/")
    path = re.sub(r"\{id\}", str(ids.get(parts[2], 1)), op.path)
    client = client_for(world, persona)
    real = real_values(world)

    @SETTINGS
    @given(query=params(op.query, real), body=params(op.body, real, lists=op.lists))
    def check(query, body):
        send = getattr(client, op.method)
        if op.method == "get":
            answered(send(path, query), (op.method, path, query))
        elif op.multipart:
            answered(send(path, {k: v for k, v in body.items()}), (op.method, path, body))
        else:
            answered(send(path, json.dumps(body), content_type="application/json"), (op.method, path, body))

    explicit(check, "query", op.query, "body", op.body, lists=op.lists)()


def test_what_the_tester_sent_is_answered_without_an_error(world):
    """The requests the outside tester saw answered with a 500: a malformed id or period a page only picks
    with is left out (the page as without it); a date outside 2000–2099 in a board's window is a 400
    naming the parameter, on the page as in the API."""
    hq, lead = client_for(world, "hq"), client_for(world, "station_lead")
    r = world.campaigns["XJ"].rounds.first()
    bulletin = hq.get("/board/bulletin/?period=r²")
    assert bulletin.status_code == 200 and bulletin.context["chosen"].startswith("w")  # the default week
    to_report = lead.get(f"/stats/rounds/{r.pk}/report/?unit=²")
    assert to_report.status_code == 302 and "unit=" not in to_report["Location"]
    assert to_report["Location"].startswith("/stats/report/?")
    new = hq.get("/findings/new/?inspection=²")
    assert new.status_code == 200 and new.context["inspection"] is None
    for parameter, day in (("start", "0001-01-01"), ("end", "9999-12-31")):
        api = hq.get(f"/api/v1/stats/totals/?{parameter}={day}")
        assert api.status_code == 400 and list(api.json()) == [parameter], api.content
        assert "2000-01-01" in api.json()[parameter][0]
        page = hq.get(f"/stats/?{parameter}={day}")
        assert page.status_code == 400 and list(page.context["form"].errors) == [parameter]
