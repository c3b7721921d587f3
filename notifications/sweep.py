"""The sweep: decide today's reminders set-based, and queue their messages in the same transaction.

Every step of the rules is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` over the due rows, with
its constants (kind, occurrence, audience, colour) as parameters. The unique key of ``Reminder``
makes a second run, or a concurrent one, add nothing. The SQL is portable (SQLite ≥ 3.24 and
PostgreSQL): ``SUBSTR``, ``LENGTH``, ``LIKE``, ``||``, ``COALESCE``.
"""

# ruff: noqa: S608 (every piece of SQL text here is a constant of this module; values go as parameters)

from __future__ import annotations

import calendar
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Unit
from accounts.scope import ROLES_FOR, Action
from tasks import targets
from tasks.models import RATES
from tasks.services import checkins
from utilities import workhours

from .models import Audience, Channel, Kind, Message, MessageStatus, Policy, Reminder, Subject, SweepDay

STEP = Unit.steplen
OPEN = "('pending', 'in_progress', 'returned')"  # assignments a reminder can still help

# The roles of the grants a reminder follows, as parameters: those allowed to act for a unit (its leads,
# ``Action.REPORT``) and those allowed to manage it (HQ, ``Action.MANAGE``), from ``accounts.scope``.
ROLE_PARAMS = {
    f"{action}_role{i}": role
    for action in (Action.REPORT, Action.MANAGE)
    for i, role in enumerate(sorted(ROLES_FOR[action]))
}


def _role_of(action: Action) -> str:
    """SQL for "the grant ``g`` is of a role allowed ``action``", its roles as ``ROLE_PARAMS``."""
    return f"g.role IN ({', '.join(f'%({action}_role{i})s' for i in range(len(ROLES_FOR[action])))})"


# Who gets a reminder, as joins on the source row ``s`` that yield ``usr`` (the recipient).
RECIPIENTS = {
    Audience.LEAD: f"""
        JOIN accounts_rolegrant g ON g.unit_id = s.unit_id AND {_role_of(Action.REPORT)}
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    # a secret directive's work (``s.secret``) climbs no ladder past the unit: its superior's leads and HQ
    # between the unit and the campaign's owner do not see it (``docs/directives.md``)
    Audience.SUPERIOR: f"""
        JOIN accounts_unit u ON u.id = s.unit_id AND NOT s.secret
        JOIN accounts_unit sup ON sup.path = SUBSTR(u.path, 1, LENGTH(u.path) - {STEP})
        JOIN accounts_rolegrant g ON g.unit_id = sup.id AND {_role_of(Action.REPORT)}
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    Audience.LEADER: """
        JOIN accounts_user usr ON usr.id = s.leader_id AND usr.is_active""",
    Audience.HQ: f"""
        JOIN accounts_unit u ON u.id = s.unit_id
        JOIN accounts_rolegrant g ON {_role_of(Action.MANAGE)}
        JOIN accounts_unit gu ON gu.id = g.unit_id AND u.path LIKE gu.path || '%%'
            AND (NOT s.secret OR EXISTS (SELECT 1 FROM tasks_campaign oc JOIN accounts_unit ou ON ou.id = oc.owner_id
                                         WHERE oc.id = s.campaign_id AND ou.path LIKE gu.path || '%%'))
        JOIN accounts_user usr ON usr.id = g.user_id AND usr.is_active""",
    Audience.INSPECTOR: """
        JOIN accounts_user usr ON usr.id = s.owner_id AND usr.is_active""",
}

INSERT_REMINDERS = """
INSERT INTO notifications_reminder
    (kind, subject_type, subject_id, occurrence, recipient_id, audience, colour, unit_id, campaign_id, due_date,
     batch, created_at)
SELECT DISTINCT %(kind)s, %(subject_type)s, s.id, {occurrence}, usr.id, %(audience)s,
    CASE WHEN %(kind)s = 'overdue' THEN 'red' WHEN %(kind)s IN ('behind', 'unacked') OR s.returned THEN 'yellow'
        ELSE 'blue' END,
    s.unit_id, s.campaign_id, s.due_date, %(batch)s, %(now)s
FROM ({source}) s
{joins}
ON CONFLICT DO NOTHING
"""


def _days(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (two date expressions)."""
    if connection.vendor == "postgresql":
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _local_date(column: str) -> str:
    """SQL for the local date (``TIME_ZONE``) of a stored datetime, as Django's ``TruncDate`` does it."""
    tz = timezone.get_current_timezone_name().replace("'", "")
    if connection.vendor == "postgresql":
        return f"CAST({column} AT TIME ZONE '{tz}' AS date)"
    return f"django_datetime_cast_date({column}, '{tz}', 'UTC')"


def _next_day(column: str) -> str:
    """SQL for the day after a date column (``date + 1`` on PostgreSQL, SQLite's ``date(…, '+1 day')``)."""
    if connection.vendor == "postgresql":
        return f"(CAST({column} AS date) + 1)"
    return f"date({column}, '+1 day')"


@dataclass(frozen=True)
class Source:
    """Rows reminders can be about, as a SELECT of ``id, unit_id, campaign_id, due_date, returned,
    leader_id, owner_id`` with ``{when}`` (the step's condition) and ``{campaigns}`` to fill in.

    ``dated``: the rows have a due date column (``due``), reminded before, on and daily after it.
    Otherwise the source finds, for the step's day, the rows whose recurring date (a check-in, the
    end of a hotspot's inspection window) falls on it unanswered; overdue ones are reminded once per
    rung of the ladder, on the rung's day.
    """

    subject_type: str
    select: str
    due: str = ""
    campaign: str = "s0.campaign_id"
    lead: str = Audience.LEAD  # who is reminded first: the unit's leads, or the inspector
    before: bool = True
    nearest_only: bool = False  # of the "days before" steps, only the nearest (recurring dates)
    # the subject is shared by many units (a round): the occurrence names the unit, so that a superior
    # or HQ over several of them gets one reminder per unit, not one for whichever came first
    per_unit: bool = False
    # 签收: the condition "received by %(cutoff)s" of rows not yet acknowledged; such a source has only
    # the receipt steps (``receipt_steps``), and ``due`` is then only the date its texts quote
    received: str = ""
    # the rows are grouped by the day they arrived (``s.arrived``, text): the occurrence names it, so
    # that work added later is reminded of again, once
    arrival: bool = False

    @property
    def dated(self) -> bool:
        return bool(self.due)

    def sql(self, step: Step, campaigns: str) -> str:
        when = f"{self.due} {'<=' if step.kind == Kind.OVERDUE else '='} %(day)s" if self.dated else "1 = 1"
        if step.kind == Kind.BEHIND:
            when = _behind()
        if self.received:
            when = self.received
        return self.select.format(when=when, campaigns=campaigns.format(column=self.campaign))

    @property
    def occurrence(self) -> str:
        """SQL for the occurrence of the reminder key: the step's, with the unit for shared subjects."""
        occurrence = "%(occurrence)s || ' ' || s.arrived" if self.arrival else "%(occurrence)s"
        if self.per_unit:
            return f"{occurrence} || ' #' || CAST(s.unit_id AS VARCHAR(20))"
        return occurrence


ASSIGNMENT_ROWS = f"""
    SELECT s0.id, s0.unit_id, s0.campaign_id, s0.due_date, s0.status = 'returned' AS returned,
        COALESCE(i.leader_id, act.leader_id) AS leader_id, CAST(NULL AS BIGINT) AS owner_id, i.secret AS secret
    FROM tasks_assignment s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    JOIN tasks_item i ON i.id = s0.item_id
    JOIN tasks_lineofaction act ON act.id = i.action_id
    WHERE s0.is_active AND s0.status IN {OPEN} AND {{when}} {{campaigns}}"""


# The item sets ``_behind`` reads once per statement (uncorrelated subqueries: PostgreSQL hashes each, SQLite
# builds each into a temporary index): the items whose first target is linked to an indicator (the row's own
# progress does not answer for it), and the items with a target read apart from the row — a later one, a
# linked first — that has a pace (``targets.paced_sql``), the only ones whose rows the EXISTS can find behind.
LINKED_FIRST = "SELECT lf.item_id FROM tasks_target lf WHERE lf.seq = 1 AND lf.indicator_id IS NOT NULL"
PACED_APART = f"""SELECT pa.item_id FROM tasks_target pa
            WHERE {targets.read_apart_sql("pa")} AND {targets.paced_sql("pa")}"""


def _behind() -> str:
    """序时进度: less done than the linear share of an "at least" target by %(day)s, on ANY target of the
    item, as ``tasks.targets.judged`` reads them (the lists, the assignment page), compared multiplied
    out (``judged`` rounds the share to cents; the edge can differ). The first target from the row's
    own fields (``Assignment.is_behind_pace``) unless it is linked to an indicator; then, as every
    later target, one EXISTS over the item's targets with ``_behind``'s rules (``targets.paced_sql``),
    the amount (``targets.amount_sql``) and the progress (``targets.progress_sql``: the reports
    naming it, or the unit's subtree figures) of ``tasks.targets``.

    Only the rows of the items that have such a target with a pace (``PACED_APART``) run the EXISTS, a
    probe per row through the targets' partial index ``target_apart``; the rows of the one-target items —
    most of a plan's — are judged on their own fields and two hash probes (``LINKED_FIRST`` too), not a
    subquery each (issue 19: the first sweep at province scale; ``docs/reminders.md``)."""
    total, elapsed = _days("s0.due_date", "c.start"), _days("%(day)s", "c.start")
    first = "COALESCE(s0.target_share, i.target_value)"
    rates = ", ".join("'" + r.replace("%", "%%") + "'" for r in RATES)
    need = targets.amount_sql(target="t", assignment="s0", item="i")
    done, join = targets.progress_sql(target="t", assignment="s0", unit="au")
    return f"""s0.due_date > %(day)s AND c.start < %(day)s AND (
        (i.target_comparator IN ('ge', 'gt') AND i.target_basis = '' AND i.target_per = ''
            AND i.target_unit NOT IN ({rates}) AND {first} > 0
            AND s0.progress * {total} < {first} * {elapsed}
            AND s0.item_id NOT IN ({LINKED_FIRST}))
        OR (s0.item_id IN ({PACED_APART})
            AND EXISTS (SELECT 1 FROM tasks_target t {join}
                        WHERE t.item_id = s0.item_id AND {targets.read_apart_sql("t")}
                        AND {targets.paced_sql("t")} AND {need} > 0
                        AND ({done}) * {total} < {need} * {elapsed})))"""


def work_began() -> str:
    """SQL for ``tasks.services.checkins.work_began`` of the assignment ``s0`` in the campaign ``c``: the
    campaign's start, or the local day the assignment was added when after the publication's day and
    the start."""
    created = _local_date("s0.created_at")
    return f"""(CASE WHEN c.published_at IS NOT NULL AND {created} > {_local_date("c.published_at")}
        AND {created} > c.start THEN {created} ELSE c.start END)"""


def _checkin_rows() -> str:
    """A check-in falls on %(day)s: daily items every day, weekly ones on their weekday (Friday when not
    given) once the first week is long enough (``checkins.FIRST_WEEK_MIN_DAYS``), monthly ones on their
    day (the month's last when not given or past it); answered by a progress report for that period
    (``tasks.services.checkins``). The periods run from the day the unit's work began (``work_began``)."""
    began = work_began()
    return f"""
    SELECT s0.id, s0.unit_id, s0.campaign_id, %(day)s AS due_date, s0.status = 'returned' AS returned,
        COALESCE(i.leader_id, act.leader_id) AS leader_id, CAST(NULL AS BIGINT) AS owner_id, i.secret AS secret
    FROM tasks_assignment s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    JOIN tasks_item i ON i.id = s0.item_id
    JOIN tasks_lineofaction act ON act.id = i.action_id
    WHERE s0.is_active AND s0.status IN {OPEN} AND {began} <= %(day)s AND s0.due_date >= %(day)s {{campaigns}}
        AND ((i.deadline_kind = 'daily' AND %(daily)s)
             OR (i.deadline_kind = 'weekly' AND COALESCE(i.cadence_weekday, 5) = %(weekday)s
                 AND {_days("%(day)s", began)} >= {checkins.FIRST_WEEK_MIN_DAYS - 1})
             OR (i.deadline_kind = 'monthly' AND (i.cadence_day = %(monthday)s
                 OR (%(last_day)s AND (COALESCE(i.cadence_day, 0) = 0 OR i.cadence_day > %(monthday)s)))))
        AND NOT EXISTS (SELECT 1 FROM tasks_progressreport p WHERE p.assignment_id = s0.id AND p.period = %(day)s)
        AND {{when}}"""


FINDING_ROWS = """
    SELECT s0.id, s0.unit_id, s0.campaign_id, s0.deadline AS due_date, s0.rounds > 1 AS returned,
        COALESCE(i.leader_id, act.leader_id) AS leader_id, s0.reported_by_id AS owner_id, FALSE AS secret
    FROM inspections_finding s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    LEFT JOIN tasks_item i ON i.id = s0.item_id
    LEFT JOIN tasks_lineofaction act ON act.id = i.action_id
    WHERE s0.status = 'ordered' AND s0.deadline IS NOT NULL AND {when} {campaigns}"""


def _hotspot_rows() -> str:
    """Listed hotspots whose inspection window (every ``inspect_every_days`` from listing) ends on
    %(day)s with no completed inspection of the hotspot in it (``inspections.services.inspection_windows``)."""
    since = _days("%(day)s", "s0.listed_on")
    visited = _days("%(day)s", _local_date("v.completed_at"))
    return f"""
    SELECT s0.id, s0.unit_id, s0.campaign_id, %(day)s AS due_date, FALSE AS returned,
        s0.responsible_id AS leader_id, s0.listed_by_id AS owner_id, FALSE AS secret
    FROM inspections_hotspot s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    WHERE s0.status = 'listed' AND s0.listed_on <= %(day)s AND s0.deadline >= %(day)s {{campaigns}}
        AND ({since} + 1) %% s0.inspect_every_days = 0
        AND NOT EXISTS (SELECT 1 FROM inspections_inspection v WHERE v.hotspot_id = s0.id AND v.status = 'completed'
                        AND {visited} BETWEEN 0 AND s0.inspect_every_days - 1)
        AND {{when}}"""


def _round_rows() -> str:
    """集中统一行动: each round of a published campaign, for each unit expected to report (active, holding
    active work in the campaign: ``stats.queries.reporting_units``) with no figure dated the round's last
    day (``stats.queries.non_reporters``); due the morning after. The rounds are few and filtered first
    (``{when}``, the campaign); then the units holding active work in the campaign (a semi-join on the
    assignments), each kept by one equality probe per indicator of the campaign into the figures' unique
    (unit, indicator, day) index."""
    return f"""
    SELECT s0.id, u.id AS unit_id, s0.campaign_id, {_next_day('s0."end"')} AS due_date, FALSE AS returned,
        CAST(NULL AS BIGINT) AS leader_id, CAST(NULL AS BIGINT) AS owner_id, FALSE AS secret
    FROM stats_round s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    JOIN accounts_unit u ON u.is_active
    WHERE {{when}} {{campaigns}}
        AND EXISTS (SELECT 1 FROM tasks_assignment a
                    WHERE a.unit_id = u.id AND a.campaign_id = s0.campaign_id AND a.is_active)
        AND NOT EXISTS (SELECT 1 FROM stats_indicator ind
                        JOIN stats_figure f ON f.unit_id = u.id AND f.indicator_id = ind.id AND f.day = s0."end"
                        WHERE ind.campaign_id = s0.campaign_id)"""


# 未签收: an assignment is received when its campaign is published or, added later (a sync, a share passed
# down), when it is created — so by the cutoff when both moments are. One reminder per unit and campaign,
# however many items (the campaign is the subject, the unit in the occurrence, as for rounds), named by
# the day the latest of them arrived: work added later and not acknowledged either reminds again, once.
ASSIGNMENT_ARRIVED = (
    "CASE WHEN s0.parent_id IS NULL AND c.published_at > s0.created_at THEN c.published_at ELSE s0.created_at END"
)


def _unacked_rows() -> str:
    arrived = _local_date(f"MAX({ASSIGNMENT_ARRIVED})")
    if connection.vendor == "postgresql":
        arrived = f"CAST({arrived} AS VARCHAR(10))"
    return f"""
    SELECT s0.campaign_id AS id, s0.unit_id, s0.campaign_id, MIN(s0.due_date) AS due_date, FALSE AS returned,
        CAST(NULL AS BIGINT) AS leader_id, CAST(NULL AS BIGINT) AS owner_id, {arrived} AS arrived,
        FALSE AS secret
    FROM tasks_assignment s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    WHERE s0.is_active AND s0.status IN {OPEN} AND s0.acknowledged_at IS NULL AND {{when}} {{campaigns}}
    GROUP BY s0.campaign_id, s0.unit_id"""


ASSIGNMENT_RECEIVED = """s0.created_at <= %(cutoff)s
        AND (s0.parent_id IS NOT NULL OR c.published_at IS NULL OR c.published_at <= %(cutoff)s)"""

# a notice is received when issued; reminded while its findings are still to be answered or verified
NOTICE_UNACKED_ROWS = """
    SELECT s0.id, s0.unit_id, s0.campaign_id, s0.deadline AS due_date, FALSE AS returned,
        CAST(NULL AS BIGINT) AS leader_id, s0.issued_by_id AS owner_id, FALSE AS secret
    FROM inspections_notice s0
    JOIN tasks_campaign c ON c.id = s0.campaign_id AND c.status = 'published'
    WHERE s0.status <> 'closed' AND s0.acknowledged_at IS NULL AND {when} {campaigns}"""

# a risk letter (风险提示函) likewise, while not closed; its reply-by date is the date its texts quote. A
# letter of no campaign (分析研判 outside any operation) follows the default rules: the default's group takes
# the rows of no campaign (``_groups``), and its reminders carry none (``docs/risk-letters.md``)
LETTER_UNACKED_ROWS = """
    SELECT s0.id, s0.unit_id, s0.campaign_id, s0.reply_by AS due_date, FALSE AS returned,
        CAST(NULL AS BIGINT) AS leader_id, s0.issued_by_id AS owner_id, FALSE AS secret
    FROM inspections_riskletter s0
    LEFT JOIN tasks_campaign c ON c.id = s0.campaign_id
    WHERE s0.status <> 'closed' AND s0.acknowledged_at IS NULL AND (s0.campaign_id IS NULL OR c.status = 'published')
        AND {when} {campaigns}"""


def _document_unacked_rows() -> str:
    """An issued official document (公文) not acknowledged by a recipient unit (``DocumentRecipient``), while
    its campaign is published: received when issued, reminded per recipient unit (the document is the
    subject, the unit in the occurrence, as for rounds). Outside bodies (no unit) are recorded as sent, not
    acknowledged: never reminded. The issue day is the date its texts quote."""
    return f"""
    SELECT s0.document_id AS id, s0.unit_id, d.campaign_id, {_local_date("d.issued_at")} AS due_date,
        FALSE AS returned, CAST(NULL AS BIGINT) AS leader_id, d.signed_by_id AS owner_id, FALSE AS secret
    FROM documents_documentrecipient s0
    JOIN documents_document d ON d.id = s0.document_id AND d.state = 'issued'
    JOIN tasks_campaign c ON c.id = d.campaign_id AND c.status = 'published'
    WHERE s0.unit_id IS NOT NULL AND s0.acknowledged_at IS NULL AND {{when}} {{campaigns}}"""


# the sources with a due date column (``Source.dated``)
DATED = [Subject.ASSIGNMENT, Subject.FINDING, Subject.ROUND]


def sources() -> list[Source]:
    return [
        Source(Subject.ASSIGNMENT, ASSIGNMENT_ROWS, due="s0.due_date"),
        Source(Subject.CHECKIN, _checkin_rows(), nearest_only=True),
        Source(Subject.FINDING, FINDING_ROWS, due="s0.deadline"),
        Source(Subject.HOTSPOT, _hotspot_rows(), lead=Audience.INSPECTOR),
        Source(Subject.ROUND, _round_rows(), due=_next_day('s0."end"'), per_unit=True),
        Source(Subject.UNACKED, _unacked_rows(), received=ASSIGNMENT_RECEIVED, per_unit=True, arrival=True),
        Source(Subject.NOTICE_UNACKED, NOTICE_UNACKED_ROWS, received="s0.issued_at <= %(cutoff)s"),
        Source(Subject.LETTER_UNACKED, LETTER_UNACKED_ROWS, received="s0.issued_at <= %(cutoff)s"),
        Source(
            Subject.DOC_UNACKED,
            _document_unacked_rows(),
            campaign="d.campaign_id",
            received="d.issued_at <= %(cutoff)s",
            per_unit=True,
        ),
    ]


@dataclass
class Outcome:
    """What one sweep decided: reminders per (subject, kind, audience), messages per channel."""

    batch: str
    reminders: Counter = field(default_factory=Counter)
    messages: Counter = field(default_factory=Counter)
    superseded: int = 0
    skipped: set = field(default_factory=set)  # subjects not run again: nothing they read was written

    @property
    def total(self) -> int:
        return sum(self.reminders.values())


@dataclass(frozen=True)
class Step:
    kind: str
    occurrence: str
    audience: str
    day: date  # the due date asked about (before, on the day), or the latest one overdue
    cutoff: datetime | None = None  # 签收: rows received by this moment and not acknowledged


def _policies() -> tuple[Policy, dict[int, Policy]]:
    rules = list(Policy.objects.all())
    default = next((p for p in rules if p.campaign_id is None), None) or Policy()
    return default, {p.campaign_id: p for p in rules if p.campaign_id is not None}


def _groups() -> list[tuple[Policy, str]]:
    """The rules and the rows they cover, as a condition on a campaign column (``{column}``): campaigns with
    their own rules are swept by them; the default covers all the others and the rows of no campaign (a
    risk letter outside any operation)."""
    default, own = _policies()
    ids = ",".join(str(int(cid)) for cid in own)
    groups = [(default, f"AND ({{column}} IS NULL OR {{column}} NOT IN ({ids}))" if own else "")]
    return groups + [(policy, f"AND {{column}} = {int(cid)}") for cid, policy in own.items()]


def receipt_steps(policy: Policy, now: datetime) -> list[Step]:
    """未签收: once to the unit's leads after ``receipt_hours`` working hours, once to the superior
    unit's leads after twice as many (the occurrence is a constant: never twice). One cutoff each,
    computed here, so the statement compares a column with a parameter."""
    hours = policy.receipt_hours
    if not hours:
        return []
    today = timezone.localdate(now)
    return [
        Step(Kind.UNACKED, "unacked", Audience.LEAD, today, workhours.before(now, hours)),
        Step(Kind.UNACKED, "unacked superior", Audience.SUPERIOR, today, workhours.before(now, 2 * hours)),
    ]


def steps(policy: Policy, today: date, source: Source, now: datetime | None = None) -> list[Step]:
    """The statements a policy asks of a source today: before, on the day, overdue rung by rung,
    and (dated sources, on the policy's weekday) behind the planned pace; a receipt source only its
    ``receipt_steps`` at ``now``."""
    if source.received:
        return receipt_steps(policy, now or timezone.now())
    out: list[Step] = []
    before = sorted({int(d) for d in policy.before_days if int(d) > 0})
    if source.nearest_only:  # a weekly check-in is announced once, not three times a week
        before = before[:1]
    if source.before:
        for d in before:
            day = today + timedelta(days=d)
            out.append(Step(Kind.DUE_SOON, f"due {day} -{d}", source.lead, day))
    if policy.on_the_day:
        out.append(Step(Kind.DUE_TODAY, f"due {today}", source.lead, today))
    for rung in policy.ladder:
        days = max(1, int(rung["day"]))
        audience = source.lead if rung["audience"] == Audience.LEAD else rung["audience"]
        day = today - timedelta(days=days)
        # dated rows: daily while overdue; recurring dates: once per rung for the missed date
        occurrence = f"overdue {today}" if source.dated else f"missed {day}"
        out.append(Step(Kind.OVERDUE, occurrence, audience, day))
    if source.subject_type == Subject.ASSIGNMENT and policy.behind_weekday == today.isoweekday():
        out.append(Step(Kind.BEHIND, f"behind {today}", Audience.LEAD, today))
    return out


def _params(step: Step, source: Source, batch: str, now: datetime) -> dict:
    day = step.day
    last = calendar.monthrange(day.year, day.month)[1]
    return {
        "kind": step.kind,
        "subject_type": source.subject_type,
        "occurrence": step.occurrence,
        "audience": step.audience,
        "batch": batch,
        "now": _db(now),
        "day": day,
        "daily": step.kind != Kind.DUE_SOON,
        "weekday": day.isoweekday(),
        "monthday": day.day,
        "last_day": day.day == last,
        "cutoff": _db(step.cutoff) if step.cutoff else None,
        **ROLE_PARAMS,
    }


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


# What each subject's statements read, besides what every subject reads (``EVERYONE``): a sweep on the
# day of the last one re-runs a subject only when one of its tables was written since (``SweepChange``,
# kept by the triggers of migrations notifications 0013 and 0020, which watch exactly these tables).
# Nothing else moves a reminder on the same day: the steps depend on the day and the policies alone —
# except the receipt sources', whose cutoff moves with the working hours (``_unchanged`` compares it too).
EVERYONE = {"accounts_unit", "accounts_rolegrant", "accounts_user", "notifications_policy", "notifications_reminder"}
_WORK = {"tasks_assignment", "tasks_campaign", "tasks_item", "tasks_lineofaction"}
READS = {
    Subject.ASSIGNMENT: _WORK,
    Subject.CHECKIN: {*_WORK, "tasks_progressreport"},
    Subject.FINDING: {"inspections_finding", "tasks_campaign", "tasks_item", "tasks_lineofaction"},
    Subject.HOTSPOT: {"inspections_hotspot", "inspections_inspection", "tasks_campaign"},
    Subject.ROUND: {"stats_round", "stats_indicator", "stats_figure", "tasks_assignment", "tasks_campaign"},
    Subject.UNACKED: _WORK,
    # a notice is received when issued, after the last sweep's cutoff: it waits for the cutoff to move
    Subject.NOTICE_UNACKED: {"tasks_campaign"},
    Subject.LETTER_UNACKED: {"tasks_campaign"},  # as a notice
    # a document is received when issued, as a notice; its tables are watched all the same (notifications
    # 0020), so that a recipient row written after the issue (a correction) is not left to the clock
    Subject.DOC_UNACKED: {"documents_document", "documents_documentrecipient", "tasks_campaign"},
}
# What one kind of step reads besides its subject's tables: behind the pace (``_behind``) judges every
# target of the item, by the reports naming it or the figures of the unit's subtree. ``stats_rollup`` is
# not watched: only the triggers of ``stats_figure`` write it, and its rebuild follows a change of the
# units' paths (``accounts_unit``, in ``EVERYONE``). So on another weekday than the rules' a figure
# reported re-runs no assignment statement, and on that weekday only the behind-pace one. The later
# targets' running totals (``tasks_targetprogress``, read by ``targets.progress_sql``) are not watched
# either: they are written only with a report (``tasks_progressreport``), in the same transaction.
STEP_READS = {Kind.BEHIND: {"tasks_target", "tasks_progressreport", "stats_figure"}}


@dataclass(frozen=True)
class Since:
    """What a sweep knows of the last one: the tables written since (None: run in full) and its moment."""

    changed: set[str] | None
    swept_at: datetime | None = None


def changed_since_last(today: date) -> Since:
    """The tables written since the last sweep, consumed (in the sweep's transaction); None when this
    sweep must run in full: another day than the last sweep's, the first sweep, or not PostgreSQL.
    Change rows a concurrent sweep has taken are left to it (SKIP LOCKED): it runs their subjects, and
    if it rolls back they are there again for the next sweep. Two sweeps at once still meet where they
    always did, on the reminders' unique index."""
    if connection.vendor != "postgresql":
        return Since(None)
    last = SweepDay.objects.filter(pk=1).values_list("day", "swept_at").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_sweepchange WHERE id IN (SELECT id FROM notifications_sweepchange "
            'FOR UPDATE SKIP LOCKED) RETURNING "table"'
        )
        tables = {table for (table,) in cursor.fetchall()}
    if last is None or last[0] != today:
        return Since(None)
    return Since(tables, last[1])


def _swept(cursor, today: date, now: datetime) -> None:
    """The day of this sweep, at its end (one statement, whatever the day)."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "INSERT INTO notifications_sweepday (id, day, swept_at) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET day = EXCLUDED.day, swept_at = EXCLUDED.swept_at",
            [today, now],
        )


def _unchanged(source: Source, since: Since, policy: Policy, now: datetime, step: Step | None = None) -> bool:
    """Whether nothing the source reads — with ``step``, nothing that one of its statements reads
    (``STEP_READS``) — was written since the last sweep of the day. A receipt source
    (未签收) also needs its cutoffs where they were at the last sweep: they move with the working hours,
    so rows become due within a day without any write — but not at night, at lunch or at the weekend,
    when the re-runs cost nothing again. (A row received since the last sweep was received after the
    cutoff, so it waits for the cutoff to move.)"""
    reads = EVERYONE | READS[source.subject_type] | (STEP_READS.get(step.kind, set()) if step else set())
    if since.changed is None or since.changed & reads:
        return False
    if source.received:
        return [s.cutoff for s in receipt_steps(policy, now)] == [
            s.cutoff for s in receipt_steps(policy, since.swept_at)
        ]
    return True


def run(now: datetime | None = None) -> Outcome:
    """Decide every reminder due at ``now`` and queue its messages; safe to run any number of times.
    Again on the same day, only the statements whose tables were written since the last sweep are run
    (of a subject, those of its steps: ``STEP_READS``)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    outcome = Outcome(batch=uuid.uuid4().hex)
    with transaction.atomic(), connection.cursor() as cursor:
        since = changed_since_last(today)
        groups = _groups()
        for policy, campaigns in groups:
            for source in sources():
                todo = [s for s in steps(policy, today, source, now) if not _unchanged(source, since, policy, now, s)]
                if not todo and _unchanged(source, since, policy, now):
                    outcome.skipped.add(source.subject_type)
                    continue
                for step in todo:
                    sql = INSERT_REMINDERS.format(
                        source=source.sql(step, campaigns),
                        joins=RECIPIENTS[step.audience],
                        occurrence=source.occurrence,
                    )
                    cursor.execute(sql, _params(step, source, outcome.batch, now))
                    outcome.reminders[(source.subject_type, step.kind, step.audience)] += max(cursor.rowcount, 0)
        if outcome.total:
            for policy, campaigns in groups:  # each campaign's own quiet hours
                reminders = campaigns.format(column="r.campaign_id")
                outcome.messages.update(_queue(cursor, outcome.batch, now, quiet_until(policy, now), reminders))
            outcome.superseded = _supersede(outcome.batch)
        _swept(cursor, today, now)
    return outcome


# Whether a reminder goes into the recipient's daily digest instead of its own messages: the user's
# choice, else by the role it is addressed in (leaders and HQ get a digest, unit leads single messages).
DIGESTED = f"""CASE WHEN p.digest IS NULL THEN r.audience IN ('{Audience.LEADER}', '{Audience.HQ}') ELSE p.digest END"""

CHANNELS = {
    Channel.INBOX: "",
    Channel.EMAIL: "AND usr.email <> '' AND (p.id IS NULL OR p.email)",
    Channel.WEBHOOK: "AND p.webhook",
}


QUEUE = """
INSERT INTO notifications_message
    (reminder_id, digest_id, event_id, recipient_id, unit_id, channel, status, not_before, lease, attempts,
     last_error, subject, body, created_at)
SELECT {reminder}, {digest}, {event}, r.recipient_id, r.unit_id, %(channel)s, %(pending)s, %(not_before)s, '', 0,
    '', '', '', %(now)s
FROM {rows} r
JOIN accounts_user usr ON usr.id = r.recipient_id
LEFT JOIN notifications_preference p ON p.user_id = r.recipient_id
WHERE {where} {condition}
ON CONFLICT DO NOTHING
"""

# what a message can be of, and the table of its rows (``id``, ``recipient_id``, ``unit_id``)
OF = {"reminder": "notifications_reminder", "digest": "notifications_digest", "event": None}


def queue(
    cursor,
    now: datetime,
    push_from: datetime,
    *,
    where: str,
    params: dict,
    digests: bool = False,
    of: str = "reminder",
    rows: str = "",
) -> Counter:
    """One message per channel the recipient takes (``CHANNELS``), for the reminders — or, with
    ``of``, the digests or the events — that ``where`` picks (a condition on ``r``); push channels
    not before ``push_from`` (the end of the quiet hours), the inbox at once. ``rows`` (SQL, e.g. a
    subquery) yields the (id, recipient_id, unit_id) rows when they are not those of ``of``'s table:
    an event's recipients come from a join (``events.RECIPIENTS``)."""
    counts: Counter = Counter()
    of = "digest" if digests else of
    ids = {name: ("r.id" if name == of else "CAST(NULL AS BIGINT)") for name in OF}
    for channel, condition in CHANNELS.items():
        sql = QUEUE.format(**ids, rows=rows or OF[of], where=where, condition=condition)
        cursor.execute(
            sql,
            {
                **params,
                "channel": channel,
                "pending": MessageStatus.PENDING,
                "not_before": _db(now if channel == Channel.INBOX else push_from),
                "now": _db(now),
            },
        )
        counts[channel] += max(cursor.rowcount, 0)
    return counts


def _queue(cursor, batch: str, now: datetime, push_from: datetime, campaigns: str = "") -> Counter:
    """The messages of the reminders of ``batch`` that are not kept for a daily digest
    (``digest.daily`` gathers those)."""
    where = f"r.batch = %(batch)s AND NOT ({DIGESTED}) {campaigns}"
    return queue(cursor, now, push_from, where=where, params={"batch": batch})


def _supersede(batch: str) -> int:
    """A newer reminder about the same subject for the same person replaces the older one's unread
    inbox message and its unsent push messages (one UPDATE). For recurring dates (check-ins, hotspot
    windows) only about the same date: next week's check-in does not hide a missed one; for a subject
    many units share (a round) only about the same unit."""
    shared = [s.subject_type for s in sources() if s.per_unit]
    newer = Reminder.objects.filter(
        Q(subject_type__in=DATED) | Q(due_date=OuterRef("reminder__due_date")),
        ~Q(subject_type__in=shared) | Q(unit_id=OuterRef("reminder__unit_id")),
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
