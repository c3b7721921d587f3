"""The access-control matrix of the REST API: every endpoint under /api/v1/ × every persona × objects
of the persona's own unit, a subordinate unit, a parent unit and the other branch.

``EXPECTED`` holds one rule per (path template, method). ``test_every_endpoint_has_a_rule`` compares it
with the OpenAPI schema and with the URL conf, so an endpoint added without a rule fails the suite by
name. Each rule says which object a call acts on, which right it needs (view, report, review) and
which body makes it succeed; the expected answer comes from the oracle in ``matrix_support`` (the
persona table and the unit tree, not ``accounts.scope``):

- anonymous: 401 or 403 (the token endpoint aside);
- object out of the persona's view scope: 404, for GET and for every POST, with the same body as for
  an id that does not exist, and nothing written;
- in scope without the right: 403 and nothing written (a list shows only the rows in scope);
- in scope with the right: the rule's success answer, or the business refusal the rule names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model, QuerySet
from django.urls import URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import scope
from accounts.models import Unit, User
from audit.models import AuditEvent
from tasks.models import Action, Assignment, Campaign, Evidence, ExtensionRequest, Item

from .matrix_support import (
    COOP,
    COOP_LEADS,
    NAME,
    PASS_DOWN_TO,
    PERSONAS,
    PNG,
    SITES,
    Persona,
    World,
    build_world,
    is_under,
    mark,
    may_report,
    may_review,
    png_upload,
    relation,
    sees_campaign,
    sees_unit,
    unit_code_of,
)

pytestmark = pytest.mark.django_db

GHOST = 2_000_000_007  # an id no row has


# --- the rules -------------------------------------------------------------------------------------

Body = Callable[[Model, int], Any]  # (the object, the id to put in the body) -> request data


@dataclass(frozen=True)
class Bug:
    """A known permission bug of the app: the answer it gives instead of the expected one, and why."""

    status: int
    reason: str


@dataclass(frozen=True)
class Do:
    """One way of calling an object-bound endpoint."""

    target: str  # a key of TARGETS: work, review, coop, evidence, extension, unit, user, campaign …
    right: str = "view"  # view | report | review
    ok: int = 200
    body: Body | None = None
    label: str = ""
    fmt: str = "json"
    writes: bool = False  # a success records an audit event
    refusal: Callable[[str], int | None] = lambda key: None  # a legitimate business refusal (by target key)
    known_bug: Callable[[Persona, str], Bug | None] = lambda persona, key: None  # see test_object_endpoint
    check: Callable[[Any, Model, str], None] | None = None  # more assertions on a success (response, obj, key)


@dataclass(frozen=True)
class Object:
    """An endpoint acting on one object: ``{id}`` in the path, or (bulk) the object's id in the body."""

    does: tuple[Do, ...]


@dataclass(frozen=True)
class Listing:
    """A list endpoint: it shows exactly the rows in scope."""

    rows: Callable[[], QuerySet]  # every row
    scoped: Callable[[User], QuerySet]  # what accounts.scope lets the user see
    unit: Callable[[Any], str | None]  # the unit code deciding a row's visibility
    from_above: bool = False  # campaigns (and their actions, items) are seen from below the owner too
    filters: tuple[tuple[str, Callable[[World], str], Callable[[World, Any], bool]], ...] = ()


@dataclass(frozen=True)
class TokenAuth:
    """POST /auth/token/: open to anyone holding a password."""


@dataclass(frozen=True)
class Root:
    """The router's index of endpoints: any authenticated user."""


def status_is(status: str):
    def check(response, obj, key):
        assert response.json()["status"] == status

    return check


def same_id(response, obj, key):
    assert response.json()["id"] == obj.pk


def contains(what: str):
    def check(response, obj, key):
        assert mark(key, what) in response.content.decode()

    return check


def non_empty(response, obj, key):
    assert response.json(), "an empty answer"


def json_list(response, obj, key):
    assert isinstance(response.json(), list)


def png_download(response, obj, key):
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]


def station_has_nothing_under_it(key: str) -> int | None:
    """Pass-down from a station: there is no unit under it, so even the lead is refused (400)."""
    return 400 if PASS_DOWN_TO[key] is None else None


def pass_down_body(a: Assignment, pk: int):
    return [{"unit": PASS_DOWN_TO[a.unit.code] or a.unit.code, "target": "1"}]


def transition(name: str) -> Body:
    return lambda a, pk: {"name": name}


def bulk(name: str) -> Body:
    return lambda a, pk: [{"id": pk, "name": name}]


def approve(x: ExtensionRequest, pk: int):
    return {"approve": True, "note": "同意"}


def extension_body(a: Assignment, pk: int):
    return {"requested_due": str(a.due_date + timedelta(days=7)), "reason": "矩阵测试延期"}


def report_body(a: Assignment, pk: int):
    return {"value": "2", "text": "矩阵测试填报", "files": [png_upload()]}


def campaigns_scoped(user) -> QuerySet:
    return Campaign.objects.filter(scope.scope_for(user, scope.Action.VIEW).q("owner", with_ancestors=True))


def in_campaign_xs(query: str = "campaign"):
    return (
        (
            f"{query}=XS",
            lambda w: f"{query}={w.campaigns['XS'].pk}",
            lambda w, r: r.campaign_id == w.campaigns["XS"].pk,
        ),
    )


V1 = "/api/v1"
# Targets (see TARGETS, matrix_support.World): work = an in-progress assignment of each site with a
# report + PNG, a comment and a pending extension request; review = a submitted one; coop = submitted
# cooperating work; evidence, extension, coop_extension hang on those. Rights: view (a role in scope),
# report (unit lead over the unit), review (HQ over the unit, or — for cooperating work — a lead over
# one of the item's lead units who does not report for the unit itself).
EXPECTED: dict[tuple[str, str], Object | Listing | TokenAuth | Root] = {
    (f"{V1}/", "GET"): Root(),
    (f"{V1}/auth/token/", "POST"): TokenAuth(),
    # units and users: read-only, the subtree
    (f"{V1}/units/", "GET"): Listing(
        rows=Unit.objects.all,
        scoped=lambda user: scope.units(user),
        unit=lambda u: u.code,
        filters=(("under=330320", lambda w: "under=330320", lambda w, u: is_under(u.code, "330320")),),
    ),
    (f"{V1}/units/{{id}}/", "GET"): Object((Do("unit", check=same_id),)),
    (f"{V1}/users/", "GET"): Listing(
        rows=lambda: User.objects.filter(is_active=True).select_related("unit"),
        scoped=lambda user: scope.restrict(User.objects.filter(is_active=True), user),
        unit=lambda u: u.unit.code if u.unit else None,
    ),
    (f"{V1}/users/{{id}}/", "GET"): Object((Do("user", check=same_id),)),
    # campaigns, lines of action, items: read-only, seen from inside and from below the owner
    (f"{V1}/campaigns/", "GET"): Listing(
        rows=lambda: Campaign.objects.select_related("owner"),
        scoped=campaigns_scoped,
        unit=lambda c: c.owner.code,
        from_above=True,
    ),
    (f"{V1}/campaigns/{{id}}/", "GET"): Object((Do("campaign", check=same_id),)),
    (f"{V1}/actions/", "GET"): Listing(
        rows=lambda: Action.objects.select_related("campaign__owner"),
        scoped=lambda user: Action.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda a: a.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/actions/{{id}}/", "GET"): Object((Do("action", check=same_id),)),
    (f"{V1}/items/", "GET"): Listing(
        rows=lambda: Item.objects.select_related("campaign__owner"),
        scoped=lambda user: Item.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda i: i.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/items/{{id}}/", "GET"): Object((Do("item", check=same_id),)),
    # assignments and everything hanging on one
    (f"{V1}/assignments/", "GET"): Listing(
        rows=lambda: Assignment.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(Assignment.objects.all(), user),
        unit=lambda a: a.unit.code,
        filters=(("unit=330320", lambda w: "unit=330320", lambda w, a: is_under(a.unit.code, "330320")),),
    ),
    (f"{V1}/assignments/{{id}}/", "GET"): Object((Do("work", check=same_id),)),
    (f"{V1}/assignments/{{id}}/transition/", "POST"): Object(
        (
            Do("work", "report", body=transition("submit"), label="submit", writes=True, check=status_is("submitted")),
            Do("review", "review", body=transition("accept"), label="accept", writes=True, check=status_is("accepted")),
            Do(
                "coop",
                "review",
                body=transition("accept"),
                label="accept coop",
                writes=True,
                check=status_is("accepted"),
            ),
        )
    ),
    (f"{V1}/assignments/bulk-transition/", "POST"): Object(
        (
            Do("work", "report", body=bulk("submit"), label="submit", writes=True),
            Do("review", "review", body=bulk("accept"), label="accept", writes=True),
            Do("coop", "review", body=bulk("accept"), label="accept coop", writes=True),
        )
    ),
    (f"{V1}/assignments/{{id}}/reports/", "GET"): Object((Do("work", check=contains("report")),)),
    (f"{V1}/assignments/{{id}}/reports/", "POST"): Object(
        (Do("work", "report", ok=201, body=report_body, fmt="multipart", writes=True),)
    ),
    (f"{V1}/assignments/{{id}}/comments/", "GET"): Object((Do("work", check=contains("comment")),)),
    (f"{V1}/assignments/{{id}}/comments/", "POST"): Object(
        (Do("work", "view", ok=201, body=lambda a, pk: {"text": "矩阵测试批注"}, writes=True),)
    ),
    (f"{V1}/assignments/{{id}}/extensions/", "GET"): Object((Do("work", check=contains("reason")),)),
    # on the submitted assignment: it has no pending request yet
    (f"{V1}/assignments/{{id}}/extensions/", "POST"): Object(
        (Do("review", "report", ok=201, body=extension_body, writes=True),)
    ),
    (f"{V1}/assignments/{{id}}/pass-down/", "POST"): Object(
        (
            Do(
                "work",
                "report",
                ok=201,
                body=pass_down_body,
                writes=True,
                refusal=station_has_nothing_under_it,
            ),
        )
    ),
    (f"{V1}/assignments/{{id}}/timeline/", "GET"): Object((Do("work", check=non_empty),)),
    (f"{V1}/assignments/{{id}}/check-ins/", "GET"): Object((Do("work", check=json_list),)),
    # evidence files and extension requests: the scope of their assignment
    (f"{V1}/evidence/", "GET"): Listing(
        rows=lambda: Evidence.objects.select_related("assignment__unit"),
        scoped=lambda user: scope.restrict(Evidence.objects.all(), user, via="assignment__unit"),
        unit=lambda e: e.assignment.unit.code,
    ),
    (f"{V1}/evidence/{{id}}/", "GET"): Object((Do("evidence", check=same_id),)),
    (f"{V1}/evidence/{{id}}/download/", "GET"): Object((Do("evidence", check=png_download),)),
    (f"{V1}/extension-requests/", "GET"): Listing(
        rows=lambda: ExtensionRequest.objects.select_related("assignment__unit"),
        scoped=lambda user: scope.restrict(ExtensionRequest.objects.all(), user, via="assignment__unit"),
        unit=lambda x: x.assignment.unit.code,
        filters=(
            (
                "assignment=west work",
                lambda w: f"assignment={w.work['330320'].pk}",
                lambda w, x: x.assignment_id == w.work["330320"].pk,
            ),
        ),
    ),
    (f"{V1}/extension-requests/{{id}}/", "GET"): Object((Do("extension", check=same_id),)),
    (f"{V1}/extension-requests/{{id}}/decide/", "POST"): Object(
        (
            Do("extension", "review", body=approve, writes=True, check=status_is("approved")),
            Do(
                "coop_extension",
                "review",
                body=approve,
                label="coop",
                writes=True,
                check=status_is("approved"),
            ),
        )
    ),
}

# endpoints the schema leaves out on purpose (the router's index); everything else must be in it
NOT_IN_SCHEMA = {(f"{V1}/", "GET")}

# the objects each kind of target is tried on (keys for World.object); see matrix_support
TARGETS = {
    "work": SITES,
    "review": SITES,
    "evidence": SITES,
    "extension": SITES,
    "coop": tuple(COOP),
    "coop_extension": tuple(COOP),
    "unit": ("3303", "330310", "33031001", "330320", "33032001"),
    "user": ("hq", "east_lead", "station_lead", "west_lead"),
    "campaign": ("XJ", "XS"),
    "action": ("XJ", "XS"),
    "item": ("XJ", "XS"),
}
CAMPAIGN_KINDS = {"campaign", "action", "item"}


# --- the world, built once per module (see matrix_support) ----------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The fixtures' city and plan plus the objects the endpoints need, rolled back after the module.

    Built once per module (per xdist worker) inside a transaction; each case runs in a savepoint of it
    (``world`` below), as with Django's ``TestCase.setUpTestData``, so a case costs little more than its
    requests. (``city`` and ``published`` are function-scoped: rebuilt per case they would cost 0.25 s.)
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            made = build_world(tmp_path_factory.mktemp("matrix-plan"), tmp_path_factory.mktemp("matrix-media"))
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield made
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db, settings) -> World:
    """The world for one case, in a savepoint of its transaction (pytest-django's ``db``), rolled back after."""
    settings.MEDIA_ROOT = str(shared_world.media_root)  # where the world's evidence files are
    return shared_world


def client_for(world: World, persona: Persona) -> APIClient:
    client = APIClient()
    if not persona.anonymous:
        client.force_authenticate(world.user(persona))
    return client


# --- the cases -------------------------------------------------------------------------------------


def short(path: str) -> str:
    return path.removeprefix(V1)


def visible(persona: Persona, kind: str, key: str) -> bool:
    code = unit_code_of(kind, key)
    return sees_campaign(persona, code) if kind in CAMPAIGN_KINDS else sees_unit(persona, code)


def object_cases():
    for (path, method), rule in EXPECTED.items():
        if not isinstance(rule, Object):
            continue
        for do in rule.does:
            for persona in PERSONAS.values():
                for key in TARGETS[do.target]:
                    label = f"[{do.label}]" if do.label else ""
                    where = f"{relation(persona, unit_code_of(do.target, key))}:{do.target}@{key}"
                    yield pytest.param(
                        path, method, do, persona, key, id=f"{method} {short(path)}{label} {persona.name} {where}"
                    )


def list_cases():
    for (path, method), rule in EXPECTED.items():
        if not isinstance(rule, Listing):
            continue
        for flt in (None, *rule.filters):
            for persona in PERSONAS.values():
                query = f"?{flt[0]}" if flt else ""
                yield pytest.param(path, rule, flt, persona, id=f"{method} {short(path)}{query} {persona.name}")


def expected_answer(do: Do, persona: Persona, obj: Model, key: str) -> tuple[set[int], str]:
    if persona.anonymous:
        return {401, 403}, "anonymous"
    if not visible(persona, do.target, key):
        return {404}, "out of scope"
    code = unit_code_of(do.target, key)
    if do.right == "report":
        allowed = may_report(persona, code)
    elif do.right == "review":
        allowed = may_review(persona, obj.assignment if isinstance(obj, ExtensionRequest) else obj)
    else:
        allowed = True
    if not allowed:
        return {403}, f"in scope, no {do.right} right"
    refusal = do.refusal(key)
    if refusal:
        return {refusal}, "business refusal"
    return {do.ok}, "allowed"


def call(client: APIClient, path: str, method: str, do: Do, obj: Model, pk: int):
    url = path.replace("{id}", str(pk))
    if method == "GET":
        return client.get(url)
    body = do.body(obj, pk) if do.body else {}
    return client.post(url, body, format=do.fmt)


def secrets(world: World, do: Do, obj: Model, key: str) -> list[str]:
    """Texts of the object an answer to an outsider must not contain."""
    code = unit_code_of(do.target, key)
    found = [NAME[code], f'"{code}"', mark(key, "report"), mark(key, "comment"), mark(key, "reason")]
    if isinstance(obj, Assignment):
        found.append(obj.item.title)
    return found


def swap(value, old, new):
    if isinstance(value, dict):
        return {k: swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [swap(v, old, new) for v in value]
    return new if value == old else value


@pytest.mark.parametrize(("path", "method", "do", "persona", "key"), list(object_cases()))
def test_object_endpoint(world, path, method, do, persona, key):
    obj = world.object(do.target, key)
    want, why = expected_answer(do, persona, obj, key)
    client = client_for(world, persona)
    events = AuditEvent.objects.count()
    response = call(client, path, method, do, obj, obj.pk)
    if bug := do.known_bug(persona, key):
        # xfail, but only with the very answer the bug gives: another answer (a worse one) fails, and so
        # does the right one (fixed: drop the known_bug of the rule)
        assert response.status_code not in want, f"fixed? {bug.reason}: now {response.status_code}, drop known_bug"
        assert response.status_code == bug.status, (
            f"expected {sorted(want)} (known bug: {bug.status}), got {response.status_code}"
        )
        pytest.xfail(f"{persona.name} on {do.target} {key}: got {bug.status}, expected {sorted(want)}. {bug.reason}")
    assert response.status_code in want, (
        f"{persona.name} {method} {path} on {do.target} {key} ({why}): expected {sorted(want)}, "
        f"got {response.status_code} {response.content[:300]!r}"
    )
    written = AuditEvent.objects.count() - events
    if response.status_code >= 400:
        assert written == 0, f"a refused call wrote {written} audit events"
        body = response.content.decode()
        if not visible(persona, do.target, key):
            for secret in secrets(world, do, obj, key):
                assert secret not in body, f"the {response.status_code} answer leaks {secret!r}: {body[:300]}"
        if response.status_code == 404:
            ghost = call(client, path, method, do, obj, GHOST)
            assert ghost.status_code == 404
            assert swap(ghost.json(), GHOST, obj.pk) == response.json(), "out of scope differs from missing"
    else:
        if do.writes:
            assert written >= 1, "a change without an audit event"
        if do.check:
            do.check(response, obj, key)


def all_ids(client: APIClient, url: str) -> list[int]:
    out: list[int] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        out += [row["id"] for row in page["results"]]
        url = page["next"]
    return out


@pytest.mark.parametrize(("path", "rule", "flt", "persona"), list(list_cases()))
def test_list_endpoint(world, path, rule, flt, persona):
    client = client_for(world, persona)
    url = path + (f"?{flt[1](world)}" if flt else "")
    if persona.anonymous:
        response = client.get(url)
        assert response.status_code in (401, 403)
        assert "results" not in response.json()
        return
    got = all_ids(client, url)
    assert len(got) == len(set(got)), "a row listed twice"
    keep = (lambda row: flt[2](world, row)) if flt else (lambda row: True)
    seen = sees_campaign if rule.from_above else sees_unit
    oracle = {row.pk for row in rule.rows() if keep(row) and seen(persona, rule.unit(row))}
    scoped = {row.pk for row in rule.scoped(world.user(persona)) if keep(row)}
    assert set(got) == scoped, (
        f"the list differs from accounts.scope: extra {set(got) - scoped}, missing {scoped - set(got)}"
    )
    assert scoped == oracle, (
        f"accounts.scope differs from the rules: extra {scoped - oracle}, missing {oracle - scoped}"
    )
    if persona.role is None:
        assert got == []


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_token_endpoint(world, persona):
    """POST /auth/token/ needs no session: right password → a token of that user; wrong → 400, no token."""
    assert isinstance(EXPECTED[(f"{V1}/auth/token/", "POST")], TokenAuth)
    client = APIClient()
    if persona.anonymous:
        response = client.post(f"{V1}/auth/token/", {"username": "hq", "password": "wrong"})
        assert response.status_code == 400 and "token" not in response.json()
        return
    user = world.user(persona)
    response = client.post(f"{V1}/auth/token/", {"username": user.username, "password": f"pw-{user.username}"})
    assert response.status_code == 200, response.content
    assert Token.objects.get(key=response.json()["token"]).user_id == user.pk


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_api_root(world, persona):
    assert isinstance(EXPECTED[(f"{V1}/", "GET")], Root)
    response = client_for(world, persona).get(f"{V1}/")
    assert response.status_code in ({401, 403} if persona.anonymous else {200})


# --- no endpoint without a rule --------------------------------------------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def schema_endpoints() -> set[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {(p, m.upper()) for p, ops in paths.items() if p.startswith(f"{V1}/") for m in ops if m in HTTP_METHODS}


def _template(pattern) -> str:
    text = str(pattern).lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)  # regex groups (the router)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)  # path() converters
    return text.replace("\\.", ".").replace("{pk}", "{id}")


def _methods(callback) -> set[str]:
    if actions := getattr(callback, "actions", None):  # a viewset route (DRF adds "head" on the first GET)
        return {m.upper() for m in actions if m not in ("options", "head")}
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        return {m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)}
    return {"ANY"}  # a plain function view


def routed_endpoints() -> set[tuple[str, str]]:
    """(path template, method) of every route under /api/v1/ in the URL conf, format suffixes aside."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str):
        for entry in patterns:
            route = prefix + _template(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif route.startswith(f"{V1}/") and "{format}" not in route:
                found.update((route, m) for m in _methods(entry.callback))

    walk(get_resolver().url_patterns, "/")
    return found


def test_every_endpoint_has_a_rule():
    schema, routed = schema_endpoints(), routed_endpoints()
    missing = sorted((schema | routed) - EXPECTED.keys())
    assert not missing, "endpoints without an access rule in EXPECTED (tests/test_api_matrix.py): " + ", ".join(
        f"{m} {p}" for p, m in missing
    )
    stale = sorted(EXPECTED.keys() - (schema | routed))
    assert not stale, "rules for endpoints that no longer exist: " + ", ".join(f"{m} {p}" for p, m in stale)
    hidden = sorted(routed - schema - NOT_IN_SCHEMA)
    assert not hidden, "routes missing from the OpenAPI schema: " + ", ".join(f"{m} {p}" for p, m in hidden)


def test_every_object_rule_is_tried_on_every_persona_and_relation():
    cases = [p.values for p in object_cases()]
    for (path, method), rule in EXPECTED.items():
        if isinstance(rule, Object):
            for do in rule.does:
                tried = {(c[3].name, c[4]) for c in cases if c[0] == path and c[2] is do}
                assert tried == {(p, k) for p in PERSONAS for k in TARGETS[do.target]}, (method, path)
    relations = {relation(p, k) for p in PERSONAS.values() for k in SITES}
    assert relations == {"own", "sub", "parent", "other", "any"}


def test_the_personas_are_the_city_fixtures(world):
    """The oracle's persona table matches the grants the ``city`` fixture made."""
    for persona in PERSONAS.values():
        if persona.anonymous:
            continue
        user = world.user(persona)
        grants = {(g.role, g.unit.code) for g in user.grants.select_related("unit")}
        assert grants == ({(persona.role, persona.anchor)} if persona.role else set()), persona.name
        assert user.unit.code == (persona.anchor if persona.role is None else user.unit.code)


def test_the_world_has_what_the_cases_need(world):
    assert {a.status for a in world.review.values()} == {"submitted"}
    assert {a.status for a in world.work.values()} == {"in_progress"}
    assert {x.status for x in world.extension.values()} == {"pending"}
    assert all(e.content_type == "image/png" for e in world.evidence.values())
    assert not any(ExtensionRequest.objects.filter(assignment__in=world.review.values()))
    assert {a.status for a in world.coop.values()} == {"submitted"}
    assert {x.status for x in world.coop_extension.values()} == {"pending"}
    for unit, coop in world.coop.items():
        leads = Assignment.objects.filter(item=coop.item, role="lead").values_list("unit__code", flat=True)
        assert (coop.role, set(leads)) == ("coop", set(COOP_LEADS[unit]))
