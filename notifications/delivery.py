"""Delivery: claim queued messages, send each on its channel, mark it sent only after the send.

A claim sets a lease (token and expiry) in its own short transaction; on PostgreSQL the candidate
rows are picked with ``FOR UPDATE SKIP LOCKED`` so concurrent drains take different rows (the
``DB_FAST_PATHS`` switch; SQLite serialises writers, and the conditional UPDATE alone decides). A
message whose worker died keeps an expired lease and is claimed again. Failures are retried with
exponential backoff, then left ``dead`` for HQ to see and retry. Every attempt is logged.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, F, Q
from django.template import Context, Template
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Unit
from inspections.models import Finding, Hotspot, Notice, RiskLetter
from stats.models import Round
from tasks import targets
from tasks.models import Assignment, AssignmentStatus, Campaign
from utilities.cn import cn_day, cn_range, nest_quotes
from utilities.db import fast_paths

from . import texts
from .models import (
    Audience,
    Channel,
    DeliveryAttempt,
    EventSubject,
    Kind,
    Message,
    MessageStatus,
    MessageTemplate,
    Subject,
)

log = logging.getLogger(__name__)
OPEN = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)  # the sweep's OPEN

LEASE = timedelta(minutes=5)  # renewed before each push send, so a slow batch keeps what it still holds
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    return timedelta(seconds=min(3600, settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def claimable(now: datetime) -> Q:
    return Q(status=MessageStatus.PENDING, not_before__lte=now) | Q(status=MessageStatus.SENDING, lease_until__lt=now)


def claim(now: datetime | None = None, limit: int = BATCH) -> tuple[str, list[Message]]:
    """Lease up to ``limit`` due messages to this caller; returns the lease token and the messages."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        # the explicit status list lets PostgreSQL walk the partial index ``message_queue``
        queued = Message.objects.filter(status__in=[MessageStatus.PENDING, MessageStatus.SENDING])
        candidates = queued.filter(claimable(now)).order_by("id")
        if fast_paths():
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if ids:
            # conditional: a row another drain leased in between is not taken twice
            Message.objects.filter(claimable(now), id__in=ids).update(
                status=MessageStatus.SENDING, lease=token, lease_until=now + LEASE, attempts=F("attempts") + 1
            )
    if not ids:
        return token, []
    leased = Message.objects.filter(id__in=ids, lease=token, status=MessageStatus.SENDING)
    related = ("reminder", "digest", "recipient", "event__actor__unit", "event__unit", "event__campaign")
    return token, list(leased.select_related(*related).order_by("id"))


# --- Words ------------------------------------------------------------------------------------------


def _templates() -> dict[tuple[str, str, str], MessageTemplate]:
    return {(t.subject_type, t.kind, t.audience): t for t in MessageTemplate.objects.all()}


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return Template(source)


def _facts(messages: list[Message]) -> dict[tuple, dict]:
    """What the batch's reminders are about, by (subject type, id) — for a round, which many units
    share, by (subject type, id, unit id): a few queries per batch."""
    wanted: dict[str, set[int]] = {}
    round_units: set[tuple[int, int]] = set()
    unacked: set[tuple[int, int]] = set()
    document_units: set[tuple[int, int]] = set()
    for m in messages:
        if m.reminder_id:
            wanted.setdefault(m.reminder.subject_type, set()).add(m.reminder.subject_id)
            if m.reminder.subject_type == Subject.ROUND:
                round_units.add((m.reminder.subject_id, m.reminder.unit_id))
            if m.reminder.subject_type == Subject.UNACKED:
                unacked.add((m.reminder.subject_id, m.reminder.unit_id))
            if m.reminder.subject_type == Subject.DOC_UNACKED:
                document_units.add((m.reminder.subject_id, m.reminder.unit_id))
    found: dict[tuple[str, int], dict] = {}
    ids = wanted.get(Subject.ASSIGNMENT, set()) | wanted.get(Subject.CHECKIN, set())
    for a in Assignment.objects.filter(pk__in=ids).select_related("item", "unit", "campaign"):
        facts = {"assignment": a, "item": a.item, "unit": a.unit, "campaign": a.campaign}
        found[(Subject.ASSIGNMENT, a.pk)] = found[(Subject.CHECKIN, a.pk)] = facts
    _behind_lines(messages, found)
    found.update(_unacked_facts(unacked))
    notices = Notice.objects.filter(pk__in=wanted.get(Subject.NOTICE_UNACKED, ()))
    for n in notices.select_related("unit", "campaign", "issuing_unit"):
        found[(Subject.NOTICE_UNACKED, n.pk)] = {"notice": n, "unit": n.unit, "campaign": n.campaign}
    letters = RiskLetter.objects.filter(pk__in=wanted.get(Subject.LETTER_UNACKED, ()))
    for x in letters.select_related("unit", "campaign", "issuing_unit"):
        found[(Subject.LETTER_UNACKED, x.pk)] = {"letter": x, "unit": x.unit, "campaign": x.campaign}
    for f in Finding.objects.filter(pk__in=wanted.get(Subject.FINDING, ())).select_related(
        "unit", "campaign", "notice"
    ):
        found[(Subject.FINDING, f.pk)] = {"finding": f, "notice": f.notice, "unit": f.unit, "campaign": f.campaign}
    for h in Hotspot.objects.filter(pk__in=wanted.get(Subject.HOTSPOT, ())).select_related("unit", "campaign"):
        found[(Subject.HOTSPOT, h.pk)] = {"hotspot": h, "unit": h.unit, "campaign": h.campaign}
    if round_units:
        rounds = Round.objects.select_related("campaign").in_bulk({r for r, _ in round_units})
        units = Unit.objects.in_bulk({u for _, u in round_units})
        for round_id, unit_id in round_units:
            r = rounds.get(round_id)
            if r is not None and unit_id in units:
                found[(Subject.ROUND, round_id, unit_id)] = {
                    "round": r,
                    "unit": units[unit_id],
                    "campaign": r.campaign,
                    "period": cn_range(r.start, r.end),
                    "day": cn_day(r.end),
                }
    found.update(_document_facts(document_units))
    found.update(_event_facts(messages))
    return found


def _behind_lines(messages: list[Message], found: dict[tuple, dict]) -> None:
    """A behind-pace reminder quotes the target that is behind (the sweep judges every target of the
    item): its amount, progress and unit of measure, read for the batch's assignments at once
    (``targets.lines``: a fixed number of queries). Not the first target's figures beside a pace they meet."""
    ids = {
        m.reminder.subject_id
        for m in messages
        if m.reminder_id and m.reminder.subject_type == Subject.ASSIGNMENT and m.reminder.kind == Kind.BEHIND
    }
    rows = [found[(Subject.ASSIGNMENT, pk)]["assignment"] for pk in ids if (Subject.ASSIGNMENT, pk) in found]
    for pk, lines in (targets.lines(rows) if rows else {}).items():
        line = next((x for x in lines if x.behind and x.amount), None)
        if line is not None:
            found[(Subject.ASSIGNMENT, pk)]["behind_line"] = line


class _Quoted:
    """An object as a text quotes it, with some attributes answered otherwise."""

    def __init__(self, obj, **answers) -> None:
        self._obj = obj
        self.__dict__.update(answers)

    def __getattr__(self, name):
        return getattr(self._obj, name)


def _document_facts(pairs: set[tuple[int, int]]) -> dict[tuple, dict]:
    """未签收 of an issued document by one of its recipient units, by (subject type, document id, unit id):
    a document is shared by its recipients, as a round is. Two queries per batch."""
    if not pairs:
        return {}
    from documents.models import Document

    documents = Document.objects.select_related("issuing_unit", "campaign").in_bulk({d for d, _ in pairs})
    units = Unit.objects.in_bulk({u for _, u in pairs})
    return {
        (Subject.DOC_UNACKED, d, u): {"document": documents[d], "unit": units[u], "campaign": documents[d].campaign}
        for d, u in pairs
        if d in documents and u in units
    }


def _unacked_facts(pairs: set[tuple[int, int]]) -> dict[tuple, dict]:
    """未签收 of a unit in a campaign (one reminder for its items), by (subject type, campaign id, unit
    id): how many are still not acknowledged when the message goes out. Three queries per batch."""
    if not pairs:
        return {}
    campaigns = Campaign.objects.in_bulk({c for c, _ in pairs})
    units = Unit.objects.in_bulk({u for _, u in pairs})
    rows = (
        Assignment.objects.filter(campaign_id__in=list(campaigns), unit_id__in=list(units), is_active=True)
        .filter(acknowledged_at=None, status__in=OPEN)
        .values("campaign_id", "unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(r["campaign_id"], r["unit_id"]): r["n"] for r in rows}
    return {
        (Subject.UNACKED, c, u): {"campaign": campaigns[c], "unit": units[u], "count": counts.get((c, u), 0)}
        for c, u in pairs
        if c in campaigns and u in units
    }


def _event_facts(messages: list[Message]) -> dict[tuple, dict]:
    """What the batch's events are about, by ("event", subject type, id): a query per subject type."""
    wanted: dict[str, set[int]] = {}
    for m in messages:
        if m.event_id:
            wanted.setdefault(m.event.subject_type, set()).add(m.event.subject_id)
    found: dict[tuple, dict] = {}
    rows = Assignment.objects.filter(pk__in=wanted.get(EventSubject.ASSIGNMENT, ()))
    for a in rows.select_related("item", "parent__unit"):
        found[("event", EventSubject.ASSIGNMENT, a.pk)] = {"assignment": a, "item": a.item}
    for n in Notice.objects.filter(pk__in=wanted.get(EventSubject.NOTICE, ())).select_related("issuing_unit"):
        found[("event", EventSubject.NOTICE, n.pk)] = {"notice": n}
    for f in Finding.objects.filter(pk__in=wanted.get(EventSubject.FINDING, ())).select_related("notice"):
        found[("event", EventSubject.FINDING, f.pk)] = {"finding": f, "notice": f.notice}
    letters = RiskLetter.objects.filter(pk__in=wanted.get(EventSubject.LETTER, ())).select_related("issuing_unit")
    for letter in letters:
        found[("event", EventSubject.LETTER, letter.pk)] = {"letter": letter}
    from documents.models import Document

    documents = Document.objects.filter(pk__in=wanted.get(EventSubject.DOCUMENT, ())).select_related("issuing_unit")
    for document in documents:
        found[("event", EventSubject.DOCUMENT, document.pk)] = {"document": document}
    return found


def _render_event(message: Message, facts: dict[tuple, dict], templates: dict) -> tuple[str, str]:
    e = message.event
    context = {
        "recipient": message.recipient,
        "event": e,
        "unit": e.unit,
        "campaign": e.campaign,
        "actor": e.actor,
        "reason": e.reason,
        "count": e.count,
        **e.payload,
        **facts.get(("event", e.subject_type, e.subject_id), {}),
    }
    if "assignment" in context:
        context["due"] = date_format(context["assignment"].due_date, "MONTH_DAY_FORMAT")
    audience = _audience_of(message)
    chosen = templates.get((Subject.EVENT, e.kind, audience)) or templates.get((Subject.EVENT, e.kind, Audience.LEAD))
    subject, body = (chosen.subject, chosen.body) if chosen else texts.event_text(e.kind, audience)
    context = Context(context, autoescape=False)
    return nest_quotes(_compiled(subject).render(context).strip()), nest_quotes(_compiled(body).render(context).strip())


def _audience_of(message: Message) -> str:
    """An event's message is to the requester (``person``), or to the audience the event was told to
    besides (``payload["to"]``: the unit's leads unless said otherwise)."""
    e = message.event
    if e.person_id and message.recipient_id == e.person_id:
        return Audience.REQUESTER
    return e.payload.get("to") or Audience.LEAD


def render(message: Message, facts: dict[tuple, dict], templates: dict) -> tuple[str, str]:
    """The message's subject and body: a digest's as written, a reminder's or an event's from its template."""
    if message.digest_id:
        return nest_quotes(message.digest.subject), nest_quotes(message.digest.body)
    if message.event_id:
        return _render_event(message, facts, templates)
    r = message.reminder
    today = timezone.localdate()
    context = {
        "recipient": message.recipient,
        "reminder": r,
        "colour": r.get_colour_display(),
        "due": date_format(r.due_date, "MONTH_DAY_FORMAT"),
        "days_late": max(0, (today - r.due_date).days),
        **(facts.get((r.subject_type, r.subject_id, r.unit_id)) or facts.get((r.subject_type, r.subject_id), {})),
    }
    line = context.pop("behind_line", None)
    if r.kind == Kind.BEHIND and "assignment" in context:
        a = context["assignment"]
        if line is None:
            context["expected"] = targets.paced(a.target or Decimal(0), a.expected_share(today), a.item.target_unit)
        else:  # the target that is behind, which may be another than the first (``_behind_lines``)
            context["assignment"] = _Quoted(a, target=line.amount, progress=line.progress)
            context["item"] = _Quoted(context["item"], target_unit=line.target.unit)
            context["expected"] = targets.paced(line.amount, a.expected_share(today), line.target.unit)
    chosen = templates.get((r.subject_type, r.kind, r.audience)) or templates.get(
        (r.subject_type, r.kind, texts.FIRST.get(r.subject_type, Audience.LEAD))
    )
    subject, body = (chosen.subject, chosen.body) if chosen else texts.text(r.subject_type, r.kind, r.audience)
    context = Context(context, autoescape=False)
    # a title quoted in a text may have quotes of its own: the inner ones become ‘ ’ (HQ's own texts too)
    return nest_quotes(_compiled(subject).render(context).strip()), nest_quotes(_compiled(body).render(context).strip())


# --- Channels ---------------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    pass


@dataclass(frozen=True)
class Sent:
    detail: str = ""


def send_email(message: Message, subject: str, body: str) -> Sent:
    email = EmailMessage(
        subject,
        body,
        to=[message.recipient.email],
        headers={"Message-ID": f"<{message.idempotency_key}@{settings.NOTIFY_MAIL_DOMAIN}>"},
    )
    email.send(fail_silently=False)
    return Sent("email")


def send_webhook(message: Message, subject: str, body: str) -> Sent:
    url = settings.NOTIFY_WEBHOOK_URL
    if not url:
        raise DeliveryFailed("NOTIFY_WEBHOOK_URL is not set")
    if message.event_id:
        kind = f"event_{message.event.kind}"
    else:
        kind = message.reminder.kind if message.reminder_id else f"digest_{message.digest.kind}"
    payload = json.dumps(
        {
            "id": message.idempotency_key,
            "to": {
                "username": message.recipient.username,
                "name": message.recipient.get_full_name(),
                "phone": message.recipient.phone,
            },
            "colour": message.colour,
            "kind": kind,
            "subject": subject,
            "body": body,
        },
        ensure_ascii=False,
    ).encode()
    signature = hmac.new(settings.NOTIFY_WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 (an intranet URL from settings)
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Idempotency-Key": message.idempotency_key,
            "X-Signature-SHA256": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            return Sent(f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


# push channels; the inbox needs no sending: marking a message sent is what puts it in the inbox
SENDERS = {Channel.EMAIL: send_email, Channel.WEBHOOK: send_webhook}


# --- The drain ------------------------------------------------------------------------------------------


@dataclass
class Drained:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def _renew(message: Message, token: str) -> bool:
    """Still ours? Extend the lease before a push send; False if another drain took the message over
    (our lease expired), so it is not sent twice by us."""
    return bool(
        Message.objects.filter(pk=message.pk, lease=token, status=MessageStatus.SENDING).update(
            lease_until=timezone.now() + LEASE
        )
    )


def deliver(token: str, messages: list[Message], result: Drained | None = None) -> Drained:
    """Send each leased message. Inbox messages need no sending: they are marked sent together at the
    end of the batch (two statements); a push message is sent and marked one by one."""
    result = result or Drained()
    facts, templates = _facts(messages), _templates()
    inbox: list[Message] = []
    for message in messages:
        started = time.monotonic()
        try:
            subject, body = render(message, facts, templates)
            if message.channel == Channel.INBOX:
                message.subject, message.body = subject[:300], body
                inbox.append(message)
                continue
            if not _renew(message, token):
                continue
            sent = SENDERS[message.channel](message, subject, body)
        except Exception as exc:  # every failure is logged on the message, never lost
            _failed(message, token, exc, started, result)
            continue
        elapsed = int((time.monotonic() - started) * 1000)
        with transaction.atomic():
            Message.objects.filter(pk=message.pk, lease=token).update(
                status=MessageStatus.SENT,
                sent_at=timezone.now(),
                lease_until=None,
                last_error="",
                subject=subject[:300],
                body=body,
            )
            DeliveryAttempt.objects.create(message=message, ok=True, detail=sent.detail, duration_ms=elapsed)
        result.sent += 1
    if inbox:
        result.sent += _inbox_delivered(inbox, token)
    return result


def _inbox_delivered(messages: list[Message], token: str) -> int:
    now = timezone.now()
    with transaction.atomic():
        ours = set(
            Message.objects.select_for_update()
            .filter(pk__in=[m.pk for m in messages], lease=token, status=MessageStatus.SENDING)
            .values_list("pk", flat=True)
        )
        done = [m for m in messages if m.pk in ours]
        Message.objects.filter(pk__in=ours).update(
            status=MessageStatus.SENT, sent_at=now, lease_until=None, last_error=""
        )
        Message.objects.bulk_update(done, ["subject", "body"])  # the words differ per row
        DeliveryAttempt.objects.bulk_create(DeliveryAttempt(message=m, ok=True, detail="inbox", at=now) for m in done)
    return len(done)


def _failed(message: Message, token: str, exc: Exception, started: float, result: Drained) -> None:
    elapsed = int((time.monotonic() - started) * 1000)
    detail = str(exc)[:1000] or type(exc).__name__
    dead = message.attempts >= settings.NOTIFY_MAX_ATTEMPTS
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, lease=token).update(
            status=MessageStatus.DEAD if dead else MessageStatus.PENDING,
            not_before=timezone.now() + backoff(message.attempts),
            lease_until=None,
            last_error=detail,
        )
        DeliveryAttempt.objects.create(message=message, ok=False, detail=detail, duration_ms=elapsed)
    log.warning("message %s (%s) failed, attempt %s: %s", message.pk, message.channel, message.attempts, detail)
    result.dead += dead
    result.failed += not dead


def drain(now: datetime | None = None, max_batches: int = 50) -> Drained:
    """Deliver everything due, batch by batch."""
    result = Drained()
    for _ in range(max_batches):
        token, messages = claim(now)
        if not messages:
            break
        deliver(token, messages, result)
    return result


def retry(messages) -> int:
    """HQ's retry of dead letters: queued again now, with a fresh count of attempts."""
    return messages.filter(status=MessageStatus.DEAD).update(
        status=MessageStatus.PENDING, not_before=timezone.now(), attempts=0, lease_until=None
    )


def unread_count(user) -> int:
    return Message.objects.filter(
        recipient=user, channel=Channel.INBOX, status=MessageStatus.SENT, read_at=None
    ).count()
