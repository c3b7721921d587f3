"""The access-control matrix of the pages: every URL pattern outside /api/ (the pages of ``web``, sign-in and
sign-out, the language switch, the admin) × every persona × objects of the persona's own unit, a
subordinate unit, a parent unit and the other branch.

``EXPECTED`` holds one rule per pattern (its name, or its route when it has none); the admin's rules are
generated from ``admin.site._registry`` and ``ADMIN_MODELS`` below. ``test_every_page_has_a_rule``
compares them with the URL conf, so a page added without a rule fails the suite by name. Expected
answers come from the oracle in ``matrix_support`` (the persona table and the unit tree), never from
``accounts.scope``:

- anonymous: a redirect to ``/accounts/login/?next=…`` (the admin's own login for the admin); only
  sign-in, the language switch, the health probe and treebeard's static translation catalogue answer
  without a session;
- an object out of the persona's view scope: 404, the same body as for an id that does not exist, with
  none of the object's texts, and nothing written;
- in scope without the right: 403 and nothing written. A page of one role (HQ's review and outbox, the
  lead's rectification and statistics report, the inspector's "new" forms) asks for that role before it
  looks at any object: without it, 403 whatever the id. Where a view deliberately hides instead, the
  rule says so with ``refused=404``: a notice for a unit the user may not inspect, statistics of a unit
  it may not report for, a message about a unit HQ does not manage — as the API does for the same
  (and the retry of such a message redirects as every retry does, having retried nothing);
- a creation naming a unit the form does not offer is a 400 ("not one of the choices"), the same as an
  unknown code, so the unit is not disclosed;
- in scope with the right: 200 (GET) or the success redirect (POST), with an audit event for a write.

Every page shown is also read: it may link only to objects the persona may see, offer only units it
may see, and carry no marked text (``matrix_support.mark``) of a unit out of its scope.

The admin: a user without a role is not staff (redirected to the admin's login); a role holder is staff
with the view permission of the models of its work (HQ also add and change), rows scoped by
``utilities.adminkit.ScopedAdminMixin``; an object out of scope is "missing" (Django's redirect to the admin
index), and a write needs HQ over the object's unit (``utilities.adminkit.ManagedWritesMixin``), its forms
offering only such units and people. Nobody deletes from the admin but HQ lifting a sign-in lock of
its people; the audit trail is read-only even for a superuser.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model, Q
from django.test import Client, RequestFactory, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from rest_framework.authtoken.models import Token, TokenProxy

from accounts.models import Role, RoleGrant, Unit, User
from accounts.services import issue_token
from audit.models import AuditEvent, SecurityEvent
from boards.models import Export, Weights
from directives.models import Directive
from documents.models import Document, Summons, SummonsCommitment
from inspections.models import Answer, Finding, Hotspot, Inspection, LetterFile, Notice, Photo, RiskLetter
from notifications.models import Message, MessageTemplate, Policy, Preference, Reminder
from stats.models import Figure, Indicator, Round
from tasks.models import (
    Assignment,
    Campaign,
    Comment,
    Evidence,
    ExtensionRequest,
    Item,
    PlanUpload,
    ProgressReport,
)
from tasks.services.plan_uploads import preview_plan

from . import conftest as city_conftest
from .matrix_support import (
    DIRECTIVE_IN,
    LEAD_OF,
    NAME,
    OWNER_OF,
    PASS_DOWN_TO,
    PNG,
    SECRET_AT,
    SITES,
    TOUR,
    WEST_CAMPAIGN,
    WEST_PLAN,
    Persona,
    World,
    build_world,
    is_under,
    kept_for_the_module,
    mark,
    may_enter,
    may_inspect,
    may_report,
    may_review,
    may_verify,
    relation,
    sees_campaign,
    sees_secret,
    sees_unit,
    unit_code_of,
)
from .matrix_support import PERSONAS as API_PERSONAS
from .tasks.planfiles import PLAN, write_xlsx

pytestmark = pytest.mark.django_db

GHOST = 2_000_000_007  # an id no row has
GHOST_UNIT = "99887766"  # a unit code no unit has
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
MODEL_BACKEND = "accounts.backends.ScopedModelBackend"

# The API matrix's personas, and HQ over one branch: the only persona whose HQ rights stop somewhere,
# so the only one that can tell "HQ" from "HQ over this unit" (review, outbox, weights, admin writes).
PERSONAS = {**API_PERSONAS, "east_hq": Persona("east_hq", Role.HQ, "330310")}
STAFF = {name for name, p in PERSONAS.items() if p.role is not None}  # grant_role makes a role holder staff
# where the home page sends a role holder: the first of its roles in this order (web.pages.home)
LANDING = (
    (Role.UNIT_LEAD, "/my/"),
    (Role.HQ, "/review/"),
    (Role.LEADER, "/leader/"),
    (Role.INSPECTOR, "/inspections/"),
)


# --- the oracle beyond matrix_support ---------------------------------------------------------------


def may_manage(persona: Persona, code: str | None) -> bool:
    """HQ over the unit: reviews, the outbox, ranking weights, admin writes."""
    return code is not None and persona.over({Role.HQ}, code)


def in_review_queue(persona: Persona, code: str) -> bool:
    """HQ's queue: the units it manages, but never one it reports for (no one reviews its own work)."""
    return may_manage(persona, code) and not may_report(persona, code)


def holds(persona: Persona, right: str) -> bool:
    """The role a page asks for before it looks at anything (somewhere, over any unit)."""
    return bool(
        persona.roles
        & {
            "view": {Role.HQ, Role.UNIT_LEAD, Role.INSPECTOR, Role.LEADER},
            "report": {Role.UNIT_LEAD},
            "inspect": {Role.HQ, Role.INSPECTOR},
            "manage": {Role.HQ},
            "log": {Role.HQ, Role.INSPECTOR, Role.UNIT_LEAD},
            "enter": {Role.HQ, Role.UNIT_LEAD},
        }[right]
    )


CAMPAIGN_KINDS = {"campaign", "item", "round", "plan", "draft", "closed", "doc_rule"}


def codes_of(kind: str, key: str) -> tuple[str, ...]:
    """The units deciding an object's visibility (an inspection: each unit it visits)."""
    if kind in ("tour", "past_tour"):
        return TOUR
    if kind in CAMPAIGN_KINDS:
        return (unit_code_of("campaign", key),)
    return (key,)  # sites, and everything hanging on one


def visible(persona: Persona, kind: str, key: str) -> bool:
    if kind == "secret":  # a secret directive: from the named unit itself, and HQ over the campaign's owner
        return sees_secret(persona, key)
    if kind in CAMPAIGN_KINDS:
        return sees_campaign(persona, codes_of(kind, key)[0])
    return any(sees_unit(persona, code) for code in codes_of(kind, key))


def where(persona: Persona, kind: str, key: str) -> str:
    """A case id's relation part, e.g. ``sub:finding@33031001``."""
    near = "+".join(relation(persona, code) for code in codes_of(kind, key))
    return f"{near}:{kind}@{key}"


# --- the world: matrix_support's, plus what the pages need ------------------------------------------


@dataclass
class PageWorld:
    base: World
    rounds: dict[str, Round]  # by campaign code
    indicators: dict[str, Indicator]  # by campaign code
    messages: dict[str, Message]  # by site: a dead e-mail about the site (HQ's outbox)
    inbox: dict[str, list[int]]  # by username: two inbox messages, about work the user sees
    exports: dict[str, Export]  # by username: a finished export with its file
    clerks: dict[str, User]  # by site: a user of the unit with a leader's grant over it (admin rows)
    security: dict[str, SecurityEvent] = field(default_factory=dict)  # by site: a refusal of the clerk
    locks: dict[str, AccessAttempt] = field(default_factory=dict)  # by site: the clerk locked out
    extra: dict[str, Model] = field(default_factory=dict)  # one row of each unscoped admin model
    links: dict[str, dict[Any, tuple]] = field(default_factory=dict)  # see link_table
    sessions: dict[str, str] = field(default_factory=dict)  # by persona: a signed-in session's key
    plans: dict[str, PlanUpload] = field(default_factory=dict)  # by campaign code: HQ's previewed plan upload
    drafts: dict[str, Campaign] = field(default_factory=dict)  # by campaign code: a draft of the same owner
    closed: dict[str, Campaign] = field(default_factory=dict)  # by campaign code: a closed one of the same owner
    ghosts: dict[tuple, tuple[int, bytes]] = field(default_factory=dict)  # see missing_answer

    def user(self, persona: Persona) -> User | None:
        return None if persona.anonymous else self.base.people[persona.name]

    def object(self, kind: str, key: str) -> Model:
        if kind == "past_tour":
            return self.base.supervision.past_tour
        if kind == "round":
            return self.rounds[key]
        if kind == "message":
            return self.messages[key]
        if kind == "plan":
            return self.plans[key]
        if kind == "draft":
            return self.drafts[key]
        if kind == "closed":
            return self.closed[key]
        return self.base.object(kind, key)


def first_item(code: str) -> Item:
    return Item.objects.filter(campaign__code=code).order_by("seq").first()


def build_page_world(tmp, media) -> PageWorld:
    base = build_world(tmp, media)
    with override_settings(MEDIA_ROOT=str(media)):
        return _more(base)


def _more(base: World) -> PageWorld:
    units, people = base.units, base.people
    people["east_hq"] = city_conftest.make_user("east_hq", units["330310"], (Role.HQ, units["330310"]), name="冯东")
    xj, xs = base.campaigns["XJ"], base.campaigns["XS"]
    # a round a month in (the days the statistics cases report, the campaign's second, stay plain days)
    rounds = {
        c.code: Round.objects.create(
            campaign=c, name=f"第一轮{c.code}", start=c.start + timedelta(days=30), end=c.start + timedelta(days=32)
        )
        for c in (xj, xs)
    }
    indicators = {
        "XJ": Indicator.objects.get(campaign=xj, code="police"),
        "XS": Indicator.objects.create(campaign=xs, code="patrol", name="夜巡", measure="次", seq=1),
    }
    today = timezone.localdate()
    messages = {}
    for site in SITES:
        reminder = Reminder.objects.create(
            kind="overdue",
            subject_type="assignment",
            subject_id=base.work[site].pk,
            occurrence="page matrix",
            recipient=people[LEAD_OF[site]],
            audience="lead",
            colour="red",
            unit=units[site],
            campaign=xj,
            due_date=today,
            batch="pages",
        )
        messages[site] = Message.objects.create(
            reminder=reminder,
            recipient=people[LEAD_OF[site]],
            unit=units[site],
            channel="email",
            status="dead",
            subject=mark(site, "message"),
            attempts=6,
            last_error="矩阵测试：投递失败",
        )
    inbox: dict[str, list[int]] = {}
    exports: dict[str, Export] = {}
    for name, persona in PERSONAS.items():
        if persona.anonymous:
            continue
        user = people[name]
        exports[name] = done = Export.objects.create(
            user=user, kind="ledger", status="done", progress=100, filename=f"{name}台账.xlsx", size=9
        )
        done.file.save("matrix.xlsx", ContentFile(f"XLSX-{name}".encode()))
        seen = next((s for s in SITES if sees_unit(persona, s)), None)
        if seen is None:
            continue  # nobody gets no reminders: it is responsible for nothing
        inbox[name] = []
        for i in range(2):
            reminder = Reminder.objects.create(
                kind="overdue",
                subject_type="assignment",
                subject_id=base.work[seen].pk,
                occurrence=f"inbox {i}",
                recipient=user,
                audience="lead",
                colour="red",
                unit=units[seen],
                campaign=xj,
                due_date=today,
                batch="pages",
            )
            inbox[name].append(
                Message.objects.create(
                    reminder=reminder,
                    recipient=user,
                    unit=units[seen],
                    channel="inbox",
                    status="sent",
                    sent_at=timezone.now(),
                    subject=f"INBOX-{name}-{i}",
                ).pk
            )
    clerks = {
        site: city_conftest.make_user(f"clerk{site}", units[site], (Role.LEADER, units[site]), name=mark(site, "user"))
        for site in SITES
    }
    world = PageWorld(base, rounds, indicators, messages, inbox, exports, clerks)
    # 签收 is asked of the sites' work and notices: reported and answered, they were acknowledged by that
    for rows in (Assignment.objects.filter(pk__in=[a.pk for a in base.work.values()]), Notice.objects.all()):
        rows.update(acknowledged_at=None, acknowledged_by=None)
    for site, clerk in clerks.items():
        world.security[site] = SecurityEvent.objects.create(
            kind="refused",
            user=clerk,
            username=clerk.username,
            unit=units[site],
            address="10.0.0.9",
            method="GET",
            path=f"/assignments/{GHOST}/",
            status=404,
        )
        world.locks[site] = AccessAttempt.objects.create(
            username=clerk.username,
            ip_address="10.0.0.9",
            user_agent="matrix",
            http_accept="*/*",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=5,
        )
    world.extra = unscoped_rows(people["hq"])
    world.plans = plan_uploads(people["hq"], base)
    for code, c in base.campaigns.items():  # HQ's campaign page: a draft to publish, a closed one to reopen
        for status, kept in (("draft", world.drafts), ("closed", world.closed)):
            kept[code] = Campaign.objects.create(
                code=f"{code}-{status}",
                name=f"{c.name}（{status}）",
                owner=c.owner,
                start=c.start,
                end=c.end,
                status=status,
                compare_to=c,
            )
    for c in base.campaigns.values():  # their own reminder rules (the defaults' values): to go back from
        Policy.objects.create(campaign=c)
    world.links = link_table()
    world.sessions = sessions({name: people[name] for name in PERSONAS if name != "anonymous"})
    return world


def plan_uploads(hq: User, base: World) -> dict[str, PlanUpload]:
    """HQ's preview of each campaign's own plan again (previewed, not yet confirmed)."""
    with tempfile.TemporaryDirectory() as tmp:
        return {
            code: preview_plan(
                upload=SimpleUploadedFile("方案.xlsx", write_xlsx(Path(tmp) / f"{code}.xlsx", plan=plan).read_bytes()),
                by=hq,
                campaign=base.campaigns[code],
            )
            for code, plan in (("XJ", PLAN), ("XS", WEST_PLAN))
        }


def unscoped_rows(hq: User) -> dict[str, Model]:
    """One row of each admin model that is not scoped by unit (nobody but a superuser may open them)."""
    interval = IntervalSchedule.objects.first() or IntervalSchedule.objects.create(every=1, period="hours")
    return {
        "auth.group": Group.objects.order_by("pk").first(),
        "authtoken.tokenproxy": TokenProxy.objects.get(key=Token.objects.create(user=hq).key),
        "django_celery_beat.intervalschedule": interval,
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.first()
        or CrontabSchedule.objects.create(minute="5"),
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude="30.00", longitude="120.00"
        ),
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(clocked_time=timezone.now()),
        "django_celery_beat.periodictask": PeriodicTask.objects.first()
        or PeriodicTask.objects.create(name="矩阵测试", task="matrix", interval=interval),
        "notifications.policy": Policy.objects.first() or Policy.objects.create(),
        "notifications.messagetemplate": MessageTemplate.objects.first()
        or MessageTemplate.objects.create(kind="overdue", audience="lead", subject="矩阵", body="矩阵"),
        "notifications.preference": Preference.objects.create(user=hq),
        "axes.accesslog": AccessLog.objects.create(
            username="hq", ip_address="10.0.0.9", user_agent="matrix", http_accept="*/*", path_info="/accounts/login/"
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username="hq", ip_address="10.0.0.9", user_agent="matrix", http_accept="*/*", path_info="/accounts/login/"
        ),
    }


# --- links: every object a page may point to, and who may follow the link ---------------------------

LINKS = [
    (re.compile(r"^/assignments/(\d+)/"), "assignment"),
    (re.compile(r"^/directives/(\d+)/"), "directive"),
    (re.compile(r"^/extensions/(\d+)/decide/"), "extension"),
    (re.compile(r"^/items/(\d+)/"), "item"),
    (re.compile(r"^/plans/(\d+)/"), "plan"),
    (re.compile(r"^/campaigns/(\d+)/"), "campaign"),
    (re.compile(r"^/findings/(\d+)/"), "finding"),
    (re.compile(r"^/notices/(\d+)/"), "notice"),
    (re.compile(r"^/risk-letters/(\d+)/"), "letter"),
    (re.compile(r"^/api/v1/risk-letter-files/(\d+)/download/"), "letter_file"),
    (re.compile(r"^/inspections/(\d+)/"), "inspection"),
    (re.compile(r"^/hotspots/(\d+)/"), "hotspot"),
    (re.compile(r"^/documents/(\d+)/"), "document"),
    (re.compile(r"^/summons/(\d+)/"), "summons"),
    (re.compile(r"^/outbox/(\d+)/"), "message"),
    (re.compile(r"^/exports/(\d+)/download/"), "export"),
    (re.compile(r"^/inbox/(\d+)/read/"), "inbox"),
    (re.compile(r"^/stats/rounds/(\d+)/report/"), "round"),
    (re.compile(r"^/api/v1/evidence/(\d+)/download/"), "evidence"),
    (re.compile(r"^/api/v1/finding-photos/(\d+)/download/"), "photo"),
]


def link_table() -> dict[str, dict[int, tuple]]:
    """For each kind of link, each row's unit codes (or owner): read once, after the world is built."""

    def by_unit(qs, path="unit__code"):
        return {pk: (code,) for pk, code in qs.values_list("pk", path)}

    inspections: dict[int, tuple] = {}
    for pk, code in Inspection.units.through.objects.values_list("inspection_id", "unit__code"):
        inspections[pk] = (*inspections.get(pk, ()), code)

    def work(qs):
        """A secret directive's work is marked ("secret", unit): seen as ``sees_secret`` says."""
        rows = qs.values_list("pk", "unit__code", "item__secret")
        return {pk: (("secret", code) if hidden else (code,)) for pk, code, hidden in rows}

    directives = {}
    for pk, code, hidden in Directive.objects.filter(item__assignments__role="lead").values_list(
        "pk", "item__assignments__unit__code", "item__secret"
    ):
        directives[pk] = ("secret", code) if hidden else (code,)
    return {
        "assignment": work(Assignment.objects),
        "directive": directives,
        "extension": by_unit(ExtensionRequest.objects, "assignment__unit__code"),
        "item": by_unit(Item.objects, "campaign__owner__code"),
        "plan": by_unit(PlanUpload.objects, "owner__code"),
        "campaign": by_unit(Campaign.objects, "owner__code"),
        "round": by_unit(Round.objects, "campaign__owner__code"),
        "finding": by_unit(Finding.objects),
        "notice": by_unit(Notice.objects),
        "letter": by_unit(RiskLetter.objects),
        "letter_file": by_unit(LetterFile.objects, "letter__unit__code"),
        "inspection": inspections,
        "hotspot": by_unit(Hotspot.objects),
        "document": by_unit(Document.objects, "issuing_unit__code"),
        "summons": by_unit(Summons.objects),
        "message": by_unit(Message.objects),
        "evidence": by_unit(Evidence.objects, "assignment__unit__code"),
        "photo": by_unit(Photo.objects, "finding__unit__code"),
        "export": {pk: (name,) for pk, name in Export.objects.values_list("pk", "user__username")},
        "inbox": {pk: (name,) for pk, name in Message.objects.values_list("pk", "recipient__username")},
    }


def may_follow(persona: Persona, kind: str, owners: tuple) -> bool:
    if kind in ("export", "inbox"):
        return owners == (persona.name,)
    if kind in ("item", "round"):
        return sees_campaign(persona, owners[0])
    if kind in ("message", "plan", "campaign"):  # HQ's campaign page: the campaigns it runs
        return may_manage(persona, owners[0])
    if owners[0] == "secret":  # a secret directive and its work
        return sees_secret(persona, owners[1])
    return any(sees_unit(persona, code) for code in owners)


MARK = re.compile(r"MATRIX-([a-z-]+?)-(\d{4,8})(?!\d)")
HREF = re.compile(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"')
OPTION = re.compile(r'<option value="(\d{4,8})"')


def assert_in_scope(body: str, persona: Persona, world: PageWorld) -> None:
    """A page shows the persona nothing out of its scope: no marked text of a unit it may not see, no
    link to an object it may not open, no unit it may not see offered in a form."""
    for found in MARK.finditer(body):
        assert sees_unit(persona, found.group(2)), f"the page shows {found.group(0)} to {persona.name}"
    for url in HREF.findall(body):
        path = urlsplit(url.replace("&amp;", "&")).path
        for pattern, kind in LINKS:
            if matched := pattern.match(path):
                owners = world.links[kind].get(int(matched.group(1)))
                assert owners is not None, f"a link to a {kind} the matrix does not know: {url}"
                assert may_follow(persona, kind, owners), f"the page links {persona.name} to {url} ({kind} {owners})"
    for code in OPTION.findall(body):
        if code in NAME:
            assert sees_unit(persona, code), f"the page offers {persona.name} the unit {code} {NAME[code]}"
    if not sees_campaign(persona, WEST_CAMPAIGN["owner"]):
        assert WEST_CAMPAIGN["name"] not in body, f"the page names campaign XS to {persona.name}"


# --- the rules --------------------------------------------------------------------------------------

Body = Callable[[PageWorld, Model, str], dict]  # (world, the object, its key) -> form data


@dataclass(frozen=True)
class Do:
    """One way of calling a page about one object (``<pk>`` in the path, or named in the query/body)."""

    target: str  # past_tour, round, message, or a matrix_support kind: work, review, finding, site …
    right: str = "view"  # view | report | review | inspect | log | enter (report or manage: figures) | manage | chase
    method: str = "GET"
    gate: str | None = None  # a role asked for before the object is looked at (403 without it)
    ok: int = 200
    hidden: int = 404  # out of the view scope
    refused: int = 403  # in scope without the right
    query: Callable[[PageWorld, Model, str], str] | None = None  # the object named in the query string
    path_pk: bool = True  # the pattern has <pk>: the object's id (else the query or body names it)
    body: Body | None = None
    label: str = ""
    writes: bool = False  # a success records an audit event
    to: Callable[[PageWorld, Model, str], str] | None = None  # where a success redirects (a prefix)
    check: Callable[[Any, PageWorld, Model, str], None] | None = None  # more on a success
    refusal: Callable[[str], int | None] | None = None  # the service's refusal of an allowed call, by key


@dataclass(frozen=True)
class Obj:
    does: tuple[Do, ...]


@dataclass(frozen=True)
class Listing:
    """A page listing rows: shows exactly ``rows`` (those the persona may see) and nothing else out of
    scope. ``gate``: the role asked for (403 without it)."""

    gate: str | None = None
    queries: tuple[str, ...] = ("",)
    rows: Callable[[Persona, str], set[str]] | None = None  # (persona, query) -> links it must show
    not_rows: Callable[[Persona, str], set[str]] | None = None  # links it must not show, even in scope


@dataclass(frozen=True)
class Board:
    """A page over a campaign and a unit (``?campaign=&unit=``): out of scope → 404."""

    kind: str  # board | bulletin | counts


@dataclass(frozen=True)
class Landing:
    """The home page sends each role to its own work."""


@dataclass(frozen=True)
class Own:
    """The user's own rows only (inbox, settings, exports): another user's row does not exist."""

    kind: str


@dataclass(frozen=True)
class Public:
    """Open without a session: sign-in, sign-out, the language switch."""

    kind: str


@dataclass(frozen=True)
class AdminView:
    """A generated rule: ``view`` (changelist, add, change, delete, history, object) of one model."""

    view: str
    label: str  # app_label.model_name


@dataclass(frozen=True)
class AdminSite:
    """The admin's own pages (index, login, app index …) and the extra views of some model admins."""

    kind: str


def after(days: int) -> str:
    return str(timezone.localdate() + timedelta(days=days))


def pass_down_rows(w, a, key) -> dict:
    """The pass-down form: one row, a unit under the work's (none under a station: its own code)."""
    unit = PASS_DOWN_TO[key] or a.unit.code
    return {"share-TOTAL_FORMS": "1", "share-INITIAL_FORMS": "0", "share-0-unit": unit, "keep_remainder": "on"}


def at_assignment(w, obj, key) -> str:
    return f"/assignments/{obj.pk}/"


def at_assignment_of(w, x: ExtensionRequest, key) -> str:
    return f"/assignments/{x.assignment_id}/"


def at(name: str) -> Callable:
    return lambda w, obj, key: reverse(name, args=[obj.pk])


def prefix(url: str) -> Callable:
    return lambda w, obj, key: url


def policy_body(w, c: Campaign, key) -> dict:
    """The reminder rules' form: the defaults, a day's acknowledgement window."""
    return {
        "before_days": "3,1",
        "on_the_day": "on",
        "day_0": "1",
        "audience_0": "lead",
        "behind_weekday": "1",
        "receipt_hours": "14",
        "quiet_start": "22:00",
        "quiet_end": "07:30",
    }


def item_change_body(w, it: Item, key) -> dict:
    """A new title; the unit fields left out are left alone."""
    return {"title": "矩阵测试修改", "deadline_text": it.deadline_text, "lead_text": it.lead_text}


def xj_pk(w: PageWorld) -> int:
    return w.base.campaigns["XJ"].pk


def finding_body(w, unit: Unit, key):
    return {
        "unit": unit.code,
        "place": "矩阵测试地点",
        "description": "矩阵测试问题",
        "category": "order",
        "severity": "general",
        "campaign": xj_pk(w),
    }


def notice_query(w, f: Finding, key) -> str:
    return f"?unit={f.unit.code}"


def notice_body(w, f: Finding, key):
    return {
        "unit": f.unit.code,
        "inspection": f.inspection_id,
        "findings": [f.pk],
        "deadline": after(7),
        "requirements": "矩阵测试整改要求",
    }


def letter_body(w, unit: Unit, key):
    return {
        "unit": unit.code,
        "title": "矩阵测试风险提示",
        "risk": "矩阵测试风险",
        "requirements": "矩阵测试防范要求",
        "reply_by": after(7),
        "campaign": xj_pk(w),
    }


def letter_query(w, f: Finding, key) -> str:
    return f"?finding={f.pk}"


def letter_rows(p: Persona, q: str) -> set[str]:
    """The letters of the units the persona sees: all, the answered ones, or the overdue (none: due in 10 days)."""
    if q == "overdue=1":
        return set()
    rows = RiskLetter.objects.values_list("pk", "unit__code", "status")
    return {
        f"/risk-letters/{pk}/" for pk, code, status in rows if sees_unit(p, code) and (not q or status == "answered")
    }


def inspection_body(w, unit: Unit, key):
    return {"kind": "routine", "planned_on": after(1), "units": [unit.code], "campaign": xj_pk(w), "hotspot": ""}


def hotspot_body(w, unit: Unit, key):
    return {
        "name": "矩阵测试整治点",
        "area": "",
        "unit": unit.code,
        "responsible_name": "矩阵",
        "problems": "占道经营",
        "criteria": "无占道经营",
        "listed_on": after(0),
        "deadline": after(30),
        "inspect_every_days": "7",
        "campaign": xj_pk(w),
    }


def report_query(w, unit: Unit, key) -> str:
    return f"?campaign={xj_pk(w)}&unit={unit.code}"


def figures_body(w, unit: Unit, key):
    day = w.base.campaigns["XJ"].start + timedelta(days=1)
    return {"campaign": xj_pk(w), "unit": unit.code, "day": str(day), f"v{w.indicators['XJ'].pk}": "9"}


def sheet_body(w, unit: Unit, key):
    sheet = "日期,出动警力（人次）\n2026-07-02,9\n".encode()
    return {"campaign": xj_pk(w), "unit": unit.code, "file": SimpleUploadedFile("战果.csv", sheet, "text/csv")}


def summary_body(w, unit: Unit, key):
    day = w.base.campaigns["XJ"].start + timedelta(days=1)
    sheet = f"单位代码,出动警力（人次）\n{unit.code},9\n".encode()
    return {"campaign": xj_pk(w), "day": str(day), "file": SimpleUploadedFile("汇总.csv", sheet, "text/csv")}


PLAN_CSV = "行动,序号,工作任务,牵头单位,完成时限\n矩阵行动,1,矩阵测试任务,各派出所,8月底前\n".encode()


def plan_upload_body(w, c: Campaign, key):
    return {"campaign": c.pk, "file": SimpleUploadedFile("方案.csv", PLAN_CSV, "text/csv")}


def copy_body(w, c: Campaign, key):
    """Next year's campaign from this one (the code unique per persona and campaign: each case rolls back)."""
    return {
        "name": "矩阵复制行动",
        "code": f"MX-{c.code}",
        "start": str(c.start.replace(year=c.start.year + 1)),
        "end": str(c.end.replace(year=c.end.year + 1)),
    }


def weights_body(w, c: Campaign, key):
    return {
        "campaign": c.pk,
        "completion": "50",
        "on_time": "20",
        "overdue": "10",
        "rectification": "10",
        "findings": "10",
        "laggards": "2",
    }


def directive_body(w, c: Campaign, key) -> dict:
    """立项 and 交办 at once, led by a station under the campaign's owner."""
    lead = {"XJ": "33031001", "XS": "33032001"}[key]
    return {"campaign": c.pk, "title": "矩阵测试督办", "source": "meeting", "lead_units": lead,
            "due_date": str(c.end), "hand_down": "on"}  # fmt: skip


def completion_body(w, d: Directive, key) -> dict:
    return {"report": "矩阵测试办结报告"}


def cases() -> set[int]:
    return set(Directive.objects.filter(source="case").values_list("pk", flat=True))


def campaign_query(w, c: Campaign, key) -> str:
    return f"?campaign={c.pk}"


def export_body(w, c: Campaign, key):
    return {"kind": "ledger", "campaign": c.pk}


def bulletin_draft_body(w, unit: Unit, key) -> dict:
    """The bulletin page's 起草 form: the site's bulletin of campaign XJ, the default week."""
    return {"campaign": xj_pk(w), "unit": unit.code}


def summon_body(w, d: Document, key) -> dict:
    day = timezone.localdate() + timedelta(days=3)
    return {
        "units": [d.issuing_unit.code],
        "day": day.isoformat(),
        "at": "09:00",
        "place": "矩阵",
        "attendance": "主要负责人",
    }


def hold_body(w, s, key) -> dict:
    return {"held_on": timezone.localdate().isoformat(), "attendees": "矩阵参会人", "minutes": "矩阵约谈内容"}


def outside_sent_body(w, d: Document, key) -> dict:
    """The issued document's outside body recorded as sent today (it was issued when the world was built)."""
    from django.utils import timezone

    body = d.distribution.get(unit=None)
    return {"recipient": body.pk, "channel": "机要交换", "sent_on": timezone.localdate().isoformat()}


def draft_body(w, d: Document, key) -> dict:
    return {
        "version": d.version,
        "title": d.title,
        "recipients": "各单位",
        "opening": "矩阵开头",
        "requirements": "",
        "next_steps": "",
        "attachments": "",
        "cc": "",
    }


def attachment_of(content_type: str) -> Callable:
    def check(response, w, obj, key):
        assert response["Content-Type"].startswith(content_type), response["Content-Type"]
        assert "attachment" in response["Content-Disposition"], response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"

    return check


def to_round_page(response, w: PageWorld, r: Round, key) -> None:
    """A reminder's link to a round: the report page for a unit lead, the statistics for anyone else."""
    location, persona = response["Location"], PERSONAS[response.wsgi_request.user.username]
    assert location.startswith("/stats/report/?" if Role.UNIT_LEAD in persona.roles else "/stats/?"), location


def catalogue_body(w, c: Campaign, key) -> dict:
    """The indicators' table with one new row filled in (the campaign's own rows left out: unchanged)."""
    return {
        "form": "indicators",
        "ind-TOTAL_FORMS": "1",
        "ind-INITIAL_FORMS": "0",
        "ind-0-name": "矩阵测试指标",
        "ind-0-measure": "次",
        "ind-0-is_active": "on",
    }


def indicator_added(response, w: PageWorld, c: Campaign, key) -> None:
    assert Indicator.objects.filter(campaign=c, name="矩阵测试指标").exists()


def export_queued(response, w: PageWorld, c: Campaign, key) -> None:
    user = response.wsgi_request.user
    made = Export.objects.filter(user=user).exclude(pk=w.exports[user.username].pk).get()
    assert (made.kind, made.params["campaign"]) == ("ledger", c.pk)


def weights_saved(response, w, c: Campaign, key) -> None:
    assert Weights.objects.get(campaign=c).completion == 50


OUTBOX = "/outbox/"

# fmt: off
EXPECTED: dict[str, Any] = {
    "web:home": Landing(),
    # a unit lead's tasks and the assignment page; every form posts to one service
    "web:tasks-my": Listing(queries=("", "below=on", "q=MATRIX")),
    "web:tasks-assignment": Obj((Do("work"), Do("coop", label="coop"))),
    "web:tasks-report": Obj(
        (Do("work", "report", "POST", ok=302, body=lambda w, a, k: {"value": "2", "text": "矩阵测试填报"},
            writes=True, to=at_assignment),)
    ),
    "web:tasks-transition": Obj(
        (
            Do("work", "report", "POST", ok=302, body=lambda w, a, k: {"name": "submit", "confirm_shortfall": "on"}, label="submit",
               writes=True, to=at_assignment),
            Do("review", "review", "POST", ok=302, body=lambda w, a, k: {"name": "accept"}, label="accept",
               writes=True, to=at_assignment),
            Do("coop", "review", "POST", ok=302, body=lambda w, a, k: {"name": "accept"}, label="accept coop",
               writes=True, to=at_assignment),
        )
    ),
    # 分解下发: the lead of a sub-bureau splits its work among the units under it (a share, the whole target);
    # a station has no unit under it, so even its lead is refused (400, no unit to choose)
    "web:tasks-pass-down": Obj(
        (Do("work", "report", "POST", ok=302, writes=True, to=at_assignment, body=pass_down_rows,
            refusal=lambda key: 400 if PASS_DOWN_TO[key] is None else None),)
    ),
    # 签收 (the world's work and notices are left unacknowledged): the unit's lead (report rights); HQ,
    # an inspector, a leader over it: 403
    "web:tasks-acknowledge": Obj(
        (Do("work", "report", "POST", ok=302, writes=True, to=at_assignment),)
    ),
    "web:tasks-comment": Obj(
        (Do("work", "view", "POST", ok=302, body=lambda w, a, k: {"text": "矩阵测试批注"}, writes=True,
            to=at_assignment),)
    ),
    "web:tasks-extension": Obj(
        (Do("review", "report", "POST", ok=302, writes=True, to=at_assignment,
            body=lambda w, a, k: {"requested_due": str(a.due_date + timedelta(days=7)), "reason": "矩阵测试延期"}),)
    ),
    "web:tasks-decide": Obj(
        (
            Do("extension", "review", "POST", ok=302, body=lambda w, x, k: {"approve": "1", "note": "同意"},
               writes=True, to=at_assignment_of),
            Do("coop_extension", "review", "POST", ok=302, body=lambda w, x, k: {"approve": "1", "note": "同意"},
               label="coop", writes=True, to=at_assignment_of),
        )
    ),
    # HQ: what awaits acceptance in the units it manages, and the extension requests there; never the
    # work of a unit it reports for itself
    "web:tasks-review": Listing(
        gate="manage",
        rows=lambda p, q: {
            f"/assignments/{pk}/" for pk, code in
            Assignment.objects.filter(status="submitted", is_active=True).values_list("pk", "unit__code")
            if in_review_queue(p, code)
        },
        not_rows=lambda p, q: {
            f"/assignments/{pk}/" for pk, code in
            Assignment.objects.filter(Q(status="submitted") | Q(extension_requests__status="pending"))
            .values_list("pk", "unit__code") if not in_review_queue(p, code)
        },
    ),
    # the desk's bulk accept / return: the rows ticked are named in the body ("id:version"); out of scope
    # is the 404 of any page, in scope without the right the desk again with the row named (403)
    "web:tasks-review-bulk": Obj(
        (
            Do("review", "review", "POST", gate="manage", ok=302, path_pk=False, label="accept", writes=True,
               body=lambda w, a, k: {"rows": f"{a.pk}:{a.version}", "action": "accept"}, to=prefix("/review/")),
            Do("review", "review", "POST", gate="manage", ok=302, path_pk=False, label="return", writes=True,
               body=lambda w, a, k: {"rows": f"{a.pk}:{a.version}", "action": "return", "reason": "矩阵测试退回"},
               to=prefix("/review/")),
        )
    ),
    "web:tasks-items": Listing(queries=("", "campaign=XS")),
    # directives (督办事项): seen through their units' work, a secret one from the named unit itself and by HQ
    # over the owner only; HQ over the campaign's owner registers, hands down, reviews and rates
    "web:directives": Listing(
        gate="view",
        queries=("", "source=case"),
        rows=lambda p, q: {
            f"/directives/{pk}/" for pk, owners in link_table()["directive"].items()
            if may_follow(p, "directive", owners) and (not q or pk in cases())
        },
        not_rows=lambda p, q: {
            f"/directives/{pk}/" for pk, owners in link_table()["directive"].items()
            if not may_follow(p, "directive", owners)
        },
    ),
    "web:directives-new": Obj(
        (Do("campaign", "manage", "POST", gate="manage", hidden=400, refused=400, ok=302, path_pk=False,
            body=directive_body, writes=True, to=prefix("/directives/")),)
    ),  # GET: the form of a role (FORMS below)
    "web:directives-ledger": Obj(
        (Do("campaign", gate="view", path_pk=False, query=campaign_query,
            check=attachment_of("application/vnd.openxmlformats")),)
    ),
    "web:directives-directive": Obj((Do("directive"), Do("secret", label="secret"))),
    "web:directives-hand-down": Obj(
        (Do("directive", "owner", "POST", refusal=lambda key: 400),)  # handed down already
    ),
    "web:directives-complete": Obj(
        (
            Do("directive", "report", "POST", body=completion_body, refusal=lambda key: 400),  # submitted already
            Do("secret", "report", "POST", ok=302, body=completion_body, writes=True, to=at("web:directives-directive"),
               label="secret"),
        )
    ),
    "web:directives-review": Obj(
        (Do("directive", "owner", "POST", ok=302, writes=True, to=at("web:directives-directive"),
            body=lambda w, d, k: {"decision": "accept", "unit": k}),)
    ),
    "web:directives-rate": Obj(
        (Do("directive", "owner", "POST", body=lambda w, d, k: {"rating": "satisfied"}, refusal=lambda key: 400),)
    ),
    # the checklist of a campaign seen, as a download (a draft only for HQ managing it: tests/tasks/test_checklist.py)
    "web:tasks-items-export": Obj(
        (Do("campaign", path_pk=False, query=campaign_query, check=attachment_of("application/vnd.openxmlformats")),)
    ),
    "web:tasks-item": Obj((Do("item"),)),
    # HQ over the campaign's owner changes an item; seen from below (HQ over a sub-bureau): 403
    "web:tasks-item-edit": Obj(
        (
            Do("item", "manage"),
            Do("item", "manage", "POST", ok=302, body=item_change_body, label="change", writes=True,
               to=at("web:tasks-item")),
        )
    ),
    # HQ's plans: an upload for a campaign it manages (one not offered: 400); a preview and its
    # confirmation only of the campaigns it manages (404 otherwise, as the outbox's messages)
    "web:tasks-plans": Obj(
        (Do("campaign", "manage", "POST", gate="manage", hidden=400, refused=400, ok=302, path_pk=False,
            body=plan_upload_body, writes=True, to=prefix("/plans/")),)
    ),  # GET: the form of a role (FORMS below)
    "web:tasks-plan": Obj(
        (
            Do("plan", "manage", gate="manage", refused=404),
            Do("plan", "manage", "POST", gate="manage", refused=404, ok=302, body=lambda w, u, k: {}, writes=True,
               to=at("web:tasks-plan")),
        )
    ),
    # HQ's campaigns: those of the units it manages (404 for one seen from below, as the plans)
    "web:tasks-campaigns": Listing(
        gate="manage",
        rows=lambda p, q: {
            f"/campaigns/{pk}/" for pk, code in Campaign.objects.values_list("pk", "owner__code") if may_manage(p, code)
        },
        not_rows=lambda p, q: {
            f"/campaigns/{pk}/" for pk, code in Campaign.objects.values_list("pk", "owner__code")
            if not may_manage(p, code)
        },
    ),
    "web:tasks-campaign": Obj(
        (Do("campaign", "manage", gate="manage", refused=404), Do("draft", "manage", gate="manage", refused=404),
         Do("closed", "manage", gate="manage", refused=404))
    ),
    "web:tasks-campaign-copy": Obj(
        (Do("campaign", "manage", "POST", gate="manage", refused=404, ok=302, body=copy_body, writes=True,
            to=prefix("/campaigns/")),)
    ),
    "web:tasks-campaign-publish": Obj(
        (Do("draft", "manage", "POST", gate="manage", refused=404, ok=302, writes=True, to=at("web:tasks-campaign")),)
    ),
    "web:tasks-campaign-close": Obj(
        (Do("campaign", "manage", "POST", gate="manage", refused=404, ok=302, body=lambda w, c, k: {"note": "矩阵"},
            writes=True, to=at("web:tasks-campaign")),)
    ),
    "web:tasks-campaign-reopen": Obj(
        (Do("closed", "manage", "POST", gate="manage", refused=404, ok=302, body=lambda w, c, k: {"reason": "矩阵"},
            writes=True, to=at("web:tasks-campaign")),)
    ),
    # its job's status (JSON, polled by the progress bar) and its stored file (an attachment)
    "web:tasks-plan-status": Obj((Do("plan", "manage", gate="manage", refused=404),)),
    "web:tasks-plan-file": Obj((Do("plan", "manage", gate="manage", refused=404),)),
    # boards, statistics, bulletin, exports
    "web:boards-battle": Board("board"),
    # the work behind a board cell; its 催办: HQ or a leader over the unit (a unit lead, an inspector: 403)
    "web:boards-work": Board("board"),
    # a leader's landing page (领导首页): leaders and HQ only (403 for others, before the campaign is looked at)
    "web:boards-leader": Board("leader"),
    "web:boards-work-chase": Obj(
        (Do("work", "chase", "POST", ok=302, path_pk=False, body=lambda w, a, k: {"ids": [a.pk], "note": "矩阵"},
            writes=True, to=prefix("/board/work/?")),)
    ),
    "web:boards-ranking": Obj(
        (
            Do("campaign", "manage", "POST", ok=302, path_pk=False, query=campaign_query, body=weights_body,
               writes=True, to=prefix("/board/ranking/?"), check=weights_saved),
        )
    ),  # GET: a board (BOARDS below)
    "web:boards-bulletin": Board("bulletin"),
    "web:boards-bulletin-pdf": Board("bulletin"),
    "web:stats": Board("board"),
    "web:stats-report": Obj(
        (
            # the unit is typed into the page's picker: one the persona may not enter for is a form error
            Do("site", "enter", gate="enter", hidden=400, refused=400, path_pk=False, query=report_query),
            Do("site", "enter", "POST", gate="enter", hidden=400, refused=400, ok=302, path_pk=False,
               body=figures_body, writes=True, to=prefix("/stats/report/?")),
        )
    ),
    # HQ's summary sheet (代填汇总表): HQ only; a unit it may not enter for is a located problem
    "web:stats-summary": Obj(
        (
            Do("campaign", "view", gate="manage", path_pk=False, query=campaign_query),
            Do("site", "enter", "POST", gate="manage", hidden=400, refused=400, ok=302, path_pk=False,
               body=summary_body, writes=True, to=prefix("/stats/summary/?")),
        )
    ),
    "web:stats-summary-sheet": Obj(
        (Do("campaign", "view", gate="manage", path_pk=False, query=campaign_query,
            check=attachment_of("application/vnd.openxmlformats")),)
    ),
    "web:stats-upload": Obj(
        (Do("site", "enter", "POST", refused=404, ok=302, path_pk=False, body=sheet_body, writes=True,
            to=prefix("/stats/report/?")),)
    ),
    "web:stats-sheet": Obj(
        (Do("site", "enter", refused=404, path_pk=False, query=report_query,
            check=attachment_of("application/vnd.openxmlformats")),)
    ),
    "web:stats-round-report": Obj((Do("round", ok=302, check=to_round_page),)),
    # HQ over the campaign's owner keeps its catalogue; seen from below (HQ over a sub-bureau): 403
    "web:stats-catalogue": Obj(
        (
            Do("campaign", "manage", gate="manage", path_pk=False, query=campaign_query),
            Do("campaign", "manage", "POST", gate="manage", ok=302, path_pk=False, query=campaign_query,
               body=catalogue_body, writes=True, to=prefix("/stats/catalogue/?"), check=indicator_added),
        )
    ),  # GET without a campaign: the form of a role (FORMS below)
    "web:boards-exports": Own("exports"),
    "web:boards-export-status": Own("exports"),
    "web:boards-export-new": Obj(
        (Do("campaign", "view", "POST", ok=302, path_pk=False, body=export_body, writes=True, to=prefix("/exports/"),
            check=export_queued),)
    ),
    "web:boards-export-download": Own("export-download"),
    # reminders
    "web:notifications-inbox": Own("inbox"),
    "web:notifications-inbox-read": Own("inbox-read"),
    "web:notifications-inbox-read-all": Own("inbox-read-all"),
    "web:notifications-preferences": Own("preferences"),
    "web:accounts-tokens": Own("tokens"),
    "web:notifications-outbox": Listing(
        gate="manage",
        queries=("", "status=dead"),
        rows=lambda p, q: {
            f"/outbox/{pk}/" for pk, code, status in
            Message.objects.filter(unit__isnull=False).values_list("pk", "unit__code", "status")
            if may_manage(p, code) and (not q or status == "dead")
        },
    ),
    # a campaign's reminder rules: HQ over its owner (seen from below: 404, as the campaign page); a closed
    # one is read, its save refused (tests/web/test_policy_pages.py)
    "web:notifications-policy": Obj(
        (Do("campaign", "manage", gate="manage", refused=404), Do("draft", "manage", gate="manage", refused=404),
         Do("closed", "manage", gate="manage", refused=404),
         Do("campaign", "manage", "POST", gate="manage", refused=404, ok=302, body=policy_body, writes=True,
            to=at("web:notifications-policy")))
    ),
    "web:notifications-policy-reset": Obj(
        (Do("campaign", "manage", "POST", gate="manage", refused=404, ok=302, to=at("web:notifications-policy")),)
    ),
    "web:notifications-outbox-message": Obj((Do("message", "manage", gate="manage", refused=404),)),
    "web:notifications-outbox-retry": Obj(
        (Do("message", "manage", "POST", gate="manage", path_pk=False, hidden=302, refused=302, ok=302, writes=True,
            body=lambda w, m, k: {"message": m.pk}, to=at("web:notifications-outbox-message")),)
    ),
    # supervision
    "web:inspections-findings": Listing(
        gate="view",
        queries=("", "status=submitted"),
        rows=lambda p, q: {
            f"/findings/{pk}/" for pk, code, status in Finding.objects.values_list("pk", "unit__code", "status")
            if sees_unit(p, code) and (not q or status == "submitted")
        },
    ),
    "web:inspections-finding-new": Obj(
        (Do("site", "log", "POST", gate="log", hidden=400, refused=400, ok=302, path_pk=False, body=finding_body,
            writes=True, to=prefix("/findings/")),)
    ),  # GET: the form of a role (FORMS below)
    "web:inspections-finding-counts": Board("counts"),
    "web:inspections-finding": Obj((Do("finding"), Do("submitted", label="answered"))),
    "web:inspections-finding-answer": Obj(
        (Do("ordered", "report", "POST", ok=302, body=lambda w, f, k: {"text": "矩阵测试整改情况"}, writes=True,
            to=at("web:inspections-finding")),)
    ),
    "web:inspections-finding-verify": Obj(
        (Do("submitted", "verify", "POST", ok=302, body=lambda w, f, k: {"accept": "1"}, writes=True,
            to=at("web:inspections-finding")),)
    ),
    "web:inspections-rectification": Listing(
        gate="report",
        rows=lambda p, q: {
            f"/findings/{pk}/" for pk, code in
            Finding.objects.filter(status__in=["open", "ordered", "submitted"]).values_list("pk", "unit__code")
            if may_report(p, code)
        },
    ),
    "web:inspections-notices": Listing(
        gate="view",
        rows=lambda p, q: {f"/notices/{pk}/" for pk, code in Notice.objects.values_list("pk", "unit__code")
                           if sees_unit(p, code)},
    ),
    "web:inspections-notice-new": Obj(
        (
            Do("finding", "inspect", gate="inspect", refused=404, path_pk=False, query=notice_query),
            Do("finding", "inspect", "POST", gate="inspect", refused=404, ok=302, path_pk=False, body=notice_body,
               writes=True, to=prefix("/notices/")),
        )
    ),
    "web:inspections-notice": Obj((Do("notice"),)),
    "web:inspections-notice-print": Obj((Do("notice"),)),
    "web:inspections-notice-acknowledge": Obj(
        (Do("notice", "report", "POST", ok=302, writes=True, to=at("web:inspections-notice")),)
    ),
    "web:inspections-notice-pdf": Obj((Do("notice", check=attachment_of("application/pdf")),)),
    # documents: seen with the view right over the issuing unit; HQ over it drafts, edits, submits and
    # checks; a leader over it signs (the default sign-off); a notice's document is drafted by HQ or an
    # inspector over the notice's issuing unit
    "web:documents": Listing(
        gate="view",
        rows=lambda p, q: {
            f"/documents/{pk}/"
            for pk, code in Document.objects.values_list("pk", "issuing_unit__code")
            if sees_unit(p, code)
        },
    ),
    # the archive: a campaign's issued documents (a campaign not seen: 404), the list as XLSX
    "web:documents-archive": Listing(
        gate="view",
        queries=("", "campaign=XJ"),
        rows=lambda p, q: {
            f"/documents/{pk}/"
            for pk, code in Document.objects.filter(state="issued", campaign__code="XJ").values_list(
                "pk", "issuing_unit__code"
            )
            if q == "campaign=XJ" and sees_unit(p, code)
        },
        not_rows=lambda p, q: {
            f"/documents/{pk}/" for pk in Document.objects.exclude(state="issued").values_list("pk", flat=True)
        },
    ),
    "web:documents-archive-xlsx": Obj(
        (Do("campaign", gate="view", path_pk=False, query=campaign_query,
            check=attachment_of("application/vnd.openxmlformats")),)
    ),
    # sign-off rules: seen with the campaign; added and removed by HQ over its owner
    "web:documents-rules": Obj(
        (
            Do("campaign", gate="view", path_pk=False, query=campaign_query),
            Do("campaign", "manage", "POST", gate="view", ok=302, path_pk=False, query=campaign_query,
               body=lambda w, c, k: {"kind": "summons", "step": "check", "role": "inspector"}, writes=True,
               to=prefix("/documents/rules/")),
        )
    ),
    "web:documents-rule-delete": Obj(
        (Do("doc_rule", "manage", "POST", ok=302, writes=True, to=prefix("/documents/rules/")),)
    ),
    "web:documents-new-bulletin": Obj(
        (
            Do("site", "manage", "POST", ok=302, path_pk=False, body=bulletin_draft_body, writes=True,
               to=prefix("/documents/")),
        )
    ),
    "web:documents-new-notice": Obj(
        (Do("notice", "draft_notice", "POST", ok=302, writes=True, to=prefix("/documents/")),)
    ),
    "web:documents-document": Obj(
        (
            Do("doc_draft"),
            Do("doc_issued"),
            Do("doc_draft", "manage", "POST", ok=302, body=draft_body, writes=True, to=prefix("/documents/")),
        )
    ),
    "web:documents-step": Obj(
        (
            Do("doc_draft", "manage", "POST", ok=302, body=lambda w, d, k: {"step": "submit"}, writes=True,
               to=prefix("/documents/")),
            Do("doc_checking", "check", "POST", ok=302, body=lambda w, d, k: {"step": "check"}, writes=True,
               to=prefix("/documents/")),
            Do("doc_signing", "sign", "POST", ok=302, body=lambda w, d, k: {"step": "sign"}, writes=True,
               to=prefix("/documents/")),
            Do("doc_signing", "sign", "POST", ok=302, body=lambda w, d, k: {"step": "return", "note": "退回"},
               writes=True, to=prefix("/documents/"), label="return"),
        )
    ),
    # distribution: HQ over the issuing unit sets a draft's recipients and records an outside body sent; the
    # recipient unit's leads acknowledge (签收); HQ or a leader over the issuing unit chases (催办)
    "web:documents-recipients": Obj(
        (
            Do("doc_draft", "manage", "POST", ok=302, body=lambda w, d, k: {"version": d.version, "units": k},
               writes=True, to=prefix("/documents/")),
        )
    ),
    "web:documents-acknowledge": Obj(
        (Do("doc_issued", "report", "POST", ok=302, writes=True, to=prefix("/documents/")),)
    ),
    "web:documents-chase": Obj(
        (Do("doc_issued", "chase", "POST", ok=302, body=lambda w, d, k: {"note": "矩阵催办"}, writes=True,
            to=prefix("/documents/")),)
    ),
    "web:documents-sent": Obj(
        (Do("doc_issued", "manage", "POST", ok=302, body=outside_sent_body, writes=True, to=prefix("/documents/")),)
    ),
    "web:documents-pdf": Obj((Do("doc_issued", check=attachment_of("application/pdf")),)),
    "web:documents-docx": Obj(
        (
            Do(
                "doc_issued",
                check=attachment_of("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ),
        )
    ),
    # 约谈 (documents/summons.py): seen with the view right over the unit summoned; made (from an issued
    # bulletin's page), held and cancelled by HQ over the bulletin's issuing unit — the world's summonses are
    # the sites' own, on their issued document, which is not a bulletin: the making is refused (400, the form
    # offers no laggard) once the right is there
    "web:summons": Listing(
        gate="view",
        queries=("", "state=planned", "unit=330310"),
        rows=lambda p, q: {
            f"/summons/{pk}/"
            for pk, code, path in Summons.objects.values_list("pk", "unit__code", "unit__path")
            if sees_unit(p, code) and (q != "unit=330310" or path.startswith(Unit.objects.get(code="330310").path))
        },
    ),
    "web:summons-new": Obj(
        (Do("doc_issued", "manage", "POST", ok=302, body=summon_body, refusal=lambda key: 400),)
    ),
    "web:summons-summons": Obj((Do("summons"),)),
    "web:summons-hold": Obj(
        (Do("summons", "manage", "POST", ok=302, body=hold_body, writes=True, to=at("web:summons-summons")),)
    ),
    "web:summons-cancel": Obj(
        (Do("summons", "manage", "POST", ok=302, body=lambda w, s, k: {"note": "矩阵取消"}, writes=True,
            to=at("web:summons-summons")),)
    ),
    # risk letters: seen through the addressee; issued by inspect over it (a finding's letter: the finding's
    # unit, else 404 as a notice's); acknowledged and answered by its lead; closed or returned by inspect
    # over it, never its own
    "web:inspections-letters": Listing(gate="view", queries=("", "status=answered", "overdue=1"), rows=letter_rows),
    "web:inspections-letter-new": Obj(
        (
            Do("finding", "inspect", gate="inspect", refused=404, path_pk=False, query=letter_query),
            Do("site", "inspect", "POST", gate="inspect", hidden=400, refused=400, ok=302, path_pk=False,
               body=letter_body, writes=True, to=prefix("/risk-letters/")),
        )
    ),
    "web:inspections-letter": Obj((Do("letter"), Do("letter_answered", label="answered"))),
    "web:inspections-letter-print": Obj((Do("letter"),)),
    "web:inspections-letter-pdf": Obj((Do("letter", check=attachment_of("application/pdf")),)),
    "web:inspections-letter-acknowledge": Obj(
        (Do("letter", "report", "POST", ok=302, writes=True, to=at("web:inspections-letter")),)
    ),
    "web:inspections-letter-answer": Obj(
        (Do("letter", "report", "POST", ok=302, body=lambda w, n, k: {"text": "矩阵测试防范措施"}, writes=True,
            to=at("web:inspections-letter")),)
    ),
    "web:inspections-letter-close": Obj(
        (Do("letter_answered", "verify", "POST", ok=302, writes=True, to=at("web:inspections-letter")),)
    ),
    "web:inspections-letter-return": Obj(
        (Do("letter_answered", "verify", "POST", ok=302, body=lambda w, n, k: {"reason": "矩阵测试退回"}, writes=True,
            to=at("web:inspections-letter")),)
    ),
    "web:inspections": Listing(
        gate="view",
        queries=("", "status=completed"),
        rows=lambda p, q: {
            f"/inspections/{pk}/" for pk, status in Inspection.objects.values_list("pk", "status")
            if (not q or status == "completed")
            and any(sees_unit(p, u) for u in Inspection.objects.get(pk=pk).units.values_list("code", flat=True))
        },
    ),
    "web:inspections-inspection-new": Obj(
        (Do("site", "inspect", "POST", gate="inspect", hidden=400, refused=400, ok=302, path_pk=False,
            body=inspection_body, writes=True, to=prefix("/inspections/")),)
    ),
    "web:inspections-inspection": Obj((Do("inspection"), Do("tour", label="tour"), Do("past_tour", label="past tour"))),
    "web:inspections-inspection-start": Obj(
        (
            Do("inspection", "inspect", "POST", ok=302, writes=True, to=at("web:inspections-inspection")),
            Do("tour", "inspect", "POST", ok=302, label="tour", writes=True, to=at("web:inspections-inspection")),
        )
    ),
    "web:inspections-inspection-complete": Obj(
        (
            Do("inspection", "inspect", "POST", ok=302, body=lambda w, i, k: {"summary": "矩阵测试小结"}, writes=True,
               to=at("web:inspections-inspection")),
            Do("tour", "inspect", "POST", ok=302, body=lambda w, i, k: {"summary": "矩阵测试小结"}, label="tour",
               writes=True, to=at("web:inspections-inspection")),
        )
    ),
    "web:inspections-hotspots": Listing(
        gate="view",
        queries=("", "status=delisted"),
        rows=lambda p, q: {
            f"/hotspots/{pk}/" for pk, code, status in Hotspot.objects.values_list("pk", "unit__code", "status")
            if sees_unit(p, code) and status == ("delisted" if q else "listed")
        },
    ),
    "web:inspections-hotspot-new": Obj(
        (Do("site", "inspect", "POST", gate="inspect", hidden=400, refused=400, ok=302, path_pk=False,
            body=hotspot_body, writes=True, to=prefix("/hotspots/")),)
    ),
    "web:inspections-hotspot": Obj((Do("hotspot"),)),
    # signing in and out, the language
    "login": Public("login"),
    "logout": Public("logout"),
    "set_language": Public("set_language"),
    "healthz": Public("healthz"),
}
# fmt: on

# GET forms of a role (no object): 200 with it, 403 without; the POSTs are object rules above
FORMS = {
    "web:tasks-plans": "manage",
    "web:directives-new": "manage",
    "web:stats-catalogue": "manage",
    "web:inspections-finding-new": "log",
    "web:inspections-inspection-new": "inspect",
    "web:inspections-hotspot-new": "inspect",
}
# the GET of pages whose POST is an object rule above, asked as a board
BOARDS = {"web:boards-ranking": "board"}

# the objects each kind of target is tried on
TARGETS = {
    "work": SITES,
    "review": SITES,
    "extension": SITES,
    "coop": ("330310", "330320"),
    "coop_extension": ("330310", "330320"),
    "item": ("XJ", "XS"),
    "campaign": ("XJ", "XS"),
    "round": ("XJ", "XS"),
    "doc_rule": ("XJ", "XS"),
    "plan": ("XJ", "XS"),
    "draft": ("XJ", "XS"),
    "closed": ("XJ", "XS"),
    "inspection": SITES,
    "tour": ("tour",),
    "past_tour": ("past",),
    "directive": SITES,
    "secret": (SECRET_AT,),
    "finding": SITES,
    "ordered": SITES,
    "submitted": SITES,
    "notice": SITES,
    "hotspot": SITES,
    "letter": SITES,
    "letter_answered": SITES,
    "site": SITES,
    "message": SITES,
    "doc_draft": SITES,
    "doc_checking": SITES,
    "doc_signing": SITES,
    "doc_issued": SITES,
    "summons": SITES,
}


# --- the admin: what each role may do there, and how each model is scoped ---------------------------


ROLES = frozenset({Role.HQ, Role.UNIT_LEAD, Role.INSPECTOR, Role.LEADER})
HQ = frozenset({Role.HQ})
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AdminModel:
    """How one registered model should behave in the admin (the test's statement, not the app's)."""

    scope: str | None  # whose rows: unit (the row's unit in the view scope) | campaign (also seen from
    #                    below the owner) | manage (HQ over the row's unit or campaign owner) | None (all)
    view: frozenset[str]  # the roles with the view permission
    write: frozenset[str]  # the roles that add and change (HQ: over the row's unit)
    targets: tuple[str, ...]  # keys of the rows the object views are tried on
    row: Callable[[PageWorld, str], Model]
    code: Callable[[Model], str | None]  # the unit deciding a row's visibility
    query: str = ""  # the changelist's query: a flat list of the rows the cases use
    delete: frozenset[str] = NONE  # the roles that delete (HQ: over the row's unit)


def _site_event(w: PageWorld, site: str) -> AuditEvent:
    return AuditEvent.objects.get(unit__code=site, verb="hotspot.listed", object_id=w.base.supervision.hotspot[site].pk)


CAMPAIGN_CODES = ("XJ", "XS")
UNSCOPED = (
    "auth.group",
    "authtoken.tokenproxy",
    "django_celery_beat.periodictask",
    "django_celery_beat.clockedschedule",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.solarschedule",
    "django_celery_beat.intervalschedule",
    "notifications.policy",
    "notifications.messagetemplate",
    "notifications.preference",
    "axes.accesslog",
    "axes.accessfailurelog",
)
ADMIN_MODELS: dict[str, AdminModel] = {
    "accounts.unit": AdminModel(
        "unit", ROLES, HQ, SITES, lambda w, k: w.base.units[k], lambda u: u.code, query="is_active__exact=1"
    ),
    "accounts.user": AdminModel(
        "unit", ROLES, HQ, SITES, lambda w, k: w.clerks[k], lambda u: u.unit.code, query="q=clerk"
    ),
    "accounts.rolegrant": AdminModel(
        "unit", ROLES, HQ, SITES, lambda w, k: w.clerks[k].grants.get(), lambda g: g.unit.code, query="q=clerk"
    ),
    "audit.auditevent": AdminModel(
        "unit", ROLES, NONE, SITES, _site_event, lambda e: e.unit.code if e.unit else None, query="q=MATRIX-hotspot"
    ),
    "audit.securityevent": AdminModel(
        "manage",
        HQ,
        NONE,
        SITES,
        lambda w, k: w.security[k],
        lambda e: e.unit.code if e.unit else None,
        query="q=clerk",
    ),
    "axes.accessattempt": AdminModel(
        "manage",
        HQ,
        NONE,
        SITES,
        lambda w, k: w.locks[k],
        lambda a: User.objects.get(username=a.username).unit.code,
        query="q=clerk",
        delete=HQ,
    ),
    "tasks.campaign": AdminModel(
        "campaign", ROLES, HQ, CAMPAIGN_CODES, lambda w, k: w.base.campaigns[k], lambda c: c.owner.code
    ),
    "tasks.item": AdminModel(
        "campaign", ROLES, HQ, CAMPAIGN_CODES, lambda w, k: first_item(k), lambda i: i.campaign.owner.code
    ),
    "tasks.assignment": AdminModel("unit", ROLES, NONE, SITES, lambda w, k: w.base.work[k], lambda a: a.unit.code),
    "stats.indicator": AdminModel(
        "manage", ROLES, HQ, CAMPAIGN_CODES, lambda w, k: w.indicators[k], lambda i: i.campaign.owner.code
    ),
    "stats.round": AdminModel(
        "manage", ROLES, HQ, CAMPAIGN_CODES, lambda w, k: w.rounds[k], lambda r: r.campaign.owner.code
    ),
    "notifications.message": AdminModel("unit", NONE, NONE, SITES, lambda w, k: w.messages[k], lambda m: m.unit.code),
    "notifications.reminder": AdminModel(
        "unit", NONE, NONE, SITES, lambda w, k: w.messages[k].reminder, lambda r: r.unit.code
    ),
    # read-only, for a superuser: the rows change only through their services (docs/documents.md, directives.md)
    "documents.documentrecipient": AdminModel(
        "unit", NONE, NONE, SITES, lambda w, k: _site_recipient(w, k), lambda r: r.document.issuing_unit.code
    ),
    "documents.summons": AdminModel("unit", NONE, NONE, SITES, lambda w, k: w.base.summons[k], lambda s: s.unit.code),
    "documents.summonscommitment": AdminModel(
        "unit", NONE, NONE, SITES, lambda w, k: _site_commitment(w, k), lambda c: c.summons.unit.code
    ),
    "directives.directive": AdminModel(
        "unit", NONE, NONE, SITES, lambda w, k: w.base.directive[k], lambda d: d.item.assignments.get().unit.code
    ),
    **{
        label: AdminModel(None, NONE, NONE, ("any",), lambda w, k, label=label: w.extra[label], lambda r: None)
        for label in UNSCOPED
    },
}


def _site_recipient(w: PageWorld, site: str) -> Model:
    """The site's issued document's unit recipient: the site itself (its issuing unit too)."""
    return w.base.documents["doc_issued"][site].distribution.get(unit__isnull=False)


def _site_commitment(w: PageWorld, site: str) -> SummonsCommitment:
    """A commitment on the site's planned 约谈, made in the case's own savepoint (a world's would change what
    the summons pages show and hold)."""
    row, _ = SummonsCommitment.objects.get_or_create(
        summons=w.base.summons[site],
        seq=99,
        defaults={"text": mark(site, "commitment"), "deadline": timezone.localdate()},
    )
    return row


ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history", "object")


def admin_code(model: AdminModel, key: str) -> str:
    return unit_code_of("campaign", key) if key in CAMPAIGN_CODES else key


def admin_sees(persona: Persona, model: AdminModel, key: str) -> bool:
    """Whether the row is in the persona's admin queryset (a row of an unscoped model always is)."""
    if model.scope is None:
        return True
    code = admin_code(model, key)
    if model.scope == "campaign":
        return sees_campaign(persona, code)
    if model.scope == "manage":
        return may_manage(persona, code)
    return sees_unit(persona, code)


def admin_may(persona: Persona, roles: frozenset[str], model: AdminModel, key: str | None) -> bool:
    """The permission (``key`` None), or the permission over this row: HQ over the row's unit."""
    if not persona.roles & roles:
        return False
    return key is None or key == "any" or may_manage(persona, admin_code(model, key))


def admin_rules() -> dict[str, AdminView | AdminSite]:
    """One rule per pattern of every registered model (named by Django's ``app_model_view``)."""
    rules: dict[str, AdminView | AdminSite] = {}
    for model in admin.site._registry:
        label, (app, name) = model._meta.label_lower, model._meta.label_lower.split(".")
        for view in ADMIN_VIEWS:
            key = f"admin/{app}/{name}/<path:object_id>/" if view == "object" else f"admin:{app}_{name}_{view}"
            rules[key] = AdminView(view, label)
    rules.update(
        {
            "admin:index": AdminSite("index"),
            "admin:login": AdminSite("login"),
            "admin:logout": AdminSite("logout"),
            "admin:password_change": AdminSite("password_change"),
            "admin:password_change_done": AdminSite("password_change"),
            "admin:autocomplete": AdminSite("autocomplete"),
            "admin:jsi18n": AdminSite("jsi18n"),
            "admin:view_on_site": AdminSite("view_on_site"),
            "admin:app_list": AdminSite("app_list"),
            "admin/(?P<url>.*)$": AdminSite("catch_all"),
            # extra views of UserAdmin and treebeard's TreeAdmin (UnitAdmin)
            "admin:auth_user_password_change": AdminSite("user_password"),
            "admin/accounts/unit/move/": AdminSite("unit_move"),
            "admin/accounts/unit/children/<str:parent_id>/": AdminSite("unit_children"),
            "admin:javascript-catalog": AdminSite("public_catalogue"),
        }
    )
    return rules


# --- the world, built once per module (as in test_api_matrix) ---------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The API matrix's world plus the pages' extras, in a transaction rolled back after the module; each
    case runs in a savepoint of it (``world``)."""
    build = partial(build_page_world, tmp_path_factory.mktemp("pages-plan"), tmp_path_factory.mktemp("pages-media"))
    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


@pytest.fixture
def world(shared_world, db, settings) -> PageWorld:
    settings.MEDIA_ROOT = str(shared_world.base.media_root)
    return shared_world


def client_for(world: PageWorld, persona: Persona) -> Client:
    """A client signed in as the persona, with the session made once for the module (``sessions``):
    signing in per case would cost a session, a ``last_login`` update and the sign-in's records."""
    client = Client()
    if not persona.anonymous:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona.name]
    return client


def sessions(people: dict[str, User]) -> dict[str, str]:
    """A signed-in session per persona, as ``django.contrib.auth.login`` would store it."""
    keys = {}
    for name, user in people.items():
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), MODEL_BACKEND
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys[name] = store.session_key
    return keys


def to_login(response, path: str, login: str = LOGIN) -> None:
    assert response.status_code == 302, (path, response.status_code)
    assert response["Location"].startswith(f"{login}?next="), response["Location"]


# tables a refused request must leave alone: rows, and the columns a write changes
FINGERPRINT = (
    (Assignment, ("version", "status", "due_date")),
    (ExtensionRequest, ("status",)),
    (ProgressReport, ()),
    (Evidence, ()),
    (Comment, ()),
    (Inspection, ("version", "status")),
    (Finding, ("version", "status")),
    (Notice, ("status", "acknowledged_at")),
    (Hotspot, ("version", "status")),
    (Photo, ()),
    (Answer, ("accepted",)),
    (Figure, ("value",)),
    (Export, ("status",)),
    (Weights, ("completion", "laggards")),
    (Message, ("status", "read_at")),
    (Preference, ("email", "webhook", "digest", "weekly")),
    (Unit, ("path", "name")),
    (User, ("is_superuser", "is_staff", "unit_id", "name")),
    (RoleGrant, ("role", "unit_id")),
    (Campaign, ("name", "status", "owner_id")),
    (Item, ("title",)),
    (PlanUpload, ("status",)),
    (Indicator, ("name",)),
    (Round, ("name",)),
    (AuditEvent, ()),
    (AccessAttempt, ("failures_since_start",)),
)  # (not SecurityEvent: a refusal is recorded there, by design)


def fingerprint() -> tuple:
    """Row counts and a digest of the columns above, in one query (any database: the rows)."""
    if connection.vendor != "postgresql":
        return tuple(tuple(model.objects.order_by("pk").values_list("pk", *cols)) for model, cols in FINGERPRINT)
    parts = []
    for model, cols in FINGERPRINT:
        table, pk = connection.ops.quote_name(model._meta.db_table), model._meta.pk.column
        names = [model._meta.get_field(c.removesuffix("_id")).column for c in (pk, *cols)]
        digest = " || ',' || ".join(f"coalesce({connection.ops.quote_name(n)}::text, '-')" for n in names)
        parts.append(
            f"(SELECT count(*) || ':' || coalesce(md5(string_agg({digest}, ';' ORDER BY {pk})), '') FROM {table})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return cursor.fetchone()


# --- the object pages --------------------------------------------------------------------------------


def object_cases():
    for name, rule in EXPECTED.items():
        if not isinstance(rule, Obj):
            continue
        for do in rule.does:
            for persona in PERSONAS.values():
                for key in TARGETS[do.target]:
                    label = f"[{do.label}]" if do.label else ""
                    yield pytest.param(
                        name,
                        do,
                        persona,
                        key,
                        id=f"{do.method} {name}{label} {persona.name} {where(persona, do.target, key)}",
                    )


def allowed(do: Do, persona: Persona, obj: Model, key: str) -> bool:
    codes = codes_of(do.target, key)
    if do.right == "view":
        return True
    if do.right == "report":
        return may_report(persona, codes[0])
    if do.right == "review":
        return may_review(persona, obj.assignment if isinstance(obj, ExtensionRequest) else obj)
    if do.right == "inspect":  # an inspection visiting several units: over each of them
        return all(may_inspect(persona, code) for code in codes)
    if do.right == "verify":
        return may_verify(persona, codes[0])
    if do.right == "log":
        return may_inspect(persona, codes[0]) or may_report(persona, codes[0])
    if do.right == "enter":  # results figures: the unit's lead, or HQ over it on its behalf (代填)
        return may_enter(persona, codes[0])
    if do.right == "chase":  # 催办: HQ or a leader over the unit
        return persona.over({Role.HQ, Role.LEADER}, codes[0])
    if do.right == "sign":  # 签发 of a document: a leader over its issuing unit
        return persona.over({Role.LEADER}, codes[0])
    if do.right == "check":  # 核稿: HQ over the issuing unit, not the drafter (hq) while another HQ may
        return may_manage(persona, codes[0]) and not (persona.name == "hq" and is_under(codes[0], "330310"))
    if do.right == "draft_notice":  # a notice's document: HQ or an inspector over the notice's issuing unit
        return persona.over({Role.HQ, Role.INSPECTOR}, obj.issuing_unit.code)
    if do.right == "owner":  # a directive's HQ: over its campaign's owner, whatever its units
        return persona.over({Role.HQ}, OWNER_OF[DIRECTIVE_IN[key]])
    assert do.right == "manage", do.right
    return may_manage(persona, codes[0])


def expected_answer(do: Do, persona: Persona, obj: Model, key: str) -> tuple[int, str]:
    if persona.anonymous:
        return 302, "anonymous"
    if do.gate and not holds(persona, do.gate):
        return 403, f"no {do.gate} role"
    if not visible(persona, do.target, key):
        return do.hidden, "out of scope"
    if not allowed(do, persona, obj, key):
        return do.refused, f"in scope, no {do.right} right"
    if do.refusal and (status := do.refusal(key)):
        return status, "refused by the service"
    return do.ok, "allowed"


def url_of(name: str, do: Do, world: PageWorld, obj: Model, key: str, pk: int) -> str:
    url = reverse(name, args=[pk]) if do.path_pk else reverse(name)
    if do.query:
        query = do.query(world, obj, key)
        url += query if pk == obj.pk else re.sub(r"=[^&]*", f"={pk}", query)  # the ghost: every value unknown
    return url


def send(client: Client, name: str, do: Do, world: PageWorld, obj: Model, key: str, pk: int):
    url, body = request_of(name, do, world, obj, key, pk)
    return client.get(url) if do.method == "GET" else client.post(url, body)


def request_of(name: str, do: Do, world: PageWorld, obj: Model, key: str, pk: int) -> tuple[str, dict | None]:
    """The URL and (for a POST) the form data of a case's request about ``pk``."""
    url = url_of(name, do, world, obj, key, pk)
    if do.method == "GET":
        return url, None
    body = do.body(world, obj, key) if do.body else {}
    if pk != obj.pk and not do.path_pk:  # the ghost of an object named in the body: every reference unknown
        ghosts = {
            "unit": GHOST_UNIT,
            "message": pk,
            "campaign": pk,
            "findings": [pk],
            "units": [GHOST_UNIT],
            "rows": f"{pk}:1",
            "ids": [pk],
        }
        body = {k: ghosts.get(k, v) for k, v in body.items()}
    return url, body


def missing_answer(client: Client, name: str, do: Do, world: PageWorld, obj: Model, key: str, persona: Persona):
    """The answer about an id no row has (``GHOST``): (status, body). Many cases of a persona send the
    very same request for it (the ghost's URL and form do not depend on the object the case is about,
    and every case starts from the same world), so it is asked once per persona and request and kept for
    the module (``world.ghosts``); a request carrying a file is always sent."""
    url, body = request_of(name, do, world, obj, key, GHOST)
    if body is not None and any(hasattr(v, "read") for v in body.values()):
        response = client.post(url, body)
        return response.status_code, response.content
    cache = (persona.name, do.method, url, repr(sorted(body.items())) if body is not None else None)
    if cache not in world.ghosts:
        response = client.get(url) if body is None else client.post(url, body)
        world.ghosts[cache] = response.status_code, response.content
    return world.ghosts[cache]


def secrets(world: PageWorld, do: Do, obj: Model, key: str) -> list[str]:
    """What an answer about an object the persona may not see must not contain."""
    found = [NAME[code] for code in codes_of(do.target, key) if code in NAME]
    found += [mark(code, what) for code in codes_of(do.target, key) for what in ("finding", "hotspot", "message")]
    if isinstance(obj, Assignment):
        found.append(obj.item.title)
    if isinstance(obj, Notice):
        found.append(obj.number)
    if isinstance(obj, Campaign | Round):
        found.append(obj.name)
    return found


@pytest.mark.parametrize(("name", "do", "persona", "key"), list(object_cases()))
def test_object_page(world, name, do, persona, key):
    obj = world.object(do.target, key)
    want, why = expected_answer(do, persona, obj, key)
    client = client_for(world, persona)
    before = fingerprint() if do.method == "POST" else None
    events = AuditEvent.objects.count() if do.method == "POST" and do.writes else None  # read on a success only
    response = send(client, name, do, world, obj, key, obj.pk)
    got = response.status_code
    assert got == want, (
        f"{persona.name} {do.method} {name} on {do.target} {key} ({why}): expected {want}, got {got} "
        f"{response.get('Location', '')} {response.content[:300]!r}"
    )
    if persona.anonymous:
        to_login(response, name)
    if why != "allowed":
        if before is not None:
            assert fingerprint() == before, "a refused request changed rows"
        body = response.content.decode(errors="replace")
        if why == "out of scope":
            for secret in secrets(world, do, obj, key):
                assert secret not in body, f"the {got} answer leaks {secret!r}"
            if got == 404:  # the same answer as for an id that does not exist
                ghost = missing_answer(client, name, do, world, obj, key, persona)
                assert ghost == (404, response.content), "out of scope ≠ missing"
        if got in (200, 400, 403) and "text/html" in response["Content-Type"]:
            assert_in_scope(body, persona, world)
        return
    if do.method == "POST":
        assert fingerprint() != before, "an accepted request wrote nothing"
        if do.writes:
            assert AuditEvent.objects.count() > events, "a change without an audit event"
    if do.to:
        assert response["Location"].startswith(do.to(world, obj, key)), response["Location"]
    if got == 200 and "text/html" in response["Content-Type"]:
        assert_in_scope(response.content.decode(), persona, world)
    if do.check:
        do.check(response, world, obj, key)


def test_the_fingerprint_sees_a_write(world):
    """The fingerprint sees a change of each kind the cases make (so "nothing written" means something)."""
    before = fingerprint()
    Message.objects.filter(pk=world.messages["330310"].pk).update(status="pending")
    assert fingerprint() != before


# --- lists, forms of a role, boards ---------------------------------------------------------------------


def list_cases():
    for name, rule in EXPECTED.items():
        if isinstance(rule, Listing):
            for query in rule.queries:
                for persona in PERSONAS.values():
                    yield pytest.param(name, rule, query, persona, id=f"GET {name}?{query} {persona.name}")
    for name, gate in FORMS.items():
        for persona in PERSONAS.values():
            yield pytest.param(name, Listing(gate=gate), "", persona, id=f"GET {name} {persona.name}")


@pytest.mark.parametrize(("name", "rule", "query", "persona"), list(list_cases()))
def test_list_page(world, name, rule, query, persona):
    """A list shows exactly the rows in the persona's scope; a page of a role is a 403 without it."""
    asked = query.replace("campaign=XS", f"campaign={world.base.campaigns['XS'].pk}")
    asked = asked.replace("campaign=XJ", f"campaign={world.base.campaigns['XJ'].pk}")
    client = client_for(world, persona)
    response = client.get(reverse(name) + (f"?{asked}" if asked else ""))
    if persona.anonymous:
        return to_login(response, name)
    if rule.gate and not holds(persona, rule.gate):
        assert response.status_code == 403, response.content[:300]
        return
    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    assert_in_scope(body, persona, world)
    shown = set(re.findall(r'href="(/[a-z-]+/\d+/)', body))
    page = 1
    while f"page={page + 1}" in body and page < 20:  # a list longer than a page: every page's rows
        page += 1
        body = client.get(reverse(name) + f"?{asked}{'&' if asked else ''}page={page}").content.decode()
        assert_in_scope(body, persona, world)
        shown |= set(re.findall(r'href="(/[a-z-]+/\d+/)', body))
    if rule.rows:
        assert not rule.rows(persona, query) - shown, "rows in scope missing from the list"
    if rule.not_rows:
        assert not rule.not_rows(persona, query) & shown, "rows the persona may not act on in the list"


def board_cases():
    for name, rule in [
        *((n, r) for n, r in EXPECTED.items() if isinstance(r, Board)),
        *((n, Board(k)) for n, k in BOARDS.items()),
    ]:
        combos = (
            [(None,), ("XJ",), ("XS",)]
            if rule.kind == "counts"
            else [(None, None), ("XJ", None), ("XS", None), *(("XJ", site) for site in SITES)]
        )
        for combo in combos:
            campaign, unit = (*combo, None)[:2]
            for persona in PERSONAS.values():
                if (
                    name == "web:boards-bulletin-pdf"
                    and (campaign, unit) != ("XJ", None)
                    and board_answer(rule, persona, campaign, unit) == 200
                ):
                    continue  # the PDF of what the page shows (same checks): drawn once per persona
                near = f" {relation(persona, unit)}:unit@{unit}" if unit else ""
                yield pytest.param(
                    name, rule, campaign, unit, persona, id=f"GET {name}?campaign={campaign} {persona.name}{near}"
                )


def board_answer(rule: Board, persona: Persona, campaign: str | None, unit: str | None) -> int:
    if persona.anonymous:
        return 302
    if rule.kind == "counts" and not holds(persona, "view"):
        return 403
    if rule.kind == "leader" and not persona.roles & {Role.LEADER, Role.HQ}:
        return 403
    hidden = (campaign and not sees_campaign(persona, unit_code_of("campaign", campaign))) or (
        unit and not sees_unit(persona, unit)
    )
    nothing = campaign is None and (rule.kind == "counts" or (rule.kind == "bulletin" and not holds(persona, "view")))
    return 404 if hidden or nothing else 200


@pytest.mark.parametrize(("name", "rule", "campaign", "unit", "persona"), list(board_cases()))
def test_board_page(world, name, rule, campaign, unit, persona):
    """A board of a campaign the persona does not see, or of a unit out of its scope, is a 404 like a
    missing one; otherwise it shows the persona's rows only."""
    client = client_for(world, persona)

    def ask(campaign_pk, code):
        query = {k: v for k, v in (("campaign", campaign_pk), ("unit", code)) if v is not None}
        return client.get(reverse(name), query)

    pk = world.base.campaigns[campaign].pk if campaign else None
    response = ask(pk, unit)
    want = board_answer(rule, persona, campaign, unit)
    if persona.anonymous:
        return to_login(response, name)
    if want == 403:
        assert response.status_code == 403
        return
    if want == 404:
        assert response.status_code == 404, response.content[:300]
        ghost_campaign = GHOST if campaign and not sees_campaign(persona, unit_code_of("campaign", campaign)) else pk
        ghost_unit = GHOST_UNIT if unit else None
        cache = (persona.name, name, ghost_campaign, ghost_unit)  # as missing_answer: asked once per module
        if cache not in world.ghosts:
            world.ghosts[cache] = ask(ghost_campaign, ghost_unit).content
        assert world.ghosts[cache] == response.content
        if unit:
            assert NAME[unit] not in response.content.decode()
        return
    assert response.status_code == 200, response.content[:300]
    if response["Content-Type"].startswith("text/html"):
        assert_in_scope(response.content.decode(), persona, world)
    else:
        assert response["Content-Type"] == "application/pdf" and "attachment" in response["Content-Disposition"]


# --- the home page, one's own rows, sign-in ------------------------------------------------------------


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_landing(world, persona):
    assert isinstance(EXPECTED["web:home"], Landing)
    response = client_for(world, persona).get("/")
    if persona.anonymous:
        return to_login(response, "/")
    landing = next((page for role, page in LANDING if role in persona.roles), "/items/")
    assert (response.status_code, response["Location"]) == (302, landing)


def own_cases():
    for name, rule in EXPECTED.items():
        if isinstance(rule, Own):
            for persona in PERSONAS.values():
                yield pytest.param(name, rule, persona, id=f"{name} {persona.name}")


@pytest.mark.parametrize(("name", "rule", "persona"), list(own_cases()))
def test_own_page(world, name, rule, persona):
    """One's inbox, settings and exports: one's own only, whatever the role; another's row answers like
    a missing one and is left alone."""
    client = client_for(world, persona)
    mine = world.inbox.get(persona.name, [])
    others = [pk for user, pks in world.inbox.items() if user != persona.name for pk in pks]
    theirs = [e for user, e in world.exports.items() if user != persona.name]
    before = fingerprint()
    if rule.kind == "inbox-read":
        response = client.post(reverse(name, args=[others[0]]))
        if persona.anonymous:
            return to_login(response, name)
        assert response.status_code == 404 and fingerprint() == before
        assert client.post(reverse(name, args=[GHOST])).content == response.content
        if mine:
            response = client.post(reverse(name, args=[mine[0]]))
            assert response.status_code == 302 and response["Location"].startswith("/assignments/")
            assert Message.objects.get(pk=mine[0]).read_at is not None
        return
    if rule.kind == "inbox-read-all":
        response = client.post(reverse(name))
        if persona.anonymous:
            return to_login(response, name)
        assert response.status_code == 302
        assert not Message.objects.filter(pk__in=mine, read_at=None).exists()
        assert Message.objects.filter(pk__in=others, read_at=None).count() == len(others)
        return
    if rule.kind == "export-download":
        response = client.get(reverse(name, args=[theirs[0].pk]))
        if persona.anonymous:
            return to_login(response, name)
        assert response.status_code == 404
        assert client.get(reverse(name, args=[GHOST])).content == response.content
        response = client.get(reverse(name, args=[world.exports[persona.name].pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == f"XLSX-{persona.name}".encode()
        assert "attachment" in response["Content-Disposition"] and response["X-Content-Type-Options"] == "nosniff"
        return
    if rule.kind == "tokens":
        people = [world.user(p) for p in PERSONAS.values() if not p.anonymous]
        keys = {u.pk: issue_token(user=u).key for u in people}
        response = client.get(reverse(name))
        if persona.anonymous:
            return to_login(response, name)
        me, body = world.user(persona), response.content.decode()
        assert response.status_code == 200 and f"{keys[me.pk][:6]}…" in body
        assert not any(key in body for key in keys.values())  # a key is never shown again
        assert_in_scope(body, persona, world)
        assert client.post(reverse(name)).status_code == 302
        assert set(Token.objects.filter(user__in=people).values_list("user_id", flat=True)) == set(keys) - {me.pk}
        return
    if rule.kind == "preferences":
        others_before = set(Preference.objects.exclude(user__username=persona.name).values_list("pk", "webhook"))
        response = client.post(reverse(name), {"email": "on", "webhook": "on", "digest": "1"})
        if persona.anonymous:
            return to_login(response, name)
        assert response.status_code == 302
        me = world.user(persona)
        assert Preference.objects.get(user=me).webhook is True
        assert set(Preference.objects.exclude(user=me).values_list("pk", "webhook")) == others_before
    response = client.get(reverse(name))
    if persona.anonymous:
        return to_login(response, name)
    assert response.status_code == 200
    body = response.content.decode()
    assert_in_scope(body, persona, world)
    if rule.kind == "inbox":
        assert all(f"INBOX-{persona.name}-{i}" in body for i in range(len(mine)))
        assert "INBOX-" not in body.replace(f"INBOX-{persona.name}-", "")
    if rule.kind == "exports":
        assert f">{persona.name}台账.xlsx<" in body
        assert not any(f">{e.filename}<" in body for e in theirs)


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_sign_in_and_out(world, persona):
    """Sign-in: open to all, a signed-in user is sent on; ``next`` cannot leave the site. Sign-out: POST
    only. The language switch: open to all, and its ``next`` cannot leave the site either."""
    assert {EXPECTED[k].kind for k in ("login", "logout", "set_language")} == {"login", "logout", "set_language"}
    client = client_for(world, persona)
    response = client.get(LOGIN)
    if persona.anonymous:
        assert response.status_code == 200
        response = client.post(f"{LOGIN}?next=https://evil.example/", {"username": "hq", "password": "pw-hq"})
        assert (response.status_code, response["Location"]) == (302, "/")
    else:
        assert (response.status_code, response["Location"]) == (302, "/")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/accounts/logout/").status_code == 405  # a link cannot sign anyone out
    response = client.post("/accounts/logout/")
    assert (response.status_code, response["Location"]) == (302, LOGIN)
    to_login(client.get("/my/"), "/my/")


# POST-only patterns (the forms with a GET page are in FORMS and BOARDS; the sheet upload's GET goes back
# to the report page)
POST_ONLY = sorted(
    n
    for n, r in EXPECTED.items()
    if isinstance(r, Obj)
    and {d.method for d in r.does} == {"POST"}
    and n not in FORMS | BOARDS
    and n != "web:stats-upload"
)


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_health_probe_is_open_and_says_nothing(world, persona):
    """The load balancer's probe answers without a session (200, or 503 naming what failed) and holds
    no data: no unit, no user, nothing marked."""
    assert EXPECTED["healthz"].kind == "healthz"
    response = client_for(world, persona).get(reverse("healthz"))
    assert response.status_code in (200, 503)
    body = response.content.decode()
    assert_in_scope(body, PERSONAS["nobody"], world)
    assert not any(name in body for name in NAME.values()) and not any(u in body for u in world.base.people)


@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_pages_refuse_get(world, name):
    """A link (GET) never changes anything: the pages that write answer 405 to it."""
    do = EXPECTED[name].does[0]
    key = TARGETS[do.target][0]
    obj = world.object(do.target, key)
    before = fingerprint()
    response = client_for(world, PERSONAS["hq"]).get(url_of(name, do, world, obj, key, obj.pk))
    assert response.status_code == 405 and fingerprint() == before


# --- files ------------------------------------------------------------------------------------------------


def stored_files(world: PageWorld) -> list[tuple[str, str, str, str]]:
    """(what, storage name, the download URL, its site or owner) of every kind of file the app keeps."""
    s = world.base.supervision
    files = []
    for site in SITES:
        evidence, photo = world.base.evidence[site], s.photo[site]
        files.append(("evidence", evidence.file.name, reverse("evidence-download", args=[evidence.pk]), site))
        files.append(("photo", photo.file.name, reverse("finding-photo-download", args=[photo.pk]), site))
    for name, export in world.exports.items():
        files.append(("export", export.file.name, reverse("web:boards-export-download", args=[export.pk]), name))
    for upload in world.plans.values():  # HQ's plan files: the manage right over the campaign's owner
        files.append(("plan", upload.file.name, reverse("web:tasks-plan-file", args=[upload.pk]), upload.owner.code))
    return files


@pytest.mark.parametrize("persona", list(PERSONAS.values()), ids=list(PERSONAS))
def test_files_only_through_their_views(world, persona):
    """No URL serves MEDIA_ROOT: a stored file's path answers 404 to everyone, its owner included; the
    scoped views are the only way, as attachments the browser will not sniff or render."""
    client = client_for(world, persona)
    media = "/" + (settings.MEDIA_URL or "").strip("/")
    for what, stored, download, owner in stored_files(world):
        assert (world.base.media_root / stored).is_file(), stored
        for url in {f"{media}/{stored}".replace("//", "/"), f"/media/{stored}", f"/{stored}"}:
            response = client.get(url)
            assert response.status_code == 404, url
            assert PNG not in response.content and b"XLSX-" not in response.content
        response = client.get(download)
        may = {"export": lambda: owner == persona.name, "plan": lambda: may_manage(persona, owner)}.get(
            what, lambda: sees_unit(persona, owner)
        )()
        if persona.anonymous:
            assert response.status_code in (302, 401, 403)
        elif what == "plan" and not holds(persona, "manage"):
            assert response.status_code == 403, (what, download)  # the plan pages are HQ's (gate)
        elif not may:
            assert response.status_code == 404, (what, download)
        else:
            assert response.status_code == 200, (what, download)
            assert "attachment" in response["Content-Disposition"] and response["X-Content-Type-Options"] == "nosniff"
            b"".join(response.streaming_content)
    notice = world.base.supervision.notice["330310"]
    response = client.get(reverse("web:inspections-notice-pdf", args=[notice.pk]))
    if sees_unit(persona, "330310"):
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert "attachment" in response["Content-Disposition"] and response["X-Content-Type-Options"] == "nosniff"


# --- the admin --------------------------------------------------------------------------------------------


def admin_url(rule: AdminView, obj: Model | None, pk: Any = None) -> str:
    app, name = rule.label.split(".")
    view = {"object": "change"}.get(rule.view, rule.view)
    if rule.view in ("changelist", "add"):
        return reverse(f"admin:{app}_{name}_{view}")
    url = reverse(f"admin:{app}_{name}_{view}", args=[pk if pk is not None else obj.pk])
    return url.removesuffix("change/") if rule.view == "object" else url


# Who is tried where. Every role but HQ holds the same admin rights (the view permission of the same
# models: ``test_admin_permissions_are_the_tables``), so the leader and the west inspector, whose scopes
# other personas share, are left out here; so is guan_hq, whose rights and scope there are east_hq's
# (HQ's permissions include a lead's, and its lead grant is inside its HQ grant). A model no role may open is tried on HQ, a lead and the two
# without a role (only the role matters there). Where Django checks the permission before it looks
# the row up (change, delete, the redirect), a persona without it is tried on one row only, and
# without the permission to add or delete only the POST is tried (the GET asks the same question).
ADMIN_PERSONAS = tuple(n for n in PERSONAS if n not in ("east_leader", "west_inspector", "guan_hq"))
FEW = ("hq", "east_lead", "nobody", "anonymous")


def admin_cases():
    for key, rule in admin_rules().items():
        if not isinstance(rule, AdminView) or rule.label not in ADMIN_MODELS:
            continue
        model = ADMIN_MODELS[rule.label]
        opened = model.view | model.write | model.delete
        for persona in (PERSONAS[n] for n in (ADMIN_PERSONAS if opened else FEW)):
            staff = persona.name in STAFF
            methods = ("GET", "POST") if staff and rule.view in ("add", "change", "delete") else ("GET",)
            if staff and not persona.roles & {"add": model.write, "delete": model.delete}.get(rule.view, ROLES):
                methods = ("POST",)
            for method in methods:
                if rule.view in ("changelist", "add"):
                    keys: tuple = (None,)
                elif (
                    not staff
                    or rule.view == "object"
                    or (rule.view == "change" and not persona.roles & (model.write if method == "POST" else opened))
                    or (rule.view == "delete" and not persona.roles & model.delete)
                ):
                    keys = model.targets[:1]
                else:
                    keys = model.targets
                for target in keys:
                    scoped = "campaign" if target in CAMPAIGN_CODES else "site"
                    near = f" {where(persona, scoped, target)}" if target not in (None, "any") else ""
                    yield pytest.param(key, rule, persona, method, target, id=f"{method} {key} {persona.name}{near}")


def admin_expected(rule: AdminView, model: AdminModel, persona: Persona, method: str, key: str | None) -> int:
    """What Django's admin answers, given the permissions and scope the test expects (see the docstring)."""
    if persona.name not in STAFF:
        return 302  # to the admin's login
    if rule.view == "object":
        return 302  # to the change page, whatever the id: that page decides
    sees = key is None or admin_sees(persona, model, key)
    may_view = admin_may(persona, model.view | model.write, model, None)
    if rule.view == "changelist":
        return 200 if may_view else 403
    if rule.view == "add":
        return 200 if admin_may(persona, model.write, model, None) else 403  # POSTed empty: the form again
    if rule.view == "history":  # Django looks the row up first here
        return 302 if not sees else 200 if may_view else 403
    if rule.view == "delete":
        if not admin_may(persona, model.delete, model, None):
            return 403
        return (
            302
            if not sees
            else (302 if method == "POST" else 200)
            if admin_may(persona, model.delete, model, key)
            else 403
        )
    assert rule.view == "change"
    if method == "GET":
        return 403 if not may_view else 302 if not sees else 200
    if not admin_may(persona, model.write, model, None):
        return 403
    return 302 if not sees else 200 if admin_may(persona, model.write, model, key) else 403


UNIT_ADMIN = ("accounts.unit", "accounts.user", "accounts.rolegrant")


def assert_no_other_branch(body: str, persona: Persona) -> None:
    """The unit and people pages name no unit beside the persona's line (its units, the ones above)."""
    for code, name in NAME.items():
        if not sees_unit(persona, code) and not is_under(persona.anchor, code):
            assert name not in body, f"the page names {name} ({code}) to {persona.name}"


@pytest.mark.parametrize(("key", "rule", "persona", "method", "target"), list(admin_cases()))
def test_admin_page(world, key, rule, persona, method, target):
    model = ADMIN_MODELS[rule.label]
    obj = model.row(world, target) if target is not None else None
    want = admin_expected(rule, model, persona, method, target)
    client = client_for(world, persona)
    url = admin_url(rule, obj)
    before = fingerprint() if method == "POST" else None
    if method == "GET":
        query = model.query if rule.view == "changelist" else ""
        response = client.get(url + (f"?{query}" if query else ""))
    else:
        response = client.post(url, {"post": "yes"} if rule.view == "delete" else {})
    got = response.status_code
    assert got == want, f"{persona.name} {method} {url}: expected {want}, got {got} {response.get('Location', '')}"
    deleted = rule.view == "delete" and method == "POST" and got == 302 and admin_sees(persona, model, target)
    if before is not None:  # POSTed empty: nothing may be saved (a delete confirmed by its owner aside)
        assert (fingerprint() != before) == deleted, "an admin POST changed rows" if not deleted else "not deleted"
    if persona.name not in STAFF:
        return to_login(response, url, ADMIN_LOGIN)
    if got == 302:
        location = response["Location"]
        if rule.view == "object":
            assert location == url + "change/", location
        elif deleted:  # to the list, or to the index for someone who may not change the rows
            assert location in (admin_url(AdminView("changelist", rule.label), None), "/admin/"), location
        else:  # out of scope: "missing", exactly as an id no row has
            assert location == "/admin/", location
            ghost_url = admin_url(rule, obj, pk=GHOST)  # the same for every row: asked once (missing_answer)
            cache = (persona.name, method, ghost_url, "admin")
            if cache not in world.ghosts:
                again = client.post if method == "POST" else client.get
                missing = again(ghost_url, {"post": "yes"} if rule.view == "delete" else {})
                world.ghosts[cache] = missing.status_code, missing.get("Location", "")
            assert world.ghosts[cache] == (302, location), "out of scope ≠ missing"
        return
    body = response.content.decode(errors="replace")
    assert_in_scope(body, persona, world)
    if rule.label in UNIT_ADMIN:
        assert_no_other_branch(body, persona)
    if rule.view == "changelist" and got == 200 and model.scope:
        app, name = rule.label.split(".")
        listed = {int(pk) for pk in re.findall(rf'href="/admin/{app}/{name}/(\d+)/change/', body)}
        rows = type(model.row(world, model.targets[0]))._default_manager.filter(pk__in=listed)
        for row in rows:
            code = model.code(row)
            seen = code is not None and (
                sees_campaign(persona, code)
                if model.scope == "campaign"
                else may_manage(persona, code)
                if model.scope == "manage"
                else sees_unit(persona, code)
            )
            assert seen, f"the changelist shows {persona.name} {row!r} of {code}"
        for target in model.targets:
            if admin_sees(persona, model, target):
                assert model.row(world, target).pk in listed, f"{rule.label} {target} missing from the changelist"


def admin_site_cases():
    for key, rule in admin_rules().items():
        if isinstance(rule, AdminSite):
            for persona in PERSONAS.values():
                yield pytest.param(key, rule, persona, id=f"{key} {persona.name}")


@pytest.mark.parametrize(("key", "rule", "persona"), list(admin_site_cases()))
def test_admin_site_page(world, key, rule, persona):
    """The admin's own pages: staff only (its login and treebeard's static catalogue aside); the app
    index of an app with nothing for the persona is missing; lookups (autocomplete, children, view on
    site) answer only with rows in scope."""
    client = client_for(world, persona)
    staff = persona.name in STAFF
    kind = rule.kind
    if kind == "login":
        response = client.get(ADMIN_LOGIN)
        assert response.status_code == (302 if staff else 200)
        return
    if kind == "logout":
        response = client.post("/admin/logout/")
        assert response.status_code in (200, 302)
        to_login(client.get("/admin/"), "/admin/", ADMIN_LOGIN)
        return
    if kind == "public_catalogue":
        assert client.get("/admin/accounts/unit/jsi18n/").status_code == 200
        return
    urls = {
        "index": ["/admin/"],
        "password_change": ["/admin/password_change/", "/admin/password_change/done/"],
        "jsi18n": ["/admin/jsi18n/"],
        "catch_all": ["/admin/no-such-page/"],
        "app_list": [f"/admin/{app}/" for app in sorted({m._meta.app_label for m in admin.site._registry})],
        "autocomplete": [
            "/admin/autocomplete/?app_label=accounts&model_name=rolegrant&field_name=unit&term=",
            "/admin/autocomplete/?app_label=accounts&model_name=rolegrant&field_name=user&term=clerk",
            "/admin/autocomplete/?app_label=tasks&model_name=campaign&field_name=owner&term=",
        ],
        "view_on_site": [
            f"/admin/r/{ContentType.objects.get_for_model(Assignment).pk}/{world.base.work[site].pk}/" for site in SITES
        ],
        "user_password": [f"/admin/accounts/user/{world.clerks[site].pk}/password/" for site in SITES],
        "unit_children": [f"/admin/accounts/unit/children/{world.base.units[site].pk}/" for site in SITES],
        "unit_move": ["move"],
    }[kind]
    for url in urls:
        if url == "move":
            return check_unit_move(world, client, persona)
        response = client.get(url)
        if not staff:
            to_login(response, url, ADMIN_LOGIN)
            continue
        got = response.status_code
        body = response.content.decode(errors="replace")
        if kind in ("index", "password_change", "jsi18n"):
            assert got == 200, url
        elif kind == "catch_all":
            assert got == 404
        elif kind == "app_list":
            app = url.split("/")[2]
            viewable = {label.split(".")[0] for label, m in ADMIN_MODELS.items() if persona.roles & (m.view | m.write)}
            assert got == (200 if app in viewable else 404), url
        elif kind == "autocomplete":
            assert got == 200, url
            for row in response.json()["results"]:
                code = (
                    Unit.objects.get(pk=row["id"]).code
                    if "field_name=user" not in url
                    else User.objects.get(pk=row["id"]).unit.code
                )
                assert sees_unit(persona, code), f"autocomplete offers {persona.name} {row}"
        elif kind == "view_on_site":
            assert got == 404, url  # no model has a page of its own on the site: nothing to redirect to
        elif kind == "user_password":
            site = next(s for s in SITES if str(world.clerks[s].pk) in url)
            want = 403 if Role.HQ not in persona.roles else 200 if may_manage(persona, site) else 404
            assert got == want, (url, got)
        elif kind == "unit_children":
            site = next(s for s in SITES if f"/{world.base.units[s].pk}/" in url)
            assert got == (200 if sees_unit(persona, site) else 404), (url, got)
        if got == 200:
            json_body = "json" in response["Content-Type"]
            assert_in_scope(json.dumps(response.json(), ensure_ascii=False) if json_body else body, persona, world)


def check_unit_move(world: PageWorld, client: Client, persona: Persona) -> None:
    """Moving a unit in the tree (treebeard's drag and drop): HQ over the unit and over its new place."""
    units = world.base.units
    for site in SITES:
        before = fingerprint()
        response = client.post(
            "/admin/accounts/unit/move/", {"node": units[site].pk, "target": units["330302"].pk, "relation": "child"}
        )
        if persona.name not in STAFF:
            to_login(response, "move", ADMIN_LOGIN)
            continue
        if may_manage(persona, site) and may_manage(persona, "330302"):
            assert response.status_code == 200, response.content[:200]
            assert Unit.objects.get(pk=units[site].pk).path.startswith(Unit.objects.get(code="330302").path)
            return  # one move is enough: the tree has changed under the next ones
        assert response.status_code == 403, (persona.name, site, response.status_code)
        assert fingerprint() == before


@pytest.mark.parametrize("persona", [p for p in PERSONAS.values() if Role.HQ in p.roles], ids=lambda p: p.name)
def test_admin_writes_stay_in_scope(world, persona):
    """HQ's admin forms offer and accept only units and users it is HQ over: it cannot grant itself (or
    anyone) a role over a unit above or beside its own, nor make anyone a superuser."""
    client = client_for(world, persona)
    me = world.user(persona)
    units = world.base.units
    for code in ("3303", "330320", "330310"):
        before = fingerprint()
        response = client.post(
            reverse("admin:accounts_rolegrant_add"), {"user": me.pk, "role": Role.LEADER, "unit": units[code].pk}
        )
        if may_manage(persona, code):
            assert response.status_code == 302, response.content[:300]
            assert RoleGrant.objects.filter(user=me, unit=units[code]).exists()
        else:
            assert response.status_code == 200 and fingerprint() == before, f"{persona.name} granted itself {code}"
    response = client.get(reverse("admin:accounts_user_change", args=[me.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "is_superuser" not in form.fields, "HQ may make someone a superuser"
    # a new unit: under a unit HQ is over, not beside its own top unit nor in another branch
    for n, (ref, position) in enumerate((("330310", "first-child"), ("330310", "right"), ("330320", "first-child"))):
        parent = ref if position == "first-child" else "3303"
        response = client.post(
            reverse("admin:accounts_unit_add"),
            {
                "code": f"9{n}",
                "name": f"矩阵新单位{n}",
                "kind": "other",
                "is_active": "on",
                "treebeard_ref_node": units[ref].pk,
                "treebeard_position": position,
            },
        )
        made = Unit.objects.filter(code=f"9{n}").first()
        assert (made is not None) == may_manage(persona, parent), (ref, position, response.status_code)
        if made is not None:
            assert Unit.objects.get_parent(made).code == parent
    for code in ("3303", "330320"):
        response = client.post(
            reverse("admin:tasks_campaign_add"),
            {
                "name": "矩阵测试行动",
                "code": f"MX{code}",
                "owner": units[code].pk,
                "start": "2026-07-01",
                "end": "2026-08-01",
                "actions-TOTAL_FORMS": 0,
                "actions-INITIAL_FORMS": 0,
                "items-TOTAL_FORMS": 0,
                "items-INITIAL_FORMS": 0,
            },
        )
        made = Campaign.objects.filter(code=f"MX{code}", owner=units[code]).exists()
        assert made == may_manage(persona, code), (code, response.status_code)


def test_admin_permissions_are_the_tables(world):
    """The admin rights each role holds are the ones ``ADMIN_MODELS`` states (so the matrix may try one
    view-only persona per scope: every role but HQ holds the same)."""
    for name in STAFF:
        persona, user = PERSONAS[name], world.base.people[name]
        held = user.get_all_permissions()
        for label, model in ADMIN_MODELS.items():
            app, model_name = label.split(".")
            for verb, roles in (("view", model.view), ("change", model.write), ("delete", model.delete)):
                has = f"{app}.{verb}_{model_name}" in held
                # add/change may be held where the admin itself forbids them (the audit trail, assignments)
                if verb == "change" and has and not persona.roles & roles:
                    assert not admin.site._registry[apps.get_model(label)].has_change_permission(_request(user))
                    continue
                assert has == bool(persona.roles & roles) or (verb == "view" and persona.roles & model.write), (
                    f"{name}: {verb} {label}"
                )


def _request(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_audit_trail_is_read_only_even_for_a_superuser(world):
    root = User.objects.create_superuser("matrix_root", password="pw-matrix-root")
    client = Client()
    client.force_login(root, backend=MODEL_BACKEND)
    event = _site_event(world, "330320")
    events = AuditEvent.objects.count()
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_add"), {"verb": "forged"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"verb": "x"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert AuditEvent.objects.count() == events and AuditEvent.objects.get(pk=event.pk).verb == "hotspot.listed"


# --- no page without a rule ---------------------------------------------------------------------------------


def routed_pages() -> set[str]:
    """Every pattern outside /api/: its name (namespaced), or its route when it has none."""
    found: set[str] = set()

    def walk(patterns, prefix: str, namespace: str):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif not route.startswith("api/"):
                found.add(f"{namespace}{entry.name}" if entry.name else route)

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_page_has_a_rule():
    rules = EXPECTED.keys() | admin_rules().keys()
    routed = routed_pages()
    missing = sorted(routed - rules)
    assert not missing, "pages without an access rule in EXPECTED (tests/test_page_matrix.py): " + ", ".join(missing)
    stale = sorted(rules - routed)
    assert not stale, "rules for pages that no longer exist: " + ", ".join(stale)
    unknown = sorted({m._meta.label_lower for m in admin.site._registry} - ADMIN_MODELS.keys())
    assert not unknown, "admin models without a rule in ADMIN_MODELS: " + ", ".join(unknown)
    gone = sorted(ADMIN_MODELS.keys() - {m._meta.label_lower for m in admin.site._registry})
    assert not gone, "ADMIN_MODELS names models no longer in the admin: " + ", ".join(gone)
    for name, rule in EXPECTED.items():
        if isinstance(rule, Obj):
            assert all(do.target in TARGETS for do in rule.does), name


def test_every_object_rule_is_tried_on_every_persona_and_relation():
    relations = {relation(p, k) for p in PERSONAS.values() for k in SITES}
    assert relations == {"own", "sub", "parent", "other", "any"}
    tried = {(c.values[0], c.values[2].name) for c in object_cases()}
    assert tried == {(n, p) for n, r in EXPECTED.items() if isinstance(r, Obj) for p in PERSONAS}


def test_the_world_has_what_the_pages_need(world):
    people = world.base.people
    for persona in PERSONAS.values():
        if persona.role is None:
            continue
        user = people[persona.name]
        assert {(g.role, g.unit.code) for g in user.grants.select_related("unit")} == set(persona.grants)
        assert user.is_staff and not user.is_superuser, persona.name
    assert not people["nobody"].is_staff
    assert {m.status for m in world.messages.values()} == {"dead"}
    assert {s.code for s in Inspection.objects.get(pk=world.base.supervision.past_tour.pk).units.all()} == set(TOUR)
    assert all(w.file for w in world.exports.values())
