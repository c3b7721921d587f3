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

Creating an object (POST to a list URL: inspections, findings, notices, hotspots) names its unit by code
in the body: a unit out of the view scope is refused with 400 "不在您的职责范围内", the same answer as for
a code that does not exist (the unit is not disclosed either way); a campaign named in the body that the
persona cannot see is a 404, as any reference out of scope. The supervision figures
(``/inspection-counts/``) must count exactly the rows in scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from io import BytesIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import scope
from accounts.models import Role, Unit, User
from accounts.services import issue_token
from audit.models import AuditEvent
from boards.models import Export
from directives.models import Directive
from directives.queries import directives_for
from documents.models import Document, SignOffRule, Summons
from inspections.models import (
    Answer,
    Finding,
    FindingStatus,
    Hotspot,
    Inspection,
    InspectionStatus,
    LetterStatus,
    Notice,
    NoticeStatus,
    Photo,
    RiskLetter,
)
from notifications.models import Message, Policy, Reminder
from stats.models import Figure, Indicator, Round
from tasks.models import Assignment, Campaign, Evidence, ExtensionRequest, Item, LineOfAction

from .matrix_support import (
    COOP,
    COOP_LEADS,
    DELISTED_AT,
    DIRECTIVE_IN,
    LEAD_OF,
    NAME,
    OWNER_OF,
    PARENT,
    PASS_DOWN_TO,
    PERSONAS,
    PNG,
    SECRET_AT,
    SITES,
    TOUR,
    Persona,
    World,
    build_world,
    finding_photo,
    is_under,
    kept_for_the_module,
    mark,
    may_enter,
    may_inspect,
    may_report,
    may_review,
    may_verify,
    png_upload,
    relation,
    sees_campaign,
    sees_secret,
    sees_unit,
    sees_work,
    unit_code_of,
    units_of,
)

pytestmark = pytest.mark.django_db

GHOST = 2_000_000_007  # an id no row has
GHOST_UNIT = "99887766"  # a unit code no unit has


# --- the rules -------------------------------------------------------------------------------------

Body = Callable[[Model, int], Any]  # (the object, the id to put in the body) -> request data


@dataclass(frozen=True)
class Do:
    """One way of calling an object-bound endpoint."""

    target: str  # a key of TARGETS: work, review, coop, evidence, extension, unit, user, campaign …
    right: str = "view"  # view | report | review | inspect | log (inspect or report) | enter (report or manage: figures, 代填) | manage (HQ over it: a unit, an item's or a plan's campaign owner)
    ok: int = 200
    hidden: int = 404  # the answer out of the view scope: 400 when the body names the unit (creation)
    campaign: str | None = None  # the campaign the body names (creation): not seen → 404 before anything
    body: Body | None = None
    label: str = ""
    fmt: str = "json"
    writes: bool = False  # a success records an audit event
    refusal: Callable[[str], int | None] = lambda key: None  # a legitimate business refusal (by target key)
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
    unit: Callable[[Any], str | tuple[str, ...] | None]  # the unit code(s) deciding a row's visibility (any)
    from_above: bool = False  # campaigns (and their actions, items) are seen from below the owner too
    filters: tuple[tuple[str, Callable[[World], str], Callable[[World, Any], bool]], ...] = ()
    seen: Callable[[Persona, Any], bool] | None = None  # the rule instead of the unit's (a secret directive's work)


@dataclass(frozen=True)
class Figures:
    """Counts over the rows in scope: ``?campaign=`` (required, a campaign seen) and ``?unit=`` (in scope)."""

    oracle: Callable[[Persona, Campaign, str | None], dict[str, int]]  # (persona, campaign, unit code)


@dataclass(frozen=True)
class TokenAuth:
    """POST /auth/token/: open to anyone holding a password."""


@dataclass(frozen=True)
class Root:
    """The router's index of endpoints: any authenticated user."""


@dataclass(frozen=True)
class Board:
    """A board over the rows in scope: ``?campaign=`` (default the latest seen) and ``?unit=`` (in
    scope; default the campaign's owner when seen, else the top of the persona's own subtree).
    ``check(got, persona, campaign, root)`` compares the answer with the rows the persona may see."""

    check: Callable[[dict, Persona, Campaign, str], None]


@dataclass(frozen=True)
class Own:
    """The caller's own rows only (the inbox, exports): whatever the role, another user's row does not
    exist. Asking for an export checks its campaign against the caller's scope (out of it: 404)."""

    kind: str  # inbox: list | detail | read | read_all; exports: list | create | detail | download
    of: str = "inbox"  # inbox | exports


@dataclass(frozen=True)
class Summary:
    """HQ's summary sheet (代填汇总表), a sheet naming one unit: HQ only (403 for any other role, before
    anything); the campaign seen (else 404); a unit HQ may not enter figures for is a located problem
    (400) worded as for a unit that does not exist, and nothing is written; else 201."""


def status_is(status: str):
    def check(response, obj, key):
        assert response.json()["status"] == status

    return check


def own_rules(own: bool):
    def check(response, obj, key):
        assert response.json()["own"] is own and Policy.objects.filter(campaign=obj).exists() is own

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


def checklist_download(response, obj, key):
    """The campaign's checklist as an XLSX attachment: a row per active item of the campaign."""
    assert response["Content-Type"] == XLSX and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = load_workbook(BytesIO(response.content)).active.iter_rows(min_row=3, values_only=True)
    assert {row[0] for row in rows if row[1]} == set(
        obj.items.in_plan().filter(is_active=True).values_list("code", flat=True)
    )


def png_download(response, obj, key):
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]


def station_has_nothing_under_it(key: str) -> int | None:
    """Pass-down from a station: there is no unit under it, so even the lead is refused (400)."""
    return 400 if PASS_DOWN_TO[key] is None else None


def pass_down_body(a: Assignment, pk: int):
    return [{"unit": PASS_DOWN_TO[a.unit.code] or a.unit.code, "target": "1"}]


def transition(name: str) -> Body:
    return lambda a, pk: {"name": name, "confirm_shortfall": name == "submit"}


def bulk(name: str) -> Body:
    return lambda a, pk: [{"id": pk, "name": name, "confirm_shortfall": name == "submit"}]


def chased_one(response, a: Assignment, key: str) -> None:
    assert response.json()["chased"] == 1 and response.json()["units"] == 1, response.json()
    assert AuditEvent.objects.filter(verb="assignment.chased", object_id=a.pk).count() == 1


def approve(x: ExtensionRequest, pk: int):
    return {"approve": True, "note": "同意"}


def extension_body(a: Assignment, pk: int):
    return {"requested_due": str(a.due_date + timedelta(days=7)), "reason": "矩阵测试延期"}


def copy_body(c: Campaign, pk: int):
    """Next year's campaign from this one (each case rolls back: the code is free again)."""
    return {
        "name": "矩阵复制行动",
        "code": f"MX-{c.code}",
        "start": str(c.start.replace(year=c.start.year + 1)),
        "end": str(c.end.replace(year=c.end.year + 1)),
    }


def unacknowledged(row: Model, pk: int):
    """签收 asked of a row not yet acknowledged (the world's work was reported, its notices answered:
    both acknowledged then); the reset writes no version, status or event, so a refusal still shows none."""
    type(row).objects.filter(pk=row.pk).update(acknowledged_at=None, acknowledged_by=None)
    return {}


def acknowledged(response, obj, key):
    got = response.json()
    assert got["acknowledged_at"] and got["acknowledged_by"], got  # the caller's name


def report_body(a: Assignment, pk: int):
    return {"value": "2", "text": "矩阵测试填报", "files": [png_upload()]}


def directive_site(d: Directive) -> str:
    return Assignment.objects.filter(item_id=d.item_id, role="lead").values_list("unit__code", flat=True).first()


def directive_body(c: Campaign, pk: int):
    """立项 and 交办 at once in the campaign, led by a station under its owner."""
    lead = {"XJ": "33031001", "XS": "33032001"}.get(c.code, "33031001")
    return {"campaign": pk, "title": "矩阵测试督办", "source": "meeting", "lead_units": [lead],
            "due_date": str(c.end), "hand_down": True}  # fmt: skip


def feedback_body(d: Directive, pk: int):
    return {"text": "矩阵测试反馈", "files": [png_upload()]}


def completion(d: Directive, pk: int):
    return {"report": "矩阵测试办结报告"}


def directive_extension(d: Directive, pk: int):
    return {"requested_due": str(d.item.campaign.end + timedelta(days=7)), "reason": "矩阵测试延期"}


def campaigns_scoped(user) -> QuerySet:
    """Owned in or above the user's view; a draft only for HQ over its owner."""
    seen = Campaign.objects.filter(scope.scope_for(user, scope.Action.VIEW).q("owner", with_ancestors=True))
    return seen.filter(~Q(status="draft") | scope.scope_for(user, scope.Action.MANAGE).q("owner"))


def in_campaign_xs(query: str = "campaign"):
    return (
        (
            f"{query}=XS",
            lambda w: f"{query}={w.campaigns['XS'].pk}",
            lambda w, r: r.campaign_id == w.campaigns["XS"].pk,
        ),
    )


# --- supervision (inspections) --------------------------------------------------------------------


def after_days(days: int) -> str:
    return str(timezone.localdate() + timedelta(days=days))


def xj() -> int:
    return Campaign.objects.values_list("pk", flat=True).get(code="XJ")


def site_of(obj: Model) -> str:
    """The unit a creation is about: the site itself, the unit an inspection visits, a finding's unit."""
    if isinstance(obj, Unit):
        return obj.code
    if isinstance(obj, Inspection):
        (unit,) = obj.units.all()  # prefetched by matrix_support
        return unit.code
    return obj.unit.code


def named_unit(obj: Model, pk: int) -> str:
    """The unit code a creation names: the object's site, or (``pk`` is GHOST) a code no unit has."""
    return GHOST_UNIT if pk == GHOST else site_of(obj)


def plan_body(unit: Unit, pk: int):
    return {"campaign": xj(), "units": [named_unit(unit, pk)], "planned_on": after_days(1)}


def found_body(visit: Inspection, pk: int):
    """A finding of the site's planned inspection, with a photo."""
    unit = named_unit(visit, pk)
    return {
        "inspection": visit.pk,
        "unit": unit,
        "place": "矩阵测试地点",
        "description": "矩阵测试问题",
        "severity": "major",
        "photos": [finding_photo(unit)],
    }


def self_report_body(unit: Unit, pk: int):
    """A finding the unit reports itself: no inspection, the campaign named."""
    return {
        "campaign": xj(),
        "unit": named_unit(unit, pk),
        "place": "矩阵测试地点",
        "description": "矩阵测试自查",
        "photos": [png_upload()],
    }


def notice_body(finding: Finding, pk: int):
    """A notice to the unit of an open finding of its inspection."""
    return {
        "unit": named_unit(finding, pk),
        "findings": [finding.pk],
        "deadline": after_days(7),
        "requirements": "矩阵测试整改要求",
        "inspection": finding.inspection_id,
    }


def letter_body(unit: Unit, pk: int):
    return {
        "campaign": xj(),
        "unit": named_unit(unit, pk),
        "title": "矩阵测试风险提示",
        "risk": "矩阵测试风险",
        "requirements": "矩阵测试防范要求",
        "reply_by": after_days(7),
    }


def letter_answer_body(letter: RiskLetter, pk: int):
    return {"text": "矩阵测试防范措施", "files": [png_upload("措施.png")]}


def letter_timeline(response, obj, key):
    verbs = [e["verb"] for e in response.json()]
    assert verbs[0] == "letter.issued", verbs


def hotspot_body(unit: Unit, pk: int):
    return {
        "campaign": xj(),
        "unit": named_unit(unit, pk),
        "name": "矩阵测试整治点",
        "problems": "占道经营",
        "responsible_name": "矩阵",
        "deadline": after_days(30),
        "criteria": ["无占道经营"],
    }


def summary(visit: Inspection, pk: int):
    return {"summary": "矩阵测试检查小结"}


def answer_body(finding: Finding, pk: int):
    return {"text": "矩阵测试整改情况", "files": [png_upload("整改后.png")]}


def receipts_of_one_unit(response, obj, key):
    got = response.json()
    assert (got["units"], got["waiting"]) == (1, 1) and [r["unit"] for r in got["recipients"]] == [key, None]


def outside_sent(d: Document, pk: int) -> dict:
    """The issued document's outside body recorded as sent today (issued when the world was built)."""
    from django.utils import timezone

    body = d.distribution.get(unit=None)
    return {"recipient": body.pk, "channel": "机要交换", "sent_on": timezone.localdate().isoformat()}


def document_body(unit: Unit, pk: int):
    """A free 通知 of the site, in campaign XJ."""
    return {"kind": "notice", "campaign": Campaign.objects.get(code="XJ").pk, "unit": unit.code, "title": "矩阵通知"}


def summons_body(document: Document, pk: int):
    """约谈 the site on its issued document (``pk``: the document named, or a ghost)."""
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    return {"bulletin": pk, "unit": document.issuing_unit.code, "scheduled_on": day, "place": "矩阵会议室"}


def hold_body(summons, pk: int):
    return {"held_on": timezone.localdate().isoformat(), "attendees": "矩阵参会人", "minutes": "矩阵约谈内容"}


def held(response, obj, key):
    got = response.json()
    assert got["state"] == "held" and got["unit"] == key and got["commitments"] == [], got


def drafted(response, obj, key):
    got = response.json()
    assert (got["issuing_unit"], got["state"], got["number"]) == (key, "draft", ""), got


def signed(response, obj, key):
    got = response.json()
    assert got["state"] == "issued" and got["number"] and got["files"], got


def stored_file(ext: str):
    def check(response, obj, key):
        stored = obj.pdf if ext == "pdf" else obj.docx
        with stored.storage.open(stored.name) as kept:
            assert b"".join(response.streaming_content) == kept.read()
        assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]

    return check


def creation(**expected):
    """A creation's answer: about the site's unit, with the fields given (values, or functions of the object)."""

    def check(response, obj, key):
        got = response.json()
        assert (got["units"] if "units" in got else [got["unit"]]) == [key], got
        for field, value in expected.items():
            want = value(obj) if callable(value) else value
            assert got[field] == want, f"{field}: {got[field]!r}, expected {want!r}"

    return check


def logged(response, obj, key):
    """A new finding: open, of the site's inspection (or none, self-reported), with its one PNG."""
    creation(status="open", inspection=lambda o: o.pk if isinstance(o, Inspection) else None)(response, obj, key)
    (photo,) = response.json()["photos"]
    assert photo["content_type"] == "image/png" and photo["size"] == len(PNG), photo


def answered(response, obj, key):
    got = response.json()
    assert (got["round"], got["text"], got["accepted"]) == (1, "矩阵测试整改情况", None), got
    assert Answer.objects.get(finding=obj, round=1).photos.count() == 1


def supervision_figures(persona: Persona, campaign: Campaign, unit: str | None) -> dict[str, int]:
    """The figures of ``/inspection-counts/`` from the rows and the unit tree (not accounts.scope)."""
    today = timezone.localdate()

    def counted(code: str) -> bool:
        return sees_unit(persona, code) and (unit is None or is_under(code, unit))

    done = Inspection.objects.filter(campaign=campaign, status=InspectionStatus.COMPLETED).prefetch_related("units")
    visits = {(i.pk, u.code) for i in done for u in i.units.all() if counted(u.code)}
    findings = [f for f in Finding.objects.filter(campaign=campaign).select_related("unit") if counted(f.unit.code)]
    notices = [n for n in Notice.objects.filter(campaign=campaign).select_related("unit") if counted(n.unit.code)]
    hotspots = [h for h in Hotspot.objects.filter(campaign=campaign).select_related("unit") if counted(h.unit.code)]
    waiting = (FindingStatus.OPEN, FindingStatus.ORDERED)
    return {
        "inspections": len({pk for pk, _ in visits}),
        "units_inspected": len({code for _, code in visits}),
        "findings": len(findings),
        "rectified": sum(f.status == FindingStatus.CLOSED for f in findings),
        "overdue": sum(f.status in waiting and f.deadline is not None and f.deadline < today for f in findings),
        "notices": len(notices),
        "hotspots_listed": len(hotspots),
        "hotspots_delisted": sum(h.status == Hotspot.Status.DELISTED for h in hotspots),
    }


V1 = "/api/v1"
# Targets (see TARGETS, matrix_support.World): work = an in-progress assignment of each site with a
# report + PNG, a comment and a pending extension request; review = a submitted one; coop = submitted
# cooperating work; evidence, extension, coop_extension hang on those. Rights: view (a role in scope),
# report (unit lead over the unit), review (HQ over the unit, or — for cooperating work — a lead over
# one of the item's lead units; never anyone who reports for the unit itself, whatever else it holds).
# --- boards and statistics: what a board counts, from the rows and the tree ------------------------


def counted_work(persona: Persona, campaign: Campaign, root: str) -> list[Assignment]:
    """The work planned (a share passed down is its parent's work, counted once there: docs/boards.md)."""
    return [
        a
        for a in Assignment.objects.filter(campaign=campaign, is_active=True, parent=None).select_related("unit")
        if is_under(a.unit.code, root) and sees_unit(persona, a.unit.code)
    ]


def battle_counts(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    counted = counted_work(persona, campaign, root)
    assert got["unit"]["code"] == root
    assert got["total"]["total"] == len(counted)
    assert got["total"]["done"] == sum(a.status == "accepted" for a in counted)
    assert all(
        (sees_unit(persona, c["code"]) and PARENT.get(c["code"]) in (root, None)) or c["own"] for c in got["columns"]
    )
    assert sum(c["total"] for c in got["column_totals"]) == len(counted)


def ranking_counts(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    """The children of the root the persona sees, each with the work of its subtree."""
    assert got["unit"]["code"] == root
    below = [a for a in counted_work(persona, campaign, root) if a.unit.code != root]
    assert {s["unit"]["code"] for s in got["standings"]} == {
        code for code, parent in PARENT.items() if parent == root and sees_unit(persona, code)
    }
    assert sum(s["total"] for s in got["standings"]) == len(below)


def figures_counted(persona: Persona, campaign: Campaign, root: str) -> list[Figure]:
    return [
        f
        for f in Figure.objects.filter(campaign=campaign).select_related("unit")
        if is_under(f.unit.code, root) and sees_unit(persona, f.unit.code)
    ]


def stats_totals(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    assert got["unit"]["code"] == root
    counted = figures_counted(persona, campaign, root)
    assert sum(line["total"] for line in got["lines"]) == sum(f.value for f in counted)
    assert all(
        c["code"] == root or (sees_unit(persona, c["code"]) and PARENT.get(c["code"]) == root) for c in got["columns"]
    )


def stats_ranking(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    """The children of the root the persona sees, ranked by the campaign's first indicator: their values
    sum to the figures of that indicator below the root."""
    assert got["unit"]["code"] == root and got["level"] == 1
    assert {p["unit"]["code"] for p in got["places"]} == {
        code for code, parent in PARENT.items() if parent == root and sees_unit(persona, code)
    }
    below = [f for f in figures_counted(persona, campaign, root) if f.indicator_id == got["indicator"]["id"]]
    assert sum(Decimal(str(p["value"])) for p in got["places"]) == sum(f.value for f in below if f.unit.code != root)


def stats_missing(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    holding = {a.unit.code for a in counted_work(persona, campaign, root)}
    reported = {f.unit.code for f in figures_counted(persona, campaign, root) if str(f.day) == got["day"]}
    assert got["expected"] == len(holding)
    assert {u["code"] for u in got["missing"]} == holding - reported


def stats_catalogue(got: dict, persona: Persona, campaign: Campaign, root: str) -> None:
    assert [i["code"] for i in got["indicators"]] == list(campaign.indicators.values_list("code", flat=True))


def indicator_body(campaign: Campaign, pk: int):
    return {"campaign": pk, "name": "矩阵测试指标", "measure": "次"}


def round_body(campaign: Campaign, pk: int):
    """A round on the campaign's last two days (the world's rounds lie a month in)."""
    end = Campaign.objects.get(pk=campaign.pk).end
    return {"campaign": pk, "name": "矩阵测试轮次", "start": str(end - timedelta(days=1)), "end": str(end)}


def rule_body(campaign: Campaign, pk: int):
    return {"campaign": pk, "kind": "summons", "step": "check", "role": "inspector"}


def created_rule(response, campaign: Campaign, key):
    assert response.json()["campaign"] == campaign.pk and response.json()["role"] == "inspector"


def created_in_campaign(response, campaign: Campaign, key):
    assert response.json()["campaign"] == campaign.pk and response.json()["name"].startswith("矩阵测试")


def figures_body(unit: Unit, pk: int):
    return {
        "campaign": xj(),
        "unit": named_unit(unit, pk),
        "day": str(Campaign.objects.get(code="XJ").start + timedelta(days=1)),
        "values": {"police": 9},
    }


def sheet_body(unit: Unit, pk: int):
    sheet = "日期,出动警力（人次）\n2026-07-02,9\n".encode()
    return {"campaign": xj(), "unit": named_unit(unit, pk), "file": SimpleUploadedFile("战果.csv", sheet, "text/csv")}


PLAN_CSV = "行动,序号,工作任务,牵头单位,完成时限\n矩阵行动,1,矩阵测试任务,各派出所,8月底前\n".encode()


def plan_file_body(campaign: Campaign, pk: int):
    """A dry run of a one-item plan for the campaign (its owner's stations lead it)."""
    return {"campaign": pk, "file": SimpleUploadedFile("方案.csv", PLAN_CSV, "text/csv")}


def dry_run_counts(response, obj, key):
    got = response.json()
    assert (got["dry_run"], got["items"], got["errors"]) == (True, 1, []), got


EXPECTED: dict[tuple[str, str], Object | Listing | Figures | TokenAuth | Root | Own | Board] = {
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
    # the checklist (责任清单) of a campaign seen, as a download: anyone who sees the campaign
    (f"{V1}/campaigns/{{id}}/checklist/", "GET"): Object((Do("campaign", check=checklist_download),)),
    # HQ over the owner copies (a draft), closes and reopens; seen from below: 403
    (f"{V1}/campaigns/{{id}}/copy/", "POST"): Object(
        (Do("campaign", "manage", ok=201, body=copy_body, writes=True, check=status_is("draft")),)
    ),
    (f"{V1}/campaigns/{{id}}/close/", "POST"): Object(
        (Do("campaign", "manage", body=lambda c, pk: {"note": "矩阵"}, writes=True, check=status_is("closed")),)
    ),
    # the world's campaigns are open: HQ's reopening is refused for that (its success: tests/tasks/test_campaigns)
    (f"{V1}/campaigns/{{id}}/reopen/", "POST"): Object(
        (Do("campaign", "manage", body=lambda c, pk: {"reason": "矩阵"}, refusal=lambda key: 400),)
    ),
    # a campaign's reminder rules: HQ over the owner reads, saves its own, goes back to the default;
    # seen from below: 403 (the page: 404, as HQ's campaign page)
    (f"{V1}/campaigns/{{id}}/reminder-policy/", "GET"): Object((Do("campaign", "manage", check=own_rules(False)),)),
    (f"{V1}/campaigns/{{id}}/reminder-policy/", "PUT"): Object(
        (Do("campaign", "manage", body=lambda c, pk: {"receipt_hours": 14}, writes=True, check=own_rules(True)),)
    ),
    (f"{V1}/campaigns/{{id}}/reminder-policy/", "DELETE"): Object((Do("campaign", "manage", check=own_rules(False)),)),
    (f"{V1}/actions/", "GET"): Listing(
        rows=lambda: LineOfAction.objects.select_related("campaign__owner"),
        scoped=lambda user: LineOfAction.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda a: a.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/actions/{{id}}/", "GET"): Object((Do("action", check=same_id),)),
    (f"{V1}/items/", "GET"): Listing(
        rows=lambda: Item.objects.in_plan().select_related("campaign__owner"),  # the checklist: no directive
        scoped=lambda user: Item.objects.in_plan().filter(campaign__in=campaigns_scoped(user)),
        unit=lambda i: i.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/items/{{id}}/", "GET"): Object((Do("item", check=same_id),)),
    # HQ over the campaign's owner changes an item (its assignments follow); seen from below: 403
    (f"{V1}/items/{{id}}/", "PATCH"): Object(
        (Do("item", "manage", body=lambda i, pk: {"title": "矩阵测试修改"}, writes=True, check=same_id),)
    ),
    # assignments and everything hanging on one
    (f"{V1}/assignments/", "GET"): Listing(
        rows=lambda: Assignment.objects.select_related("unit", "item", "campaign"),
        scoped=lambda user: scope.restrict(Assignment.objects.all(), user),
        unit=lambda a: a.unit.code,
        seen=sees_work,
        filters=(("unit=330320", lambda w: "unit=330320", lambda w, a: is_under(a.unit.code, "330320")),),
    ),
    (f"{V1}/assignments/{{id}}/", "GET"): Object((Do("work", check=same_id),)),
    # directives (督办事项): seen through their units' work (a secret one: from the named unit itself and by
    # HQ over the owner only); the units act for themselves (report), HQ over the campaign's owner reviews
    (f"{V1}/directives/", "GET"): Listing(
        rows=lambda: Directive.objects.select_related("item"),
        scoped=directives_for,
        unit=lambda d: d.item.lead_text,
        seen=lambda persona, d: (
            sees_secret(persona, SECRET_AT) if d.item.secret else sees_unit(persona, directive_site(d))
        ),
        filters=(("source=case", lambda w: "source=case", lambda w, d: d.source == "case"),),
    ),
    (f"{V1}/directives/", "POST"): Object(
        (Do("campaign", "manage", ok=201, body=directive_body, writes=True, check=status_is("handed_down")),)
    ),
    (f"{V1}/directives/{{id}}/", "GET"): Object(
        (Do("directive", check=same_id), Do("secret", check=same_id, label="secret"))
    ),
    (f"{V1}/directives/{{id}}/hand-down/", "POST"): Object(
        (Do("directive", "owner", refusal=lambda key: 400),)  # handed down already
    ),
    (f"{V1}/directives/{{id}}/acknowledge/", "POST"): Object(
        (Do("directive", "report"), Do("secret", "report", writes=True, label="secret"))
    ),
    (f"{V1}/directives/{{id}}/feedback/", "POST"): Object(
        (
            Do("directive", "report", refusal=lambda key: 400),  # submitted: no more reports
            Do("secret", "report", ok=201, body=feedback_body, fmt="multipart", writes=True, label="secret"),
        )
    ),
    (f"{V1}/directives/{{id}}/complete/", "POST"): Object(
        (
            Do("directive", "report", body=completion, refusal=lambda key: 400),  # submitted already
            Do("secret", "report", body=completion, writes=True, check=status_is("handed_down"), label="secret"),
        )
    ),
    (f"{V1}/directives/{{id}}/review/", "POST"): Object(
        (Do("directive", "owner", body=lambda d, pk: {"decision": "accept"}, writes=True, check=status_is("closed")),)
    ),
    (f"{V1}/directives/{{id}}/rate/", "POST"): Object(
        (Do("directive", "owner", body=lambda d, pk: {"rating": "satisfied"}, refusal=lambda key: 400),)  # open
    ),
    (f"{V1}/directives/{{id}}/extensions/", "GET"): Object((Do("directive", check=json_list),)),
    (f"{V1}/directives/{{id}}/extensions/", "POST"): Object(
        (Do("directive", "report", ok=201, body=directive_extension, writes=True),)
    ),
    (f"{V1}/directives/{{id}}/timeline/", "GET"): Object(
        (Do("directive", check=non_empty), Do("secret", check=non_empty, label="secret"))
    ),
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
    # 催办: HQ or a leader over the unit; its lead or an inspector: 403 (each case rolls back, so once a day holds)
    (f"{V1}/assignments/chase/", "POST"): Object(
        (Do("work", "chase", body=lambda a, pk: {"ids": [pk], "note": "矩阵催办"}, writes=True, check=chased_one),)
    ),
    # 签收: report rights over the unit (the unit's lead); HQ or an inspector over it: 403
    (f"{V1}/assignments/{{id}}/acknowledge/", "POST"): Object(
        (Do("work", "report", body=unacknowledged, writes=True, check=acknowledged),)
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
    # supervision. Inspections are seen by everyone who sees one of the units they visit; findings,
    # their photos, notices and hotspots by their unit. Rights: inspect (inspector or HQ over the unit)
    # plans, logs what an inspection finds, issues notices, verifies, lists hotspots, starts and
    # completes; report (the unit's lead) answers a notice; a finding without an inspection may be
    # logged by the unit's lead (self-reported) or by an inspector (log = report or inspect).
    (f"{V1}/inspections/", "GET"): Listing(
        rows=lambda: Inspection.objects.prefetch_related("units"),
        scoped=lambda user: Inspection.objects.filter(units__in=scope.units(user)).distinct(),
        unit=lambda i: tuple(u.code for u in i.units.all()),
        filters=(
            (
                "status=completed",
                lambda w: "status=completed",
                lambda w, i: i.status == InspectionStatus.COMPLETED,
            ),
        ),
    ),
    # the campaign is looked up before the units (a campaign not seen: 404)
    (f"{V1}/inspections/", "POST"): Object(
        (
            Do(
                "site",
                "inspect",
                ok=201,
                hidden=400,
                campaign="XJ",
                body=plan_body,
                writes=True,
                check=creation(status="planned", planned_on=lambda u: after_days(1)),
            ),
        )
    ),
    (f"{V1}/inspections/{{id}}/", "GET"): Object(
        (Do("inspection", check=same_id), Do("tour", label="tour", check=same_id))
    ),
    (f"{V1}/inspections/{{id}}/start/", "POST"): Object(
        (
            Do("inspection", "inspect", writes=True, check=status_is("in_progress")),
            Do(
                "tour",
                "inspect",
                label="tour",
                writes=True,
                check=status_is("in_progress"),
            ),
        )
    ),
    (f"{V1}/inspections/{{id}}/complete/", "POST"): Object(
        (
            Do("inspection", "inspect", body=summary, writes=True, check=status_is("completed")),
            Do(
                "tour",
                "inspect",
                label="tour",
                body=summary,
                writes=True,
                check=status_is("completed"),
            ),
        )
    ),
    (f"{V1}/findings/", "GET"): Listing(
        rows=lambda: Finding.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(Finding.objects.all(), user),
        unit=lambda f: f.unit.code,
        filters=(
            ("unit=330320", lambda w: "unit=330320", lambda w, f: is_under(f.unit.code, "330320")),
            ("status=submitted", lambda w: "status=submitted", lambda w, f: f.status == FindingStatus.SUBMITTED),
        ),
    ),
    # the unit is looked up first (not in the view scope: 400), then the inspection or the campaign
    (f"{V1}/findings/", "POST"): Object(
        (
            Do(
                "inspection",
                "inspect",
                ok=201,
                hidden=400,
                body=found_body,
                fmt="multipart",
                label="found",
                writes=True,
                check=logged,
            ),
            Do(
                "site",
                "log",
                ok=201,
                hidden=400,
                body=self_report_body,
                fmt="multipart",
                label="self-reported",
                writes=True,
                check=logged,
            ),
        )
    ),
    (f"{V1}/findings/{{id}}/", "GET"): Object((Do("finding", check=contains("finding")),)),
    (f"{V1}/findings/{{id}}/answer/", "POST"): Object(
        (Do("ordered", "report", ok=201, body=answer_body, fmt="multipart", writes=True, check=answered),)
    ),
    (f"{V1}/findings/{{id}}/verify/", "POST"): Object(
        (Do("submitted", "verify", body=lambda f, pk: {"accept": True}, writes=True, check=status_is("closed")),)
    ),
    (f"{V1}/finding-photos/", "GET"): Listing(
        rows=lambda: Photo.objects.select_related("finding__unit"),
        scoped=lambda user: scope.restrict(Photo.objects.all(), user, via="finding__unit"),
        unit=lambda p: p.finding.unit.code,
    ),
    (f"{V1}/finding-photos/{{id}}/", "GET"): Object((Do("photo", check=contains("photo")),)),
    (f"{V1}/finding-photos/{{id}}/download/", "GET"): Object((Do("photo", check=png_download),)),
    (f"{V1}/notices/", "GET"): Listing(
        rows=lambda: Notice.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(Notice.objects.all(), user),
        unit=lambda n: n.unit.code,
        filters=(("status=issued", lambda w: "status=issued", lambda w, n: n.status == NoticeStatus.ISSUED),),
    ),
    (f"{V1}/notices/", "POST"): Object(
        (
            Do(
                "finding",
                "inspect",
                ok=201,
                hidden=400,
                body=notice_body,
                writes=True,
                check=creation(status="issued", findings=lambda f: [f.pk], inspection=lambda f: f.inspection_id),
            ),
        )
    ),
    (f"{V1}/notices/{{id}}/", "GET"): Object((Do("notice", check=contains("requirements")),)),
    (f"{V1}/notices/{{id}}/acknowledge/", "POST"): Object(
        (Do("notice", "report", body=unacknowledged, writes=True, check=acknowledged),)
    ),
    # documents (documents/): seen with the view right over the issuing unit (each site's own 通知);
    # drafted, edited, submitted and checked by HQ over it; signed (and returned from the signature) by a
    # leader over it (the default sign-off: no rule in the world's campaign)
    (f"{V1}/documents/", "GET"): Listing(
        rows=lambda: Document.objects.select_related("issuing_unit"),
        scoped=lambda user: scope.restrict(Document.objects.all(), user),
        unit=lambda d: d.issuing_unit.code,
        filters=(("state=issued", lambda w: "state=issued", lambda w, d: d.state == "issued"),),
    ),
    (f"{V1}/documents/", "POST"): Object(
        (Do("site", "manage", ok=201, campaign="XJ", body=document_body, writes=True, check=drafted),)
    ),
    (f"{V1}/documents/{{id}}/", "GET"): Object(
        (Do("doc_draft", check=contains("paragraph")), Do("doc_issued", check=contains("paragraph")))
    ),
    (f"{V1}/documents/{{id}}/", "PATCH"): Object(
        (Do("doc_draft", "manage", body=lambda d, pk: {"cc": "抄送矩阵"}, writes=True),)
    ),
    (f"{V1}/documents/{{id}}/refresh/", "POST"): Object((Do("doc_draft", "manage", writes=True),)),
    (f"{V1}/documents/{{id}}/submit/", "POST"): Object((Do("doc_draft", "manage", writes=True),)),
    # sign-off rules: seen with the campaign; added and removed by HQ over its owner
    (f"{V1}/document-rules/", "GET"): Listing(
        rows=lambda: SignOffRule.objects.select_related("campaign__owner"),
        scoped=lambda user: SignOffRule.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda r: r.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/document-rules/", "POST"): Object(
        (Do("campaign", "manage", ok=201, body=rule_body, writes=True, check=created_rule),)
    ),
    (f"{V1}/document-rules/{{id}}/", "GET"): Object((Do("doc_rule", check=same_id),)),
    (f"{V1}/document-rules/{{id}}/", "DELETE"): Object((Do("doc_rule", "manage", ok=204, writes=True),)),
    (f"{V1}/documents/{{id}}/check/", "POST"): Object((Do("doc_checking", "check", writes=True),)),
    (f"{V1}/documents/{{id}}/sign/", "POST"): Object((Do("doc_signing", "sign", writes=True, check=signed),)),
    (f"{V1}/documents/{{id}}/return/", "POST"): Object(
        (
            Do("doc_checking", "manage", body=lambda d, pk: {"note": "退回矩阵"}, writes=True),
            Do("doc_signing", "sign", body=lambda d, pk: {"note": "退回矩阵"}, writes=True),
        )
    ),
    # distribution: the receipts seen with the document; a draft's recipients set by HQ over the issuing
    # unit; 签收 by the recipient's leads; 催办 by HQ or a leader over the issuing unit; an outside body sent
    (f"{V1}/documents/{{id}}/recipients/", "GET"): Object((Do("doc_issued", check=receipts_of_one_unit),)),
    (f"{V1}/documents/{{id}}/recipients/", "PUT"): Object(
        (Do("doc_draft", "manage", body=lambda d, pk: {"units": [d.issuing_unit.code]}, writes=True),)
    ),
    (f"{V1}/documents/{{id}}/acknowledge/", "POST"): Object((Do("doc_issued", "report", writes=True),)),
    (f"{V1}/documents/{{id}}/chase/", "POST"): Object(
        (Do("doc_issued", "chase", body=lambda d, pk: {"note": "矩阵催办"}, writes=True),)
    ),
    (f"{V1}/documents/{{id}}/sent/", "POST"): Object((Do("doc_issued", "manage", body=outside_sent, writes=True),)),
    (f"{V1}/documents/{{id}}/pdf/", "GET"): Object((Do("doc_issued", check=stored_file("pdf")),)),
    (f"{V1}/documents/{{id}}/docx/", "GET"): Object((Do("doc_issued", check=stored_file("docx")),)),
    # 约谈 (documents/summons.py): seen with the view right over the unit summoned; made, held and cancelled
    # by HQ over the bulletin's issuing unit (the world's: the site's own issued document, which is not a
    # bulletin — so the making is refused with 400 once the right is there)
    (f"{V1}/summons/", "GET"): Listing(
        rows=lambda: Summons.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(Summons.objects.all(), user),
        unit=lambda s: s.unit.code,
        filters=(("state=planned", lambda w: "state=planned", lambda w, s: s.state == "planned"),),
    ),
    (f"{V1}/summons/", "POST"): Object(
        (Do("doc_issued", "manage", ok=201, body=summons_body, refusal=lambda key: 400),)
    ),
    (f"{V1}/summons/{{id}}/", "GET"): Object((Do("summons", check=contains("summons")),)),
    (f"{V1}/summons/{{id}}/hold/", "POST"): Object((Do("summons", "manage", body=hold_body, writes=True, check=held),)),
    (f"{V1}/summons/{{id}}/cancel/", "POST"): Object(
        (Do("summons", "manage", body=lambda s, pk: {"note": "矩阵取消"}, writes=True),)
    ),
    # risk letters: seen by their addressee's unit; issued by inspect over it (the campaign looked up
    # first), acknowledged and answered by its lead, closed or returned by inspect over it (never its own)
    (f"{V1}/risk-letters/", "GET"): Listing(
        rows=lambda: RiskLetter.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(RiskLetter.objects.all(), user),
        unit=lambda n: n.unit.code,
        filters=(
            ("status=answered", lambda w: "status=answered", lambda w, n: n.status == LetterStatus.ANSWERED),
            ("unit=330320", lambda w: "unit=330320", lambda w, n: is_under(n.unit.code, "330320")),
        ),
    ),
    (f"{V1}/risk-letters/", "POST"): Object(
        (
            Do(
                "site",
                "inspect",
                ok=201,
                hidden=400,
                campaign="XJ",
                body=letter_body,
                writes=True,
                check=creation(status="issued", source="analysis", reply_by=lambda u: after_days(7)),
            ),
        )
    ),
    (f"{V1}/risk-letters/{{id}}/", "GET"): Object((Do("letter", check=contains("risk")),)),
    (f"{V1}/risk-letters/{{id}}/acknowledge/", "POST"): Object(
        (Do("letter", "report", writes=True, check=acknowledged),)
    ),
    (f"{V1}/risk-letters/{{id}}/answer/", "POST"): Object(
        (Do("letter", "report", body=letter_answer_body, fmt="multipart", writes=True, check=status_is("answered")),)
    ),
    (f"{V1}/risk-letters/{{id}}/close/", "POST"): Object(
        (Do("letter_answered", "verify", writes=True, check=status_is("closed")),)
    ),
    (f"{V1}/risk-letters/{{id}}/return/", "POST"): Object(
        (
            Do(
                "letter_answered",
                "verify",
                body=lambda n, pk: {"reason": "矩阵测试退回"},
                writes=True,
                check=status_is("acknowledged"),
            ),
        )
    ),
    (f"{V1}/risk-letters/{{id}}/timeline/", "GET"): Object((Do("letter", check=letter_timeline),)),
    (f"{V1}/risk-letter-files/{{id}}/download/", "GET"): Object((Do("letter_file", check=png_download),)),
    (f"{V1}/hotspots/", "GET"): Listing(
        rows=lambda: Hotspot.objects.select_related("unit"),
        scoped=lambda user: scope.restrict(Hotspot.objects.all(), user),
        unit=lambda h: h.unit.code,
        filters=(("status=delisted", lambda w: "status=delisted", lambda w, h: h.status == Hotspot.Status.DELISTED),),
    ),
    # the campaign is looked up before the unit (a campaign not seen: 404)
    (f"{V1}/hotspots/", "POST"): Object(
        (
            Do(
                "site",
                "inspect",
                ok=201,
                hidden=400,
                campaign="XJ",
                body=hotspot_body,
                writes=True,
                check=creation(status="listed", listed_on=lambda u: str(timezone.localdate())),
            ),
        )
    ),
    (f"{V1}/hotspots/{{id}}/", "GET"): Object((Do("hotspot", check=contains("hotspot")),)),
    (f"{V1}/inspection-counts/", "GET"): Figures(oracle=supervision_figures),
    # reminders: one's own inbox, nobody else's (not even HQ's)
    (f"{V1}/boards/battle/", "GET"): Board(battle_counts),
    (f"{V1}/boards/ranking/", "GET"): Board(ranking_counts),
    (f"{V1}/stats/totals/", "GET"): Board(stats_totals),
    (f"{V1}/stats/non-reporters/", "GET"): Board(stats_missing),
    (f"{V1}/stats/ranking/", "GET"): Board(stats_ranking),
    (f"{V1}/stats/catalogue/", "GET"): Board(stats_catalogue),
    # the catalogue one row at a time: listed with the campaign (seen from below too); created and changed
    # by HQ over the campaign's owner only (seen from below: 403)
    (f"{V1}/stats/indicators/", "GET"): Listing(
        rows=lambda: Indicator.objects.select_related("campaign__owner"),
        scoped=lambda user: Indicator.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda i: i.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/stats/indicators/", "POST"): Object(
        (Do("campaign", "manage", ok=201, body=indicator_body, writes=True, check=created_in_campaign),)
    ),
    (f"{V1}/stats/indicators/{{id}}/", "GET"): Object((Do("indicator", check=same_id),)),
    (f"{V1}/stats/indicators/{{id}}/", "PATCH"): Object(
        (Do("indicator", "manage", body=lambda i, pk: {"name": "矩阵测试指标"}, writes=True, check=same_id),)
    ),
    (f"{V1}/stats/rounds/", "GET"): Listing(
        rows=lambda: Round.objects.select_related("campaign__owner"),
        scoped=lambda user: Round.objects.filter(campaign__in=campaigns_scoped(user)),
        unit=lambda r: r.campaign.owner.code,
        from_above=True,
        filters=in_campaign_xs(),
    ),
    (f"{V1}/stats/rounds/", "POST"): Object(
        (Do("campaign", "manage", ok=201, body=round_body, writes=True, check=created_in_campaign),)
    ),
    (f"{V1}/stats/rounds/{{id}}/", "GET"): Object((Do("round", check=same_id),)),
    (f"{V1}/stats/rounds/{{id}}/", "PATCH"): Object(
        (Do("round", "manage", body=lambda r, pk: {"name": "矩阵测试轮次"}, writes=True, check=same_id),)
    ),
    (f"{V1}/stats/figures/", "POST"): Object(
        (Do("site", "enter", ok=201, hidden=400, campaign="XJ", body=figures_body, writes=True),)
    ),
    (f"{V1}/stats/figures/upload/", "POST"): Object(
        (Do("site", "enter", ok=201, hidden=400, campaign="XJ", body=sheet_body, fmt="multipart", writes=True),)
    ),
    (f"{V1}/stats/figures/summary/", "POST"): Summary(),
    # HQ's plan import: a dry run by default (writes nothing), HQ over the campaign's owner
    (f"{V1}/plans/", "POST"): Object(
        (Do("campaign", "manage", body=plan_file_body, fmt="multipart", check=dry_run_counts),)
    ),
    # an upload's background job (the 202's status_url): seen by HQ over the campaign's owner only
    (f"{V1}/plans/{{id}}/", "GET"): Object((Do("plan", "manage"),)),
    (f"{V1}/inbox/", "GET"): Own("list"),
    (f"{V1}/inbox/{{id}}/", "GET"): Own("detail"),
    (f"{V1}/inbox/{{id}}/read/", "POST"): Own("read"),
    (f"{V1}/inbox/read-all/", "POST"): Own("read_all"),
    # exports: one's own, nobody else's (not even HQ's)
    (f"{V1}/exports/", "GET"): Own("list", of="exports"),
    (f"{V1}/exports/", "POST"): Own("create", of="exports"),
    (f"{V1}/exports/{{id}}/", "GET"): Own("detail", of="exports"),
    (f"{V1}/exports/{{id}}/download/", "GET"): Own("download", of="exports"),
    # API tokens: one's own, seen without the key and revoked; nobody else's
    (f"{V1}/auth/tokens/", "GET"): Own("list", of="tokens"),
    (f"{V1}/auth/tokens/", "DELETE"): Own("revoke", of="tokens"),
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
    "indicator": ("XJ", "XS"),
    "round": ("XJ", "XS"),
    "doc_rule": ("XJ", "XS"),
    "plan": ("XJ", "XS"),
    # supervision (matrix_support.Supervision), and the units where a creation is tried
    "inspection": SITES,
    "finding": SITES,
    "ordered": SITES,
    "submitted": SITES,
    "photo": SITES,
    "notice": SITES,
    "hotspot": SITES,
    "letter": SITES,
    "letter_answered": SITES,
    "letter_file": SITES,
    "site": SITES,
    "tour": ("tour",),
    "doc_draft": SITES,
    "doc_checking": SITES,
    "doc_signing": SITES,
    "doc_issued": SITES,
    "summons": SITES,
    "directive": SITES,
    "secret": (SECRET_AT,),
}
CAMPAIGN_KINDS = {"campaign", "action", "item", "indicator", "round", "doc_rule"}


# --- the world, built once per module (see matrix_support) ----------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The fixtures' city and plan plus the objects the endpoints need, rolled back after the module.

    Built once per module (per xdist worker) inside a transaction; each case runs in a savepoint of it
    (``world`` below), as with Django's ``TestCase.setUpTestData``, so a case costs little more than its
    requests. (``city`` and ``published`` are function-scoped: rebuilt per case they would cost 0.25 s.)
    """
    build = partial(build_world, tmp_path_factory.mktemp("matrix-plan"), tmp_path_factory.mktemp("matrix-media"))

    def build_with_catalogues():
        """The world, and a catalogue row of each kind in both campaigns (XJ has its indicator already)."""
        made = build()
        xj, xs = made.campaigns["XJ"], made.campaigns["XS"]
        Indicator.objects.create(campaign=xs, code="patrol", name="夜巡", measure="次", seq=1)
        for c in (xj, xs):
            Round.objects.create(
                campaign=c, name=f"第一轮{c.code}", start=c.start + timedelta(days=30), end=c.start + timedelta(days=32)
            )
        return made

    with kept_for_the_module(django_db_blocker, build_with_catalogues) as made:
        yield made
    GHOSTS.clear()


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
    if kind == "secret":
        return sees_secret(persona, key)
    if kind == "plan":  # an upload is HQ's: seen with the manage right over the campaign's owner only
        return persona.over({Role.HQ}, unit_code_of(kind, key))
    if kind in CAMPAIGN_KINDS:
        return sees_campaign(persona, unit_code_of(kind, key))
    return any(sees_unit(persona, code) for code in units_of(kind, key))


def object_cases():
    for (path, method), rule in EXPECTED.items():
        if not isinstance(rule, Object):
            continue
        for do in rule.does:
            for persona in PERSONAS.values():
                for key in TARGETS[do.target]:
                    label = f"[{do.label}]" if do.label else ""
                    near = "+".join(relation(persona, code) for code in units_of(do.target, key))
                    where = f"{near}:{do.target}@{key}"
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
    if do.campaign and not sees_campaign(persona, unit_code_of("campaign", do.campaign)):
        return {404}, "the body's campaign out of scope"
    if not visible(persona, do.target, key):
        return {do.hidden}, "out of scope"
    code = unit_code_of(do.target, key)
    if do.right == "report":
        allowed = may_report(persona, code)
    elif do.right == "review":
        allowed = may_review(persona, obj.assignment if isinstance(obj, ExtensionRequest) else obj)
    elif do.right == "inspect":  # over the unit; an inspection visiting several: over each of them
        allowed = all(may_inspect(persona, unit) for unit in units_of(do.target, key))
    elif do.right == "verify":
        allowed = may_verify(persona, code)
    elif do.right == "log":
        allowed = may_inspect(persona, code) or may_report(persona, code)
    elif do.right == "enter":  # results figures: the unit's lead, or HQ over it on its behalf (代填)
        allowed = may_enter(persona, code)
    elif do.right == "chase":  # 催办: HQ or a leader over the unit
        allowed = persona.over({Role.HQ, Role.LEADER}, code)
    elif do.right == "sign":  # 签发 of a document: a leader over its issuing unit
        allowed = persona.over({Role.LEADER}, code)
    elif do.right == "check":  # 核稿: HQ over the issuing unit, not the drafter (hq) while another HQ may
        allowed = persona.over({Role.HQ}, code) and not (persona.name == "hq" and is_under(code, "330310"))
    elif do.right == "manage":  # HQ over the unit (an item: over its campaign's owner)
        allowed = persona.over({Role.HQ}, code)
    elif do.right == "owner":  # a directive's HQ: over its campaign's owner, whatever its units
        allowed = persona.over({Role.HQ}, OWNER_OF[DIRECTIVE_IN[key]])
    else:
        assert do.right == "view", do.right
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
    send = {"PATCH": client.patch, "PUT": client.put, "DELETE": client.delete}.get(method, client.post)
    return send(url, body, format=do.fmt)


@dataclass
class Kept:
    """A response kept for the module (status and body)."""

    status_code: int
    content: bytes

    def json(self):
        return json.loads(self.content)


def missing_answer(world: World, client: APIClient, persona: Persona, path: str, method: str, do: Do, obj: Model):
    """The answer about an id no row has (``GHOST``). Many cases of a persona send the very same request
    for it (its URL and body do not depend on the case's object, and every case starts from the same
    world), so it is asked once per persona and request and kept for the module (``GHOSTS``); a body
    carrying a file is always sent."""
    body = do.body(obj, GHOST) if do.body and method != "GET" else None
    if body is not None and (do.fmt != "json" or not isinstance(body, dict)):
        response = call(client, path, method, do, obj, GHOST)
        return Kept(response.status_code, response.content)
    cache = (id(world), persona.name, method, path, do.fmt, json.dumps(body, sort_keys=True, default=str))
    if cache not in GHOSTS:
        response = call(client, path, method, do, obj, GHOST)
        GHOSTS[cache] = Kept(response.status_code, response.content)
    return GHOSTS[cache]


GHOSTS: dict[tuple, Kept] = {}


def missing_get(world: World, client: APIClient, persona: Persona, path: str, query: dict) -> Kept:
    """A GET naming a made-up id or unit, asked once per persona and query for the module (as
    ``missing_answer``)."""
    query = {k: v for k, v in query.items() if v is not None}
    cache = (id(world), persona.name, "GET", path, json.dumps(query, sort_keys=True))
    if cache not in GHOSTS:
        response = client.get(path, query)
        GHOSTS[cache] = Kept(response.status_code, response.content)
    return GHOSTS[cache]


# the texts the world writes on each site (matrix_support.mark)
MARKS = (
    "report",
    "comment",
    "reason",
    "finding",
    "place",
    "self-report",
    "answer",
    "requirements",
    "hotspot",
    "problems",
    "photo",
)


def secrets(world: World, do: Do, obj: Model, key: str) -> list[str]:
    """Texts of the object an answer to an outsider must not contain."""
    codes = units_of(do.target, key)
    found = [*(NAME[code] for code in codes), *(f'"{code}"' for code in codes), *(mark(key, what) for what in MARKS)]
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
    before = fingerprint() if method != "GET" else None
    response = call(client, path, method, do, obj, obj.pk)
    assert response.status_code in want, (
        f"{persona.name} {method} {path} on {do.target} {key} ({why}): expected {sorted(want)}, "
        f"got {response.status_code} {response.content[:300]!r}"
    )
    written = AuditEvent.objects.count() - events
    if response.status_code >= 400:
        assert written == 0, f"a refused call wrote {written} audit events"
        if before is not None:
            assert fingerprint() == before, "a refused call changed rows"
        body = response.content.decode()
        hidden = not visible(persona, do.target, key)
        if hidden:
            for secret in secrets(world, do, obj, key):
                assert secret not in body, f"the {response.status_code} answer leaks {secret!r}: {body[:300]}"
        if response.status_code == 404:
            ghost = missing_answer(world, client, persona, path, method, do, obj)
            assert ghost.status_code == 404
            assert swap(ghost.json(), GHOST, obj.pk) == response.json(), "out of scope differs from missing"
        elif hidden and response.status_code == do.hidden == 400:
            # a creation naming a unit out of scope: the answer for a unit that does not exist
            assert "不在您的职责范围内" in body, body
            ghost = missing_answer(world, client, persona, path, method, do, obj)
            assert ghost.status_code == 400
            code = unit_code_of(do.target, key)
            assert ghost.content.decode().replace(GHOST_UNIT, code) == body, "out of scope differs from missing"
    else:
        if do.writes:
            assert written >= 1, "a change without an audit event"
        if do.check:
            do.check(response, obj, key)


# tables a refused call must leave alone: rows, versions and states of every writable model
FINGERPRINT = (
    (Assignment, ("version",)),
    (ExtensionRequest, ("status",)),
    (Evidence, ()),
    (Inspection, ("version",)),
    (Finding, ("version",)),
    (Notice, ("status",)),
    (Hotspot, ("version",)),
    (Photo, ()),
    (Answer, ("accepted",)),
    (Figure, ("value",)),
    (Item, ("title", "due_date")),
    (Indicator, ("name", "measure", "seq", "is_active")),
    (Round, ("name", "start", "end")),
    (Policy, ("receipt_hours",)),
)


def fingerprint() -> tuple:
    """Row counts and a digest of the mutable columns of the writable tables, in one query."""
    if connection.vendor != "postgresql":
        return tuple(tuple(model.objects.order_by("id").values_list("id", *fields)) for model, fields in FINGERPRINT)
    parts = []
    for model, fields in FINGERPRINT:
        table = connection.ops.quote_name(model._meta.db_table)
        digest = " || ',' || ".join(f"coalesce({connection.ops.quote_name(f)}::text, '-')" for f in ("id", *fields))
        parts.append(
            f"(SELECT count(*) || ':' || coalesce(md5(string_agg({digest}, ';' ORDER BY id)), '') FROM {table})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return cursor.fetchone()


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

    def shown(row) -> bool:  # a row with several units (an inspection): seen through any of them
        units = rule.unit(row)
        return any(seen(persona, code) for code in (units if isinstance(units, tuple) else (units,)))

    if rule.seen is not None:
        shown = partial(rule.seen, persona)
    oracle = {row.pk for row in rule.rows() if keep(row) and shown(row)}
    scoped = {row.pk for row in rule.scoped(world.user(persona)) if keep(row)}
    assert set(got) == scoped, (
        f"the list differs from accounts.scope: extra {set(got) - scoped}, missing {scoped - set(got)}"
    )
    assert scoped == oracle, (
        f"accounts.scope differs from the rules: extra {scoped - oracle}, missing {oracle - scoped}"
    )
    if persona.role is None:
        assert got == []


def figures_cases():
    for (path, method), rule in EXPECTED.items():
        if not isinstance(rule, Figures):
            continue
        for campaign, unit in ((None, None), ("XJ", None), ("XS", None), *(("XJ", site) for site in SITES)):
            for persona in PERSONAS.values():
                query = "&".join(f"{k}={v}" for k, v in (("campaign", campaign), ("unit", unit)) if v)
                where = f" {relation(persona, unit)}" if unit else ""
                yield pytest.param(
                    path, rule, campaign, unit, persona, id=f"{method} {short(path)}?{query} {persona.name}{where}"
                )


@pytest.mark.parametrize(("path", "rule", "campaign", "unit", "persona"), list(figures_cases()))
def test_figures_endpoint(world, path, rule, campaign, unit, persona):
    """Figures over the rows in scope; a campaign or a unit out of scope is a 404 like a missing one."""

    def ask(campaign_pk, code):
        query = {"campaign": campaign_pk, "unit": code}
        return client.get(path, {k: v for k, v in query.items() if v is not None})

    client = client_for(world, persona)
    pk = world.campaigns[campaign].pk if campaign else None
    response = ask(pk, unit)
    if persona.anonymous:
        assert response.status_code in (401, 403)
        return
    if campaign is None:
        assert response.status_code == 400 and "campaign" in response.json()["detail"]
        return
    if not sees_campaign(persona, unit_code_of("campaign", campaign)):
        assert response.status_code == 404, response.content[:300]
        ghost = missing_get(world, client, persona, path, {"campaign": GHOST, "unit": unit})
        assert swap(ghost.json(), GHOST, pk) == response.json(), "out of scope differs from missing"
        return
    if unit and not sees_unit(persona, unit):
        assert response.status_code == 404, response.content[:300]
        assert NAME[unit] not in response.content.decode()
        ghost = missing_get(world, client, persona, path, {"campaign": pk, "unit": GHOST_UNIT})
        assert ghost.json() == response.json(), "out of scope differs from missing"
        return
    assert response.status_code == 200, response.content[:300]
    assert response.json() == rule.oracle(persona, world.campaigns[campaign], unit)


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


def delivered_to(user: User, unit: Unit, n: int) -> list[int]:
    """``n`` inbox messages delivered to ``user`` (as the drain leaves them), one of them read."""
    ids = []
    for i in range(n):
        reminder = Reminder.objects.create(
            kind="overdue",
            subject_type="assignment",
            subject_id=GHOST + i,
            occurrence=f"matrix {i}",
            recipient=user,
            audience="lead",
            colour="red",
            unit=unit,
            campaign=Campaign.objects.get(code="XJ"),
            due_date=timezone.localdate(),
            batch="matrix",
        )
        ids.append(
            Message.objects.create(
                reminder=reminder,
                recipient=user,
                channel="inbox",
                status="sent",
                sent_at=timezone.now(),
                subject=f"{user.username} {i}",
                read_at=timezone.now() if i == 0 else None,
            ).pk
        )
    return ids


def own_cases(of: str):
    for (path, method), rule in EXPECTED.items():
        if isinstance(rule, Own) and rule.of == of:
            for persona in PERSONAS.values():
                yield pytest.param(path, method, rule, persona, id=f"{method} {short(path)} {persona.name}")


@pytest.mark.parametrize(("path", "method", "rule", "persona"), list(own_cases("inbox")))
def test_own_endpoint(world, path, method, rule, persona):
    """Each persona's inbox holds its own messages only; another's message answers like a missing one."""
    people = [world.user(p) for p in PERSONAS.values() if not p.anonymous]
    owned = {u.pk: delivered_to(u, u.unit, 3) for u in people}
    client = client_for(world, persona)
    me = None if persona.anonymous else world.user(persona)
    mine = owned[me.pk] if me else []
    others = [pk for uid, pks in owned.items() if me is None or uid != me.pk for pk in pks]
    url = lambda pk: path.replace("{id}", str(pk))  # noqa: E731
    send = client.get if method == "GET" else client.post
    if persona.anonymous:
        assert send(url(others[0])).status_code in (401, 403)
        assert Message.objects.filter(pk__in=others, read_at=None).count() == len(others) - len(people)
        return
    if rule.kind == "list":
        assert sorted(all_ids(client, path)) == sorted(mine)
        return
    if rule.kind == "read_all":
        assert send(path).json() == {"marked": 2}
        assert not Message.objects.filter(pk__in=mine, read_at=None).exists()
        assert Message.objects.filter(pk__in=others, read_at=None).count() == 2 * (len(people) - 1)
        return
    ghost = send(url(GHOST))
    assert ghost.status_code == 404
    for pk in others[:3]:
        response = send(url(pk))
        assert response.status_code == 404 and response.json() == ghost.json()
    assert Message.objects.filter(pk__in=others, read_at=None).count() == 2 * (len(people) - 1)
    response = send(url(mine[1]))
    assert response.status_code == 200 and response.json()["id"] == mine[1]
    assert (response.json()["read_at"] is not None) == (rule.kind == "read")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def exports_of(user: User) -> list[int]:
    """Three exports of ``user``: done (with its file), waiting, failed."""
    data = f"MATRIX-xlsx-{user.username}".encode()
    done = Export.objects.create(
        user=user, kind="ledger", status="done", progress=100, filename=f"{user.username}台账.xlsx", size=len(data)
    )
    done.file.save("matrix.xlsx", ContentFile(data))
    waiting = Export.objects.create(user=user, kind="ledger", params={"campaign": 1})
    failed = Export.objects.create(user=user, kind="battle", status="failed", message="矩阵测试失败")
    return [done.pk, waiting.pk, failed.pk]


@pytest.mark.parametrize(("path", "method", "rule", "persona"), list(own_cases("exports")))
def test_own_export_endpoint(world, path, method, rule, persona):
    """Each persona's exports are its own: another's answers like a missing one and is never served.
    Asking for one names a campaign: seen → 201 (queued, audited); not seen → 404 like a missing one."""
    people = [world.user(p) for p in PERSONAS.values() if not p.anonymous]
    owned = {u.pk: exports_of(u) for u in people}
    client = client_for(world, persona)
    me = None if persona.anonymous else world.user(persona)
    mine = owned[me.pk] if me else []
    others = [pk for uid, pks in owned.items() if me is None or uid != me.pk for pk in pks]
    url = lambda pk: path.replace("{id}", str(pk))  # noqa: E731

    def ask(kind: str, campaign: int):
        return client.post(path, {"kind": kind, "params": {"campaign": campaign}}, format="json")

    if persona.anonymous:
        response = ask("ledger", world.campaigns["XJ"].pk) if method == "POST" else client.get(url(others[0]))
        assert response.status_code in (401, 403)
        assert Export.objects.count() == 3 * len(people)
        return
    if rule.kind == "list":
        assert sorted(all_ids(client, path)) == sorted(mine)
        return
    if rule.kind == "create":
        for kind, code in (("ledger", "XJ"), ("battle", "XS")):
            campaign, events, before = world.campaigns[code], AuditEvent.objects.count(), Export.objects.count()
            response = ask(kind, campaign.pk)
            if sees_campaign(persona, unit_code_of("campaign", code)):
                assert response.status_code == 201, response.content[:300]
                got = Export.objects.get(pk=response.json()["id"])
                assert (got.user, got.kind, got.status, got.params["campaign"]) == (me, kind, "queued", campaign.pk)
                assert AuditEvent.objects.count() == events + 1
            else:
                assert response.status_code == 404, response.content[:300]
                assert ask(kind, GHOST).json() == response.json(), "out of scope differs from missing"
                assert (Export.objects.count(), AuditEvent.objects.count()) == (before, events)
        assert ask("no-such-kind", world.campaigns["XJ"].pk).status_code == 400
        return
    ghost = client.get(url(GHOST))
    assert ghost.status_code == 404
    for pk in others[:3]:  # another's done, waiting and failed export
        response = client.get(url(pk))
        assert response.status_code == 404 and response.json() == ghost.json()
    done, waiting, failed = mine
    if rule.kind == "detail":
        got = client.get(url(failed)).json()
        assert (got["id"], got["status"], got["message"], got["download"]) == (failed, "failed", "矩阵测试失败", None)
        assert client.get(url(done)).json()["download"] == f"{V1}/exports/{done}/download/"
        return
    assert rule.kind == "download"
    response = client.get(url(done))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert b"".join(response.streaming_content) == f"MATRIX-xlsx-{me.username}".encode()
    assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]
    assert client.get(url(waiting)).status_code == 409


@pytest.mark.parametrize(("path", "method", "rule", "persona"), list(own_cases("tokens")))
def test_own_token_endpoint(world, path, method, rule, persona):
    """Each persona sees its own API token (never a key) and revokes its own only, audited."""
    people = [world.user(p) for p in PERSONAS.values() if not p.anonymous]
    keys = {u.pk: issue_token(user=u).key for u in people}
    client = client_for(world, persona)
    response = client.get(path) if method == "GET" else client.delete(path)
    if persona.anonymous:
        assert response.status_code in (401, 403)
        assert Token.objects.filter(user__in=people).count() == len(people)
        return
    me = world.user(persona)
    assert not any(key in response.content.decode() for key in keys.values())
    if rule.kind == "list":
        assert response.status_code == 200
        assert [t["prefix"] for t in response.json()] == [keys[me.pk][:6]]
        return
    assert response.status_code == 204
    assert set(Token.objects.filter(user__in=people).values_list("user_id", flat=True)) == set(keys) - {me.pk}
    assert AuditEvent.objects.filter(verb="token.revoked", object_id=me.pk, actor=me).count() == 1


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


def board_cases():
    for (path, method), rule in EXPECTED.items():
        if not isinstance(rule, Board):
            continue
        for campaign, unit in (("XJ", None), ("XS", None), *(("XJ", site) for site in SITES)):
            for persona in PERSONAS.values():
                where = f" {relation(persona, unit)}" if unit else ""
                yield pytest.param(
                    path, campaign, unit, persona, id=f"{method} {short(path)} {campaign} {persona.name}{where}"
                )


@pytest.mark.parametrize(("path", "campaign", "unit", "persona"), list(board_cases()))
def test_board_endpoint(world, path, campaign, unit, persona):
    """The board counts exactly the persona's rows under the unit asked (or the default); a campaign or
    unit out of scope is a 404 like a missing one, and no column is a unit the persona cannot see."""

    def ask(campaign_pk, code):
        return client.get(path, {k: v for k, v in {"campaign": campaign_pk, "unit": code}.items() if v is not None})

    client = client_for(world, persona)
    xc = world.campaigns[campaign]
    owner = unit_code_of("campaign", campaign)
    response = ask(xc.pk, unit)
    if persona.anonymous:
        assert response.status_code in (401, 403)
        return
    if not sees_campaign(persona, owner):
        assert response.status_code == 404, response.content[:300]
        ghost = missing_get(world, client, persona, path, {"campaign": GHOST, "unit": unit})
        assert ghost.json() == response.json(), "out of scope differs from missing"
        return
    if unit and not sees_unit(persona, unit):
        assert response.status_code == 404, response.content[:300]
        assert NAME[unit] not in response.content.decode()
        ghost = missing_get(world, client, persona, path, {"campaign": xc.pk, "unit": GHOST_UNIT})
        assert ghost.json() == response.json(), "out of scope differs from missing"
        return
    assert response.status_code == 200, response.content[:300]
    root = unit or (owner if sees_unit(persona, owner) else persona.anchor)
    EXPECTED[(path, "GET")].check(response.json(), persona, xc, root)


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
    """The oracle's persona table matches the grants the ``city`` fixture (and, for west_inspector and
    guan_hq, ``build_world``) made."""
    for persona in PERSONAS.values():
        if persona.anonymous:
            continue
        user = world.user(persona)
        grants = {(g.role, g.unit.code) for g in user.grants.select_related("unit")}
        assert grants == set(persona.grants), persona.name
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
    # supervision: every object where the cases need it, in the state they need
    s = world.supervision
    for site in SITES:
        visit = Inspection.objects.get(pk=s.inspection[site].pk)
        assert visit.status == InspectionStatus.PLANNED and [u.code for u in visit.units.all()] == [site]
        assert [site] == [u.code for u in s.inspection[site].units.all()]  # prefetched for the bodies
        for kind, status in (("finding", "open"), ("ordered", "ordered"), ("submitted", "submitted")):
            finding = Finding.objects.get(pk=getattr(s, kind)[site].pk)
            assert (finding.unit.code, finding.status) == (site, status), (kind, site)
        assert s.finding[site].inspection_id == visit.pk and s.ordered[site].inspection_id is None
        assert s.ordered[site].reported_by == world.people[LEAD_OF[site]]
        assert Notice.objects.get(pk=s.notice[site].pk).status == NoticeStatus.ISSUED
        assert s.photo[site].finding_id == s.finding[site].pk and s.photo[site].content_type == "image/png"
        assert s.hotspot[site].status == Hotspot.Status.LISTED
        assert s.notice[site].deadline >= timezone.localdate()  # still valid: only the past tour's is overdue
    past, tour = s.past_tour, Inspection.objects.get(pk=s.tour["tour"].pk)
    assert [u.code for u in past.units.order_by("code")] == sorted(TOUR) and past.status == "completed"
    assert [u.code for u in tour.units.order_by("code")] == sorted(TOUR) and tour.status == "planned"
    assert Hotspot.objects.get(unit__code=DELISTED_AT, status=Hotspot.Status.DELISTED)
    hq = supervision_figures(PERSONAS["hq"], world.campaigns["XJ"], None)
    assert hq == {
        "inspections": 2,
        "units_inspected": 3,
        "findings": 14,
        "rectified": 1,
        "overdue": 1,
        "notices": 6,
        "hotspots_listed": 5,
        "hotspots_delisted": 1,
    }


# --- HQ's summary sheet ------------------------------------------------------------------------------


def summary_sheet_body(code: str) -> dict:
    sheet = f"单位代码,出动警力（人次）\n{code},9\n".encode()
    day = str(Campaign.objects.get(code="XJ").start + timedelta(days=1))
    return {"campaign": xj(), "day": day, "file": SimpleUploadedFile("汇总.csv", sheet, "text/csv")}


def _unhinted(response) -> list:
    """The problems of an answer without the suggestions (drawn from the caller's own units only)."""
    problems = response.json()["problems"]
    return [{**p, "message": p["message"].split("：是否为")[0]} for p in problems]


@pytest.mark.parametrize(
    ("path", "persona", "site"),
    [
        pytest.param(path, persona, site, id=f"{short(path)} {persona.name} {relation(persona, site)}:{site}")
        for (path, _method), rule in EXPECTED.items()
        if isinstance(rule, Summary)
        for persona in PERSONAS.values()
        for site in SITES
    ],
)
def test_summary_endpoint(world, path, persona, site):
    client = client_for(world, persona)
    events, before = AuditEvent.objects.count(), fingerprint()
    response = client.post(path, summary_sheet_body(site), format="multipart")
    got = response.status_code
    if persona.anonymous:
        assert got in (401, 403)
    elif Role.HQ not in persona.roles:
        assert got == 403, response.content[:300]
    elif not sees_campaign(persona, unit_code_of("campaign", "XJ")):
        assert got == 404, response.content[:300]
    elif not may_enter(persona, site):
        assert got == 400, response.content[:300]
        assert NAME[site] not in response.content.decode()
        ghost = client.post(path, summary_sheet_body(GHOST_UNIT), format="multipart")
        assert ghost.status_code == 400
        swapped = [{**p, "text": site, "message": p["message"].replace(GHOST_UNIT, site)} for p in _unhinted(ghost)]
        assert swapped == _unhinted(response), "out of scope differs from missing"
    else:
        assert got == 201, response.content[:300]
        assert AuditEvent.objects.count() > events
        return
    assert AuditEvent.objects.count() == events and fingerprint() == before
