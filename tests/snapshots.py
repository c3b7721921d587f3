"""Fixture rows built once per test process and put back for each test that asks for them.

``city`` and ``published`` (tests/conftest.py) are asked for by about 900 tests; built through the
services each time they cost about 0.2 s a test (role grants with their admin groups and audit
events, the plan written, read and published). The first test that asks builds them as before, and
the rows the build added are noted (every table read before and after, in one query); each later
test gets those rows back in one round trip, inside its own transaction, so a test still starts from
exactly what the build writes: its times moved to the test's clock (the build ran at one frozen
moment), its ids the same (later rows get new ones). The tables' own triggers (the board rollup, the sweep's change marks)
are held off while the rows go back, since the rows they derived are among those noted.

PostgreSQL only, as a superuser (the test command's ``postgres``); on SQLite (the smoke run) every test
builds. A build that changed or removed a row it
had not added is not kept (every test builds it). A test outside a transaction (``transactional_db``)
builds, and the notes are dropped when the base rows they refer to (content types, permissions) were
made anew, as a flush does. ``tests/test_snapshots.py`` checks that the rows put back are the rows a
build writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import time_machine
from django.db import connection, transaction
from django.utils import timezone


@dataclass
class Rows:
    added: dict[str, list[str]]  # table -> its added rows, as JSON objects
    base: tuple  # the signature of the rows they may refer to (base_signature)
    made: object  # what the build returned: how ``load`` finds the rows again
    at: datetime  # the (frozen) moment of the build: put back, every time is moved by now - at


_KEPT: dict[str, Rows | None] = {}
_SUPERUSER: list[bool] = []
_SEQUENCES: dict[str, str] = {}  # table -> the sequence of its id
_COLUMNS: dict[str, list[tuple[str, bool]]] = {}  # table -> (column, is a time) in order
_TABLES: list[str] = []


def usable() -> bool:
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return False
    _learn()
    return _SUPERUSER[0]


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _learn() -> None:
    if _TABLES:
        return
    with connection.cursor() as cursor:
        _TABLES[:] = sorted(connection.introspection.table_names(cursor))
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        _SUPERUSER.append(bool(cursor.fetchone()[0]))
        cursor.execute(
            "SELECT c.table_name, pg_get_serial_sequence(quote_ident(c.table_name), 'id') "
            "FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.column_name = 'id'"
        )
        _SEQUENCES.update((table, seq) for table, seq in cursor.fetchall() if seq)
        cursor.execute(
            "SELECT table_name, column_name, data_type = 'timestamp with time zone' FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        for table, column, is_time in cursor.fetchall():
            _COLUMNS.setdefault(table, []).append((column, is_time))


def _read() -> dict[str, Counter]:
    """Every table's rows, as JSON texts, in one query."""
    union = " UNION ALL ".join(f"SELECT {i}, row_to_json(t)::text FROM {_qn(name)} t" for i, name in enumerate(_TABLES))
    found: dict[str, Counter] = {name: Counter() for name in _TABLES}
    with connection.cursor() as cursor:
        cursor.execute(union)
        for i, row in cursor.fetchall():
            found[_TABLES[i]][row] += 1
    return found


def base_signature() -> tuple:
    """What a flush changes: the content types and permissions, made anew with new ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(max(id), 0) || ':' || count(*) FROM django_content_type), "
            "(SELECT coalesce(max(id), 0) || ':' || count(*) FROM auth_permission)"
        )
        return cursor.fetchone()


def _note(build: Callable[[], object]) -> tuple[object, Rows | None]:
    """``build()``, and the rows it added (None when it changed or removed others)."""
    at = timezone.now()
    before = _read()
    with time_machine.travel(at, tick=False):  # one moment for the whole build, as a test sees it
        made = build()
    after = _read()
    added: dict[str, list[str]] = {}
    for name in _TABLES:
        if before[name] - after[name]:
            return made, None
        new = after[name] - before[name]
        if new:
            added[name] = sorted(new.elements())
    return made, Rows(added, base_signature(), made, at)


def _put_back(rows: Rows) -> None:
    # As a restore does: the tables' triggers and foreign-key checks held off (superuser only) while the
    # rows go back; they were checked when the build wrote them, and the base rows they refer to are
    # still the same (base_signature).
    statements = ["SET LOCAL session_replication_role = replica"]
    params: list[object] = []
    shift = timezone.now() - rows.at  # the test's clock may be travelling: its rows are made "now"
    for name, items in rows.added.items():
        select = ", ".join(f"{_qn(c)} + %s" if is_time else _qn(c) for c, is_time in _COLUMNS[name])
        params += [shift for _, is_time in _COLUMNS[name] if is_time]
        statements.append(
            f"INSERT INTO {_qn(name)} SELECT {select} FROM json_populate_recordset(NULL::{_qn(name)}, %s)"
        )
        params.append("[" + ",".join(items) + "]")
    statements.append("SET LOCAL session_replication_role = origin")
    # Sequences never go back, so rows made later in the test get new ids, never one put back here; but a
    # flush restarts them: move them past the ids put back where needed.
    for name in rows.added:
        if seq := _SEQUENCES.get(name):
            statements.append(
                f"SELECT setval('{seq}', m) FROM (SELECT max(id) AS m FROM {_qn(name)}) x "
                f"WHERE m > (SELECT last_value FROM {seq})"
            )
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements), params)


def kept(key: str, build: Callable[[], object], load: Callable[[object | None], object]) -> object:
    """The fixture ``key``: built (and its rows noted) the first time, its rows put back afterwards.

    ``build()`` makes it through the services and returns what ``load`` needs to find the rows again;
    ``load(that)`` returns the fixture's value, read from the database."""
    if not usable():
        return load(build())
    noted = _KEPT.get(key)
    if noted is not None and noted.base != base_signature():
        _KEPT.clear()  # a flush made the base rows anew: build again
        noted = None
    if key in _KEPT and noted is None:
        return load(build())  # not kept: see _note
    if noted is None:
        with transaction.atomic():
            made, _KEPT[key] = _note(build)
        return load(made)
    _put_back(noted)
    return load(noted.made)
