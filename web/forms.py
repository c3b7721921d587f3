"""Forms of the pages. They only shape input; the services in ``tasks.services`` decide and write."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from inspections.models import Category, FindingStatus, InspectionKind, LetterStatus, Severity
from tasks.models import AMOUNT_MAX, AMOUNT_PLACES, AMOUNT_TOO_LARGE, AssignmentStatus, CommentKind
from tasks.targets import label as target_label
from utilities.params import CodeField, DateField, IdField

# What the evidence picker offers; utilities.uploads decides from the bytes what is actually accepted.
EVIDENCE_ACCEPT = "image/*,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.wps,.et"


class Form(forms.Form):
    """Labels without Django's trailing colon: the pages lay labels out above their fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @classmethod
    def parsed(cls, data) -> dict:
        """The well-formed fields of ``data``: a malformed one is left out, as if it had not been sent
        (what a query form of a page does with ``?inspection=²``: the page as without it)."""
        form = cls(data)
        form.is_valid()
        return form.cleaned_data


# --- what the pages' queries name (parsed, never read by hand: ``utilities.params``) ------------------------


class PickQuery(Form):
    """The finding form's preselection: the running inspection and the unit."""

    inspection = IdField()
    unit = CodeField()


class NoticeQuery(Form):
    """A notice to issue: for the unit, from an inspection's findings or one finding."""

    unit = CodeField()
    inspection = IdField()
    finding = IdField()


class LetterQuery(Form):
    """A risk letter to issue: for the unit, from an inspection or a finding (its source)."""

    unit = CodeField()
    inspection = IdField()
    finding = IdField()


class LetterFilter(Form):
    """The risk letters list's filters: status, a unit (and those under it), overdue only."""

    status = forms.ChoiceField(choices=[("", ""), *LetterStatus.choices], required=False)
    unit = CodeField()
    overdue = forms.BooleanField(required=False)


class InspectionQuery(Form):
    """An inspection to plan, about a listed hotspot."""

    hotspot = IdField()
    kind = forms.ChoiceField(choices=InspectionKind.choices, required=False)


class PeriodForm(Form):
    """The bulletin's period (ASCII digits): "w<yyyy-mm-dd>" the week holding that day, "r<round id>" a round,
    "m<yyyy-mm>" a month, "c<yyyy-mm-dd>" the campaign so far (行动以来) to that day, "d<yyyy-mm-dd>..<yyyy-mm-dd>"
    any range; or ``start`` and ``end`` typed as dates (``end`` alone: the campaign so far to it). ``zeros``
    keeps the indicators that are 0 in the period and a year before."""

    period = forms.CharField(required=False, max_length=30)
    start = DateField(required=False)
    end = DateField(required=False)
    zeros = forms.BooleanField(required=False)

    def clean_period(self) -> tuple[str, Any] | None:
        value = self.cleaned_data["period"]
        if not value:
            return None
        from boards.bulletin import parse_key  # the one reading of a period's key, shared with the documents

        try:
            kind, parsed = parse_key(value)
        except ValueError:
            raise forms.ValidationError("not a period") from None
        for day in parsed if isinstance(parsed, tuple) else [parsed]:
            if isinstance(day, date):
                DateField().clean(day)  # within the years a page may name
        return kind, parsed

    def clean(self):
        data = super().clean()
        if data.get("end"):  # typed dates win over the list's choice
            data["period"] = ("range", (data["start"], data["end"])) if data.get("start") else ("so_far", data["end"])
        return data


class DayQuery(Form):
    """The day a unit reports its figures for."""

    day = DateField(required=False)


class ReportUnitForm(Form):
    """The unit whose figures the report page shows, typed by its code: a city HQ enters for ~1,650 units,
    too many for a select, so a datalist offers the codes with the names. A code that is none of ``units``
    (no such unit, or one the user may not enter figures for: the same words) is a form error."""

    unit = CodeField(
        label=_("Unit"),
        widget=forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off", "size": 24}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units

    def clean_unit(self):
        typed = self.cleaned_data["unit"].strip()
        if not typed:
            return None
        code = typed.split()[0]  # "33031001 城关派出所", as a datalist entry may be typed out
        unit = self.units.filter(code=code).first()
        if unit is None:
            raise forms.ValidationError(
                _("“%(code)s” is not a unit whose figures you may enter: type its unit code or pick it from the list."),
                params={"code": code},
            )
        return unit


class SummaryForm(Form):
    """HQ's summary sheet: the day (a round: its last day) it is for, and the filled sheet."""

    day = DateField(label=_("Day"))
    file = forms.FileField(label=_("Summary sheet (.xlsx or .csv)"))


class CampaignQuery(Form):
    campaign = IdField()


class ChecklistQuery(Form):
    """The checklist to export: the campaign, the file (Excel by default), and whether to add each item's
    completion and overdue units (``progress=1``)."""

    campaign = IdField()
    format = forms.ChoiceField(choices=[("xlsx", "Excel"), ("docx", "Word")], required=False)
    progress = forms.ChoiceField(choices=[("0", "0"), ("1", "1")], required=False)


class UnitIdQuery(Form):
    unit = IdField()


class RetryForm(Form):
    """HQ's retry of one dead letter (``message``), else of those the filter shows."""

    message = IdField()


class DateInput(forms.DateInput):
    """The browser's date picker; its value is always ISO (yyyy-mm-dd), whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def amount_field(label) -> forms.DecimalField:
    """An amount a unit enters (done, a share): optional, not negative, bounded by its value (not by a count
    of digits) so that one message says the limit (``tasks.models.AMOUNT_MAX``)."""
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=AMOUNT_MAX,
        decimal_places=AMOUNT_PLACES,
        error_messages={"max_value": AMOUNT_TOO_LARGE},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )


class ReportForm(Form):
    value = amount_field(_("Amount done since the last report"))
    text = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    target = forms.TypedChoiceField(label=_("Counts toward the target"), required=False, coerce=int, empty_value=None)
    period = forms.TypedChoiceField(label=_("Check-in period"), required=False, coerce=forms.DateField().to_python)
    files = MultipleFileField(label=_("Evidence (photos, PDF, Office documents)"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, periods=(), default_period=None, targets=(), **kwargs):
        """``targets``: the item's targets an amount may be reported on (those not linked to the results
        statistics), offered when it is not just the first; the first offered is the default."""
        super().__init__(*args, **kwargs)
        if len(targets) > 1 or (targets and targets[0].seq != 1):  # not just the first: say which
            self.fields["target"].choices = [(t.seq, f"{t.seq}. {t.text}") for t in targets]
            self.fields["target"].initial = targets[0].seq
        else:
            del self.fields["target"]
        if periods:
            self.fields["period"].choices = [(p.due.isoformat(), label) for p, label in periods]
            self.fields["period"].initial = default_period.isoformat() if default_period else None
        else:
            del self.fields["period"]


class AcknowledgeForm(Form):
    """签收: nothing to fill in; one tap."""


class TransitionForm(Form):
    name = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_shortfall = forms.BooleanField(label=_("Submit below the target anyway"), required=False)


class ReviewFilterForm(Form):
    """The filters of HQ's review desk; every field optional. The unit is typed by its code (a datalist of
    HQ's units) and means its subtree; a code outside HQ's manage scope is a form error (no rows shown)."""

    ORDERS = {"oldest": ("updated_at", "id"), "newest": ("-updated_at", "-id")}
    EVIDENCE = {"": None, "yes": True, "no": False}

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    action = forms.TypedChoiceField(label=_("Line of action"), required=False, coerce=int, empty_value=None)
    unit = CodeField(
        label=_("Unit (and the units under it)"),
        widget=forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off", "size": 18}),
    )
    since = DateField(label=_("Submitted since"), required=False, widget=DateInput())
    evidence = forms.TypedChoiceField(
        label=_("Evidence"),
        required=False,
        choices=[("", _("With or without evidence")), ("yes", _("With evidence")), ("no", _("Without evidence"))],
        coerce=EVIDENCE.get,
        empty_value=None,
    )
    order = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[("oldest", _("Oldest first")), ("newest", _("Newest first"))]
    )

    def __init__(self, *args, campaigns=(), actions=(), units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units
        self.fields["campaign"].choices = [("", _("All campaigns")), *((c.pk, c.name) for c in campaigns)]
        self.fields["action"].choices = [
            ("", _("All lines of action")),
            *((x.pk, f"{x.campaign.name} · {x.name}" if len(campaigns) > 1 else x.name) for x in actions),
        ]

    def clean_unit(self):
        typed = (self.cleaned_data["unit"] or "").strip()
        if not typed:
            return None
        code = typed.split()[0]  # "33031001 城关派出所", as a datalist entry may be typed out
        unit = self.units.filter(code=code).first() if self.units is not None else None
        if unit is None:
            raise forms.ValidationError(
                _("“%(code)s” is not a unit whose work you review: type its unit code or pick it from the list."),
                params={"code": code},
            )
        return unit


class ReviewRowsField(forms.MultipleChoiceField):
    """The rows ticked on the review desk, each "id:version" (the version the page showed, so that work
    changed meanwhile is refused as stale rather than accepted unseen). ASCII digits only."""

    ROW = re.compile(r"[0-9]{1,18}:[0-9]{1,9}")

    def valid_value(self, value) -> bool:
        return bool(self.ROW.fullmatch(value))

    def clean(self, value):
        rows = super().clean(value)
        return [tuple(int(part) for part in row.split(":")) for row in dict.fromkeys(rows)]


class ReviewBulkForm(Form):
    """Accept or return the ticked rows at once, with one reason (required to return)."""

    rows = ReviewRowsField(
        error_messages={
            "required": _("Tick the work to accept or return."),
            "invalid_choice": _("A ticked row is malformed; reload the page."),
        }
    )
    action = forms.ChoiceField(choices=[("accept", _("Accept")), ("return", _("Return"))])
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "return" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Write the reason for returning the work."))
        return data


class CommentForm(Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))
    # a plain comment, a request for the leader's instruction (报请领导批示) or a leader's instruction (批示)
    kind = forms.ChoiceField(label=_("Kind"), choices=CommentKind.choices, required=False, widget=forms.RadioSelect)


class ExtensionForm(Form):
    requested_due = DateField(label=_("New due date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(Form):
    approve = forms.TypedChoiceField(choices=[("1", _("Approve")), ("0", _("Refuse"))], coerce=lambda v: v == "1")
    note = forms.CharField(label=_("Note"), required=False)


class TaskFilterForm(Form):
    """The search and filters of "my tasks"; every field optional."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    below = forms.BooleanField(label=_("Include units under mine"), required=False)

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *AssignmentStatus.choices]
        self.fields["campaign"].choices = [("", _("All campaigns")), *((c.pk, c.name) for c in campaigns)]


# --- Supervision -------------------------------------------------------------------------------------

# What the photo pickers offer; utilities.uploads accepts only images and PDF for findings, from the bytes.
PHOTO_ACCEPT = "image/*,application/pdf"


def photo_field(label, *, camera: bool) -> MultipleFileField:
    """A photo picker; ``camera`` opens the phone's rear camera straight away (``capture``)."""
    attrs = {"accept": PHOTO_ACCEPT}
    if camera:
        attrs["capture"] = "environment"
    return MultipleFileField(label=label, required=False, widget=MultipleFileInput(attrs=attrs))


class UnitChoiceField(forms.ModelChoiceField):
    """A unit by its code: a select for a few units, a type-ahead list (datalist) for a whole scope."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("empty_label", _("Choose a unit"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return obj.name


class FindingForm(Form):
    """Logging a finding on a phone: the unit, where, what, a photo. Everything else has a default."""

    inspection = forms.TypedChoiceField(label=_("Inspection"), required=False, coerce=int, empty_value=None)
    unit = UnitChoiceField(queryset=None, label=_("Unit responsible"))
    place = forms.CharField(label=_("Place"), max_length=200)
    description = forms.CharField(label=_("Problem found"), widget=forms.Textarea(attrs={"rows": 3}))
    camera = photo_field(_("Take a photo"), camera=True)
    photos = photo_field(_("Or choose photos"), camera=False)
    category = forms.ChoiceField(label=_("Category"))
    severity = forms.ChoiceField(label=_("Severity"))
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int)

    def __init__(self, *args, units, inspections=(), campaigns=(), datalist=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        if datalist:
            self.fields["unit"].widget = forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off"})
        self.fields["category"].choices = Category.choices
        self.fields["severity"].choices = Severity.choices
        if inspections:
            self.fields["inspection"].choices = [("", _("None (ad hoc)")), *inspections]
        else:
            del self.fields["inspection"]
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]
        if len(campaigns) == 1:
            self.fields["campaign"].widget = forms.HiddenInput()
            self.fields["campaign"].initial = campaigns[0].pk

    @property
    def files_chosen(self):
        return [*self.cleaned_data.get("camera", []), *self.cleaned_data.get("photos", [])]


class AnswerForm(Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    camera = photo_field(_("Take a photo"), camera=True)
    files = photo_field(_("Or choose photos or a PDF"), camera=False)


class VerifyForm(Form):
    accept = forms.TypedChoiceField(choices=[("1", _("Verified")), ("0", _("Not fixed"))], coerce=lambda v: v == "1")
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    new_deadline = DateField(label=_("New deadline"), required=False, widget=DateInput())


class NoticeForm(Form):
    findings = forms.TypedMultipleChoiceField(
        label=_("Findings to rectify"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    deadline = DateField(label=_("Rectification deadline"), widget=DateInput())
    requirements = forms.CharField(label=_("Requirements"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, findings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["findings"].choices = [(f.pk, f"{f.place}：{f.description}") for f in findings]


class InspectionForm(Form):
    kind = forms.ChoiceField(label=_("Kind"))
    planned_on = DateField(label=_("Date"), widget=DateInput())
    units = forms.ModelMultipleChoiceField(
        queryset=None, label=_("Units to inspect"), to_field_name="code", widget=forms.SelectMultiple(attrs={"size": 8})
    )
    hotspot = forms.TypedChoiceField(label=_("Listed hotspot"), required=False, coerce=int, empty_value=None)
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int)

    def __init__(self, *args, units, hotspots=(), campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = InspectionKind.choices
        self.fields["units"].queryset = units
        self.fields["units"].label_from_instance = lambda u: u.name
        self.fields["hotspot"].choices = [("", _("None")), *((h.pk, f"{h.name}（{h.unit.name}）") for h in hotspots)]
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]
        if len(campaigns) == 1:
            self.fields["campaign"].widget = forms.HiddenInput()
            self.fields["campaign"].initial = campaigns[0].pk


class CompleteForm(Form):
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    extend_to = DateField(label=_("If not accepted: new deadline"), required=False, widget=DateInput())
    reason = forms.CharField(label=_("Reason for the extension"), required=False)

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for c in self.criteria:
            self.fields[f"passed_{c.pk}"] = forms.TypedChoiceField(
                label=c.text,
                choices=[("1", _("Pass")), ("0", _("Fail"))],
                coerce=lambda v: v == "1",
                widget=forms.RadioSelect,
            )
            self.fields[f"note_{c.pk}"] = forms.CharField(label=_("Note"), required=False)
        if not self.criteria:
            del self.fields["extend_to"], self.fields["reason"]

    def verdict_fields(self):
        return [(self[f"passed_{c.pk}"], self[f"note_{c.pk}"]) for c in self.criteria]


class HotspotForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    area = forms.CharField(label=_("Area"), max_length=300, required=False)
    unit = UnitChoiceField(queryset=None, label=_("Responsible unit"))
    responsible_name = forms.CharField(label=_("Responsible person"), max_length=50)
    problems = forms.CharField(label=_("Problems"), widget=forms.Textarea(attrs={"rows": 3}))
    criteria = forms.CharField(label=_("Acceptance criteria (one per line)"), widget=forms.Textarea(attrs={"rows": 3}))
    listed_on = DateField(label=_("Listed on"), widget=DateInput())
    deadline = DateField(label=_("Deadline"), widget=DateInput())
    inspect_every_days = forms.IntegerField(label=_("Inspect every (days)"), initial=7, min_value=1, max_value=90)
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int)

    def __init__(self, *args, units, campaigns=(), datalist=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        if datalist:
            self.fields["unit"].widget = forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off"})
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]
        if len(campaigns) == 1:
            self.fields["campaign"].widget = forms.HiddenInput()
            self.fields["campaign"].initial = campaigns[0].pk


class FindingFilterForm(Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("My unit only"), required=False)
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *FindingStatus.choices]
        self.fields["campaign"].choices = [("", _("All campaigns")), *((c.pk, c.name) for c in campaigns)]


class PreferenceForm(Form):
    """How a user takes its reminders. The in-app inbox always gets them (or the digest)."""

    DIGEST = {"": None, "1": True, "0": False}

    email = forms.BooleanField(label=_("Also by email"), required=False)
    webhook = forms.BooleanField(label=_("Also by SMS / messaging bot"), required=False)
    digest = forms.TypedChoiceField(
        label=_("Single messages or a digest"),
        choices=[
            ("", _("As my role suggests: single messages as a unit lead, one daily digest as a leader or HQ")),
            ("1", _("One daily digest at 8:30")),
            ("0", _("Every reminder as it comes")),
        ],
        coerce=DIGEST.get,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    weekly = forms.BooleanField(label=_("The weekly summary of my scope (Mondays)"), required=False)

    @classmethod
    def initial_of(cls, pref) -> dict:
        digest = next(k for k, v in cls.DIGEST.items() if v is pref.digest)
        return {"email": pref.email, "webhook": pref.webhook, "digest": digest, "weekly": pref.weekly}


class OutboxFilterForm(Form):
    q = forms.CharField(label=_("Recipient"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    about = forms.ChoiceField(label=_("About"), required=False)

    def __init__(self, *args, **kwargs):
        from notifications.models import Channel, MessageStatus, Subject

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *MessageStatus.choices]
        self.fields["channel"].choices = [("", _("All channels")), *Channel.choices]
        self.fields["about"].choices = [("", _("Everything")), *Subject.choices, ("digest", _("Digests"))]


# --- Items (HQ edits) --------------------------------------------------------------------------------


class UnitCodesField(forms.CharField):
    """Unit codes typed or pasted, separated by spaces, commas or 、: the list of codes, each once."""

    SEPARATORS = re.compile(r"[\s,，、;；]+")

    def clean(self, value) -> list[str]:
        codes = list(dict.fromkeys(c for c in self.SEPARATORS.split(super().clean(value) or "") if c))
        if any(len(code) > 32 for code in codes):
            raise forms.ValidationError(_("Enter unit codes separated by spaces."))
        return codes


class ItemEditForm(Form):
    """HQ's change of a published item: its words, target, deadline and the units it names one by one.
    ``update_item`` decides; the view passes only the fields that changed."""

    title = forms.CharField(label=_("task"), widget=forms.Textarea(attrs={"rows": 2}))
    measures = forms.CharField(label=_("measures"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    target_text = forms.CharField(label=_("target"), required=False, max_length=500)
    target_value = forms.DecimalField(
        label=_("target value"),
        required=False,
        max_value=AMOUNT_MAX,
        min_value=-AMOUNT_MAX,
        decimal_places=AMOUNT_PLACES,
        error_messages={"max_value": AMOUNT_TOO_LARGE, "min_value": AMOUNT_TOO_LARGE},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    deadline_text = forms.CharField(label=_("deadline"), max_length=200)
    due_date = DateField(label=_("due date"), required=False, widget=DateInput())
    lead_text = forms.CharField(label=_("lead units"), max_length=500)
    lead_units = UnitCodesField(label=_("Lead units (codes)"), required=False)
    cooperating_text = forms.CharField(label=_("cooperating units"), required=False, max_length=500)
    cooperating_units = UnitCodesField(label=_("Cooperating units (codes)"), required=False)
    confirm = forms.BooleanField(label=_("Withdraw work already reported"), required=False)

    def __init__(self, *args, targets=(), indicators=None, **kwargs):
        """``targets``: the item's Target rows, each given a choice of the campaign's ``indicators`` (its
        progress then comes from the results statistics), ``indicator_<seq>``."""
        super().__init__(*args, **kwargs)
        for target in targets:
            name = f"indicator_{target.seq}"
            self.fields[name] = forms.ModelChoiceField(
                queryset=indicators,
                required=False,
                empty_label=_("not linked: reported on the assignment"),
                label=format_lazy(_("Target {seq} “{text}” counts the indicator"), seq=target.seq, text=target.text),
            )
            self.initial.setdefault(name, target.indicator_id)

    def indicators(self) -> dict[int, object]:
        """The links changed: target seq → the indicator chosen, or None."""
        return {
            int(name.removeprefix("indicator_")): self.cleaned_data[name]
            for name in self.changed_data
            if name.startswith("indicator_")
        }


# --- Pass-down (逐级分解) ----------------------------------------------------------------------------


class ShareRowForm(Form):
    """One row of a pass-down: a unit under the lead's (typed by code from a datalist), its share of the
    target, its due date (the parent's unless changed) and a word to the unit. A row left as it came is
    skipped; ``cascade.pass_down`` decides the rest (the sum, the dates again, the ancestry)."""

    unit = CodeField(label=_("Unit"), required=True)
    target = amount_field(_("Share of the target"))
    due_date = DateField(label=_("Due"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, units=None, parent_due: date | None = None, later=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units  # the units under the lead's, a queryset
        self.later = list(later)  # the item's later targets: one amount each (``Share.targets``)
        self.fields["due_date"].initial = parent_due
        self.fields["unit"].widget.attrs["list"] = "share-units"
        for target in self.later:
            self.fields[f"target_{target.seq}"] = amount_field(target_label(target))
        for field in self.fields.values():  # laid out as a table: the column heads are the labels
            field.widget.attrs["aria-label"] = field.label

    def later_fields(self) -> list:
        """The bound fields of the later targets' shares, in the targets' order (the row's columns)."""
        return [self[f"target_{t.seq}"] for t in self.later]

    @staticmethod
    def targets_of(data: dict, later) -> dict[int, object]:
        """A filled row's shares of the later targets: seq → amount, those left empty left out."""
        return {t.seq: data[f"target_{t.seq}"] for t in later if data.get(f"target_{t.seq}") is not None}

    def clean_unit(self):
        code = self.cleaned_data["unit"]
        unit = self.units.filter(code=code).first() if code else None
        if unit is None:
            raise forms.ValidationError(_("Not a unit under this one: %(code)s") % {"code": code})
        return unit


ShareRows = forms.formset_factory(ShareRowForm, extra=0, max_num=100, absolute_max=100, validate_max=True)


class PassDownForm(Form):
    """分解下发: the rows of shares (a formset, ``rows``; ``EMPTY_ROWS`` empty ones without JavaScript, more
    added by ``static/js/pass_down.js``) and the lead's word that it keeps what the shares leave."""

    EMPTY_ROWS = 4
    keep_remainder = forms.BooleanField(label=_("The remainder is kept by this unit"), required=False)

    def __init__(self, data=None, *, units, parent_due: date, later=(), first_label: str = "", **kwargs):
        super().__init__(data, **kwargs)
        self.later = list(later)  # the item's targets after the first: a column each
        self.first_label = first_label  # the first target's column head where there are later ones
        self.heads = [(t.seq, target_label(t)) for t in self.later]  # the later targets' column heads
        kwargs = {"units": units, "parent_due": parent_due, "later": self.later}
        if data is None:
            self.rows = ShareRows(prefix="share", form_kwargs=kwargs, initial=None)
            self.rows.extra = self.EMPTY_ROWS
        else:
            self.rows = ShareRows(data, prefix="share", form_kwargs=kwargs)

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.rows.is_valid()]) and self._some_rows()

    def _some_rows(self) -> bool:
        if not self.filled():
            self.add_error(None, _("Fill in at least one unit."))
            return False
        return True

    def filled(self) -> list[tuple[int, dict]]:
        """The rows filled in, with their index in the formset."""
        return [(i, f.cleaned_data) for i, f in enumerate(self.rows.forms) if f.has_changed() and f.cleaned_data]


# --- a campaign's reminder rules (HQ: ``notifications.policies``) --------------------------------------------

LADDER_ROWS = 6
WEEKDAYS = [
    (0, _("Never")),
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]
DAYS_LIST = re.compile(r"^\s*\d{1,3}(\s*[,，、]\s*\d{1,3})*\s*$", re.ASCII)


class PolicyForm(Form):
    """A campaign's reminder rules as HQ reads them: days before as "3,1", the ladder as rows (from day N
    overdue: whom), the weekday of the behind-pace reminder, the quiet hours, the 签收 window. Each row's
    problem is shown on the row; the service checks the whole again (``policies.problems_of``)."""

    before_days = forms.CharField(
        label=_("Remind before the due date (days)"),
        max_length=60,
        required=False,
        help_text=_("Comma-separated, e.g. 3,1: three days and one day before; empty: not before"),
    )
    on_the_day = forms.BooleanField(label=_("Remind on the due date"), required=False)
    behind_weekday = forms.TypedChoiceField(
        label=_("Weekly reminder to units behind the planned pace on"), choices=WEEKDAYS, coerce=int
    )
    receipt_hours = forms.IntegerField(
        label=_("Acknowledge within (working hours)"),
        min_value=0,
        max_value=999,
        help_text=_(
            "Not acknowledged (签收) after this many working hours: the unit's leads are reminded; after twice as many, the superior unit's leads. 7 = one working day, 0 = never"
        ),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, **kwargs):
        from notifications.models import Audience
        from notifications.policies import LADDER_AUDIENCES

        super().__init__(*args, **kwargs)
        audiences = [("", "—"), *((a, Audience(a).label) for a in LADDER_AUDIENCES)]
        for i in range(LADDER_ROWS):
            self.fields[f"day_{i}"] = forms.IntegerField(
                label=_("From day (overdue)"), min_value=1, max_value=365, required=False
            )
            self.fields[f"audience_{i}"] = forms.ChoiceField(label=_("Remind"), choices=audiences, required=False)

    @classmethod
    def initial_of(cls, values: dict) -> dict:
        """The form's initial values from ``policies.values_of``."""
        initial = {name: values[name] for name in ("on_the_day", "behind_weekday", "receipt_hours")}
        initial["before_days"] = ",".join(str(d) for d in values["before_days"])
        initial["quiet_start"], initial["quiet_end"] = values["quiet_start"], values["quiet_end"]
        for i, rung in enumerate(values["ladder"][:LADDER_ROWS]):
            initial[f"day_{i}"], initial[f"audience_{i}"] = rung["day"], rung["audience"]
        return initial

    def rows(self) -> list[tuple]:
        return [(self[f"day_{i}"], self[f"audience_{i}"]) for i in range(LADDER_ROWS)]

    def clean_before_days(self) -> list[int]:
        text = self.cleaned_data["before_days"].strip()
        if not text:
            return []
        if not DAYS_LIST.match(text):
            raise forms.ValidationError(_("Write whole days separated by commas, e.g. 3,1"))
        days = [int(d) for d in re.split(r"[,，、]", text)]
        if any(not 1 <= d <= 365 for d in days):
            raise forms.ValidationError(_("Each day must be between 1 and 365"))
        return sorted(set(days), reverse=True)

    def clean(self):
        data = super().clean()
        ladder, seen = [], set()
        for i in range(LADDER_ROWS):
            day, audience = data.get(f"day_{i}"), data.get(f"audience_{i}")
            if f"day_{i}" in self.errors:
                continue
            if day and not audience:
                self.add_error(f"audience_{i}", _("Choose whom to remind"))
            elif audience and not day:
                self.add_error(f"day_{i}", _("Give the day overdue from which to remind"))
            elif day and audience:
                if (day, audience) in seen:
                    self.add_error(f"day_{i}", _("This row repeats another"))
                seen.add((day, audience))
                ladder.append({"day": day, "audience": audience})
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if start is not None and start == end:
            self.add_error("quiet_end", _("The quiet hours cannot start and end at the same time"))
        data["ladder"] = ladder
        return data

    def rules(self) -> dict:
        """The cleaned rules, as ``policies.save_policy`` takes them."""
        from notifications.policies import FIELDS

        return {name: self.cleaned_data[name] for name in FIELDS}


class PolicyResetForm(Form):
    pass


class LetterForm(Form):
    """风险提示函: to whom, what risk, the measures required and by when the unit answers."""

    unit = UnitChoiceField(queryset=None, label=_("To"))
    title = forms.CharField(label=_("Title"), max_length=200)
    risk = forms.CharField(label=_("Risk found"), widget=forms.Textarea(attrs={"rows": 4}))
    requirements = forms.CharField(label=_("Measures required"), widget=forms.Textarea(attrs={"rows": 4}))
    reply_by = DateField(label=_("Reply by"), widget=DateInput())
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, units, campaigns=(), datalist=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        if datalist:
            self.fields["unit"].widget = forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off"})
        self.fields["campaign"].choices = [("", _("None")), *((c.pk, c.name) for c in campaigns)]


class LetterAnswerForm(Form):
    text = forms.CharField(label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 4}))
    camera = photo_field(_("Take a photo"), camera=True)
    files = photo_field(_("Or choose photos or a PDF"), camera=False)


class LetterCloseForm(Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LetterReturnForm(Form):
    reason = forms.CharField(label=_("Why the answer is returned"), widget=forms.Textarea(attrs={"rows": 2}))
    reply_by = DateField(label=_("New reply-by date"), required=False, widget=DateInput())


# --- Directives (督办事项) ---------------------------------------------------------------------------


class DirectiveFilterForm(Form):
    """HQ's desk: by campaign, source, level, a unit's subtree (code), status, overdue."""

    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(label=_("Source"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    unit = CodeField(label=_("Unit (code)"), widget=forms.TextInput(attrs={"list": "unit-options", "size": 12}))
    status = forms.ChoiceField(label=_("Status"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, campaigns=(), **kwargs):
        from directives.models import Level, Source, Status

        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", _("All campaigns")), *((c.pk, c.name) for c in campaigns)]
        self.fields["source"].choices = [("", _("All sources")), *Source.choices]
        self.fields["level"].choices = [("", _("All levels")), *((v, label) for v, label in Level.choices if v)]
        self.fields["status"].choices = [("", _("All statuses")), *Status.choices]


class DirectiveForm(Form):
    """立项: what, where from, who leads and helps (unit codes), by when; a case's fields; secret."""

    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=500)
    source = forms.ChoiceField(label=_("Source"))
    text = forms.CharField(label=_("What is to be done"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    instruction = forms.CharField(
        label=_("The instruction's words"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    instructed_by = forms.CharField(label=_("Instructed by"), required=False, max_length=100)
    instructed_on = DateField(label=_("Instructed on"), required=False, widget=DateInput())
    lead_units = UnitCodesField(label=_("Lead units (codes)"))
    cooperating_units = UnitCodesField(label=_("Cooperating units (codes)"), required=False)
    due_date = DateField(label=_("Deadline (solve by)"), widget=DateInput())
    feedback_weekday = forms.TypedChoiceField(
        label=_("Weekly feedback by"), required=False, coerce=int, empty_value=None, choices=()
    )
    level = forms.ChoiceField(label=_("Level"), required=False)
    leader_name = forms.CharField(label=_("Leader in charge"), required=False, max_length=100)
    secret = forms.BooleanField(label=_("Secret: only the named units and HQ see it"), required=False)
    is_case = forms.BooleanField(label=_("Listed major case"), required=False)
    case_no = forms.CharField(label=_("Case number"), required=False, max_length=60)
    case_type = forms.CharField(label=_("Case type"), required=False, max_length=60)
    crime_date = DateField(label=_("Date of the crime"), required=False, widget=DateInput())
    hand_down = forms.BooleanField(label=_("Hand down at once"), required=False, initial=True)

    def __init__(self, *args, campaigns=(), **kwargs):
        from directives.models import Level, Source

        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]
        self.fields["source"].choices = Source.choices
        self.fields["level"].choices = Level.choices
        self.fields["feedback_weekday"].choices = [("", _("No weekly feedback")), *WEEKDAYS[1:]]


class DirectiveReviewForm(Form):
    """审核 the completion report: accept (销号) or return with the reason; a case's outcome with the accept."""

    decision = forms.ChoiceField(choices=[("accept", _("Accept and close")), ("return", _("Return"))])
    reason = forms.CharField(label=_("Reason (to return)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    unit = CodeField(label=_("Lead unit (code)"))
    outcome = forms.ChoiceField(label=_("Case outcome"), required=False)

    def __init__(self, *args, **kwargs):
        from directives.models import Outcome

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = Outcome.choices


class DirectiveCompleteForm(Form):
    """办结报告 of a lead unit (``unit``: the code, when the user reports for several named units)."""

    report = forms.CharField(label=_("Completion report"), widget=forms.Textarea(attrs={"rows": 4}))
    unit = CodeField(widget=forms.HiddenInput())


class DirectiveRateForm(Form):
    rating = forms.ChoiceField(label=_("Rating"))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from directives.models import Rating

        super().__init__(*args, **kwargs)
        self.fields["rating"].choices = [(v, label) for v, label in Rating.choices if v]
