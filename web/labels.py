"""Words the pages show for codes: transitions, timeline events, groups, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directives.models import Status as DirectiveStatus
from inspections.models import FindingStatus, Hotspot, InspectionStatus, LetterStatus
from tasks.models import AssignmentStatus
from tasks.services.workflow import TRANSITIONS, TransitionError

TASK_GROUPS = [
    ("overdue", gettext_lazy("Overdue")),
    ("week", gettext_lazy("Due this week")),
    ("later", gettext_lazy("Later")),
    ("done", gettext_lazy("Submitted or accepted")),
]

_TRANSITIONS = {
    "start": (gettext_lazy("Start work"), gettext_lazy("Work started."), "secondary"),
    "submit": (gettext_lazy("Submit for acceptance"), gettext_lazy("Submitted for acceptance."), "primary"),
    "resume": (gettext_lazy("Resume work"), gettext_lazy("Work resumed."), "secondary"),
    "accept": (gettext_lazy("Accept"), gettext_lazy("Accepted."), "primary"),
    "return": (gettext_lazy("Return for rework"), gettext_lazy("Returned."), "danger"),
    "reopen": (gettext_lazy("Reopen"), gettext_lazy("Reopened."), "danger"),
}


@dataclass(frozen=True)
class TransitionLabel:
    name: str
    label: str
    done: str
    style: str
    needs_reason: bool


def transition(name: str) -> TransitionLabel:
    label, done, style = _TRANSITIONS[name]
    return TransitionLabel(name, str(label), str(done), style, TRANSITIONS[name].needs_reason)


_EVENTS = {
    "assignment.created": gettext_lazy("Assigned"),
    "assignment.start": gettext_lazy("Work started"),
    "assignment.submit": gettext_lazy("Submitted for acceptance"),
    "assignment.resume": gettext_lazy("Work resumed"),
    "assignment.accept": gettext_lazy("Accepted"),
    "assignment.return": gettext_lazy("Returned for rework"),
    "assignment.reopen": gettext_lazy("Reopened"),
    "assignment.reported": gettext_lazy("Progress reported"),
    "assignment.acknowledged": gettext_lazy("Receipt acknowledged"),
    "assignment.commented": gettext_lazy("Comment"),
    "assignment.instruction_requested": gettext_lazy("Instruction requested"),
    "assignment.instructed": gettext_lazy("Leader's instruction"),
    "assignment.passed_down": gettext_lazy("Passed down"),
    "assignment.created_by_pass_down": gettext_lazy("Received as a share"),
    "assignment.share_changed": gettext_lazy("Share changed"),
    "assignment.due_changed": gettext_lazy("Due date changed"),
    "assignment.extension_requested": gettext_lazy("Extension requested"),
    "assignment.extension_approved": gettext_lazy("Extension approved"),
    "assignment.extension_refused": gettext_lazy("Extension refused"),
    "assignment.withdrawn": gettext_lazy("Withdrawn from the plan"),
    "assignment.restored": gettext_lazy("Restored to the plan"),
    "assignment.role_changed": gettext_lazy("Role changed"),
    "finding.logged": gettext_lazy("Finding logged"),
    "finding.ordered": gettext_lazy("Rectification ordered"),
    "finding.answered": gettext_lazy("Rectification answered"),
    "finding.verified": gettext_lazy("Verified and closed"),
    "finding.rejected": gettext_lazy("Rectification rejected"),
    "notice.issued": gettext_lazy("Notice issued"),
    "notice.acknowledged": gettext_lazy("Receipt acknowledged"),
    "letter.issued": gettext_lazy("Risk letter issued"),
    "letter.acknowledged": gettext_lazy("Receipt acknowledged"),
    "letter.answered": gettext_lazy("Measures taken reported"),
    "letter.closed": gettext_lazy("Risk letter closed"),
    "letter.returned": gettext_lazy("Answer returned for a fuller one"),
    "inspection.planned": gettext_lazy("Inspection planned"),
    "inspection.started": gettext_lazy("Inspection started"),
    "inspection.completed": gettext_lazy("Inspection completed"),
    "hotspot.listed": gettext_lazy("Listed"),
    "hotspot.delisted": gettext_lazy("De-listed after joint acceptance"),
    "hotspot.extended": gettext_lazy("Deadline extended after joint acceptance"),
    "directive.registered": gettext_lazy("Directive registered"),
    "directive.handed_down": gettext_lazy("Handed down to the units"),
    "directive.closed": gettext_lazy("Directive closed"),
    "directive.reopened": gettext_lazy("Directive reopened"),
    "directive.rated": gettext_lazy("Rated"),
    "directive.outcome": gettext_lazy("Case outcome recorded"),
    "item.updated": gettext_lazy("Item changed"),
}

_FIELDS = {
    "status": gettext_lazy("status"),
    "progress": gettext_lazy("progress"),
    "due_date": gettext_lazy("due date"),
    "target_share": gettext_lazy("share of the target"),
    "target_shares": gettext_lazy("shares of the other targets"),
    "role": gettext_lazy("role"),
    "deadline": gettext_lazy("deadline"),
    "rounds": gettext_lazy("rectification round"),
    "reply_by": gettext_lazy("reply by"),
}
_STATUS = {
    **dict(AssignmentStatus.choices),
    **dict(InspectionStatus.choices),
    **dict(Hotspot.Status.choices),
}
_STATUS_OF = {
    "finding": dict(FindingStatus.choices),
    "letter": dict(LetterStatus.choices),
    "directive": dict(DirectiveStatus.choices),
}


def _value(field: str, value, statuses: dict) -> str:
    if field == "status":
        return str(statuses.get(value, value))
    if isinstance(value, dict):  # target shares: seq → amount
        return "；".join(_("target %(seq)s: %(amount)s") % {"seq": k, "amount": v} for k, v in value.items()) or "—"
    return "—" if value in (None, "") else str(value)


@dataclass(frozen=True)
class Event:
    at: object
    actor: str
    title: str
    details: list[str]


def event(e) -> Event:
    """One audit event as a line of the timeline: what happened, and before → after of each field."""
    details = []
    statuses = _STATUS_OF.get(e.verb.partition(".")[0], _STATUS)
    for key, change in (e.changes or {}).items():
        if key in _FIELDS and isinstance(change, list) and len(change) == 2:
            details.append(f"{_FIELDS[key]}：{_value(key, change[0], statuses)} → {_value(key, change[1], statuses)}")
        elif key in ("note", "text", "reason", "summary", "number", "place", "title") and change:
            details.append(str(change))
        elif key == "value" and change not in (None, ""):
            details.append(_("amount: %(value)s") % {"value": change})
        elif key in ("files", "photos") and change:
            details.append(_("files: %(names)s") % {"names": "、".join(change)})
        elif key == "period" and change:
            details.append(_("check-in period due %(due)s") % {"due": change})
    actor = e.actor.get_full_name() if e.actor else _("the system")
    return Event(e.at, actor, str(_EVENTS.get(e.verb, e.verb)), details)


def acknowledged_before(row) -> str:
    """签收 tapped again: who acknowledged the assignment or notice, and when."""
    who = row.acknowledged_by.get_full_name() if row.acknowledged_by else _("the system")
    when = timezone.localtime(row.acknowledged_at).strftime("%Y-%m-%d %H:%M")
    return _("Already acknowledged by %(who)s at %(when)s.") % {"who": who, "when": when}


def refusal(exc: Exception) -> str:
    if isinstance(exc, TransitionError) and exc.allowed:
        names = "、".join(transition(n).label for n in exc.allowed)
        return _("%(message)s. Possible now: %(allowed)s") % {"message": exc.message, "allowed": names}
    if isinstance(exc, TransitionError):
        return exc.message
    return str(exc) or _("Not allowed.")


def percent(done, target) -> int | None:
    if not target:
        return None
    return int(min(Decimal(done or 0) / Decimal(target), Decimal(1)) * 100)


def period_label(c) -> str:
    return _("No. %(seq)s, due %(month)s/%(day)s (%(status)s)") % {
        "seq": c.seq,
        "month": c.due.month,
        "day": c.due.day,
        "status": c.status.label,
    }


class CellWords:
    """The words of the battle board's cells, as the template's ``{% blocktranslate %}`` wrote them (the
    same messages, each number through ``localize``), with each message translated and each number
    localized once per page: three per cell were a fifth of the board page's time."""

    def __init__(self) -> None:
        self._title = _("%(done)s of %(total)s done, %(overdue)s overdue")
        self._overdue = _("%(n)s overdue")
        self._unacknowledged = _("%(n)s not acknowledged")
        self._total = _("%(n)s assignments")
        self._numbers: dict[int, str] = {}

    def _n(self, n: int) -> str:
        text = self._numbers.get(n)
        if text is None:
            text = self._numbers[n] = str(localize(n))
        return text

    def __call__(self, cell) -> dict[str, str]:
        done, total, overdue = self._n(cell.done), self._n(cell.total), self._n(cell.overdue)
        return {
            "title": self._title % {"done": done, "total": total, "overdue": overdue},
            "overdue": self._overdue % {"n": overdue},
            "unacknowledged": self._unacknowledged % {"n": self._n(cell.unacknowledged)},
            "total": self._total % {"n": total},
        }
