"""What an id, a unit code or a date may be when a request names one: the fields every page form, query form,
API serializer and list filter parses them with, so a parameter is never read by hand.

Why: ``"²".isdigit()`` is true and ``int("²")`` fails, so a hand-made ``int(x) if x.isdigit()`` made a 500;
a date of year 1 or 9999 is valid to ``date.fromisoformat`` and then overflows when 同比 moves it a year
back or 环比 a window before (``OverflowError``, ``ValueError``). Here an id is an ASCII-or-Unicode whole
number in the range of a database key, a code has no NUL (PostgreSQL refuses it in a query), and a date is
between ``EARLIEST`` and ``LATEST`` — far outside any campaign, far inside what date arithmetic can reach.
A value outside is a form error (a page) or a 400 naming the field (the API).
"""

from __future__ import annotations

import copy
from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.utils import translate_validation
from rest_framework import serializers

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_ID = 2**63 - 1  # a BigAutoField key

OUT_OF_RANGE = _("Enter a date between 2000-01-01 and 2099-12-31.")


def date_validators() -> list:
    return [
        MinValueValidator(EARLIEST, message=OUT_OF_RANGE),
        MaxValueValidator(LATEST, message=OUT_OF_RANGE),
    ]


class DateField(forms.DateField):
    """A date of a page's form or query, within ``EARLIEST``..``LATEST``."""

    default_validators = date_validators()


class IdField(forms.IntegerField):
    """The id of a row a page's query names (an inspection, a hotspot, a message …)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class CodeField(forms.CharField):
    """A unit code in a page's query (Django's CharField already refuses NUL)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class ApiDateField(serializers.DateField):
    """A date in an API body, within ``EARLIEST``..``LATEST`` (400 naming the field outside)."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), *date_validators()]
        super().__init__(**kwargs)


class DateFilter(filters.DateFilter):
    """A date filter of an API list, within ``EARLIEST``..``LATEST``."""

    field_class = DateField


class IdFilter(filters.NumberFilter):
    """A filter by the id of a related row (``?campaign=``, ``?parent=``, ``?notice=`` …): a whole number in
    the range of a key, matched against the caller's already scoped list. An id out of the caller's scope
    and one that no row has answer alike — the same empty list — where a choice among all rows of the
    table (django-filter's default for a foreign key) answered 400 only for the one that does not exist."""

    field_class = IdField


class ScopedFilterSet(filters.FilterSet):
    """The base of every API list's filters (``utilities.params.FilterBackend`` builds ``filterset_fields`` on it
    too): a foreign key filters by id, never by a choice among the table's rows; a date stays in range."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        **{
            field: {"filter_class": IdFilter}
            for field in (
                models.ForeignKey,
                models.OneToOneField,
                models.OneToOneRel,
                models.ManyToManyField,
                models.ManyToOneRel,
                models.ManyToManyRel,
            )
        },
        models.DateField: {"filter_class": DateFilter},
    }

    def __init__(self, *args, **kwargs):
        cls = type(self)
        if type(cls.__dict__.get("base_filters")) is not _Filters:
            cls.base_filters = _Filters(cls.base_filters)
        super().__init__(*args, **kwargs)

    def get_form_class(self):
        """The form class of this filter set, made once per class rather than per request (each request
        made every filter's form field and a new class; issue 19's CPU per request). Safe because no
        filter here builds its field from the request: a foreign key filters by id (``IdFilter``), never
        by a queryset of choices. Its forms share the class's fields (``_Fields``)."""
        form = type(self).__dict__.get("_form_class")
        if form is None:
            form = super().get_form_class()
            form.base_fields = _Fields(form.base_fields)
            type(self)._form_class = form
        return form


class _Filters(dict):
    """A filter set class's filters, copied for each filter set made (django-filter deep-copies them: every
    filter's arguments, choices and lookups, 550 copies a lead's list, a sixth of its CPU). A filter set
    sets its own ``model`` and ``parent`` on its filters and nothing else, so a shallow copy of each
    filter is one of its own — but for a filter by ``method``, whose ``FilterMethod`` names the filter it
    belongs to (and through it the filter set): set again on the copy. What the filters hold (their
    field's arguments) is read, never written."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, f in self.items():
            new = copies[name] = copy.copy(f)
            if f.method is not None:
                new.method = f.method
        return copies


class _Fields(dict):
    """A filter form class's fields, shared by its forms (Django's form deep-copies them per form, to let
    a form change its own choices or widgets: the filter forms never do — their fields come from the
    filters, the same for every request — and only clean and render them)."""

    def __deepcopy__(self, memo):
        return dict(self)


def asked_only(form) -> None:
    """The fields of a filter ``form`` that its request names (a parameter of the field's name, or of a
    name it starts, as a range's ``_min``/``_after``): a filter whose parameter is absent filters nothing,
    yet its field was cleaned for every request — a lead's list cleaned fifteen to filter by one. Only
    for filtering: a form shown (the browsable API's) keeps all its fields."""
    keys = list(form.data)
    form.fields = {
        name: field
        for name, field in form.fields.items()
        if any(key == (asked := form.add_prefix(name)) or key.startswith(asked + "_") for key in keys)
    }


class FilterBackend(filters.DjangoFilterBackend):
    """DRF's django-filter backend with ``ScopedFilterSet`` as the base of the filters it generates."""

    filterset_base = ScopedFilterSet
    _generated: dict[tuple[type, type], type] = {}

    def filter_queryset(self, request, queryset, view):
        """A list's filters filter lists: the one row a detail route names (``GET …/{id}/``, its actions)
        is looked up in the view's scoped queryset alone — django-filter's filter set and form made to
        narrow one lookup by id cost as much as the rest of the lookup (issue 19's CPU per request)."""
        if getattr(view, "detail", False):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        asked_only(filterset.form)
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        return filterset.qs

    def get_filterset_class(self, view, queryset=None):
        """A view's ``filterset_fields`` become one filter set class per view and model, made on the first
        request (django-filter makes a new class, its filters and form, on every request)."""
        if getattr(view, "filterset_class", None) or not getattr(view, "filterset_fields", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model)
        found = self._generated.get(key)
        if found is None:
            found = self._generated[key] = super().get_filterset_class(view, queryset)
        return found
