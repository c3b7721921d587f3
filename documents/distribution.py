"""分发, 签收, 催办: where an issued document goes and who has received it (docs/documents.md, "Distribution").

A draft names its recipients (``DocumentRecipient``): units of the tree, 主送 or 抄送, and outside bodies
(区市党委、政府 for a 双通报). The printed 主送/抄送 lines are written from them whenever they change (the
clerk may then shorten a long list to a collective name). At issue (``services.sign_document``, in its
transaction) the rows are fixed and every recipient unit is told at once — one event per unit and a message
per lead, set-based (``notifications.events.documents_sent``): a bulletin to 1,650 units is a few statements.
A recipient unit's people see the issued document and download it; one who reports for the unit
acknowledges it (签收); the issuer's HQ (or a leader over it) sees who has not and chases them (催办) with
the assignments' rule: at most once a day per recipient, the rest skipped and counted. An outside body is
recorded as sent, with the channel and the date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from accounts import scope
from accounts.models import Unit, User
from accounts.scope import STEP, Action
from audit import services as audit
from notifications import events as tell
from notifications.models import EventKind
from tasks.models import Assignment
from tasks.services.chase import AlreadyChased, NothingToChase, chase_scope, start_of_today
from utilities.errors import Forbidden

from .models import Document, DocumentKind, DocumentRecipient, DocumentState, RecipientRole

K, S, R = DocumentKind, DocumentState, RecipientRole
BODY_MAX = 100
SEP = "，"


@dataclass(frozen=True)
class Receipts:
    """A document's receipts: the recipient units, those acknowledged, those not (and their rows)."""

    units: int
    acknowledged: int
    waiting: list[DocumentRecipient]


@dataclass(frozen=True)
class Chased:
    """What a chase did: the units told, and those left out because they were chased today already."""

    chased: int
    already: int = 0


def _error(message: str):
    from .services import DocumentError

    return DocumentError(message)


def default_units(document: Document) -> list[Unit]:
    """The recipients an office expects before the clerk changes them: a bulletin goes to the units
    directly under its unit whose subtree holds work in the campaign (those it reports on; all the units
    directly under it when none does yet); a rectification notice's document to the unit it orders; a free
    document to nobody until chosen."""
    if document.kind == K.RECTIFICATION:
        return [document.subject_unit]
    if document.kind != K.BULLETIN:
        return []
    top = document.subject_unit
    children = Unit.objects.filter(path__startswith=top.path, depth=top.depth + 1, is_active=True).order_by("path")
    work = Assignment.objects.filter(
        campaign_id=document.campaign_id, is_active=True, unit__path__startswith=OuterRef("path")
    )
    with_work = list(children.filter(Exists(work)))
    return with_work or list(children)


def _names(rows: list[DocumentRecipient]) -> str:
    """The names of one line; all the active units directly under one unit print as that unit's 各单位
    (江城市公安局各单位), as an office writes it, the outside bodies after them."""
    units = [r.unit for r in rows if r.unit_id]
    names = [u.name for u in units]
    parents = {u.path[:-STEP] for u in units}
    if len(units) > 1 and len(parents) == 1 and "" not in parents:
        parent = Unit.objects.filter(path=parents.pop()).first()
        under = Unit.objects.filter(
            path__startswith=parent.path if parent else "-", depth=units[0].depth, is_active=True
        )
        if parent and set(under.values_list("pk", flat=True)) == {u.pk for u in units}:
            names = [f"{parent.name}各单位"]
    return SEP.join(names + [r.body for r in rows if not r.unit_id])


def lines(rows: Iterable[DocumentRecipient]) -> tuple[str, str]:
    """The printed 主送 and 抄送 lines, written from the recipients."""
    rows = list(rows)
    return _names([r for r in rows if r.role == R.MAIN]), _names([r for r in rows if r.role == R.COPY])


def _rows(document: Document, units: Sequence[Unit], copies: Sequence[Unit], bodies: Sequence[tuple[str, str]]):
    rows: list[DocumentRecipient] = []
    seen_units: set[int] = set()
    seen_bodies: set[str] = set()
    for role, chosen in ((R.MAIN, units), (R.COPY, copies)):
        for unit in chosen:
            if unit.pk not in seen_units:
                seen_units.add(unit.pk)
                rows.append(DocumentRecipient(document=document, unit=unit, role=role, seq=len(rows)))
    for name, role in bodies:
        name = name.strip()
        if not name:
            continue
        if len(name) > BODY_MAX:
            raise _error(f"外部单位名称过长（至多{BODY_MAX}字）：{name[:20]}…")
        if role not in R.values:
            raise _error(f"发送方式只能是主送或抄送：{role}")
        if name not in seen_bodies:
            seen_bodies.add(name)
            rows.append(DocumentRecipient(document=document, body=name, role=role, seq=len(rows)))
    return rows


def seed(document: Document) -> None:
    """A new draft's recipients (``default_units``) and its 主送 line from them, when there are any."""
    rows = _rows(document, default_units(document), (), ())
    if rows:
        DocumentRecipient.objects.bulk_create(rows, batch_size=1000)
        document.recipients, document.cc = lines(rows)


def set_recipients(
    *,
    document: Document,
    by: User,
    units: Sequence[Unit] = (),
    copies: Sequence[Unit] = (),
    bodies: Sequence[tuple[str, str]] = (),
    version: int | None = None,
) -> Document:
    """The draft's recipients replaced: ``units`` 主送, ``copies`` 抄送 (units of the tree, seen by the
    drafter), ``bodies`` outside bodies as (name, role). The 主送/抄送 lines are written from them."""
    from .services import DocumentConflict, _in_state, _locked, _refuse_draft, _step

    visible = scope.scope_for(by, Action.VIEW)
    for unit in (*units, *copies):
        if not visible.contains(unit):
            raise Forbidden(f"无权向{unit.name}发文")
    with transaction.atomic():
        locked = _locked(document)
        _refuse_draft(by, locked.kind, locked.issuing_unit)
        _in_state(locked, S.DRAFT)
        if version is not None and version != locked.version:
            raise DocumentConflict(locked.version)
        rows = _rows(locked, units, copies, bodies)
        before = {"recipients": locked.recipients, "cc": locked.cc}
        DocumentRecipient.objects.filter(document=locked).delete()
        DocumentRecipient.objects.bulk_create(rows, batch_size=1000)
        locked.recipients, locked.cc = lines(rows)
        locked.version += 1
        locked.save()
        changes = audit.diff(before, {"recipients": locked.recipients, "cc": locked.cc})
        _step(locked, by, "distribution", note=f"{len(rows)}", **changes)
    return locked


def issue(document: Document, by: User) -> int:
    """At issue, in ``sign_document``'s transaction: the recipient units told (one event each, a message per
    lead). Returns how many units."""
    return tell.documents_sent(document, by=by)


# --- reads -------------------------------------------------------------------------------------------


def recipients(document: Document) -> QuerySet[DocumentRecipient]:
    return document.distribution.select_related("unit", "acknowledged_by", "sent_by").order_by("seq", "id")


def receipts(document: Document) -> Receipts:
    rows = [r for r in recipients(document) if r.unit_id]
    waiting = [r for r in rows if r.acknowledged_at is None]
    return Receipts(units=len(rows), acknowledged=len(rows) - len(waiting), waiting=waiting)


def received_by(user: User) -> QuerySet[DocumentRecipient]:
    """The issued documents sent to units ``user`` reports for (its inbox of documents), newest first."""
    report = scope.scope_for(user, Action.REPORT)
    if not report or report.everything:
        return DocumentRecipient.objects.none()
    return (
        DocumentRecipient.objects.filter(report.q("unit"), document__state=S.ISSUED)
        .select_related("document", "document__issuing_unit", "unit", "acknowledged_by")
        .order_by("acknowledged_at", "-document__issued_at", "id")
    )


def actions(user: User, document: Document) -> list[str]:
    """What ``user`` may do with ``document``'s distribution now (the page's forms, the API's ``actions``)."""
    out = []
    if document.state == S.DRAFT:
        from .services import may_draft

        if may_draft(user, document.kind, document.issuing_unit):
            out.append("edit")
        return out
    if may_acknowledge(user, document):
        out.append("acknowledge")
    if may_chase(user, document):
        out.append("chase")
    if may_record_sent(user, document):
        out.append("record_sent")
    return out


def may_acknowledge(user: User, document: Document) -> bool:
    return document.is_issued and bool(_acknowledgeable(user, document))


def may_chase(user: User, document: Document) -> bool:
    return document.is_issued and chase_scope(user).contains(document.issuing_unit)


def may_record_sent(user: User, document: Document) -> bool:
    return document.is_issued and scope.can(user, Action.MANAGE, document.issuing_unit)


def _acknowledgeable(user: User, document: Document) -> list[DocumentRecipient]:
    report = scope.scope_for(user, Action.REPORT)
    if not report or report.everything:
        return []
    return list(
        document.distribution.filter(report.q("unit"), acknowledged_at=None).select_related("unit").order_by("seq")
    )


# --- writes ------------------------------------------------------------------------------------------


def acknowledge(*, document: Document, by: User, unit: Unit | None = None) -> DocumentRecipient:
    """签收 for a recipient unit ``by`` reports for (``unit``, else the one it sits in — its own grant —,
    else the only one in its reach). Already acknowledged, the row is returned as it is (who, when)."""
    if not document.is_issued:
        raise _error("公文尚未印发，无需签收")
    report = scope.scope_for(by, Action.REPORT)
    rows = document.distribution.select_related("unit", "acknowledged_by").exclude(unit=None)
    mine = [r for r in rows if report.contains(r.unit)] if report and not report.everything else []
    if unit is not None:
        mine = [r for r in mine if r.unit_id == unit.pk]
    if not mine:
        raise Forbidden("您所在单位不是该公文的发送单位，无需签收")
    if len(mine) > 1:
        own = set(scope.grant_paths(by, Action.REPORT))
        mine = [r for r in mine if r.unit.path in own] or mine
        waiting = [r for r in mine if r.acknowledged_at is None]
        if len(waiting) > 1:
            raise _error("您可为多个发送单位签收，请指明签收单位")
        mine = waiting or mine
    row = mine[0]
    with transaction.atomic():
        locked = DocumentRecipient.objects.select_for_update(of=("self",)).select_related("unit").get(pk=row.pk)
        if locked.acknowledged_at is None:
            now = timezone.now()
            locked.acknowledged_at, locked.acknowledged_by = now, by
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
            audit.record(
                [
                    audit.event(
                        document,
                        "document.acknowledged",
                        actor=by,
                        unit=locked.unit,
                        changes={"unit": locked.unit.code, "acknowledged_at": now},
                    )
                ]
            )
    return DocumentRecipient.objects.select_related("unit", "acknowledged_by").get(pk=row.pk)


def chase(*, document: Document, by: User, note: str = "", units: Iterable[int] | None = None) -> Chased:
    """催办 the recipient units that have not acknowledged (``units`` only, when named), the assignments'
    rule: once a day per recipient — those chased today are skipped and counted, and when all were the
    request is refused (409). Each unit's leads are told once (an event, ``doc_chased``); one audit event
    on the document names them."""
    if not document.is_issued:
        raise _error("公文尚未印发")
    if not chase_scope(by).contains(document.issuing_unit):
        raise Forbidden("无权催办：您不是发文单位的指挥部或领导")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        rows = document.distribution.select_for_update().exclude(unit=None).filter(acknowledged_at=None)
        if units is not None:
            rows = rows.filter(unit_id__in=list(units))
        rows = list(rows.order_by("seq"))
        if not rows:
            raise NothingToChase("没有待签收的单位")
        today = start_of_today()
        fresh = [r for r in rows if r.chased_at is None or r.chased_at < today]
        if not fresh:
            raise AlreadyChased(min(r.chased_at for r in rows))
        ids = [r.pk for r in fresh]
        now = timezone.now()
        DocumentRecipient.objects.filter(pk__in=ids).update(chased=F("chased") + 1, chased_at=now)
        told = tell.documents_sent(
            document, by=by, kind=EventKind.DOC_CHASED, note=note, unit_ids=[r.unit_id for r in fresh]
        )
        audit.record(
            [
                audit.event(
                    document,
                    "document.chased",
                    actor=by,
                    unit=document.issuing_unit,
                    changes={"units": len(fresh), "note": note},
                )
            ]
        )
    return Chased(chased=told if told else len(fresh), already=len(rows) - len(fresh))


def record_sent(*, document: Document, by: User, recipient: int, channel: str, sent_on: date) -> DocumentRecipient:
    """An outside body's copy recorded as sent: the channel (机要交换, 传真 …) and the date."""
    if not may_record_sent(by, document):
        if not document.is_issued:
            raise _error("公文尚未印发")
        raise Forbidden("无权登记发送：您不是发文单位的指挥部")
    channel = (channel or "").strip()
    if not channel:
        raise _error("请填写发送方式")
    if sent_on < timezone.localdate(document.issued_at):
        raise _error("发送日期不能早于印发日期")
    if sent_on > timezone.localdate():
        raise _error("发送日期不能晚于今天")
    with transaction.atomic():
        try:
            row = document.distribution.select_for_update().get(pk=recipient, unit=None)
        except DocumentRecipient.DoesNotExist:
            from utilities.errors import Missing

            raise Missing("该外部单位不在发送范围内") from None
        before = {"channel": row.channel, "sent_on": row.sent_on}
        row.channel, row.sent_on, row.sent_by = channel[:40], sent_on, by
        row.save(update_fields=["channel", "sent_on", "sent_by"])
        audit.record(
            [
                audit.event(
                    document,
                    "document.sent",
                    actor=by,
                    unit=document.issuing_unit,
                    changes={"body": row.body, **audit.diff(before, {"channel": row.channel, "sent_on": row.sent_on})},
                )
            ]
        )
    return row
