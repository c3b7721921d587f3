"""Event messages: work reaches people (docs/events.md).

When someone acts on a unit's work — HQ returns or accepts it, an inspector issues a notice, a unit
asks for more time — the people concerned are told through the same outbox as the reminders. Each
action writes ``Event`` rows (one per unit concerned), then, in the same transaction, one
``INSERT … SELECT`` per channel puts a ``Message`` in the outbox for every recipient: the recipients
are a join over the role grants and the unit tree (``RECIPIENTS``), never a loop in Python, and never
the one who acted. The inbox gets its message at once, push channels by the user's preferences and
after the quiet hours (``sweep.queue``, as for reminders); the words are rendered at delivery from
``MessageTemplate`` (subject type "event"), editable by HQ.

A burst is one message per recipient and kind: publishing a plan tells each unit once ("您单位在
《行动名》中有N项任务", ``assigned``); a bulk action wrapped in ``together()`` coalesces the events of a
kind for one unit into one whose count grows.
"""

# ruff: noqa: S608 (every piece of SQL text here is a constant of this module; values go as parameters)

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Collection, Iterator
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format

from accounts.scope import ROLES_FOR, Action

from .models import Audience, Event, EventKind, EventSubject, Policy

K = EventKind

REVIEWER_BELOW = "reviewer_below"  # SQL only (``RECIPIENTS``): its messages are worded as the reviewers'

# Who hears of each kind of event. The unit's leads are those allowed to act for it (``Action.REPORT``
# on the unit itself, as the sweep's "lead"); reviewers are HQ over the unit who do not report for it
# themselves (``workflow.awaiting_review``); the requester is the event's ``person``.
AUDIENCES: dict[str, tuple[str, ...]] = {
    K.ASSIGNED: (Audience.LEAD,),
    K.RETURNED: (Audience.LEAD,),
    K.ACCEPTED: (Audience.LEAD,),
    K.REOPENED: (Audience.LEAD,),
    K.NOTICE: (Audience.LEAD,),
    K.REJECTED: (Audience.LEAD,),
    K.VERIFIED: (Audience.LEAD,),
    K.EXT_ASKED: (Audience.REVIEWER,),
    K.EXT_APPROVED: (Audience.REQUESTER, Audience.LEAD),
    K.EXT_REFUSED: (Audience.REQUESTER, Audience.LEAD),
    K.PASSED_DOWN: (Audience.LEAD,),
    K.COMMENTED: (Audience.LEAD,),  # a unit's own comment goes to the reviewers: ``commented``
    K.CHASED: (Audience.LEAD,),
    K.SUBMITTED: (REVIEWER_BELOW,),
    K.LETTER: (Audience.LEAD,),
    K.LETTER_CLOSED: (Audience.LEAD,),
    K.LETTER_BACK: (Audience.LEAD,),  # a share submitted: the unit that split it; HQ has its review desk
    K.DOCUMENT: (Audience.LEAD,),
    K.DOC_CHASED: (Audience.LEAD,),
}

ROLE_PARAMS = {
    f"{action}_role{i}": role
    for action in (Action.REPORT, Action.MANAGE)
    for i, role in enumerate(sorted(ROLES_FOR[action]))
}


def _role_of(alias: str, action: Action) -> str:
    return f"{alias}.role IN ({', '.join(f'%({action}_role{i})s' for i in range(len(ROLES_FOR[action])))})"


# Joins on the event ``e`` that yield ``usr``, the recipients; ``%%`` is a literal % (LIKE on the paths).
RECIPIENTS = {
    Audience.LEAD: f"""
        JOIN accounts_rolegrant g ON g.unit_id = e.unit_id AND {_role_of("g", Action.REPORT)}
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    Audience.REVIEWER: f"""
        JOIN accounts_unit u ON u.id = e.unit_id
        JOIN accounts_rolegrant g ON {_role_of("g", Action.MANAGE)}
        JOIN accounts_unit gu ON gu.id = g.unit_id AND u.path LIKE gu.path || '%%'
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active
        WHERE NOT EXISTS (SELECT 1 FROM accounts_rolegrant g2 JOIN accounts_unit gu2 ON gu2.id = g2.unit_id
                          WHERE g2.user_id = usr.id AND {_role_of("g2", Action.REPORT)}
                              AND u.path LIKE gu2.path || '%%')""",
    Audience.REQUESTER: """
        JOIN accounts_user usr ON usr.id = e.person_id AND usr.is_active""",
    # The reviewers below HQ (``workflow.may_review``), for an event about an assignment: the leads of the
    # unit that passed a share down, or, for a cooperating unit's work, the leads of the item's lead units —
    # never one who reports for the unit itself (for a share: a grant on its unit or between the two).
    REVIEWER_BELOW: f"""
        JOIN tasks_assignment sa ON sa.id = e.subject_id
        JOIN tasks_assignment la ON la.is_active AND (la.id = sa.parent_id OR (
            sa.parent_id IS NULL AND sa.role = 'coop' AND la.item_id = sa.item_id AND la.role = 'lead'
            AND la.parent_id IS NULL))
        JOIN accounts_unit lu ON lu.id = la.unit_id
        JOIN accounts_unit u ON u.id = sa.unit_id
        JOIN accounts_rolegrant g ON g.unit_id = la.unit_id AND {_role_of("g", Action.REPORT)}
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active
        WHERE e.subject_type = 'assignment'
          AND NOT EXISTS (SELECT 1 FROM accounts_rolegrant g2 JOIN accounts_unit gu2 ON gu2.id = g2.unit_id
                          WHERE g2.user_id = usr.id AND {_role_of("g2", Action.REPORT)}
                              AND u.path LIKE gu2.path || '%%'
                              AND (sa.parent_id IS NULL OR LENGTH(gu2.path) > LENGTH(lu.path)))""",
}
# Who reviews an assignment: HQ over it, and the unit above it in the work (``REVIEWER_BELOW``).
EXPANDS = {Audience.REVIEWER: (Audience.REVIEWER, REVIEWER_BELOW)}

PEOPLE = """
    SELECT e.id, usr.id AS recipient_id, e.unit_id FROM notifications_event e {joins}
    {where} e.batch = %(batch)s AND e.kind = %(kind)s AND (e.actor_id IS NULL OR usr.id <> e.actor_id)"""


def _people(audiences: Collection[str]) -> str:
    """SQL for the (event, recipient, unit) rows of the batch's events, for the audiences, without the actor."""
    parts = []
    for audience in (part for asked in audiences for part in EXPANDS.get(asked, (asked,))):
        joins = RECIPIENTS[audience]
        parts.append(PEOPLE.format(joins=joins, where="AND" if "WHERE" in joins else "WHERE"))
    return f"({' UNION '.join(parts)})"


def _push_from(campaign_id: int | None, now: datetime) -> datetime:
    """The end of the quiet hours of the campaign's rules (else the default ones; no campaign: the default
    ones), as for reminders."""
    from .sweep import quiet_until

    rules = {p.campaign_id: p for p in Policy.objects.filter(Q(campaign_id=campaign_id) | Q(campaign=None))}
    return quiet_until(rules.get(campaign_id) or rules.get(None) or Policy(), now)


def _queue(kind: str, batch: str, campaign_id: int | None, now: datetime, audiences: Collection[str]) -> None:
    """The messages of the batch's events: one statement per channel (``sweep.queue``)."""
    from .sweep import queue

    with connection.cursor() as cursor:
        queue(
            cursor,
            now,
            _push_from(campaign_id, now),
            where="1 = 1",
            params={"batch": batch, "kind": kind, **ROLE_PARAMS},
            of="event",
            rows=_people(audiences),
        )
    _deliver_after_commit()


def _deliver_after_commit() -> None:
    """Queue one delivery after the commit, not one per event of a bulk action (a drain sends all)."""
    from .jobs import deliver_messages

    pending = getattr(connection, "run_on_commit", None) or []
    if not any(len(entry) > 1 and entry[1] == deliver_messages.delay for entry in pending):
        transaction.on_commit(deliver_messages.delay)


# --- Coalescing (a bulk action) ---------------------------------------------------------------------

_together: contextvars.ContextVar[dict | None] = contextvars.ContextVar("events_together", default=None)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Within this block (a bulk action, inside its transaction), events of one kind by one person for
    one unit become one event whose count grows: 200 items returned to a station make one message."""
    token = _together.set({})
    try:
        yield
    finally:
        _together.reset(token)


def _worded_as(audiences: Collection[str]) -> str:
    """The audience whose words an event's messages take besides the requester's: the first one told
    (``REVIEWER_BELOW`` is worded as the reviewers')."""
    to = next((a for a in audiences if a != Audience.REQUESTER), Audience.LEAD)
    return Audience.REVIEWER if to == REVIEWER_BELOW else to


# --- Emitting ---------------------------------------------------------------------------------------


def emit(
    kind: str,
    *,
    subject_type: str,
    subject_id: int,
    unit_id: int,
    campaign_id: int | None,
    by,
    reason: str = "",
    person=None,
    payload: dict | None = None,
    audiences: Collection[str] | None = None,
    count: int = 1,
) -> Event | None:
    """One event about one thing of one unit (``count`` things when the caller has counted several of
    the unit's at once), and its messages (two to five statements, whoever the recipients are)."""
    audiences = tuple(audiences or AUDIENCES[kind])
    actor_id = getattr(by, "pk", None)
    person_id = getattr(person, "pk", None)
    open_batch = _together.get()
    key = (kind, unit_id, campaign_id, actor_id, person_id, audiences)
    merged = open_batch is not None and key in open_batch
    if merged and Event.objects.filter(pk=open_batch[key]).update(count=F("count") + count):
        return None  # its messages are queued already and read the count at delivery
    now = timezone.now()
    event = Event.objects.create(
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        unit_id=unit_id,
        campaign_id=campaign_id,
        actor_id=actor_id,
        person_id=person_id,
        reason=(reason or "").strip(),
        payload={**(payload or {}), "to": _worded_as(audiences)},
        count=count,
        batch=uuid.uuid4().hex,
        created_at=now,
    )
    if open_batch is not None:
        open_batch[key] = event.pk
    _queue(kind, event.batch, campaign_id, now, audiences)
    return event


def about_assignment(
    kind: str, assignment, *, by, reason: str = "", person=None, payload=None, audiences=None, count: int = 1
):
    """An event about an assignment (the link opens it), told to its unit's people."""
    return emit(
        kind,
        subject_type=EventSubject.ASSIGNMENT,
        subject_id=assignment.pk,
        unit_id=assignment.unit_id,
        campaign_id=assignment.campaign_id,
        by=by,
        reason=reason,
        person=person,
        payload=payload,
        audiences=audiences,
        count=count,
    )


# --- The call sites' words --------------------------------------------------------------------------

TRANSITIONS = {"return": K.RETURNED, "accept": K.ACCEPTED, "reopen": K.REOPENED}


def transitioned(assignment, name: str, *, by, note: str = "") -> None:
    """``workflow.transition_assignment``: a return, acceptance or reopening reaches the unit's leads; a
    share submitted reaches the leads of the unit that split it (``REVIEWER_BELOW`` alone: HQ has its
    review desk), never one who reports for the share's unit itself. Work given by the plan (no parent)
    is submitted to HQ's desk and tells nobody."""
    if name in TRANSITIONS:
        about_assignment(TRANSITIONS[name], assignment, by=by, reason=note)
    elif name == "submit" and assignment.parent_id:
        about_assignment(K.SUBMITTED, assignment, by=by, reason=note)


# The campaign's state is looked at once (an uncorrelated EXISTS), not joined to each of a publish's
# 114,000 rows: right after the COPY the planner believes in a handful and looped over the campaigns.
ASSIGNED_ROWS = """
    SELECT a.campaign_id AS subject_id, a.unit_id, a.campaign_id, COUNT(*) AS n
    FROM tasks_assignment a
    WHERE a.campaign_id = %(campaign)s AND a.is_active AND a.parent_id IS NULL AND ({new})
        AND EXISTS (SELECT 1 FROM tasks_campaign c WHERE c.id = %(campaign)s AND c.status = 'published')
    GROUP BY a.unit_id, a.campaign_id"""

INSERT_EVENTS = """
INSERT INTO notifications_event
    (kind, subject_type, subject_id, unit_id, campaign_id, actor_id, person_id, reason, payload, count, batch,
     created_at)
SELECT %(kind)s, %(subject_type)s, s.subject_id, s.unit_id, s.campaign_id, %(actor)s, NULL, '', {empty}, s.n,
    %(batch)s, %(now)s
FROM ({rows}) s"""


def assigned(*, campaign, by, since: datetime, restored: Collection[int] = ()) -> int:
    """``plans.apply_assignments`` (publishing, re-importing): one event per unit given work — the
    assignments created from ``since`` on, and those ``restored`` — and one message per lead, however
    many items: set-based, a fixed number of statements. Returns the number of units told."""
    from .sweep import _db

    new = "a.created_at >= %(since)s"
    if restored:
        new += f" OR a.id IN ({', '.join(str(int(pk)) for pk in restored)})"
    empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    now = timezone.now()
    batch = uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_EVENTS.format(rows=ASSIGNED_ROWS.format(new=new), empty=empty),
            {
                "kind": K.ASSIGNED,
                "subject_type": EventSubject.CAMPAIGN,
                "actor": getattr(by, "pk", None),
                "batch": batch,
                "now": _db(now),
                "campaign": campaign.pk,
                "since": _db(since),
            },
        )
        told = max(cursor.rowcount, 0)
    if told:
        _queue(K.ASSIGNED, batch, campaign.pk, now, AUDIENCES[K.ASSIGNED])
    return told


def chased(firsts: Collection, counts: dict[int, int], *, by, note: str = "") -> None:
    """``chase.chase_assignments``: each unit's leads hear of HQ's (or a leader's) 催办 once, "等N项":
    one event per unit, about its first assignment chased, counting ``counts[unit_id]`` of them. Set-based:
    the events in one INSERT, a batch per campaign, and its messages one statement per channel — a chase
    of 5,000 assignments over hundreds of units is a few statements, not five per unit."""
    audiences = tuple(AUDIENCES[K.CHASED])
    now = timezone.now()
    batches: dict[int, str] = {}
    rows = [
        Event(
            kind=K.CHASED,
            subject_type=EventSubject.ASSIGNMENT,
            subject_id=first.pk,
            unit_id=first.unit_id,
            campaign_id=first.campaign_id,
            actor_id=getattr(by, "pk", None),
            reason=(note or "").strip(),
            payload={"to": next((a for a in audiences if a != Audience.REQUESTER), Audience.LEAD)},
            count=counts[first.unit_id],
            batch=batches.setdefault(first.campaign_id, uuid.uuid4().hex),
            created_at=now,
        )
        for first in firsts
    ]
    Event.objects.bulk_create(rows, batch_size=1000)
    for campaign_id, batch in batches.items():
        _queue(K.CHASED, batch, campaign_id, now, audiences)


def _md(day) -> str:
    return date_format(day, "MONTH_DAY_FORMAT") if day else ""


def extension_asked(request, *, by) -> None:
    """``extensions.request_extension``: the deciders are asked — HQ over the unit, and the unit above it in
    the work (the one that passed the share down; the item's lead units for a cooperating unit's work)."""
    a = request.assignment
    payload = {"requested": _md(request.requested_due), "previous": _md(request.previous_due)}
    about_assignment(K.EXT_ASKED, a, by=by, reason=request.reason, payload=payload)


def extension_decided(request, *, by) -> None:
    """``extensions.decide_extension``: the requester and the unit's leads hear the answer."""
    kind = K.EXT_APPROVED if request.status == "approved" else K.EXT_REFUSED
    payload = {"requested": _md(request.requested_due), "previous": _md(request.previous_due)}
    about_assignment(
        kind, request.assignment, by=by, reason=request.decision_note, person=request.requested_by, payload=payload
    )


def passed_down(children, *, by, words: dict[int, str] | None = None) -> None:
    """``cascade.pass_down``: each unit given (or given a changed) share hears of it, with what it is given
    of every target (``words``: assignment → 检查场所30家次；整改隐患5处, ``tasks.targets.share_words``)."""
    for child in children:
        said = (words or {}).get(child.pk)
        about_assignment(K.PASSED_DOWN, child, by=by, payload={"shares": said} if said else None)


def commented(comment, *, by, leader=None) -> None:
    """``progress.add_comment``: to the other side of the conversation — a comment by one of the unit's
    own leads goes to the reviewers over it; anyone else's (HQ, a leader, an inspector, the lead of a
    unit above) to the unit's leads. A request for instruction (``progress.request_instruction``) also
    reaches the ``leader`` it is addressed to, marked 【报请批示】; a leader's instruction is marked 【批示】."""
    from accounts.models import RoleGrant
    from tasks.models import CommentKind

    a = comment.assignment
    own = RoleGrant.objects.filter(user=by, unit_id=a.unit_id, role__in=ROLES_FOR[Action.REPORT]).exists()
    audiences = (Audience.REVIEWER,) if own else (Audience.LEAD,)
    mark = {CommentKind.REQUEST: "【报请批示】", CommentKind.INSTRUCTION: "【批示】"}.get(comment.kind, "")
    if leader is not None:
        audiences = (*audiences, Audience.REQUESTER)  # the event's person: the leader addressed
    about_assignment(K.COMMENTED, a, by=by, reason=mark + comment.text, person=leader, audiences=audiences)


def notice_issued(notice, *, by, findings: int) -> None:
    """``inspections.issue_notice``: the addressed unit's leads."""
    emit(
        K.NOTICE,
        subject_type=EventSubject.NOTICE,
        subject_id=notice.pk,
        unit_id=notice.unit_id,
        campaign_id=notice.campaign_id,
        by=by,
        reason=notice.requirements,
        payload={"findings": findings, "deadline": _md(notice.deadline)},
    )


def finding_verified(finding, *, by, accept: bool, note: str = "") -> None:
    """``inspections.verify_finding``: the unit's leads hear the verdict (rejected: with the new deadline)."""
    emit(
        K.VERIFIED if accept else K.REJECTED,
        subject_type=EventSubject.FINDING,
        subject_id=finding.pk,
        unit_id=finding.unit_id,
        campaign_id=finding.campaign_id,
        by=by,
        reason=note,
        payload={"deadline": _md(finding.deadline)},
    )


def letter_issued(letter, *, by) -> None:
    """``inspections.letters.issue_letter``: the addressed unit's leads. A letter of no campaign (分析研判
    outside any operation) is pushed too, under the default rules' quiet hours."""
    emit(
        K.LETTER,
        subject_type=EventSubject.LETTER,
        subject_id=letter.pk,
        unit_id=letter.unit_id,
        campaign_id=letter.campaign_id,
        by=by,
        reason=letter.requirements,
        payload={"reply_by": _md(letter.reply_by)},
    )


def letter_judged(letter, *, by, closed: bool, note: str = "") -> None:
    """``inspections.letters.close_letter`` / ``return_letter``: the unit's leads hear it (returned: why)."""
    emit(
        K.LETTER_CLOSED if closed else K.LETTER_BACK,
        subject_type=EventSubject.LETTER,
        subject_id=letter.pk,
        unit_id=letter.unit_id,
        campaign_id=letter.campaign_id,
        by=by,
        reason=note,
        payload={"reply_by": _md(letter.reply_by)},
    )


DOCUMENT_ROWS = """
    SELECT r.document_id AS subject_id, r.unit_id, d.campaign_id, 1 AS n
    FROM documents_documentrecipient r
    JOIN documents_document d ON d.id = r.document_id
    WHERE r.document_id = %(document)s AND r.unit_id IS NOT NULL AND ({which})"""


def documents_sent(
    document, *, by, kind: str = K.DOCUMENT, note: str = "", unit_ids: Collection[int] | None = None
) -> int:
    """``documents.services.sign_document`` (公文下发) and ``chase_recipients`` (催签收): one event per
    recipient unit of ``document`` (``unit_ids`` only, when given: those chased) and one message per lead of
    each and channel — set-based, three to five statements whether it goes to 5 units or 1,650. Returns the
    number of units told."""
    from .sweep import _db

    which = "1 = 1"
    if unit_ids is not None:
        if not unit_ids:
            return 0
        which = f"r.unit_id IN ({', '.join(str(int(pk)) for pk in unit_ids)})"
    empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    now = timezone.now()
    batch = uuid.uuid4().hex
    rows = DOCUMENT_ROWS.format(which=which)
    insert = INSERT_EVENTS.replace("%(actor)s, NULL, ''", "%(actor)s, NULL, %(reason)s")
    with connection.cursor() as cursor:
        cursor.execute(
            insert.format(rows=rows, empty=empty),
            {
                "kind": kind,
                "subject_type": EventSubject.DOCUMENT,
                "actor": getattr(by, "pk", None),
                "reason": (note or "").strip(),
                "batch": batch,
                "now": _db(now),
                "document": document.pk,
            },
        )
        told = max(cursor.rowcount, 0)
    if told:
        _queue(kind, batch, document.campaign_id, now, AUDIENCES[kind])
    return told
