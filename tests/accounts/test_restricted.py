"""``scope.restricted``: a narrowing built once per process for each set of grants is the narrowing
``restrict`` builds — the same rows and the same statement for every persona and action — and is built
again only for other grants; the kept queryset is copied, never evaluated."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import EmptyResultSet

from accounts import scope
from accounts.models import Role, Unit, User
from accounts.scope import Action
from tasks.models import Assignment
from tasks.rows import rows
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 6)


def shown():
    return Assignment.objects.select_related("item", "unit").order_by("due_date", "id")


def listed():
    return rows().order_by("due_date", "id")


@pytest.fixture(autouse=True)
def _nothing_kept():
    scope.BUILT.clear()
    yield
    scope.BUILT.clear()


@pytest.fixture
def builds(monkeypatch):
    """The narrowings ``restricted`` builds (its calls of ``restrict``)."""
    made: list[int] = []
    real = scope.restrict

    def counted(qs, user, action=Action.VIEW, **kwargs):
        made.append(user.pk)
        return real(qs, user, action, **kwargs)

    monkeypatch.setattr(scope, "restrict", counted)
    return made


def fresh(user: User) -> User:
    """The user as a new request has it: no scope cached on it."""
    return User.objects.get(pk=user.pk)


def statement(qs) -> str:
    try:
        return str(qs.query)
    except EmptyResultSet:  # none(): who may not take this action anywhere
        return "nothing"


@pytest.mark.parametrize("make", [shown, listed])
@pytest.mark.parametrize("action", list(Action))
def test_it_is_restrict_for_every_persona(city, published, make, action):
    for name, person in city.people.items():
        for _ in range(2):  # built, then kept
            user = fresh(person)
            got = scope.restricted(make, user, action)
            expected = scope.restrict(make(), fresh(person), action)
            assert statement(got) == statement(expected), name
            assert [r.id for r in got] == [r.id for r in expected], name
    assert all(found._result_cache is None for found in scope.BUILT.values())


def test_one_build_per_set_of_grants(city, published, builds):
    lead, u = city["station_lead"], city.units
    twin = make_user("twin", u["33031001"], (Role.UNIT_LEAD, u["33031001"]))  # the same station's second lead
    first = list(scope.restricted(shown, fresh(lead)))
    assert builds == [lead.pk] and first
    again = list(scope.restricted(shown, fresh(twin)))
    assert builds == [lead.pk] and [a.pk for a in again] == [a.pk for a in first]
    scope.restricted(shown, fresh(lead), Action.REPORT)  # another action: its own
    scope.restricted(listed, fresh(lead))  # another read: its own
    assert builds == [lead.pk] * 3
    west = list(scope.restricted(shown, fresh(city["west_lead"])))
    assert builds[-1] == city["west_lead"].pk and {a.unit.code[:6] for a in west} == {"330320"}


def test_a_change_of_grants_is_a_new_narrowing(city, published):
    lead, u = city["station_lead"], city.units
    before = {a.pk for a in scope.restricted(shown, fresh(lead))}
    from accounts.services import grant_role

    grant_role(user=lead, role=Role.UNIT_LEAD, unit=u["33031002"])
    after = {a.pk for a in scope.restricted(shown, fresh(lead))}
    assert before < after
    assert after == {a.pk for a in Assignment.objects.filter(unit__code__in=["33031001", "33031002"])}


def test_who_sees_nothing_is_not_kept(city, published, builds):
    nobody, gone = city["nobody"], fresh(city["west_lead"])
    assert list(scope.restricted(shown, fresh(nobody))) == []
    gone.is_active = False
    assert list(scope.restricted(shown, gone)) == []
    assert len(scope.BUILT) == 1  # the grantless user's none(), by its (empty) grants; not the inactive one
    assert builds == [nobody.pk, gone.pk]


def test_the_kept_ones_are_forgotten_past_the_limit(city, published, monkeypatch):
    monkeypatch.setattr(scope, "BUILT_LIMIT", 2)
    for name in ("hq", "station_lead", "west_lead"):
        scope.restricted(shown, fresh(city[name]))
    assert len(scope.BUILT) == 1  # cleared at the limit, then the last kept
    assert [a.pk for a in scope.restricted(shown, fresh(city["hq"]))] == [
        a.pk for a in scope.restrict(shown(), fresh(city["hq"]))
    ]


def test_the_campaigns_and_units_seen_are_built_once_per_set_of_grants(city, published):
    """``campaigns_for`` and ``scope.units`` (the statistics' every request) through ``by_grants``: what
    each persona sees, a draft only by HQ over its owner, as built directly."""
    from tasks.models import Campaign, CampaignStatus
    from tasks.queries import _campaigns_for, campaigns_for

    Campaign.objects.create(
        code="draft", name="草案", owner=city.units["3303"], status=CampaignStatus.DRAFT, start=TODAY, end=TODAY
    )
    for name, person in city.people.items():
        for _ in range(2):
            seen = {c.code for c in campaigns_for(fresh(person))}
            assert seen == {c.code for c in _campaigns_for(fresh(person))}, name
            assert ("draft" in seen) is (name == "hq"), name
            units = {u.code for u in scope.units(fresh(person), Action.REPORT)}
            assert units == {u.code for u in scope.restrict(Unit.objects.all(), fresh(person), Action.REPORT)}
    assert campaigns_for(fresh(city["station_lead"])).get().pk == published.pk
