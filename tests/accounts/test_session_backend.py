"""accounts.backends.ScopedModelBackend: the session's user read with its grants in one statement —
the same user and scope as Django's ``ModelBackend`` and ``scope_for`` would give, the same refusals."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import scope
from accounts.backends import SESSION_USER, ScopedModelBackend
from accounts.models import User
from utilities.statements import INT_MARKER, Statement

pytestmark = pytest.mark.django_db

BACKEND = "accounts.backends.ScopedModelBackend"


def test_an_integer_statement_takes_its_value_once(city):
    lead = city["station_lead"]
    by_id = Statement(lambda m: User.objects.filter(pk=m).values_list("username"), marker=INT_MARKER)
    assert by_id.rows(lead.pk) == [(lead.username,)]
    assert by_id.rows(10**9) == []


def test_the_session_user_is_djangos_with_its_scope_primed(city):
    backend = ScopedModelBackend()
    for name in ("station_lead", "hq", "east_leader", "east_lead"):
        person = city[name]
        mine = backend.get_user(person.pk)
        theirs = ModelBackend().get_user(person.pk)
        assert {k: v for k, v in vars(mine).items() if not k.startswith("_")} == {
            k: v for k, v in vars(theirs).items() if not k.startswith("_")
        }
        primed = mine.__dict__["_scope_cache"]["grants"]
        assert sorted(primed) == sorted(person.grants.values_list("role", "unit__path")), name
        for action in scope.Action:
            assert scope.scope_for(mine, action) == scope.scope_for(User.objects.get(pk=person.pk), action)


def test_an_inactive_missing_or_odd_id_has_no_user(city):
    backend = ScopedModelBackend()
    lead = city["station_lead"]
    User.objects.filter(pk=lead.pk).update(is_active=False)
    assert backend.get_user(lead.pk) is None
    assert backend.get_user(10**9) is None
    assert backend.get_user("x") is None
    assert backend.get_user(2**70) is None and backend.get_user(-1) is None


def test_a_signed_in_page_reads_its_user_and_grants_in_one_statement(city):
    lead = city["station_lead"]
    client = Client()
    client.force_login(lead, backend=BACKEND)
    assert client.session[BACKEND_SESSION_KEY] == BACKEND and client.session[SESSION_KEY] == str(lead.pk)
    client.get("/my/")  # written once for this database
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/my/").status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    grants_apart = [s for s in sql if s.lstrip().startswith('SELECT "accounts_rolegrant"')]
    users = [s for s in sql if s.lstrip().startswith('SELECT "accounts_user"')]
    assert grants_apart == []
    assert len(users) == 1 and "accounts_rolegrant" in users[0]  # the user, its grants with it
    assert SESSION_USER.written  # the statement kept for the next request


def test_signing_in_with_the_form_uses_it(city, settings):
    lead = city["station_lead"]
    lead.set_password("pw-session-backend")
    lead.save()
    client = Client()
    answer = client.post("/accounts/login/", {"username": lead.username, "password": "pw-session-backend"})
    assert answer.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == BACKEND
    assert client.get("/my/").status_code == 200
