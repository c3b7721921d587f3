"""The documents pages: the list per campaign, drafting (a bulletin from the bulletin page, a notice's
document from the notice page), the draft editor (the clerk's paragraphs beside the generated preview),
the sign-off buttons each role is offered (submit, check, sign, return with a note, refresh) and the
issued PDF/DOCX as stored. Reads through ``documents.queries`` (404 outside the scope); every form posts
to one ``documents.services`` call through ``pages.submit``."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.scope import Action
from boards import bulletin
from documents import distribution as dist
from documents import services as svc
from documents.models import Document, DocumentKind, DocumentState
from documents.queries import documents_for, file_response, get_document, steps
from documents.render.content import compose
from inspections.models import Notice
from tasks.queries import campaigns_for
from utilities.params import IdField

from .forms import PeriodForm
from .pages import list_query, paged, submit
from .summons import summons_context

STEP_WORDS = {
    "drafted": gettext_lazy("Drafted"),
    "edited": gettext_lazy("Edited"),
    "refreshed": gettext_lazy("Figures refreshed"),
    "submitted": gettext_lazy("Sent for checking"),
    "checked": gettext_lazy("Checked"),
    "returned": gettext_lazy("Returned"),
    "signed": gettext_lazy("Signed and issued"),
    "distribution": gettext_lazy("Recipients set"),
}
STEPS = {
    "refresh": svc.refresh_draft,
    "submit": svc.submit_document,
    "check": svc.check_document,
    "sign": svc.sign_document,
    "return": svc.return_document,
}


class ListQuery(forms.Form):
    campaign = IdField(required=False)
    kind = forms.ChoiceField(choices=DocumentKind.choices, required=False)
    state = forms.ChoiceField(choices=DocumentState.choices, required=False)


class DraftForm(forms.Form):
    """The clerk's part of a draft: one paragraph a line."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    recipients = forms.CharField(label=gettext_lazy("Addressees (主送)"), required=False)
    opening = forms.CharField(label=gettext_lazy("Opening"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    requirements = forms.CharField(
        label=gettext_lazy("Requirements"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    next_steps = forms.CharField(
        label=gettext_lazy("Next steps"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    attachments = forms.CharField(
        label=gettext_lazy("Attachments, one a line"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    cc = forms.CharField(label=gettext_lazy("Copies to (抄送)"), required=False)


class StepForm(forms.Form):
    step = forms.ChoiceField(choices=[(k, k) for k in STEPS])
    note = forms.CharField(required=False, max_length=2000)


class BulletinDraftForm(PeriodForm):
    campaign = IdField()
    unit = forms.CharField(max_length=32)


@login_required
def documents(request: HttpRequest) -> HttpResponse:
    asked, campaigns, campaign = list_query(request, ListQuery)
    qs = documents_for(request.user, campaign=campaign, kind=asked.get("kind", ""), state=asked.get("state", ""))
    context = {
        "page": paged(request, qs),
        "campaigns": campaigns,
        "campaign": campaign,
        "kinds": DocumentKind.choices,
        "states": DocumentState.choices,
        "asked": asked,
    }
    return render(request, "documents/documents.html", context)


def _document_page(
    request: HttpRequest, d: Document, status: int = 200, draft_form=None, step_form=None, summon_form=None, **bound
):
    user = request.user
    actions = svc.allowed_actions(user, d)
    content = d.content if d.is_issued else compose(d)
    initial = {k: getattr(d, k) for k in svc.EDITABLE} | {"version": d.version}
    context = {
        "d": d,
        "actions": actions,
        "content": content,
        "steps": [(s, STEP_WORDS.get(s.action, s.action)) for s in steps(d)],
        "form": draft_form or (DraftForm(initial=initial) if "edit" in actions else None),
        "step_form": step_form,
        **_distribution(user, d, bound),
    }
    context |= summons_context(user, d, summon_form)  # 约谈 of an issued bulletin's laggards (web/summons.py)
    return render(request, "documents/document.html", context, status=status)


@login_required
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft editor and preview (GET); the clerk's edit (POST)."""
    d = get_document(request.user, pk)
    if request.method != "POST":
        return _document_page(request, d)

    def call(data):
        version = data.pop("version")
        svc.update_draft(document=d, by=request.user, version=version, **data)
        return _("Draft saved."), reverse("web:documents-document", args=[d.pk])

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, DraftForm(request.POST), call, page=page, key="draft_form")


@login_required
@require_POST
def document_step(request: HttpRequest, pk: int) -> HttpResponse:
    """One step of the sign-off (``step``: refresh, submit, check, sign, return with ``note``)."""
    d = get_document(request.user, pk)

    def call(data):
        extra = {"note": data["note"]} if data["step"] == "return" else {}
        done = STEPS[data["step"]](document=d, by=request.user, **extra)
        message = {
            "refresh": _("Figures refreshed."),
            "submit": _("Sent for checking."),
            "check": _("Checked: sent for signature."),
            "sign": _("Signed and issued as %(number)s.") % {"number": done.number},
            "return": _("Returned to the draft."),
        }[data["step"]]
        return message, reverse("web:documents-document", args=[d.pk])

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, StepForm(request.POST), call, page=page, key="step_form")


@login_required
@require_POST
def document_new_bulletin(request: HttpRequest) -> HttpResponse:
    """起草: the bulletin of the bulletin page's campaign, unit and period as a draft."""
    user = request.user

    def call(data):
        campaign = get_object_or_404(campaigns_for(user), pk=data["campaign"])
        unit = get_object_or_404(scope.units(user, Action.VIEW), code=data["unit"])
        kind, chosen = data.get("period") or ("", None)
        period = bulletin.period_of(campaign, kind, chosen) if kind else bulletin.default_period(campaign)
        if period is None:  # a round not of this campaign
            raise Http404
        made = svc.draft_bulletin(by=user, campaign=campaign, unit=unit, period=period)
        return _("Draft %(title)s started.") % {"title": made.title}, reverse("web:documents-document", args=[made.pk])

    back = lambda status, **bound: _refused_page(request, status)  # noqa: E731
    return submit(request, BulletinDraftForm(request.POST), call, page=back, key="form")


@login_required
@require_POST
def document_new_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """起草: the official document of a rectification notice (one per notice)."""
    n = scope.get_or_404(
        Notice.objects.select_related("campaign", "issuing_unit", "unit", "inspection"), request.user, pk=pk
    )

    def call(data):
        made = svc.draft_notice_document(by=request.user, notice=n)
        return _("Draft %(title)s started.") % {"title": made.title}, reverse("web:documents-document", args=[made.pk])

    back = lambda status, **bound: _refused_page(request, status)  # noqa: E731
    return submit(request, forms.Form(request.POST), call, page=back, key="form")


def _refused_page(request: HttpRequest, status: int) -> HttpResponse:
    """A draft refused from another page: the documents list says why (the message)."""
    return render(request, "documents/refused.html", {}, status=status)


@login_required
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return file_response(get_document(request.user, pk), "pdf")


@login_required
def document_docx(request: HttpRequest, pk: int) -> HttpResponse:
    return file_response(get_document(request.user, pk), "docx")


# --- distribution: recipients, 签收, 催办, outside bodies sent (docs/documents.md, "Distribution") -----------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("，", "\n").replace(",", "\n").splitlines() if line.strip()]


class RecipientsForm(forms.Form):
    """A draft's recipients: units by code and outside bodies by name, one a line (or comma-separated)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    units = forms.CharField(
        label=gettext_lazy("Units (主送), codes one a line"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    copies = forms.CharField(
        label=gettext_lazy("Units (抄送), codes one a line"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    bodies = forms.CharField(
        label=gettext_lazy("Outside bodies (主送), one a line"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    body_copies = forms.CharField(
        label=gettext_lazy("Outside bodies (抄送), one a line"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class AcknowledgeForm(forms.Form):
    unit = forms.CharField(max_length=32, required=False)  # the recipient unit, when the user signs for several


class ChaseForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)


class SentForm(forms.Form):
    recipient = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.CharField(label=gettext_lazy("Channel"), max_length=40)
    sent_on = forms.DateField(label=gettext_lazy("Sent on"), widget=forms.DateInput(attrs={"type": "date"}))


def _distribution(user, d: Document, bound: dict) -> dict:
    rows = list(dist.recipients(d))
    units = [r for r in rows if r.unit_id]
    actions = dist.actions(user, d)
    form = bound.get("recipients_form")
    if form is None and "edit" in actions:
        main = [r for r in rows if r.role == "main"]
        copy = [r for r in rows if r.role == "copy"]
        form = RecipientsForm(
            initial={
                "version": d.version,
                "units": "\n".join(r.unit.code for r in main if r.unit_id),
                "copies": "\n".join(r.unit.code for r in copy if r.unit_id),
                "bodies": "\n".join(r.body for r in main if not r.unit_id),
                "body_copies": "\n".join(r.body for r in copy if not r.unit_id),
            }
        )
    return {
        "distribution": rows,
        "dist_actions": actions,
        "receipt_units": len(units),
        "receipt_done": sum(1 for r in units if r.acknowledged_at),
        "recipients_form": form,
        "chase_form": bound.get("chase_form") or ChaseForm(),
        "sent_form": bound.get("sent_form"),
        "today": timezone.localdate(),
    }


def _back(d: Document) -> str:
    return reverse("web:documents-document", args=[d.pk]) + "#distribution"


@login_required
@require_POST
def document_recipients(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft's recipients set (the clerk): the 主送/抄送 lines follow."""
    d = get_document(request.user, pk)

    def call(data):
        codes = _lines(data["units"]), _lines(data["copies"])
        found, missing = scope.units_by_code(request.user, Action.VIEW, [*codes[0], *codes[1]])
        if missing:
            raise svc.DocumentError(_("Unknown units: %(codes)s") % {"codes": "、".join(missing)})
        bodies = [(b, "main") for b in _lines(data["bodies"])] + [(b, "copy") for b in _lines(data["body_copies"])]
        dist.set_recipients(
            document=d,
            by=request.user,
            units=[found[c] for c in codes[0]],
            copies=[found[c] for c in codes[1]],
            bodies=bodies,
            version=data["version"],
        )
        return _("Recipients saved."), _back(d)

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, RecipientsForm(request.POST), call, page=page, key="recipients_form")


@login_required
@require_POST
def document_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收 for the user's recipient unit."""
    d = get_document(request.user, pk)

    def call(data):
        unit = None
        if data["unit"]:
            unit = get_object_or_404(scope.units(request.user, Action.VIEW), code=data["unit"])
        row = dist.acknowledge(document=d, by=request.user, unit=unit)
        return _("Acknowledged for %(unit)s.") % {"unit": row.unit.name}, _back(d)

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, AcknowledgeForm(request.POST), call, page=page, key="ack_form")


@login_required
@require_POST
def document_chase(request: HttpRequest, pk: int) -> HttpResponse:
    """催办 the recipient units that have not acknowledged."""
    d = get_document(request.user, pk)

    def call(data):
        done = dist.chase(document=d, by=request.user, note=data["note"])
        message = _("Chased %(n)s units.") % {"n": done.chased}
        if done.already:
            message += " " + _("%(n)s chased today already.") % {"n": done.already}
        return message, _back(d)

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, ChaseForm(request.POST), call, page=page, key="chase_form")


@login_required
@require_POST
def document_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """An outside body's copy recorded as sent: the channel and the date."""
    d = get_document(request.user, pk)

    def call(data):
        row = dist.record_sent(document=d, by=request.user, **data)
        return _("Recorded as sent to %(body)s.") % {"body": row.body}, _back(d)

    page = lambda status, **bound: _document_page(request, d, status, **bound)  # noqa: E731
    return submit(request, SentForm(request.POST), call, page=page, key="sent_form")
