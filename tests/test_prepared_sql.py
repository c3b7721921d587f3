"""Kept statements run as PostgreSQL prepared statements (``utilities.backends.postgresql.prepared``): the
same rows as the statement sent as text, prepared the second time a connection meets it, never for a
subtree's pattern, refused ones run as text without harming the transaction, bounded, forgotten on DDL,
shown as written, and off with ``PREPARED_SQL=0``."""

from __future__ import annotations

import pytest
from django.db import DataError, NotSupportedError, connection, connections, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.models import Unit
from tasks.models import Assignment
from utilities.backends.kept import KEPT
from utilities.backends.postgresql import prepared
from utilities.backends.postgresql.prepared import PREPARABLE, PreparingConnection, numbered

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
    pytest.mark.django_db,
]


@pytest.fixture(autouse=True)
def _fresh():
    """Each test starts with nothing kept, marked or prepared."""
    connection.ensure_connection()
    KEPT.clear()
    PREPARABLE.clear()
    connection.connection.forget()
    yield
    KEPT.clear()
    PREPARABLE.clear()
    if connection.connection is not None and not connection.connection.closed:
        connection.connection.forget()


def _held() -> dict[str, tuple[str, int, int]]:
    """The statements this connection has prepared: name → (statement, generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (text, generic, custom) for name, text, generic, custom in cursor.fetchall()}


def _by_code(code: str) -> list[tuple]:
    return list(Unit.objects.filter(code=code, is_active=True).values_list("code", "name", "kind"))


def test_the_numbering_of_a_statements_values():
    assert numbered("SELECT %s, 'a%%b' FROM t WHERE x = %s AND y LIKE %s") == (
        "SELECT $1, 'a%b' FROM t WHERE x = $2 AND y LIKE $3",
        3,
    )
    assert numbered("SELECT 1") == ("SELECT 1", 0)


def test_a_kept_statement_is_prepared_the_second_time_the_connection_meets_it_and_reads_the_same(city):
    raw = connection.connection
    assert isinstance(raw, PreparingConnection)
    codes = ["33031001", "33031002", "330310", "3303", "33032001", "nothing", "330320", "33031003"]
    expected = {}
    for code in codes:  # as text, the shape first written by Django, then kept
        with connection.cursor() as cursor:
            cursor.execute("SELECT code, name, kind FROM accounts_unit WHERE code = %s AND is_active", [code])
            expected[code] = cursor.fetchall()
    KEPT.clear()
    PREPARABLE.clear()
    raw.forget()

    got = {code: _by_code(code) for code in codes}

    assert got == {code: [tuple(row) for row in rows] for code, rows in expected.items()}
    held = _held()
    assert len(held) == 1, held
    ((statement, generic, custom),) = held.values()
    assert "PREPARE kept_" in statement and "$1" in statement and '"accounts_unit"."code" = $1' in statement
    # written by Django (not marked), then kept and marked, met once by the connection: from the third on
    # it ran prepared
    assert generic + custom == len(codes) - 2
    assert generic >= 1  # from the sixth run on PostgreSQL plans it once for every value


def test_a_subtrees_pattern_is_never_prepared(city):
    for _ in range(4):
        list(Unit.objects.filter(path__startswith=city.units["330310"].path).values_list("code"))
    assert not any(" LIKE " in text for text in PREPARABLE)
    assert _held() == {}


def test_a_pattern_anchored_to_a_row_or_a_unit_is_prepared(city, published):
    branch = city.units["330310"]
    station = city.units["33031001"]

    def reads():
        yield Assignment.objects.filter(unit__path__startswith=branch.path, unit=station)  # one unit: anchored
        yield Unit.objects.filter(path__startswith=branch.path, pk=station.pk)  # one row: anchored
        yield Assignment.objects.filter(Q(unit=station) | Q(unit__path__startswith=branch.path))  # either: not
        yield Assignment.objects.filter(unit__path__startswith=branch.path).exclude(unit=station)  # not it: not
        yield Assignment.objects.filter(unit__path__startswith=branch.path, status="pending")  # a status: not

    for _ in range(3):
        for qs in reads():
            list(qs.values_list("pk"))
    held = [text for text, _, _ in _held().values()]
    assert len(held) == 2, held
    assert all(" LIKE $" in text for text in held)
    assert any('"tasks_assignment"."unit_id" = $' in text for text in held)
    assert any('"accounts_unit"."id" = $' in text for text in held)


def test_the_debug_cursor_shows_the_statement_as_written_not_its_execute(city):
    for code in ("33031001", "33031002"):
        _by_code(code)
    with CaptureQueriesContext(connection) as ctx:
        _by_code("33031003")
    assert _held()  # it ran prepared
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    assert "EXECUTE" not in sql and "'33031003'" in sql and sql.startswith("SELECT")


def test_a_rollback_keeps_what_was_prepared_and_it_still_reads(city):
    with transaction.atomic():
        for code in ("33031001", "33031002", "33031003"):
            _by_code(code)
        assert len(_held()) == 1
        transaction.set_rollback(True)
    assert len(_held()) == 1  # PREPARE is not undone by a rollback
    assert [row[:2] for row in _by_code("330320")] == [("330320", "城西分局")]


def test_a_statement_postgresql_cannot_prepare_runs_as_text_and_the_transaction_goes_on(city):
    untyped = "SELECT %s IS NULL"  # no column to infer the value's type from
    PREPARABLE.add(untyped)  # as if the kept compiler had marked it
    with transaction.atomic():
        answers = []
        for value in (None, "x", None):
            with connection.cursor() as cursor:
                cursor.execute(untyped, [value])
                answers.append(cursor.fetchone()[0])
        assert answers == [True, False, True]
        assert connection.connection.prepared[untyped] == ""  # refused once, text from then on
        # the transaction is sound: the refusal was rolled back to its savepoint
        assert Unit.objects.filter(code="33031001").exists()
    assert _held() == {}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_refused_statement_runs_as_text_too():
    untyped = "SELECT %s IS NULL"
    PREPARABLE.add(untyped)  # as if the kept compiler had marked it
    assert connection.get_autocommit()
    for value in (None, 1, None):
        with connection.cursor() as cursor:
            cursor.execute(untyped, [value])
            assert cursor.fetchone()[0] is (value is None)
    assert connection.connection.prepared[untyped] == ""


def test_a_statement_whose_values_do_not_match_its_placeholders_is_never_prepared(city):
    wrong = "SELECT %s, %s"
    PREPARABLE.add(wrong)
    for _ in range(2):  # met once, then refused before PostgreSQL sees it; psycopg2 refuses it both times
        with pytest.raises((TypeError, IndexError)), connection.cursor() as cursor:
            cursor.execute(wrong, [1])
    assert connection.connection.prepared[wrong] == ""
    assert _held() == {}


def test_a_failed_transaction_prepares_nothing(city):
    raw = connection.connection
    _by_code("33031001")
    _by_code("33031002")  # marked, and met once
    text = next(iter(PREPARABLE))
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1/0")
    assert raw.prepared.get(text) is None
    assert [row[:2] for row in _by_code("33031003")] == [("33031003", "城东交警大队")]  # after it: prepared then
    assert len(_held()) == 1


def test_a_connection_holds_at_most_the_limit(city, monkeypatch):
    monkeypatch.setattr(prepared, "LIMIT", 2)
    # three shapes, each met three times: the third prepared one deallocates the two before it
    shapes = [
        lambda c: list(Unit.objects.filter(code=c).values_list("code")),
        lambda c: list(Unit.objects.filter(code=c).values_list("name")),
        lambda c: list(Unit.objects.filter(code=c).values_list("kind")),
    ]
    for read in shapes:
        for code in ("33031001", "33031002", "33031003"):
            read(code)
    held = _held()
    assert len(held) == 1 and "kind" in next(iter(held.values()))[0]
    assert shapes[0]("33031001") == [("33031001",)]  # prepared again as met


def test_a_schema_change_on_the_connection_forgets_the_prepared_statements(city):
    for code in ("33031001", "33031002", "33031003"):
        _by_code(code)
    assert _held()
    with connection.schema_editor():
        pass
    assert _held() == {} and connection.connection.prepared == {}
    assert [row[:2] for row in _by_code("330310")] == [("330310", "城东分局")]


def test_rows_of_many_columns_and_types_read_alike_prepared_and_as_text(city, published):
    def page(unit):
        return list(
            Assignment.objects.select_related("item", "unit", "campaign")
            .filter(unit=unit, is_active=True)
            .order_by("due_date", "id")
            .values()
        )

    units = [city.units[c] for c in ("33031001", "33031002", "33031003", "33032001")]
    with_text = {}
    for unit in units:
        with connection.cursor() as cursor:  # the same statement as text, values written in by the driver
            sql, params = (
                Assignment.objects.filter(unit=unit, is_active=True)
                .order_by("due_date", "id")
                .values()
                .query.sql_with_params()
            )
            cursor.execute(sql, params)
            with_text[unit.code] = len(cursor.fetchall())
    first = [page(u) for u in units]
    again = [page(u) for u in units]  # prepared by now
    assert any(_held())
    assert first == again and [len(rows) for rows in first] == [with_text[u.code] for u in units]
    assert sum(len(rows) for rows in first) > 0


def test_off_the_connection_sends_every_statement_as_text(settings, city):
    settings.PREPARED_SQL = False
    other = connections.create_connection("default")
    try:
        other.ensure_connection()
        assert not isinstance(other.connection, PreparingConnection)
        assert "connection_factory" not in other.get_connection_params()
    finally:
        other.close()
    settings.PREPARED_SQL = True
    assert connections.create_connection("default").get_connection_params()["connection_factory"] is PreparingConnection


def test_the_request_users_read_is_prepared_and_authenticates_alike(city):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from accounts.tokens import TOKEN_USER

    lead = city["station_lead"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=lead).key}")
    answers = [client.get("/api/v1/auth/tokens/").status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    written = TOKEN_USER.written[("default", "postgresql")].sql
    assert connection.connection.prepared[written].startswith("EXECUTE kept_")
    assert TOKEN_USER.rows("no such token") == []
    client.credentials(HTTP_AUTHORIZATION="Token no-such-token")
    assert client.get("/api/v1/auth/tokens/").status_code in (401, 403)  # refused, as before


def test_a_count_of_a_prepared_read_is_prepared_too(city, published):
    from utilities.paging import count_up_to

    station = city.units["33031001"]
    mine = Assignment.objects.filter(unit__path__startswith=city.units["330310"].path, unit=station)
    theirs = Assignment.objects.filter(unit__path__startswith=city.units["330310"].path)  # no anchor
    expected = (mine.count(), theirs.count())
    got = [(count_up_to(mine, 1000), count_up_to(theirs, 1000)) for _ in range(3)]
    assert got == [expected] * 3 and expected[0] > 0
    held = [text for text, _, _ in _held().values()]
    assert len(held) == 1 and "COUNT(*)" in held[0] and '"tasks_assignment"."unit_id" = $' in held[0]


def test_a_statement_whose_columns_changed_under_it_is_dropped_and_runs_as_text(city):
    from utilities.backends.postgresql.prepared import ALWAYS

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (id integer PRIMARY KEY, v integer)")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 10), (2, 20)")
    read = "SELECT v FROM prepared_probe WHERE id = %s"
    ALWAYS.add(read)
    try:

        def value(pk):
            with connection.cursor() as cursor:
                cursor.execute(read, [pk])
                return cursor.fetchone()[0]

        assert [value(1), value(2), value(1)] == [10, 20, 10]
        assert connection.connection.prepared[read]
        with connection.cursor() as cursor:  # as another process's migration would, unseen by this connection
            cursor.execute("ALTER TABLE prepared_probe ALTER v TYPE text")
        with pytest.raises(NotSupportedError, match="result type"), transaction.atomic():
            value(2)
        assert read not in connection.connection.prepared
        assert value(2) == "20"  # as text, then prepared anew
        assert [value(1), value(2)] == ["10", "20"] and connection.connection.prepared[read]
    finally:
        ALWAYS.discard(read)
