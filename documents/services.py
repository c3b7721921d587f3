"""The writes on documents: drafting (a bulletin for a period, a notice's document, a free one), editing
the clerk's paragraphs, refreshing the generated part, and the sign-off — submit (draft → checking),
check (核稿: → signing), sign (签发: the number taken, the content frozen, DOCX and PDF stored: → issued),
return with a note (→ draft). Each runs in one transaction, locks the document's row, records its step
(``DocumentStep``) and its audit event. Who checks and signs: ``SignOffRule`` rows of the campaign and
kind, else the default (HQ over the issuing unit checks, a leader over it signs)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import scope
from accounts.models import Role, Unit, User
from accounts.scope import Action
from audit import services as audit
from boards.bulletin import Period
from tasks.models import Campaign
from utilities.errors import Forbidden, Refused

from . import distribution
from .models import (
    Document,
    DocumentKind,
    DocumentSequence,
    DocumentState,
    DocumentStep,
    SignOffRule,
    SignOffStep,
    Summons,
)
from .render import content as build
from .render.docx import render_docx
from .render.pdf import render_pdf

K, S = DocumentKind, DocumentState
EDITABLE = ("title", "recipients", "cc", "attachments", "opening", "requirements", "next_steps")
# the 发文代字's last word per kind (江城通〔2026〕1号); a notice's document keeps the notice's number
WORD = {K.BULLETIN: "通", K.RISK_LETTER: "险函", K.SUMMONS: "约", K.NOTICE: "发"}
FREE_KINDS = (K.RISK_LETTER, K.SUMMONS, K.NOTICE)


class DocumentError(Refused):
    """A request the sign-off refuses (wrong state, nothing to write); the message says why."""


class DocumentConflict(Refused):
    """The draft was changed since the caller read it: 409 with the current version."""

    status_code = 409

    def __init__(self, current: int):
        super().__init__(f"该文稿已被他人修改（当前版本 {current}），请刷新后重试")
        self.current = current

    def payload(self) -> dict:
        return {"detail": str(self), "version": self.current}


# --- rights ------------------------------------------------------------------------------------------


def may_draft(user, kind: str, unit: Unit) -> bool:
    """HQ over the issuing unit drafts and edits; a notice's document also an inspector over it."""
    if kind == K.RECTIFICATION and scope.can(user, Action.INSPECT, unit):
        return True
    return scope.can(user, Action.MANAGE, unit)


def _rules(document: Document, step: str) -> list[SignOffRule]:
    return list(SignOffRule.objects.filter(campaign_id=document.campaign_id, kind=document.kind, step=step))


def may_step(user, document: Document, step: str) -> bool:
    """``user`` may check (``SignOffStep.CHECK``) or sign (``SIGN``) ``document``: a rule of its campaign and
    kind names the user or a role the user holds over the issuing unit; without a rule, HQ over the issuing
    unit checks and a leader over it signs."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    unit = document.issuing_unit
    rules = _rules(document, step)
    if not rules:
        if step == SignOffStep.CHECK:
            return scope.can(user, Action.MANAGE, unit)
        return scope.of_role(user, Role.LEADER).contains(unit)
    return any(r.user_id == user.pk or (r.role and scope.of_role(user, r.role).contains(unit)) for r in rules)


def _ancestor_paths(unit: Unit) -> list[str]:
    step = Unit.steplen
    return [unit.path[:n] for n in range(step, len(unit.path) + 1, step)]


def others_may_check(document: Document, user) -> bool:
    """Someone other than ``user`` (active, not a superuser: the system's administrator is no office
    head) may check ``document``: a user a rule names, one holding a rule's role over the issuing unit,
    or without a rule HQ over it."""
    from accounts.models import RoleGrant

    rules = _rules(document, SignOffStep.CHECK)
    others = User.objects.filter(is_active=True, is_superuser=False).exclude(pk=user.pk)
    if any(r.user_id and others.filter(pk=r.user_id).exists() for r in rules):
        return True
    roles = {r.role for r in rules if r.role} if rules else {Role.HQ}
    return (
        RoleGrant.objects.filter(
            role__in=roles, unit__path__in=_ancestor_paths(document.issuing_unit), user__in=others
        ).exists()
        if roles
        else False
    )


def drafter_may_not_check(user, document: Document) -> bool:
    """The checker is not the drafter (核稿 is a second pair of eyes): the one who drafted the document
    may check it only when no one else may."""
    return document.created_by_id == user.pk and others_may_check(document, user)


def allowed_actions(user, document: Document) -> list[str]:
    """What ``user`` may do now with ``document`` (the page's buttons, the API's ``actions``)."""
    out = []
    state = document.state
    if state == S.DRAFT and may_draft(user, document.kind, document.issuing_unit):
        out += ["edit", "refresh", "submit"]
    if state == S.CHECKING and may_step(user, document, SignOffStep.CHECK):
        out += ["return"] if drafter_may_not_check(user, document) else ["check", "return"]
    if state == S.SIGNING and may_step(user, document, SignOffStep.SIGN):
        out += ["sign", "return"]
    return out


def _refuse_draft(user, kind: str, unit: Unit) -> None:
    if not may_draft(user, kind, unit):
        raise Forbidden(f"无权起草或修改{unit.name}的公文")


# --- drafting ----------------------------------------------------------------------------------------


def _step(document: Document, by: User, action: str, note: str = "", **changes) -> None:
    DocumentStep.objects.create(document=document, action=action, by=by, note=note)
    audit.record([audit.event(document, f"document.{action}", actor=by, unit=document.issuing_unit, changes=changes)])


def _generate(document: Document, by: User) -> dict:
    if document.kind == K.BULLETIN:
        from boards.bulletin import period_between

        period = period_between(document.campaign, document.period_start, document.period_end, document.round)
        return build.bulletin_part(by, document.campaign, document.subject_unit, period)
    if document.kind == K.RECTIFICATION:
        return build.notice_part(document.notice)
    if document.kind == K.SUMMONS and (summons := Summons.objects.filter(notice=document).first()) is not None:
        from .summons import summons_part  # 约谈 (documents/summons.py) imports this module

        return summons_part(summons)
    return {"head": {}, "blocks": [], "tail": []}


def _create(by: User, **fields) -> Document:
    document = Document(created_by=by, **fields)
    document.generated_at = timezone.now()
    with transaction.atomic():
        document.save()
        document.generated = _generate(document, by)
        head = document.generated["head"]
        document.title = document.title or head.get("title", "")
        document.recipients = document.recipients or head.get("addressee", "")
        document.opening = head.get("opening", "")
        document.requirements = head.get("requirements", "")
        distribution.seed(document)
        document.save()
        _step(document, by, "drafted", kind=document.kind, title=document.title)
    return document


def draft_bulletin(*, by: User, campaign: Campaign, unit: Unit, period: Period) -> Document:
    """A draft of ``unit``'s bulletin for ``period`` (a week, a round, a month, the campaign so far, a range), its figures as of the period's end,
    read as ``by``; the clerk's paragraphs start from the bulletin's own words."""
    _refuse_draft(by, K.BULLETIN, unit)
    round_ = campaign.rounds.get(pk=period.round_id) if period.round_id else None
    return _create(
        by,
        campaign=campaign,
        kind=K.BULLETIN,
        issuing_unit=unit,
        subject_unit=unit,
        period_start=period.start,
        period_end=period.end,
        round=round_,
    )


def draft_notice_document(*, by: User, notice) -> Document:
    """The official document of a rectification notice (its findings, requirements and deadline), under the
    notice's own number: one document per notice."""
    _refuse_draft(by, K.RECTIFICATION, notice.issuing_unit)
    if notice.documents.exists():
        raise DocumentError(f"整改通知书{notice.number}已有公文，请在原文稿上修改")
    return _create(
        by,
        campaign=notice.campaign,
        kind=K.RECTIFICATION,
        issuing_unit=notice.issuing_unit,
        subject_unit=notice.unit,
        notice=notice,
    )


def draft_document(*, by: User, campaign: Campaign, kind: str, unit: Unit, title: str) -> Document:
    """A free document (风险提示函, 约谈通知, 通知) of ``unit``: only the clerk's paragraphs."""
    if kind not in FREE_KINDS:
        raise DocumentError("通报和整改通知书请从通报页或通知书页起草")
    if not title.strip():
        raise DocumentError("请填写标题")
    _refuse_draft(by, kind, unit)
    return _create(by, campaign=campaign, kind=kind, issuing_unit=unit, subject_unit=unit, title=title.strip())


def _locked(document: Document) -> Document:
    return (
        Document.objects.select_for_update(of=("self",))
        .select_related("campaign", "issuing_unit", "subject_unit", "notice", "round")
        .get(pk=document.pk)
    )


def _in_state(document: Document, *states: str) -> None:
    if document.state not in states:
        raise DocumentError(f"公文当前为“{document.get_state_display()}”，不能进行此操作")


def update_draft(*, document: Document, by: User, version: int | None = None, **fields) -> Document:
    """The clerk's edit of a draft: title, 主送, 抄送, 附件 and the paragraphs (one a line)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise DocumentError(f"不能修改：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _locked(document)
        _refuse_draft(by, locked.kind, locked.issuing_unit)
        _in_state(locked, S.DRAFT)
        if version is not None and version != locked.version:
            raise DocumentConflict(locked.version)
        if "title" in fields and not str(fields["title"]).strip():
            raise DocumentError("请填写标题")
        before = {k: getattr(locked, k) for k in fields}
        for key, value in fields.items():
            setattr(locked, key, str(value).strip() if key == "title" else str(value))
        changes = audit.diff(before, {k: getattr(locked, k) for k in fields})
        if changes:
            locked.version += 1
            locked.save()
            _step(locked, by, "edited", **changes)
    return locked


def refresh_draft(*, document: Document, by: User) -> Document:
    """The generated part made again (a bulletin's figures as of now for a running period)."""
    with transaction.atomic():
        locked = _locked(document)
        _refuse_draft(by, locked.kind, locked.issuing_unit)
        _in_state(locked, S.DRAFT)
        locked.generated = _generate(locked, by)
        locked.generated_at = timezone.now()
        locked.version += 1
        locked.save()
        _step(locked, by, "refreshed")
    return locked


# --- sign-off ----------------------------------------------------------------------------------------


def submit_document(*, document: Document, by: User) -> Document:
    """送核: the draft goes to the office head's check."""
    with transaction.atomic():
        locked = _locked(document)
        _refuse_draft(by, locked.kind, locked.issuing_unit)
        _in_state(locked, S.DRAFT)
        if not (locked.generated.get("blocks") or locked.opening.strip() or locked.requirements.strip()):
            raise DocumentError("公文正文为空，请先填写")
        locked.state, locked.returned_note = S.CHECKING, ""
        locked.version += 1
        locked.save()
        _step(locked, by, "submitted", state=[S.DRAFT, S.CHECKING])
    return locked


def check_document(*, document: Document, by: User) -> Document:
    """核稿: the office head has checked the text; it goes to the leader to sign."""
    with transaction.atomic():
        locked = _locked(document)
        if not may_step(by, locked, SignOffStep.CHECK):
            raise Forbidden("无权核稿：您不是该类公文的核稿人")
        _in_state(locked, S.CHECKING)
        if drafter_may_not_check(by, locked):
            raise Forbidden("起草人不能核稿自己起草的公文，请由其他核稿人核稿")
        locked.state, locked.checked_by, locked.checked_at = S.SIGNING, by, timezone.now()
        locked.version += 1
        locked.save()
        _step(locked, by, "checked", state=[S.CHECKING, S.SIGNING])
    return locked


def return_document(*, document: Document, by: User, note: str) -> Document:
    """退回: back to the draft with a note, from the check or the signature."""
    if not note.strip():
        raise DocumentError("请填写退回意见")
    with transaction.atomic():
        locked = _locked(document)
        step = {S.CHECKING: SignOffStep.CHECK, S.SIGNING: SignOffStep.SIGN}.get(locked.state)
        if step is None:
            _in_state(locked, S.CHECKING, S.SIGNING)
        if not may_step(by, locked, step):
            raise Forbidden("无权退回：您不是该公文的核稿人或签发人")
        was = locked.state
        locked.state, locked.returned_note = S.DRAFT, note.strip()
        locked.checked_by, locked.checked_at = None, None
        locked.version += 1
        locked.save()
        _step(locked, by, "returned", note=note.strip(), state=[was, S.DRAFT])
    return locked


def document_number(unit: Unit, kind: str, year: int, seq: int) -> str:
    """江城通〔2026〕3号: the unit's 发文代字 (``doc_prefix`` without its 督, else its short name) and the
    kind's word, year and number."""
    base = (
        unit.doc_prefix.removesuffix("督") if unit.doc_prefix else (unit.short_name or unit.name).removesuffix("公安局")
    )
    return f"{base}{WORD[kind]}〔{year}〕{seq}号"


def _take(unit: Unit, series: str, year: int) -> int:
    """The next number of a sequence; its row stays locked until the caller commits (concurrent issuers
    queue; a failed issue gives its number back): ``inspections`` ``NoticeSequence``'s way."""
    DocumentSequence.objects.get_or_create(unit=unit, series=series, year=year)
    DocumentSequence.objects.filter(unit=unit, series=series, year=year).update(last=F("last") + 1)
    return DocumentSequence.objects.get(unit=unit, series=series, year=year).last


def sign_document(*, document: Document, by: User) -> Document:
    """签发 and issue: the leader's name and the date go on the document, its number is taken (a notice's
    document keeps the notice's), a bulletin gets its 第N期, and the whole content, its DOCX and PDF and
    the sha256 of its text are stored: from now on they are served, never made again."""
    stored: list = []
    try:
        with transaction.atomic():
            locked = _locked(document)
            if not may_step(by, locked, SignOffStep.SIGN):
                raise Forbidden("无权签发：您不是该类公文的签发人")
            _in_state(locked, S.SIGNING)
            now = timezone.now()
            today = timezone.localdate(now)
            if locked.kind == K.RECTIFICATION:
                locked.number, locked.year, locked.seq = locked.notice.number, locked.notice.year, locked.notice.seq
            else:
                locked.year = today.year
                locked.seq = _take(locked.issuing_unit, locked.kind, today.year)
                locked.number = document_number(locked.issuing_unit, locked.kind, today.year, locked.seq)
            if locked.kind == K.BULLETIN:
                locked.issue_no = _take(locked.issuing_unit, f"issue:{locked.campaign_id}", 0)
            locked.state, locked.signed_by, locked.signed_at, locked.issued_at = S.ISSUED, by, now, now
            locked.signer_name = by.name or by.username
            content = build.compose(locked, number=locked.number, signer=locked.signer_name, day=today)
            locked.content, locked.text_hash = content, build.text_hash(content)
            for field, data, ext in (
                (locked.pdf, render_pdf(content), "pdf"),
                (locked.docx, render_docx(content), "docx"),
            ):
                field.save(f"{locked.kind}.{ext}", ContentFile(data), save=False)
                stored.append(field.name)
            locked.version += 1
            locked.save()
            told = distribution.issue(locked, by)
            _step(
                locked,
                by,
                "signed",
                number=locked.number,
                hash=locked.text_hash,
                state=[S.SIGNING, S.ISSUED],
                recipients=told,
            )
    except BaseException:
        for name in stored:
            document.pdf.storage.delete(name)
        raise
    return locked
