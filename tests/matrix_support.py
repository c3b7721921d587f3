"""The world and the oracle behind tests/test_api_matrix.py (the access-control matrix of the REST API).

The world is the ``city`` and ``published`` fixtures (called once per module, inside a transaction
that is rolled back at the end; each test runs in a savepoint of it) plus, made through the services:
a campaign owned by 城西分局 (XS), pass-down shares to two stations, and on each of four *sites*
(城东分局, 城关派出所, 城西分局, 西山派出所) a "work" assignment (a progress report with a PNG, a
comment, a pending extension request) and a "review" assignment (submitted, waiting for acceptance);
and two pieces of cooperating work (submitted, with a pending extension request): 城东分局's on XJ 1.2
(led by 治安支队) and 城西分局's on XS 1.2 (led by 西山派出所, a station under it).

Supervision (``inspections``), all in campaign XJ and dated from ``timezone.localdate()``: on each site a
planned inspection by the city inspector visiting that unit only; an open finding of it with a PNG
photo; a finding self-reported by the unit's lead and ordered by a rectification notice; a third one
in the same notice, answered by the lead (with a photo) and waiting for verification; a listed hotspot;
two risk letters to the site, one just issued, one answered by the lead (with a PNG) awaiting the issuer.
Besides: a planned tour of 城关派出所 and 西山派出所 (one inspection of units of both branches); for the
lists and the counts, a completed tour of the same two stations with an overdue ordered finding at 城关
and a verified (closed) one at 西山, and a hotspot of 城西分局 de-listed by a passed joint acceptance.

Two personas are made here rather than by the ``city`` fixture: ``west_inspector``, an inspector of
城西分局 only (the city's inspector and HQ inspect everything, so they cannot tell "inspect over the
unit" from "inspect anywhere"); and ``guan_hq``, who holds two roles: lead of 城关派出所 and HQ over
城东分局, so that "no one reviews their own unit's work" is tried against a grant that would allow it.

The oracle says who may see or do what from the fixture's persona table and the unit tree alone,
without asking ``accounts.scope``, so the tests compare the app against the documented rules rather
than against itself.
"""

from __future__ import annotations

import importlib
import inspect
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Model
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role, Unit, User
from audit.models import AuditEvent
from directives.models import Directive, Source
from directives.services import complete_directive, hand_down, register_directive
from inspections import letters as risk_letters
from inspections import services as supervision
from inspections.models import (
    Finding,
    Hotspot,
    Inspection,
    InspectionKind,
    LetterFile,
    Notice,
    Photo,
    RiskLetter,
)
from stats.models import Indicator, Round
from stats.services import report_figures
from tasks.models import (
    Assignment,
    Campaign,
    Comment,
    Evidence,
    ExtensionRequest,
    Item,
    LineOfAction,
    PlanJob,
    PlanJobState,
    PlanUpload,
    PlanUploadStatus,
)
from tasks.services.cascade import Share, pass_down
from tasks.services.extensions import request_extension
from tasks.services.plans import import_plan
from tasks.services.progress import add_comment, report_progress
from tasks.services.workflow import transition_assignment

from . import conftest as city_conftest
from .tasks.planfiles import write_xlsx

# --- personas: who holds which role over which unit (as made by the ``city`` fixture) -------------


@dataclass(frozen=True)
class Persona:
    name: str
    role: str | None  # None: no role at all
    anchor: str | None  # the unit the role is held over (for "nobody": the user's own unit)
    # further grants (role, unit code), for a persona holding two roles; ``anchor`` stays the top of its
    # reach, so relations and default boards read from there
    also: tuple[tuple[str, str], ...] = ()

    @property
    def anonymous(self) -> bool:
        return self.name == "anonymous"

    @property
    def grants(self) -> tuple[tuple[str, str], ...]:
        return (((self.role, self.anchor),) if self.role else ()) + self.also

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for role, _ in self.grants)

    def over(self, roles, code: str | None) -> bool:
        """A grant of one of ``roles`` whose subtree holds ``code``."""
        return any(role in roles and is_under(code, unit) for role, unit in self.grants)


PERSONAS = {
    p.name: p
    for p in [
        Persona("hq", Role.HQ, "3303"),
        Persona("east_lead", Role.UNIT_LEAD, "330310"),
        Persona("station_lead", Role.UNIT_LEAD, "33031001"),
        Persona("inspector", Role.INSPECTOR, "3303"),
        Persona("east_leader", Role.LEADER, "330310"),
        Persona("west_lead", Role.UNIT_LEAD, "330320"),
        Persona("nobody", None, "330310"),
        Persona("anonymous", None, None),
        Persona("west_inspector", Role.INSPECTOR, "330320"),  # made by build_world, not by ``city``
        # two roles: 城关派出所's lead who is also HQ over 城东分局 (made by build_world): HQ over its own
        # station too, yet it never accepts its station's work or decides its extensions (may_review)
        Persona("guan_hq", Role.HQ, "330310", also=((Role.UNIT_LEAD, "33031001"),)),
    ]
}

VIEW_ROLES = {Role.HQ, Role.UNIT_LEAD, Role.INSPECTOR, Role.LEADER}

# --- the unit tree, from the fixture's own table ---------------------------------------------------

PARENT = {code: parent for code, _name, parent, _kind in city_conftest.TREE}
NAME = {code: name for code, name, _parent, _kind in city_conftest.TREE}


def is_under(code: str | None, root: str | None) -> bool:
    """``code`` is ``root`` or below it."""
    while code is not None and root is not None:
        if code == root:
            return True
        code = PARENT[code]
    return False


def relation(persona: Persona, code: str) -> str:
    """How an object's unit stands to the persona's unit: own, sub, parent or other (branch)."""
    if persona.anchor is None:
        return "any"
    if code == persona.anchor:
        return "own"
    if is_under(code, persona.anchor):
        return "sub"
    if is_under(persona.anchor, code):
        return "parent"
    return "other"


def sees_unit(persona: Persona, code: str | None) -> bool:
    """The view rule: a role in the view set, and the unit in that role's subtree."""
    return persona.over(VIEW_ROLES, code)


def sees_campaign(persona: Persona, owner: str) -> bool:
    """Campaigns concern the units under their owner: owned inside, or above, the persona's subtree."""
    return any(role in VIEW_ROLES and (is_under(owner, unit) or is_under(unit, owner)) for role, unit in persona.grants)


def may_report(persona: Persona, code: str) -> bool:
    return persona.over({Role.UNIT_LEAD}, code)


def may_enter(persona: Persona, code: str) -> bool:
    """Entering a unit's results figures: its lead, or HQ over it on the unit's behalf (代填)."""
    return may_report(persona, code) or persona.over({Role.HQ}, code)


INSPECT_ROLES = {Role.HQ, Role.INSPECTOR}


def may_inspect(persona: Persona, code: str) -> bool:
    """Inspections, findings found by them, notices, verification, hotspots: inspector or HQ over the unit."""
    return persona.over(INSPECT_ROLES, code)


def may_verify(persona: Persona, code: str) -> bool:
    """Verifying a rectification: inspecting over the unit, and never the unit's own lead, whatever else
    it holds (no one judges their own work)."""
    return may_inspect(persona, code) and not may_report(persona, code)


def splits(persona: Persona, assignment: Assignment) -> bool:
    """The unit that passed a share down reviews it: a lead over the parent's unit, with no grant of its own
    on the share's unit or a unit between the two, that did not submit the share itself."""
    if assignment.parent_id is None:
        return False
    share, parent = assignment.unit.code, assignment.parent.unit.code
    if not may_report(persona, parent):
        return False
    if any(
        role == Role.UNIT_LEAD and is_under(share, unit) and unit != parent and is_under(unit, parent)
        for role, unit in persona.grants
    ):
        return False
    submits = AuditEvent.objects.filter(verb="assignment.submit", object_id=assignment.pk).order_by("-at", "-id")
    return submits.values_list("actor__username", flat=True).first() != persona.name


def may_review(persona: Persona, assignment: Assignment) -> bool:
    """HQ over the unit; for a cooperating unit's work, also a lead over one of the item's lead units; for a
    share, also the unit that passed it down (``splits``); but never someone who acts for the unit itself,
    whatever else it holds: no one accepts their own work."""
    if splits(persona, assignment):
        return True
    if may_report(persona, assignment.unit.code):
        return False
    if persona.over({Role.HQ}, assignment.unit.code):
        return True
    if assignment.role != "coop":
        return False
    leads = Assignment.objects.filter(item_id=assignment.item_id, role="lead", is_active=True)
    return any(may_report(persona, code) for code in leads.values_list("unit__code", flat=True))


# --- the world -------------------------------------------------------------------------------------

SITES = ("330310", "33031001", "330320", "33032001")  # a sub-bureau and a station of each branch
LEAD_OF = {"330310": "east_lead", "33031001": "station_lead", "330320": "west_lead", "33032001": "west_lead"}
# cooperating work (submitted, with a pending extension request), by unit, and the units leading its item
COOP = {"330310": ("XJ", "1.2"), "330320": ("XS", "1.2")}
COOP_LEADS = {"330310": ("330302",), "330320": ("33032001",)}
# the unit a site's work is passed down to in the pass-down case (a station has none under it)
PASS_DOWN_TO = {"330310": "33031002", "330320": "33032001", "33031001": None, "33032001": None}


def png_bytes() -> bytes:
    """A valid 1×1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


PNG = png_bytes()


def png_upload(name: str = "现场.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="application/octet-stream")


def mark(site: str, what: str) -> str:
    """A text that must never show up in an answer to someone who may not see ``site``."""
    return f"MATRIX-{what}-{site}"


# a campaign of the other branch: only 城西分局's people (and those above) may see it
WEST_PLAN = [
    (
        "一、“西山”行动（分管领导：周西）",
        [
            ("1", "西山夜巡", "夜间巡逻", "巡逻不少于10次", "各派出所", "", "周西", "8月底前", "台账完整"),
            # led by the station, with the sub-bureau cooperating: 330320's own work is "coop"
            ("2", "西山联防", "群防群治", "建立联防队", "各派出所", "城西分局", "周西", "9月底前", ""),
        ],
    )
]
WEST_CAMPAIGN = {
    "name": "城西夜巡专项行动",
    "code": "XS",
    "start": "2026-07-01",
    "end": "2026-10-08",
    "owner": "330320",
}


# --- results statistics: one indicator of XJ, reported by each site on the campaign's first day ---------


def build_statistics(people: dict[str, User], units: dict[str, Unit], xj: Campaign) -> None:
    """XJ's catalogue (出动警力) and a figure from each site (its place in SITES + 1), through the service."""
    police = Indicator.objects.create(campaign=xj, code="police", name="出动警力", measure="人次", seq=1)
    for n, site in enumerate(SITES, start=1):
        report_figures(campaign=xj, unit=units[site], day=xj.start, values={police.pk: n}, by=people[LEAD_OF[site]])


# --- supervision (inspections): on the four sites, plus a tour of two stations of both branches -------

TOUR = ("33031001", "33032001")  # the units both tours visit: a station of each branch
DELISTED_AT = "330320"  # the unit of the hotspot de-listed by a joint acceptance


def finding_photo(site: str) -> SimpleUploadedFile:
    return png_upload(f"{mark(site, 'photo')}.png")


@dataclass
class Supervision:
    inspection: dict[str, Inspection]  # by site: planned, visiting the site only
    finding: dict[str, Finding]  # open, found by inspection[site], with a photo
    ordered: dict[str, Finding]  # self-reported by the lead, in notice[site]
    submitted: dict[str, Finding]  # in notice[site], answered by the lead (with a photo)
    notice: dict[str, Notice]  # issued to the site (ordered + submitted)
    photo: dict[str, Photo]  # of finding[site]
    hotspot: dict[str, Hotspot]  # listed
    tour: dict[str, Inspection]  # by "tour": planned, visiting TOUR (a mapping, as the other targets)
    past_tour: Inspection  # completed, visited TOUR
    letter: dict[str, RiskLetter] = field(default_factory=dict)  # issued to the site, not acknowledged
    letter_answered: dict[str, RiskLetter] = field(default_factory=dict)  # answered by the lead, with a PNG
    letter_file: dict[str, LetterFile] = field(default_factory=dict)  # of letter_answered[site]


def build_supervision(people: dict[str, User], units: dict[str, Unit], xj: Campaign) -> Supervision:
    """The supervision objects, through ``inspections.services`` only, dated from today."""
    today = timezone.localdate()
    inspector, hq = people["inspector"], people["hq"]
    # the past tour: ten days ago, with a notice due three days ago (overdue now) and a finding rectified
    with time_machine.travel(today - timedelta(days=10), tick=False):
        past = supervision.plan_inspection(
            by=inspector, campaign=xj, units=[units[c] for c in TOUR], planned_on=today - timedelta(days=10)
        )
        late = supervision.log_finding(
            by=inspector,
            inspection=past,
            unit=units[TOUR[0]],
            place=mark(TOUR[0], "place"),
            description=mark(TOUR[0], "finding"),
        )
        fixed = supervision.log_finding(
            by=inspector,
            inspection=past,
            unit=units[TOUR[1]],
            place=mark(TOUR[1], "place"),
            description=mark(TOUR[1], "finding"),
        )
        for finding, due in ((late, today - timedelta(days=3)), (fixed, today + timedelta(days=3))):
            supervision.issue_notice(
                by=inspector,
                unit=finding.unit,
                findings=[finding],
                deadline=due,
                inspection=past,
                requirements=mark(finding.unit.code, "requirements"),
            )
    supervision.answer_finding(finding=fixed, by=people[LEAD_OF[TOUR[1]]], text=mark(TOUR[1], "answer"))
    supervision.verify_finding(finding=fixed, by=inspector, accept=True)
    past = supervision.complete_inspection(inspection=past, by=inspector, summary="矩阵测试巡查")
    tour = supervision.plan_inspection(by=inspector, campaign=xj, units=[units[c] for c in TOUR], planned_on=today)
    s = Supervision({}, {}, {}, {}, {}, {}, {}, {"tour": tour}, past)
    # a hotspot de-listed by a joint acceptance that passed
    spot = supervision.list_hotspot(
        by=hq,
        campaign=xj,
        unit=units[DELISTED_AT],
        name=mark(DELISTED_AT, "hotspot"),
        problems="矩阵测试",
        responsible_name="周西",
        deadline=today + timedelta(days=30),
        criteria=["无占道经营"],
    )
    joint = supervision.plan_inspection(
        by=hq, campaign=xj, units=[], hotspot=spot, planned_on=today, kind=InspectionKind.JOINT
    )
    verdicts = [supervision.Judgement(c.pk, True) for c in spot.criteria.all()]
    supervision.complete_inspection(inspection=joint, by=hq, verdicts=verdicts)
    for site in SITES:
        unit, lead = units[site], people[LEAD_OF[site]]
        visit = supervision.plan_inspection(by=inspector, campaign=xj, units=[unit], planned_on=today)
        s.inspection[site] = visit
        s.finding[site] = supervision.log_finding(
            by=inspector,
            inspection=visit,
            unit=unit,
            place=mark(site, "place"),
            description=mark(site, "finding"),
            severity="serious",
            photos=[finding_photo(site)],
        )
        s.photo[site] = s.finding[site].photos.get()
        s.ordered[site] = supervision.log_finding(
            by=lead, campaign=xj, unit=unit, place=mark(site, "place"), description=mark(site, "self-report")
        )
        s.submitted[site] = supervision.log_finding(
            by=inspector, inspection=visit, unit=unit, place=mark(site, "place"), description=mark(site, "finding")
        )
        s.notice[site] = supervision.issue_notice(
            by=inspector,
            unit=unit,
            findings=[s.ordered[site], s.submitted[site]],
            inspection=visit,
            deadline=today + timedelta(days=14),
            requirements=mark(site, "requirements"),
        )
        supervision.answer_finding(
            finding=s.submitted[site], by=lead, text=mark(site, "answer"), files=[finding_photo(site)]
        )
        s.hotspot[site] = supervision.list_hotspot(
            by=inspector,
            campaign=xj,
            unit=unit,
            name=mark(site, "hotspot"),
            problems=mark(site, "problems"),
            responsible_name=NAME[site],
            deadline=today + timedelta(days=30),
            criteria=["警情同比下降30%"],
        )
        # risk letters: one just issued, one answered by the lead (with a PNG) awaiting the issuer; of no
        # campaign (from analysis), so they send no message: the outbox's page holds the world's messages
        for kind in ("letter", "letter_answered"):
            getattr(s, kind)[site] = risk_letters.issue_letter(
                by=inspector,
                unit=unit,
                title=mark(site, kind.replace("_", "-")),
                risk=mark(site, "risk"),
                requirements=mark(site, "measures"),
                reply_by=today + timedelta(days=10),
            )
        risk_letters.answer_letter(
            letter=s.letter_answered[site], by=lead, text=mark(site, "measures-taken"), files=[finding_photo(site)]
        )
        s.letter_file[site] = s.letter_answered[site].files.get()
    # as they are now (the cases' bodies read a finding's unit, an inspection's units: loaded once here)
    for kind in (
        "finding",
        "ordered",
        "submitted",
        "notice",
        "hotspot",
        "inspection",
        "tour",
        "letter",
        "letter_answered",
    ):
        table = getattr(s, kind)
        model = type(next(iter(table.values())))
        rows = model.objects.prefetch_related("units") if model is Inspection else model.objects.select_related("unit")
        fresh = rows.in_bulk([o.pk for o in table.values()])
        table.update({site: fresh[o.pk] for site, o in table.items()})
    return s


@dataclass
class World:
    people: dict[str, User]
    units: dict[str, Unit]
    campaigns: dict[str, Campaign]  # by code: XJ (owner 3303), XS (owner 330320)
    work: dict[str, Assignment]  # by site
    review: dict[str, Assignment]  # by site, submitted
    evidence: dict[str, Evidence]
    extension: dict[str, ExtensionRequest]  # pending, on work[site]
    coop: dict[str, Assignment]  # cooperating work by unit (see COOP), submitted
    coop_extension: dict[str, ExtensionRequest]  # pending, on coop[unit]
    comment: dict[str, Comment]
    media_root: Path
    supervision: Supervision
    documents: dict[str, dict[str, Model]]  # by state (doc_draft …), then site: a 通知 issued by the site
    # directives (督办事项): by site, one naming the site as its only lead unit, handed down, the completion
    # report sent (its lead work submitted); and one secret one led by 城关派出所 (``SECRET_AT``), pending
    directive: dict[str, Directive] = field(default_factory=dict)
    secret: dict[str, Directive] = field(default_factory=dict)
    # 约谈 (documents.Summons): by site, the site summoned on its own issued document (standing in for a
    # bulletin: the rights are HQ's over its issuing unit, the site), planned
    summons: dict[str, Model] = field(default_factory=dict)

    def user(self, persona: Persona) -> User | None:
        return None if persona.anonymous else self.people[persona.name]

    def object(self, kind: str, key: str) -> Model:
        """The object a case acts on: ``kind`` (work, review, evidence, …) and its key (site, code, name)."""
        if kind in ("directive", "secret", "summons"):
            return getattr(self, kind)[key]
        if kind in ("work", "review", "evidence", "extension", "comment", "coop", "coop_extension"):
            return getattr(self, kind)[key]
        if kind in SUPERVISION_KINDS:
            return getattr(self.supervision, kind)[key]
        if kind in DOCUMENT_KINDS:
            return self.documents[kind][key]
        if kind in ("unit", "site"):  # site: a unit where a creation is tried
            return self.units[key]
        if kind == "user":
            return self.people[key]
        if kind == "campaign":
            return self.campaigns[key]
        if kind == "action":
            return LineOfAction.objects.filter(campaign=self.campaigns[key]).order_by("seq").first()
        if kind == "item":
            return Item.objects.filter(campaign=self.campaigns[key]).order_by("seq").first()
        if kind == "indicator":  # the statistics catalogue (an API matrix world adds XS's: see there)
            return Indicator.objects.filter(campaign=self.campaigns[key]).order_by("seq", "id").first()
        if kind == "round":
            return Round.objects.filter(campaign=self.campaigns[key]).order_by("start").first()
        if kind == "doc_rule":  # a sign-off rule of the campaign (a leader signs its bulletins: the default's)
            from documents.models import SignOffRule

            rule, _ = SignOffRule.objects.get_or_create(
                campaign=self.campaigns[key], kind="bulletin", step="sign", role=Role.LEADER
            )
            return rule
        if kind == "plan":  # HQ's kept upload of the campaign's plan, previewed (its job done)
            campaign = self.campaigns[key]
            upload, _ = PlanUpload.objects.get_or_create(
                campaign=campaign,
                defaults={
                    "file": f"plans/matrix-{key}.xlsx",
                    "name": f"{campaign.name}.xlsx",
                    "extension": ".xlsx",
                    "size": 1,
                    "sha256": "0" * 64,
                    "owner": campaign.owner,
                    "uploaded_by": self.people["hq"],
                    "status": PlanUploadStatus.PREVIEWED,
                    "job": PlanJob.PREVIEW,
                    "job_state": PlanJobState.DONE,
                    "progress": 100,
                },
            )
            return upload
        raise KeyError(kind)


DOCUMENT_KINDS = ("doc_draft", "doc_checking", "doc_signing", "doc_issued")
SUPERVISION_KINDS = (
    "inspection",
    "finding",
    "ordered",
    "submitted",
    "notice",
    "photo",
    "hotspot",
    "tour",
    "letter",
    "letter_answered",
    "letter_file",
)


def unit_code_of(kind: str, key: str) -> str:
    """The unit deciding the visibility of an object of ``kind``/``key``, known without the database."""
    if kind == "user":
        return {"hq": "3303", "east_lead": "330310", "station_lead": "33031001", "west_lead": "330320"}[key]
    if kind in ("campaign", "action", "item", "indicator", "round", "plan", "doc_rule"):
        return {"XJ": "3303", "XS": "330320"}[key]
    if kind == "tour":
        return TOUR[0]  # the first; see units_of
    return key  # sites and units are unit codes


def units_of(kind: str, key: str) -> tuple[str, ...]:
    """Every unit deciding an object's visibility: an inspection is seen from each unit it visits."""
    return TOUR if kind == "tour" else (unit_code_of(kind, key),)


def fixture_body(name: str):
    """The plain function behind a shared pytest fixture, to build the same data once per module."""
    for module in ("tests.conftest", "tests.tasks.conftest"):
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ModuleNotFoundError:
            continue
        if found is not None:
            return inspect.unwrap(found)
    raise LookupError(f"no fixture {name!r} in tests/conftest.py or tests/tasks/conftest.py")


def get(item: str, unit: str, campaign: str = "XJ") -> Assignment:
    return Assignment.objects.select_related("unit", "item", "campaign").get(
        campaign__code=campaign, item__code=item, unit__code=unit
    )


# --- directives (督办事项) ---------------------------------------------------------------------------

DIRECTIVE_IN = {"330310": "XJ", "33031001": "XJ", "330320": "XS", "33032001": "XS"}  # the campaign by site
OWNER_OF = {"XJ": "3303", "XS": "330320"}
SECRET_AT = "33031001"


def build_directives(people: dict[str, User], units: dict[str, Unit]) -> tuple[dict, dict]:
    directive = {}
    for site in SITES:
        campaign = Campaign.objects.get(code=DIRECTIVE_IN[site])
        made = register_directive(
            campaign=campaign, by=people["hq"], title=mark(site, "directive"), source=Source.INSTRUCTION,
            lead_units=[units[site]], due_date=campaign.end, instruction=mark(site, "instruction"),
        )  # fmt: skip
        directive[site] = hand_down(directive=made, by=people["hq"])
        complete_directive(directive=directive[site], by=people[LEAD_OF[site]], report=mark(site, "completion"))
    xj = Campaign.objects.get(code="XJ")
    hidden = register_directive(
        campaign=xj, by=people["hq"], title=mark(SECRET_AT, "secret"), source=Source.CASE,
        lead_units=[units[SECRET_AT]], due_date=xj.end, secret=True,
    )  # fmt: skip
    return directive, {SECRET_AT: hand_down(directive=hidden, by=people["hq"])}


def sees_secret(persona: Persona, code: str, campaign: str = "XJ") -> bool:
    """A secret directive's work: a view role granted on the named unit itself, or HQ over the campaign's owner."""
    return any(role in VIEW_ROLES and unit == code for role, unit in persona.grants) or persona.over(
        {Role.HQ}, OWNER_OF[campaign]
    )


def sees_work(persona: Persona, a: Assignment) -> bool:
    """An assignment: its unit in view, and a secret directive's only as ``sees_secret`` says."""
    if not sees_unit(persona, a.unit.code):
        return False
    return not a.item.secret or sees_secret(persona, a.unit.code, a.campaign.code)


def build_world(tmp: Path, media_root: Path) -> World:
    with override_settings(
        MEDIA_ROOT=str(media_root), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        city = fixture_body("city")(None)
        fixture_body("published")(city, tmp)
        import_plan(path=write_xlsx(tmp / "west.xlsx", plan=WEST_PLAN), publish=True, **WEST_CAMPAIGN)
        p = city.people
        # the one persona the city fixture does not make (see PERSONAS)
        p["west_inspector"] = city_conftest.make_user(
            "west_inspector", city.units["330320"], (Role.INSPECTOR, city.units["330320"]), name="吴督"
        )
        p["guan_hq"] = city_conftest.make_user(
            "guan_hq",
            city.units["33031001"],
            *((r, city.units[u]) for r, u in PERSONAS["guan_hq"].grants),
            name="郑关",
        )
        # shares passed down to a station of each branch: the stations' second assignment
        pass_down(assignment=get("2.2", "330310"), by=p["east_lead"], shares=[Share(city.units["33031001"], None)])
        pass_down(assignment=get("2.2", "330320"), by=p["west_lead"], shares=[Share(city.units["33032001"], None)])
        work = {"330310": get("2.1", "330310"), "330320": get("2.1", "330320")}
        work |= {"33031001": get("1.1", "33031001"), "33032001": get("1.1", "33032001")}
        review = {site: get("2.2", site) for site in SITES}
        evidence, extension, comment = {}, {}, {}
        for site in SITES:
            lead = p[LEAD_OF[site]]
            report = report_progress(
                assignment=work[site], by=lead, value=1, text=mark(site, "report"), files=[png_upload()]
            )
            evidence[site] = report.evidence.get()
            comment[site] = add_comment(assignment=work[site], by=lead, text=mark(site, "comment"))
            extension[site] = request_extension(
                assignment=work[site], by=lead, due=work[site].due_date + timedelta(days=7), reason=mark(site, "reason")
            )
            transition_assignment(assignment=review[site], name="submit", confirm_shortfall=True, by=lead)
        coop, coop_extension = {}, {}
        for unit, (campaign, item) in COOP.items():
            lead = p[LEAD_OF[unit]]
            coop[unit] = get(item, unit, campaign)
            due = coop[unit].due_date + timedelta(days=7)
            coop_extension[unit] = request_extension(
                assignment=coop[unit], by=lead, due=due, reason=mark(unit, "reason")
            )
            transition_assignment(assignment=coop[unit], name="submit", confirm_shortfall=True, by=lead)
        build_statistics(p, city.units, Campaign.objects.get(code="XJ"))
        directive, secret = build_directives(p, city.units)
        return World(
            people=p,
            units=city.units,
            campaigns={c.code: c for c in Campaign.objects.all()},
            work={site: get(a.item.code, site) for site, a in work.items()},
            review={site: get("2.2", site) for site in SITES},
            evidence=evidence,
            extension=extension,
            comment=comment,
            coop={unit: get(item, unit, campaign) for unit, (campaign, item) in COOP.items()},
            coop_extension=coop_extension,
            media_root=media_root,
            supervision=build_supervision(p, city.units, Campaign.objects.get(code="XJ")),
            documents=(documents := build_documents(p, city.units, Campaign.objects.get(code="XJ"))),
            directive=directive,
            secret=secret,
            summons=build_summonses(p, city.units, documents["doc_issued"]),
        )


def build_summonses(people: dict[str, User], units: dict[str, Unit], issued: dict[str, Model]) -> dict[str, Model]:
    """On each site, a planned 约谈 of the site on the site's issued document (the rows as the service writes
    them: a world's bulletins would name laggards the matrix cannot choose)."""
    from documents.models import Summons

    return {
        site: Summons.objects.create(
            campaign=issued[site].campaign,
            unit=units[site],
            bulletin=issued[site],
            reasons=mark(site, "summons"),
            as_of=timezone.localdate(),
            scheduled_at=timezone.now() + timedelta(days=3),
            place="矩阵会议室",
            attendance="主要负责人",
            created_by=people["hq"],
        )
        for site in SITES
    }


def build_documents(people: dict[str, User], units: dict[str, Unit], campaign: Campaign) -> dict[str, dict]:
    """On each site, a free notice (通知) issued by the site, drafted by HQ, in each state of its sign-off: a
    draft, awaiting the check, awaiting the signature, issued (signed by HQ through a rule of the campaign,
    dropped again: the world's signers are the default, a leader over the site) — the issued one sent to
    the site itself (its leads acknowledge it) and to an outside body."""
    from documents import distribution
    from documents import services as docs
    from documents.models import SignOffRule

    hq = people["hq"]
    made: dict[str, dict] = {kind: {} for kind in DOCUMENT_KINDS}
    rule = SignOffRule.objects.create(campaign=campaign, kind="notice", step="sign", user=hq)
    for site in SITES:
        for kind in DOCUMENT_KINDS:
            d = docs.draft_document(
                by=hq, campaign=campaign, kind="notice", unit=units[site], title=mark(site, "document")
            )
            d = docs.update_draft(document=d, by=hq, requirements=mark(site, "paragraph"), recipients="各单位")
            if kind == "doc_issued":  # sent to the site itself and to an outside body (docs/documents.md)
                d = distribution.set_recipients(
                    document=d, by=hq, units=[units[site]], bodies=[(mark(site, "outside"), "copy")]
                )
            if kind != "doc_draft":
                d = docs.submit_document(document=d, by=hq)
            if kind in ("doc_signing", "doc_issued"):
                # the checker is not the drafter while another HQ may check (guan_hq over 城东分局)
                checker = hq
                if docs.drafter_may_not_check(hq, d):
                    checker = next(
                        p for p in people.values() if p != hq and not p.is_superuser and docs.may_step(p, d, "check")
                    )
                d = docs.check_document(document=d, by=checker)
            if kind == "doc_issued":
                d = docs.sign_document(document=d, by=hq)
            made[kind][site] = d
    rule.delete()
    return made


@contextmanager
def kept_for_the_module(django_db_blocker, build: Callable[[], object]) -> Iterator:
    """``build()`` once, inside a transaction rolled back when the module is done; each case runs in a
    savepoint of it (pytest-django's ``db``), as with Django's ``TestCase.setUpTestData``."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            made = build()
            # Fire the world's deferred foreign-key checks now, once: left pending, each case's teardown
            # (``SET CONSTRAINTS ALL IMMEDIATE``, then the rollback of its savepoint) would run them again.
            connection.check_constraints()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield made
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
