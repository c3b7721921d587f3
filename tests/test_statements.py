"""utilities.statements: a read written once per connection, run with each call's value, its rows
converted as the ORM converts them; and the API token's one statement built on it."""

from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import scope
from accounts.models import Role, User
from accounts.services import grant_role
from accounts.tokens import TOKEN_USER
from utilities.statements import MARKER, Statement

pytestmark = pytest.mark.django_db


def test_a_statement_is_written_once_and_its_rows_converted(city):
    written = []

    def build(marker):
        written.append(marker)
        return User.objects.filter(username=marker).values_list("username", "date_joined", "is_active")

    statement = Statement(build)
    lead, hq = city["station_lead"], city["hq"]
    assert statement.rows(lead.username) == [(lead.username, lead.date_joined, True)]
    assert statement.rows(hq.username)[0][0] == hq.username
    assert statement.rows("no such user") == []
    assert written == [MARKER]  # the ORM wrote it once
    assert isinstance(statement.rows(lead.username)[0][1], datetime)  # a datetime on SQLite too


def test_a_statement_takes_its_value_once(city):
    twice = Statement(lambda m: User.objects.filter(username=m, first_name=m).values_list("pk"))
    with pytest.raises(ImproperlyConfigured, match="2 times"):
        twice.rows("x")


def test_the_token_reads_its_user_and_grants_in_one_statement(city):
    lead = city["station_lead"]
    key = Token.objects.create(user=lead).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/assignments/?mine=true")  # written once for this database
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/auth/tokens/").status_code == 200
    assert len(ctx.captured_queries) == 2  # the token with its user and grants; the tokens listed
    fresh = User.objects.get(pk=lead.pk)
    expected = {a: scope.scope_for(fresh, a) for a in scope.Action}
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/assignments/?mine=true").status_code == 200
    grants_apart = [q for q in ctx.captured_queries if q["sql"].lstrip().startswith('SELECT "accounts_rolegrant"')]
    assert grants_apart == []  # the scope came with the token
    request_user = User.objects.get(pk=lead.pk)
    scope.prime(request_user, TOKEN_USER.rows(key)[0][-1])
    assert {a: scope.scope_for(request_user, a) for a in scope.Action} == expected


def test_a_user_without_grants_and_one_with_several(city):
    lead = city["station_lead"]
    bare = User.objects.create_user("bare", password="x")
    key = Token.objects.create(user=bare).key
    scope.prime(bare, TOKEN_USER.rows(key)[0][-1])
    assert not scope.scope_for(bare, scope.Action.VIEW)
    grant_role(user=lead, role=Role.INSPECTOR, unit=city["330320"])
    key = Token.objects.create(user=lead).key
    primed = User.objects.get(pk=lead.pk)
    scope.prime(primed, TOKEN_USER.rows(key)[0][-1])
    fresh = User.objects.get(pk=lead.pk)
    assert scope.scope_for(primed, scope.Action.INSPECT) == scope.scope_for(fresh, scope.Action.INSPECT)
    assert scope.scope_for(primed, scope.Action.VIEW) == scope.scope_for(fresh, scope.Action.VIEW)
