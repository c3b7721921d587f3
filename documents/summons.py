"""约谈 (issue 22.5, ``docs/documents.md``): a laggard named in an issued bulletin is summoned.

HQ over the bulletin's issuing unit picks laggards the bulletin named (``laggards_of``: the lines frozen in
its generated part) and ``summon_units`` makes, per unit, a ``Summons`` (the reasons as the bulletin wrote
them, the figures as of its period's end) and its 约谈通知, a ``summons`` document drafted with a generated
part (``summons_part``) that then goes through the normal sign-off. ``hold_summons`` records the 约谈 held —
date, attendees, chair, what was said — and its commitments, each registered and handed down to the unit as
a directive (source 会议决定: a 约谈 is a meeting, its commitments its decisions), so that their follow-up is
the directives' one mechanism; ``cancel_summons`` calls it off. Every write is one transaction with its
audit events (``summons.*``). ``summonses_held`` is the next bulletin's paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import Action
from audit import services as audit
from utilities.cn import cn_date
from utilities.errors import Forbidden, Refused

from .models import Document, DocumentKind, Summons, SummonsCommitment, SummonsState

ATTENDANCE = "主要负责人"  # who must attend, unless HQ says otherwise (通报约谈: the unit's head)


class SummonsError(Refused):
    """A 约谈 the rules refuse: not an issued bulletin, a unit it did not name, a summons already held …"""


# --- reading the bulletin ------------------------------------------------------------------------------

LINE = re.compile(r"\A\d+．(?P<unit>[^：]+)：(?P<reasons>.*?)。?\Z")


def laggards_of(bulletin: Document) -> list[dict]:
    """The laggards an issued bulletin named, in its order: ``{"code", "unit", "reasons"}``. Read from the
    generated part as issued (``content.bulletin_part`` keeps them by unit); a bulletin generated before it
    did has only its lines (``N．单位：理由。`` after the 经综合评分 paragraph), matched by name to the units
    under the bulletin's unit."""
    if bulletin.kind != DocumentKind.BULLETIN:
        return []
    part = bulletin.generated or {}
    if "laggards" in part:
        return [dict(x) for x in part["laggards"]]
    named, seen = [], False
    for block in part.get("blocks", []):
        text = block.get("text", "")
        if block.get("t") == "para" and text.startswith("经综合评分"):
            seen = True
            continue
        if seen:
            found = LINE.match(text) if block.get("t") == "para" else None
            if not found:
                break
            named.append({"unit": found["unit"], "reasons": found["reasons"]})
    units = {
        u.name: u.code
        for u in Unit.objects.filter(
            path__startswith=bulletin.subject_unit.path, name__in=[x["unit"] for x in named]
        ).order_by("path")
    }
    return [{"code": units[x["unit"]], **x} for x in named if x["unit"] in units]


def as_of(bulletin: Document) -> date:
    """The day the bulletin's figures are as of (its period's end)."""
    day = (bulletin.generated or {}).get("as_of")
    return date.fromisoformat(day) if day else (bulletin.period_end or timezone.localdate())


# --- rights ----------------------------------------------------------------------------------------------


def may_summon(user, bulletin: Document) -> bool:
    """HQ (manage) over the bulletin's issuing unit summons the laggards, records the 约谈 and cancels it."""
    return scope.can(user, Action.MANAGE, bulletin.issuing_unit)


def _require(by: User, bulletin: Document) -> None:
    if not may_summon(by, bulletin):
        raise Forbidden("只有通报的发文单位可以约谈")


def allowed_actions(user, summons: Summons) -> list[str]:
    if summons.state != SummonsState.PLANNED or not may_summon(user, summons.bulletin):
        return []
    return ["hold", "cancel"]


# --- the 约谈通知 -----------------------------------------------------------------------------------------


def when_text(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{cn_date(local.date())}{local.hour}时" + (f"{local.minute}分" if local.minute else "")


def summons_part(summons: Summons) -> dict:
    """The 约谈通知's generated part: the unit, the reasons the bulletin gave (its figures as of the period's
    end), time and place, who must attend; the clerk's requirements start from the usual ones."""
    bulletin, unit = summons.bulletin, summons.unit
    cited = f"《{bulletin.title}》" + (f"（{bulletin.number}）" if bulletin.number else "")
    blocks = [
        {
            "t": "para",
            "text": f"{cited}通报，截至{cn_date(summons.as_of)}，你单位{summons.reasons}，在{bulletin.subject_unit.name}"
            f"综合排名中靠后。根据{summons.campaign.name}工作安排，经研究，决定对你单位进行约谈。现将有关事项通知如下：",
        },
        {"t": "heading", "level": 1, "text": "约谈时间"},
        {"t": "para", "text": when_text(summons.scheduled_at)},
        {"t": "heading", "level": 1, "text": "约谈地点"},
        {"t": "para", "text": summons.place},
        {"t": "heading", "level": 1, "text": "参加人员"},
        {"t": "para", "text": f"{unit.name}{summons.attendance}。"},
        {"t": "heading", "level": 1, "text": "有关要求"},
    ]
    return {
        "head": {
            "masthead": bulletin.issuing_unit.name,
            "issuer": bulletin.issuing_unit.name,
            "title": f"关于约谈{unit.name}{summons.attendance}的通知",
            "addressee": unit.name,
            "opening": "",
            "requirements": "\n".join(
                [
                    "请你单位对照通报指出的问题，深入剖析原因，研究提出整改措施和完成时限，形成书面材料，约谈时一并提交。",
                    f"请参加人员准时到场，不得委托他人代为参加；确有特殊情况的，须于约谈前报{bulletin.issuing_unit.name}同意。",
                ]
            ),
        },
        "blocks": blocks,
        "tail": [],
    }


# --- the writes ------------------------------------------------------------------------------------------


def summon_units(
    *,
    by: User,
    bulletin: Document,
    units: Sequence[Unit],
    scheduled_at: datetime,
    place: str,
    attendance: str = ATTENDANCE,
) -> list[Summons]:
    """约谈: each of ``units`` — laggards ``bulletin`` named — is summoned: a ``Summons`` with the bulletin's
    reasons for it, and its 约谈通知 drafted (a ``summons`` document of the bulletin's issuing unit,
    addressed to the unit, its generated part ``summons_part``). HQ over the issuing unit; the bulletin
    issued; a unit summoned once per bulletin (unless that summons was cancelled)."""
    from . import services as docs

    place = (place or "").strip()
    attendance = (attendance or "").strip() or ATTENDANCE
    units = list(dict.fromkeys(units))
    if not units:
        raise SummonsError("请选择要约谈的单位")
    if not place:
        raise SummonsError("请填写约谈地点")
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).select_related(
            "campaign", "issuing_unit", "subject_unit"
        )
        bulletin = locked.get(pk=bulletin.pk)
        _require(by, bulletin)
        if bulletin.kind != DocumentKind.BULLETIN or not bulletin.is_issued:
            raise SummonsError("只能依据已签发的通报约谈")
        if scheduled_at < bulletin.issued_at:
            raise SummonsError("约谈时间不能早于通报签发时间")
        named = {x["code"]: x for x in laggards_of(bulletin)}
        strangers = [u.name for u in units if u.code not in named]
        if strangers:
            raise SummonsError(f"通报未将以下单位列为排名靠后单位：{'、'.join(strangers)}")
        again = Summons.objects.filter(bulletin=bulletin, unit__in=units).exclude(state=SummonsState.CANCELLED)
        if again.exists():
            names = "、".join(again.order_by("unit__path").values_list("unit__name", flat=True))
            raise SummonsError(f"已依据该通报约谈：{names}")
        day = as_of(bulletin)
        made = []
        for unit in units:
            summons = Summons.objects.create(
                campaign=bulletin.campaign,
                unit=unit,
                bulletin=bulletin,
                reasons=named[unit.code]["reasons"],
                as_of=day,
                scheduled_at=scheduled_at,
                place=place[:200],
                attendance=attendance[:200],
                created_by=by,
            )
            notice = docs._create(
                by,
                campaign=bulletin.campaign,
                kind=DocumentKind.SUMMONS,
                issuing_unit=bulletin.issuing_unit,
                subject_unit=unit,
            )
            summons.notice = notice
            summons.save(update_fields=["notice"])
            _fill(notice, summons)
            audit.record(
                [
                    audit.event(
                        summons,
                        "summons.created",
                        actor=by,
                        unit=unit,
                        changes={
                            "bulletin": bulletin.number,
                            "reasons": summons.reasons,
                            "scheduled_at": scheduled_at,
                            "place": summons.place,
                            "notice": notice.pk,
                        },
                    )
                ]
            )
            made.append(summons)
    return made


def _fill(notice: Document, summons: Summons) -> None:
    """The draft 约谈通知's generated part and the clerk's fields it starts from."""
    notice.generated = summons_part(summons)
    notice.generated_at = timezone.now()
    head = notice.generated["head"]
    notice.title, notice.recipients = head["title"], head["addressee"]
    notice.requirements = head["requirements"]
    notice.save()


def _locked(summons: Summons) -> Summons:
    return (
        Summons.objects.select_for_update(of=("self",))
        .select_related("campaign__owner", "unit", "bulletin__issuing_unit", "notice")
        .get(pk=summons.pk)
    )


@dataclass(frozen=True)
class Commitment:
    """What the unit committed to at the 约谈 and by when."""

    text: str
    deadline: date


def hold_summons(
    *,
    summons: Summons,
    by: User,
    held_on: date,
    attendees: str,
    chaired_by: str,
    minutes: str,
    commitments: Sequence[Commitment] = (),
) -> Summons:
    """The 约谈 held: its record and commitments. Each commitment is registered as a directive of the
    campaign (source 会议决定, its deadline the directive's, the unit its lead, the 约谈's chair as who gave
    it) and handed down to the unit (``directives.services``), in the same transaction. HQ over the
    bulletin's issuing unit — and, for commitments, over the campaign's owner, whose directives they become."""
    from directives.models import Source
    from directives.services import hand_down, register_directive

    attendees, chaired_by, minutes = (attendees or "").strip(), (chaired_by or "").strip(), (minutes or "").strip()
    rows = [Commitment((c.text or "").strip(), c.deadline) for c in commitments]
    if not attendees:
        raise SummonsError("请填写参加约谈的人员")
    if not minutes:
        raise SummonsError("请填写约谈内容")
    if any(not c.text for c in rows):
        raise SummonsError("承诺事项不能为空")
    with transaction.atomic():
        locked = _locked(summons)
        _require(by, locked.bulletin)
        if locked.state != SummonsState.PLANNED:
            raise SummonsError(f"该约谈当前为“{locked.get_state_display()}”，不能登记")
        if held_on < timezone.localdate(locked.bulletin.issued_at) or held_on > timezone.localdate():
            raise SummonsError("约谈日期须在通报签发之后、今天之前")
        for c in rows:
            if c.deadline < held_on:
                raise SummonsError(f"承诺事项的完成时限不能早于约谈日期：{c.text[:30]}")
        locked.state, locked.held_on = SummonsState.HELD, held_on
        locked.attendees, locked.chaired_by, locked.minutes = attendees, chaired_by[:100], minutes
        locked.recorded_by, locked.recorded_at = by, timezone.now()
        locked.save()
        made = []
        for n, c in enumerate(rows, 1):
            directive = register_directive(
                campaign=locked.campaign,
                by=by,
                title=c.text[:2000],
                source=Source.MEETING,
                lead_units=[locked.unit],
                due_date=c.deadline,
                text=f"{cn_date(held_on)}约谈{locked.unit.name}时，该单位承诺：{c.text}",
                instruction=minutes,
                instructed_by=chaired_by,
                instructed_on=held_on,
            )
            directive = hand_down(directive=directive, by=by)
            made.append(
                SummonsCommitment.objects.create(
                    summons=locked, seq=n, text=c.text, deadline=c.deadline, directive=directive
                )
            )
        changes = {
            "state": [SummonsState.PLANNED, SummonsState.HELD],
            "held_on": held_on,
            "attendees": attendees,
            "chaired_by": locked.chaired_by,
            "commitments": [[m.text, m.deadline, m.directive.item.code] for m in made],
        }
        audit.record([audit.event(locked, "summons.held", actor=by, unit=locked.unit, changes=changes)])
    return locked


def cancel_summons(*, summons: Summons, by: User, note: str) -> Summons:
    """The 约谈 called off (a planned one), with the reason; the unit may be summoned again on that bulletin.
    A 约谈通知 not yet issued stays a draft (it is a document: its own page says where it stands)."""
    note = (note or "").strip()
    if not note:
        raise SummonsError("请填写取消原因")
    with transaction.atomic():
        locked = _locked(summons)
        _require(by, locked.bulletin)
        if locked.state != SummonsState.PLANNED:
            raise SummonsError(f"该约谈当前为“{locked.get_state_display()}”，不能取消")
        locked.state, locked.cancelled_note = SummonsState.CANCELLED, note
        locked.save(update_fields=["state", "cancelled_note"])
        changes = {"state": [SummonsState.PLANNED, SummonsState.CANCELLED], "note": note}
        audit.record([audit.event(locked, "summons.cancelled", actor=by, unit=locked.unit, changes=changes)])
    return locked


# --- reads ---------------------------------------------------------------------------------------------


def summonses_for(user, *, campaign=None, state: str = "", unit: Unit | None = None):
    """The summonses ``user`` sees (view over the unit summoned), newest first."""
    qs = scope.restrict(Summons.objects.select_related("campaign", "unit", "bulletin", "notice", "created_by"), user)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if state:
        qs = qs.filter(state=state)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.order_by("-created_at", "-id")


def on_record(qs, limit: int = 20) -> list[Summons]:
    """A unit's record of 约谈 (the leader's page, the unit's own list): those not cancelled, newest first,
    each with ``n_commitments`` and ``n_closed`` (their directives closed). One query."""
    from django.db.models import Count, Q

    from directives.models import Status

    closed = Q(commitments__directive__status=Status.CLOSED)
    rows = qs.exclude(state=SummonsState.CANCELLED).annotate(
        n_commitments=Count("commitments"), n_closed=Count("commitments", filter=closed)
    )
    return list(rows.order_by("-created_at", "-id")[:limit])


def get_summons(user, pk: int) -> Summons:
    qs = Summons.objects.select_related(
        "campaign", "unit", "bulletin__issuing_unit", "notice", "created_by", "recorded_by"
    )
    return scope.get_or_404(qs, user, pk=pk)


def commitments(summons: Summons) -> list[SummonsCommitment]:
    return list(summons.commitments.select_related("directive__item").order_by("seq", "id"))


def history(summons: Summons):
    return audit.history(summons)


def summonses_held(user, campaign, unit: Unit, start: date, end: date, label: str = "") -> str:
    """The next bulletin's paragraph: the 约谈 held in the period (``start``–``end``) with units under ``unit``,
    as ``user`` sees them — "{label}共约谈X个单位：A、B；承诺事项N项，已办结M项。" — the commitments closed counted as
    of the period's end (their directives' ``closed_at``). "" when none was held. Two queries."""
    from boards.ranking import end_of

    held = list(
        scope.restrict(Summons.objects.select_related("unit"), user)
        .filter(
            campaign=campaign,
            state=SummonsState.HELD,
            held_on__gte=start,
            held_on__lte=end,
            unit__path__startswith=unit.path,
        )
        .order_by("held_on", "unit__path", "id")
    )
    if not held:
        return ""
    rows = list(SummonsCommitment.objects.filter(summons__in=held).values_list("directive__closed_at", flat=True))
    closed = sum(1 for at in rows if at is not None and at < end_of(end))
    names = "、".join(dict.fromkeys(s.unit.name for s in held))
    units = len({s.unit_id for s in held})
    return f"{label}共约谈{units}个单位：{names}；承诺事项{len(rows)}项，已办结{closed}项。"


def default_when(bulletin: Document) -> datetime:
    """约谈 three days after the bulletin's issue at 9 o'clock, as the bulletin's own sentence says (前到…说明情况)."""
    day = timezone.localdate(bulletin.issued_at or timezone.now()) + timedelta(days=3)
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=9)))
