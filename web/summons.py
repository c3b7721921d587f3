"""The 约谈 pages (``documents/summons.py``): HQ's list (``/summons/``), a summons with its 约谈通知, record,
commitments (each a directive) and history, the forms to hold and to cancel it, and the summoning form on an
issued bulletin's page (``summons_context``, posted to ``/summons/new/<bulletin>/``). Reads through the
summons' scoped reads (404 out of sight); every form posts to one service through ``pages.submit``."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.models import Unit
from accounts.scope import Action
from documents import summons as sm
from documents.models import Document, DocumentKind, SummonsState
from documents.queries import get_document
from utilities.params import CodeField, DateField, IdField

from .pages import list_query, paged, submit

COMMITMENT_ROWS = 5  # the hold form's rows of commitments (text, deadline)


HISTORY_WORDS = {
    "summons.created": gettext_lazy("Summoned"),
    "summons.held": gettext_lazy("Summons recorded"),
    "summons.cancelled": gettext_lazy("Summons cancelled"),
}


class ListQuery(forms.Form):
    campaign = IdField(required=False)
    state = forms.ChoiceField(choices=SummonsState.choices, required=False)
    unit = CodeField(required=False)


class SummonForm(forms.Form):
    """约谈: the laggards ticked, when and where, who must attend."""

    units = forms.MultipleChoiceField(label=gettext_lazy("Units to summon"), widget=forms.CheckboxSelectMultiple)
    day = DateField(label=gettext_lazy("Day"))
    at = forms.TimeField(label=gettext_lazy("Time"), initial=time(9), widget=forms.TimeInput(attrs={"type": "time"}))
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200)
    attendance = forms.CharField(label=gettext_lazy("Who must attend"), max_length=200, initial=sm.ATTENDANCE)

    def __init__(self, *args, laggards: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = [(x["code"], f"{x['unit']}（{x['reasons']}）") for x in laggards]


class HoldForm(forms.Form):
    """The 约谈 held: its record and up to ``COMMITMENT_ROWS`` commitments (text and deadline, both or neither)."""

    held_on = DateField(label=gettext_lazy("Held on"))
    attendees = forms.CharField(label=gettext_lazy("Attendees"), widget=forms.Textarea(attrs={"rows": 2}))
    chaired_by = forms.CharField(label=gettext_lazy("Chaired by"), max_length=100, required=False)
    minutes = forms.CharField(label=gettext_lazy("What was said"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, COMMITMENT_ROWS + 1):
            self.fields[f"text_{n}"] = forms.CharField(
                label=gettext_lazy("Commitment %(n)s") % {"n": n}, max_length=2000, required=False
            )
            self.fields[f"deadline_{n}"] = DateField(label=gettext_lazy("Deadline %(n)s") % {"n": n}, required=False)

    def clean(self):
        data = super().clean()
        rows = []
        for n in range(1, COMMITMENT_ROWS + 1):
            text, deadline = (data.get(f"text_{n}") or "").strip(), data.get(f"deadline_{n}")
            if text and not deadline:
                self.add_error(f"deadline_{n}", _("A commitment needs its deadline."))
            elif deadline and not text:
                self.add_error(f"text_{n}", _("A deadline needs its commitment."))
            elif text:
                rows.append(sm.Commitment(text, deadline))
        data["commitments"] = rows
        return data

    def rows(self):
        return [(self[f"text_{n}"], self[f"deadline_{n}"]) for n in range(1, COMMITMENT_ROWS + 1)]


class CancelForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why"), max_length=2000)


# --- the list and one summons -----------------------------------------------------------------------


@login_required
def summonses(request: HttpRequest) -> HttpResponse:
    """HQ's list of 约谈 (anyone sees those of the units in view: a unit's own)."""
    user = request.user
    asked, campaigns, campaign = list_query(request, ListQuery)
    # the summonses under a unit (the list is the user's in any case: a unit above one's own narrows to it)
    unit = Unit.objects.filter(code=asked["unit"]).first() if asked.get("unit") else None
    qs = sm.summonses_for(user, campaign=campaign, state=asked.get("state", ""), unit=unit)
    if asked.get("unit") and unit is None:  # no such unit: nothing
        qs = qs.none()
    context = {
        "page": paged(request, qs),
        "campaigns": campaigns,
        "campaign": campaign,
        "unit": unit,
        "states": SummonsState.choices,
        "asked": asked,
    }
    return render(request, "documents/summons_list.html", context)


def _page(request: HttpRequest, s, status: int = 200, hold_form=None, cancel_form=None) -> HttpResponse:
    actions = sm.allowed_actions(request.user, s)
    context = {
        "s": s,
        "actions": actions,
        "commitments": sm.commitments(s),
        "history": [(e, HISTORY_WORDS.get(e.verb, e.verb)) for e in sm.history(s)],
        "hold_form": hold_form or (HoldForm(initial={"held_on": timezone.localdate()}) if "hold" in actions else None),
        "cancel_form": cancel_form or (CancelForm() if "cancel" in actions else None),
    }
    return render(request, "documents/summons_detail.html", context, status=status)


@login_required
def summons(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, sm.get_summons(request.user, pk))


@login_required
@require_POST
def summons_hold(request: HttpRequest, pk: int) -> HttpResponse:
    s = sm.get_summons(request.user, pk)

    def call(data):
        sm.hold_summons(
            summons=s,
            by=request.user,
            held_on=data["held_on"],
            attendees=data["attendees"],
            chaired_by=data["chaired_by"],
            minutes=data["minutes"],
            commitments=data["commitments"],
        )
        words = _("The summons is recorded; %(n)s commitments handed down as directives.")
        return words % {"n": len(data["commitments"])}, reverse("web:summons-summons", args=[s.pk])

    page = lambda status, **bound: _page(request, s, status, **bound)  # noqa: E731
    return submit(request, HoldForm(request.POST), call, page=page, key="hold_form")


@login_required
@require_POST
def summons_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    s = sm.get_summons(request.user, pk)

    def call(data):
        sm.cancel_summons(summons=s, by=request.user, note=data["note"])
        return _("The summons is cancelled."), reverse("web:summons-summons", args=[s.pk])

    page = lambda status, **bound: _page(request, s, status, **bound)  # noqa: E731
    return submit(request, CancelForm(request.POST), call, page=page, key="cancel_form")


# --- summoning from the bulletin's page ----------------------------------------------------------------


def summons_context(user, d: Document, form: SummonForm | None = None) -> dict:
    """What an issued bulletin's page shows of its 约谈: the summonses made from it, and for HQ over its
    issuing unit the form to summon the laggards it named and not yet summoned."""
    if d.kind != DocumentKind.BULLETIN or not d.is_issued:
        return {}
    made = list(sm.summonses_for(user).filter(bulletin=d).order_by("unit__path", "id"))
    if form is None and sm.may_summon(user, d):
        taken = {s.unit.code for s in made if s.state != SummonsState.CANCELLED}
        left = [x for x in sm.laggards_of(d) if x["code"] not in taken]
        if left:
            when = sm.default_when(d)
            form = SummonForm(laggards=left, initial={"units": [x["code"] for x in left], "day": when.date()})
    return {"summonses": made, "summon_form": form}


@login_required
@require_POST
def summons_new(request: HttpRequest, pk: int) -> HttpResponse:
    """约谈 the laggards ticked on an issued bulletin's page: their summonses and 约谈通知 drafts."""
    from .documents import _document_page

    user = request.user
    d = get_document(user, pk)
    if not sm.may_summon(user, d):
        raise PermissionDenied
    form = SummonForm(request.POST, laggards=sm.laggards_of(d))

    def call(data):
        found, _unknown = scope.units_by_code(user, Action.VIEW, data["units"])
        when = timezone.make_aware(datetime.combine(data["day"], data["at"]))
        made = sm.summon_units(
            by=user,
            bulletin=d,
            units=[found[c] for c in data["units"] if c in found],
            scheduled_at=when,
            place=data["place"],
            attendance=data["attendance"],
        )
        words = _("%(n)s units summoned: their notices are drafted.") % {"n": len(made)}
        target = reverse("web:summons-summons", args=[made[0].pk]) if len(made) == 1 else reverse("web:summons")
        return words, target + ("" if len(made) == 1 else f"?campaign={d.campaign_id}")

    page = lambda status, **bound: _document_page(request, d, status, summon_form=bound.get("summon_form"))  # noqa: E731
    return submit(request, form, call, page=page, key="summon_form")
