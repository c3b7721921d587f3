"""A filter set's filters and form fields are copied cheaply per request (``utilities.params``): each filter
set still has filters of its own, bound to it, and filters as before."""

import copy

import pytest
from django.http import QueryDict
from django_filters.filters import FilterMethod

from tasks.api import AssignmentFilter
from tasks.models import Assignment


def _filterset(user, query):
    request = type("Request", (), {"user": user})()
    return AssignmentFilter(QueryDict(query), queryset=Assignment.objects.all(), request=request)


@pytest.mark.django_db
def test_each_filter_set_has_its_own_filters_bound_to_it_and_its_forms_share_the_fields():
    one, two = _filterset(None, "overdue=true"), _filterset(None, "status=pending")
    for name, f in one.filters.items():
        other = two.filters[name]
        assert f is not other and f is not AssignmentFilter.base_filters[name], name
        assert f.parent is one and other.parent is two and f.model is Assignment
        if f.method is not None:
            # the method filter calls its own filter set's method, not the first one's
            assert isinstance(f.filter, FilterMethod) and f.filter.f is f and other.filter.f is other
            assert f.filter.method.__self__ is one and other.filter.method.__self__ is two
    assert one.form.fields is not two.form.fields
    assert all(one.form.fields[name] is two.form.fields[name] for name in one.form.fields)
    assert one.form.is_valid() and two.form.is_valid()
    assert one.form.cleaned_data["overdue"] is True and two.form.cleaned_data["status"] == ["pending"]
    # a deep copy of the class's filters (what django-filter makes per filter set) is a shallow one per filter
    copied = copy.deepcopy(AssignmentFilter.base_filters)
    assert copied.keys() == AssignmentFilter.base_filters.keys()
    assert all(copied[n].extra is AssignmentFilter.base_filters[n].extra for n in copied)


def test_a_method_filter_filters_by_its_own_requests_user(city, published):
    east, west = city["station_lead"], city["west_lead"]
    first, second = _filterset(east, "mine=true"), _filterset(west, "mine=true")
    mine, theirs = set(first.qs), set(second.qs)
    assert mine and theirs and not mine & theirs
    assert {a.unit_id for a in mine} == {east.unit_id}
    assert {a.unit_id for a in theirs} == {west.unit_id}


def test_only_the_filters_a_request_names_are_cleaned(city, published):
    """``asked_only``: a list's filter form cleans the fields its parameters name (a range's suffixed ones
    too); a filter not named filters nothing, as before; a named one with a bad value is still a 400 naming
    it."""
    from django import forms as django_forms
    from rest_framework.test import APIClient

    from utilities.params import asked_only

    lead = _filterset(city["station_lead"], "overdue=true&page=2&ordering=-due_date")
    asked_only(lead.form)
    assert list(lead.form.fields) == ["overdue"]
    assert lead.is_valid() and list(lead.form.cleaned_data) == ["overdue"]
    whole = _filterset(city["station_lead"], "overdue=true")
    assert whole.is_valid() and len(whole.form.cleaned_data) == len(AssignmentFilter.base_filters) > 10
    assert [a.pk for a in lead.qs.order_by("id")] == [a.pk for a in whole.qs.order_by("id")]

    class Ranged(django_forms.Form):
        size = django_forms.IntegerField(required=False)
        due = django_forms.DateField(required=False)

    ranged = Ranged(QueryDict("due_after=2026-01-01&sizes=3"))
    asked_only(ranged)
    assert list(ranged.fields) == ["due"]  # "due_after" is the range's; "sizes" is no field's

    client = APIClient()
    client.force_login(city["hq"])
    refused = client.get("/api/v1/assignments/?due_before=2026-13-01&mine=true")
    assert refused.status_code == 400 and list(refused.json()) == ["due_before"]
    assert client.get("/api/v1/assignments/?mine=true").status_code == 200
