"""Forms of the pages. They only shape input; the services in ``tasks.services`` decide and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.models import AssignmentStatus

# What the evidence picker offers; ops.uploads decides from the bytes what is actually accepted.
EVIDENCE_ACCEPT = "image/*,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.wps,.et"


class Form(forms.Form):
    """Labels without Django's trailing colon: the pages lay labels out above their fields."""

    label_suffix = ""


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


class ReportForm(Form):
    value = forms.DecimalField(
        label=_("Amount done since the last report"), required=False, min_value=0, max_digits=14, decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )  # fmt: skip
    text = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    period = forms.TypedChoiceField(label=_("Check-in period"), required=False, coerce=forms.DateField().to_python)
    files = MultipleFileField(label=_("Evidence (photos, PDF, Office documents)"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, periods=(), default_period=None, **kwargs):
        super().__init__(*args, **kwargs)
        if periods:
            self.fields["period"].choices = [(p.due.isoformat(), label) for p, label in periods]
            self.fields["period"].initial = default_period.isoformat() if default_period else None
        else:
            del self.fields["period"]


class TransitionForm(Form):
    name = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CommentForm(Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionForm(Form):
    requested_due = forms.DateField(label=_("New due date"), widget=forms.DateInput(attrs={"type": "date"}))
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
