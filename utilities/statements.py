"""Hot reads written by the ORM once per process (docs/cpu.md, "Statements written once").

Django writes a statement's SQL anew for every query: for a read with a join or a subquery that costs
1–3 ms of the web process's CPU, ten times what running it costs (a token's user and grants: 3.1 ms
through the ORM, 0.2 ms for the same SQL on a cursor). ``Statement`` lets the ORM write a read once per
database connection alias, then runs the kept SQL with each call's value and gives back the rows with
the ORM's own conversions (``SQLCompiler.results_iter``: dates, booleans and decimals as the fields
read them on either database). Only for reads of a fixed shape whose one varying parameter is the
marker; everything else goes through the ORM as usual. On PostgreSQL each runs as a prepared statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from utilities.backends.postgresql import prepared

MARKER = "\x00statement-parameter\x00"  # no value a caller sends looks like it
# for a read by an integer (an id): a value no row holds (ids are positive)
INT_MARKER = -2_147_483_641


@dataclass(frozen=True)
class _Written:
    compiler: SQLCompiler  # kept for its column conversions; never executed again
    sql: str
    params: tuple[Any, ...]
    slot: int  # where the call's value goes among the params


class Statement:
    """A values_list read written once per connection alias: ``build(marker)`` returns the queryset with
    the marker where the call's value goes (``MARKER``, a string parameter: a key, a code; or
    ``INT_MARKER`` for an id); ``rows(value)`` runs it. Written on first use, so the test databases and
    both vendors each get their own SQL."""

    def __init__(self, build: Callable[[Any], QuerySet], marker: str | int = MARKER) -> None:
        self.build, self.marker = build, marker
        self.written: dict[tuple[str, str], _Written] = {}

    def _write(self, using: str) -> _Written:
        key = (using, connections[using].vendor)
        found = self.written.get(key)
        if found is None:
            compiler = self.build(self.marker).query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            slots = [i for i, p in enumerate(params) if type(p) is type(self.marker) and p == self.marker]
            if len(slots) != 1:
                raise ImproperlyConfigured(f"A Statement takes its value once; its query holds it {len(slots)} times")
            found = self.written[key] = _Written(compiler, sql, tuple(params), slots[0])
            if key[1] == "postgresql":
                prepared.always(sql)  # run as a prepared statement (utilities.backends.postgresql.prepared)
        return found

    def rows(self, value: str | int, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        written = self._write(using)
        params = list(written.params)
        params[written.slot] = value
        with connections[using].cursor() as cursor:
            cursor.execute(written.sql, params)
            fetched = cursor.fetchall()
        return list(written.compiler.results_iter(results=[fetched], tuple_expected=True))
