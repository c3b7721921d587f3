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
