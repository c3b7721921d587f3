"""The sweep: decide today's reminders set-based, and queue their messages in the same transaction.

Every step of the rules is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` over the due rows, with
its constants (kind, occurrence, audience, colour) as parameters. The unique key of ``Reminder``
makes a second run, or a concurrent one, add nothing. The SQL is portable (SQLite ≥ 3.24 and
PostgreSQL): ``SUBSTR``, ``LENGTH``, ``LIKE``, ``||``, ``COALESCE``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Unit

from .models import Audience, Channel, Kind, Message, MessageStatus, Policy, Reminder

STEP = Unit.steplen

# Who gets an assignment's reminder, as joins that yield ``recipient`` (a user id).
RECIPIENTS = {
    Audience.LEAD: """
        JOIN accounts_rolegrant g ON g.unit_id = a.unit_id AND g.role = 'unit_lead'
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    Audience.SUPERIOR: f"""
        JOIN accounts_unit u ON u.id = a.unit_id
        JOIN accounts_unit sup ON sup.path = SUBSTR(u.path, 1, LENGTH(u.path) - {STEP})
        JOIN accounts_rolegrant g ON g.unit_id = sup.id AND g.role = 'unit_lead'
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    Audience.LEADER: """
        JOIN tasks_item i ON i.id = a.item_id
        JOIN tasks_action act ON act.id = i.action_id
        JOIN accounts_user usr ON usr.id = COALESCE(i.leader_id, act.leader_id) AND usr.is_active""",
    Audience.HQ: """
        JOIN accounts_unit u ON u.id = a.unit_id
        JOIN accounts_rolegrant g ON g.role = 'hq'
        JOIN accounts_unit gu ON gu.id = g.unit_id AND u.path LIKE gu.path || '%%'
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
}

INSERT_REMINDERS = """
INSERT INTO notifications_reminder
    (kind, subject_type, subject_id, occurrence, recipient_id, audience, colour, unit_id, campaign_id, due_date,
     batch, created_at)
SELECT DISTINCT %(kind)s, 'assignment', a.id, %(occurrence)s, usr.id, %(audience)s,
    CASE WHEN %(kind)s = 'overdue' THEN 'red' WHEN a.status = 'returned' THEN 'yellow' ELSE 'blue' END,
    a.unit_id, a.campaign_id, a.due_date, %(batch)s, %(now)s
FROM tasks_assignment a
JOIN tasks_campaign c ON c.id = a.campaign_id AND c.status = 'published'
{joins}
WHERE a.is_active AND a.status IN ('pending', 'in_progress', 'returned') AND {when} {campaigns}
ON CONFLICT DO NOTHING
"""


@dataclass
class Outcome:
    """What one sweep decided: reminders per (kind, audience), messages per channel."""

    batch: str
    reminders: Counter = field(default_factory=Counter)
    messages: Counter = field(default_factory=Counter)
    superseded: int = 0

    @property
    def total(self) -> int:
        return sum(self.reminders.values())


@dataclass(frozen=True)
class Step:
    kind: str
    occurrence: str
    audience: str
    when: str  # the condition on ``a.due_date``
    day: date


def _policies() -> tuple[Policy, dict[int, Policy]]:
    rules = list(Policy.objects.all())
    default = next((p for p in rules if p.campaign_id is None), None) or Policy()
    return default, {p.campaign_id: p for p in rules if p.campaign_id is not None}


def steps(policy: Policy, today: date) -> list[Step]:
    """The statements a policy asks for today: before, on the day, overdue rung by rung."""
    out = [
        Step(Kind.DUE_SOON, f"due {today + timedelta(days=d)} -{d}", Audience.LEAD, "a.due_date = %(day)s",
             today + timedelta(days=d))
        for d in sorted({int(d) for d in policy.before_days if int(d) > 0})
    ]  # fmt: skip
    if policy.on_the_day:
        out.append(Step(Kind.DUE_TODAY, f"due {today}", Audience.LEAD, "a.due_date = %(day)s", today))
    for rung in policy.ladder:
        days = max(1, int(rung["day"]))
        out.append(
            Step(
                Kind.OVERDUE,
                f"overdue {today}",
                rung["audience"],
                "a.due_date <= %(day)s",
                today - timedelta(days=days),
            )
        )
    return out


def quiet_until(policy: Policy, now: datetime) -> datetime:
    """When a push message made at ``now`` may go out: now, or the end of the quiet hours."""
    local = timezone.localtime(now)
    start, end = policy.quiet_start, policy.quiet_end
    t = local.time()
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet:
        return now
    morning = local.date() if t < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(morning, end))


def _db(value: datetime):
    """A datetime as a parameter of the raw SQL, stored as the ORM stores it. On SQLite that is naive
    UTC text: an aware value would keep its offset ("…+08:00"), and the drain's text comparison with
    ``not_before`` would be off by it (quiet-hour mail held eight hours too long)."""
    return connection.ops.adapt_datetimefield_value(value)


def run(now: datetime | None = None) -> Outcome:
    """Decide every reminder due at ``now`` and queue its messages; safe to run any number of times."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    default, own = _policies()
    outcome = Outcome(batch=uuid.uuid4().hex)
    with transaction.atomic(), connection.cursor() as cursor:
        # campaigns with their own rules are swept by them; the default covers all the others
        ids = ",".join(str(int(cid)) for cid in own)
        groups = [(default, f"AND a.campaign_id NOT IN ({ids})" if own else "")]
        groups += [(policy, f"AND a.campaign_id = {int(cid)}") for cid, policy in own.items()]
        for policy, campaigns in groups:
            for step in steps(policy, today):
                sql = INSERT_REMINDERS.format(joins=RECIPIENTS[step.audience], when=step.when, campaigns=campaigns)
                params = {"kind": step.kind, "occurrence": step.occurrence, "audience": step.audience,
                          "batch": outcome.batch, "now": _db(now), "day": step.day}  # fmt: skip
                cursor.execute(sql, params)
                outcome.reminders[(step.kind, step.audience)] += max(cursor.rowcount, 0)
        if outcome.total:
            outcome.messages = _queue(cursor, outcome.batch, now, quiet_until(default, now))
            outcome.superseded = _supersede(outcome.batch)
    return outcome


def _queue(cursor, batch: str, now: datetime, push_from: datetime) -> Counter:
    """One message per channel the recipient takes, for the reminders of ``batch``."""
    counts: Counter = Counter()
    channels = {
        Channel.INBOX: ("", now),
        Channel.EMAIL: ("AND usr.email <> '' AND (p.id IS NULL OR p.email)", push_from),
        Channel.WEBHOOK: ("AND p.webhook", push_from),
    }
    for channel, (condition, not_before) in channels.items():
        cursor.execute(
            f"""
            INSERT INTO notifications_message
                (reminder_id, recipient_id, channel, status, not_before, lease, attempts, last_error, subject, body,
                 created_at)
            SELECT r.id, r.recipient_id, %(channel)s, %(pending)s, %(not_before)s, '', 0, '', '', '', %(now)s
            FROM notifications_reminder r
            JOIN accounts_user usr ON usr.id = r.recipient_id
            LEFT JOIN notifications_preference p ON p.user_id = r.recipient_id
            WHERE r.batch = %(batch)s {condition}
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 (the condition is one of the constants above; values go as parameters)
            {
                "channel": channel,
                "pending": MessageStatus.PENDING,
                "not_before": _db(not_before),
                "now": _db(now),
                "batch": batch,
            },
        )
        counts[channel] += max(cursor.rowcount, 0)
    return counts


def _supersede(batch: str) -> int:
    """A newer reminder about the same subject for the same person replaces the older one's unread
    inbox message and its unsent push messages (one UPDATE)."""
    newer = Reminder.objects.filter(
        batch=batch,
        subject_type=OuterRef("reminder__subject_type"),
        subject_id=OuterRef("reminder__subject_id"),
        recipient_id=OuterRef("recipient_id"),
    )
    stale = Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENT, channel=Channel.INBOX, read_at=None)
    return (
        Message.objects.filter(stale, Exists(newer))
        .exclude(reminder__batch=batch)
        .update(status=MessageStatus.SUPERSEDED)
    )
