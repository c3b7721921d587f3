"""The permission matrix: role × own unit / subordinate / parent / sibling / other branch × action."""

import pytest
from django.db import connection
from django.http import Http404
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts import scope
from accounts.models import Role, Unit, User
from accounts.scope import Action
from tests.conftest import City
from tests.matrix_support import fixture_body, kept_for_the_module

V, R, M, I = Action.VIEW, Action.REPORT, Action.MANAGE, Action.INSPECT  # noqa: E741

# persona -> unit code -> the actions allowed there
MATRIX = {
    "hq": {"3303": {V, M, I}, "330310": {V, M, I}, "33031001": {V, M, I}, "330320": {V, M, I}},
    "east_lead": {"330310": {V, R}, "33031001": {V, R}, "3303": set(), "330320": set(), "33032001": set()},
    "station_lead": {"33031001": {V, R}, "33031002": set(), "330310": set(), "33032001": set()},
    "inspector": {"3303": {V, I}, "33031001": {V, I}, "33032001": {V, I}},
    "east_leader": {"330310": {V}, "33031002": {V}, "3303": set(), "330320": set()},
    "west_lead": {"330320": {V, R}, "33032001": {V, R}, "330310": set(), "33031001": set()},
    "nobody": {"330310": set(), "33031001": set(), "3303": set()},
}
CASES = [
    (persona, code, action, action in allowed)
    for persona, row in MATRIX.items()
    for code, allowed in row.items()
    for action in Action
]


@pytest.fixture(scope="module")
def kept_city(django_db_setup, django_db_blocker):
    """The ``city`` fixture's rows (tests/conftest.py), made once for the module (rolled back at its end):
    built per case they cost 165 queries, for 222 cases that only read them. Each case runs in a
    savepoint of that transaction, as with ``TestCase.setUpTestData``."""

    def build():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            city = fixture_body("city")(None)
        return {code: u.pk for code, u in city.units.items()}, {name: u.pk for name, u in city.people.items()}

    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


@pytest.fixture
def city(kept_city, db) -> City:
    """This module's ``city``: the kept one as fresh instances, so no case reads a scope another case
    cached on a user object; each case's writes are rolled back with its savepoint."""
    units, people = kept_city
    fresh_units, fresh_people = Unit.objects.in_bulk(units.values()), User.objects.in_bulk(people.values())
    return City(
        {code: fresh_units[pk] for code, pk in units.items()},
        {name: fresh_people[pk] for name, pk in people.items()},
    )


@pytest.mark.parametrize(("persona", "code", "action", "allowed"), CASES)
def test_can(city, persona, code, action, allowed):
    assert scope.can(city[persona], action, city.units[code]) is allowed


@pytest.mark.parametrize(("persona", "code", "action", "allowed"), CASES)
def test_restrict_agrees_with_can(city, persona, code, action, allowed):
    visible = scope.units(city[persona], action)
    assert visible.filter(code=code).exists() is allowed


def test_superuser_sees_everything(city):
    root = User.objects.create_superuser("root", password="x")
    assert scope.units(root, Action.MANAGE).count() == Unit.objects.count()


def test_inactive_user_sees_nothing(city):
    user = city["hq"]
    user.is_active = False
    assert not scope.units(user).exists()


def test_overlapping_grants_are_merged(city):
    from accounts.services import grant_role

    user = city["station_lead"]
    grant_role(user=user, role=Role.UNIT_LEAD, unit=city.units["330310"])
    assert scope.scope_for(user, Action.REPORT).paths == (city.units["330310"].path,)


def test_subtree_is_one_query(city):
    user = city["east_lead"]
    scope.scope_for(user, Action.VIEW)  # grants cached on the user object
    with CaptureQueriesContext(connection) as ctx:
        codes = set(scope.units(user).values_list("code", flat=True))
    assert codes == {"330310", "33031001", "33031002", "33031003"}
    assert len(ctx.captured_queries) == 1


def test_with_ancestors_admits_units_above(city):
    s = scope.scope_for(city["station_lead"], Action.VIEW)
    above = set(Unit.objects.filter(s.q("", with_ancestors=True)).values_list("code", flat=True))
    assert above == {"3303", "330310", "33031001"}


def test_get_or_404_hides_other_branch(city):
    west = city.units["33032001"]
    with pytest.raises(Http404):
        scope.get_or_404(Unit.objects.all(), city["east_lead"], via="", pk=west.pk)
    assert scope.get_or_404(Unit.objects.all(), city["west_lead"], via="", pk=west.pk) == west
