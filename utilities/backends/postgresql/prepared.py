"""Kept statements run as PostgreSQL prepared statements (docs/cpu.md, "Prepared statements").

Most of PostgreSQL's CPU in a request is *planning* small statements (0.2–0.6 ms each, against 0.05–0.5 ms
of running them). psycopg2 sends every statement as text with its values written in, so PostgreSQL plans
it every time. A statement kept by shape (``utilities.backends.kept``) is the same text, request after
request, with only its values changing: this module ``PREPARE``s it once per connection, the second time
the connection meets it, with its ``%s`` as ``$1 … $n``, and from then on sends ``EXECUTE name(values)``.
After five runs PostgreSQL plans it once for all values (a generic plan) when that plan costs no more than
the ones made for each value; else it goes on planning each run, as before.

Which statements: those written once per process (``utilities.statements``: the token's or the session's
user with its grants, on every request, ``ALWAYS``), a count of a prepared read (``wrapped``) and those the
kept compiler marks (``PREPARABLE``): every value in the WHERE clause, so PostgreSQL infers each ``$n``'s type from the column it is compared with, as it does a written value; and
not one filtering by a pattern (``LIKE``: a unit's subtree by its path), whose index can be used only when
the pattern is known at planning — a generic plan for it could scan a province to list a station's work —
unless an equality anchors it to a row or a unit (``anchored``).

Safety: ``PREPARE`` is not transactional (a rollback keeps it), so what a connection holds is known here;
inside a transaction it runs under a savepoint, and a statement PostgreSQL refuses to prepare (a value whose
type it cannot infer) is run as text from then on; nothing is prepared in a failed transaction. A
connection holds at most ``LIMIT`` (past it, all are deallocated and prepared again as met); DDL on the
connection (a migration) deallocates them; one whose columns changed under it (another process's migration)
fails once and is met anew. The debug cursor, and so the tests' captured queries, see the statement as
written, not the ``EXECUTE``.

The switch: ``PREPARED_SQL=0`` (settings) runs every statement as text.
"""

from __future__ import annotations

import re

import psycopg2
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND, WhereNode
from psycopg2 import errors, extensions

LIMIT = 256  # prepared statements a connection holds
SEEN_LIMIT = 512  # statements met once that a connection remembers
PREPARABLE: set[str] = set()  # the kept compiler's statements (texts with %s), across connections
UNANCHORED: set[str] = set()  # kept statements filtering by a pattern with no anchor: never prepared
ALWAYS: set[str] = set()  # statements written once per process (``utilities.statements``), each reviewed
PREPARABLE_LIMIT = 2048  # texts of ≈1–4 KB each: a few MB a process at most

_PLACEHOLDER = re.compile(r"%[%s]")


def mark(compiler, sql: str) -> None:
    """``sql``, a kept statement ``compiler`` wrote, may be prepared, unless it filters by a pattern without
    an anchor (``anchored``)."""
    if sql in PREPARABLE or sql in UNANCHORED:
        return
    if " LIKE " in sql and not anchored(compiler.query.where):
        if len(UNANCHORED) >= PREPARABLE_LIMIT:
            UNANCHORED.clear()
        UNANCHORED.add(sql)
        return
    if len(PREPARABLE) >= PREPARABLE_LIMIT:
        PREPARABLE.clear()
    PREPARABLE.add(sql)


def always(sql: str) -> None:
    """``sql`` may be prepared: a statement written once per process (``utilities.statements``), a read by
    a key whose values PostgreSQL types from their columns or as text."""
    ALWAYS.add(sql)


def wrapped(inner: str, outer: str) -> None:
    """``outer``, a statement around ``inner`` that adds no value (a count of its rows), may be prepared as
    ``inner`` may."""
    if inner in PREPARABLE and outer not in PREPARABLE:
        if len(PREPARABLE) >= PREPARABLE_LIMIT:
            PREPARABLE.clear()
        PREPARABLE.add(outer)


def anchored(where) -> bool:
    """Whether a WHERE clause, whatever else it asks, asks for one row by its key or for the rows of one node
    of a tree (a foreign key to a model of materialized paths, as a unit): ``column = value`` among the
    conditions it requires. A generic plan starts from that column's index for any value, so a pattern
    beside it (a subtree's path) only filters the few rows found."""
    stack = [where]
    while stack:
        node = stack.pop()
        if isinstance(node, WhereNode):
            if node.connector == AND and not node.negated:
                stack.extend(node.children)
            continue
        if isinstance(node, Exact) and isinstance(node.lhs, Col) and not hasattr(node.rhs, "as_sql"):
            field = node.lhs.target
            if field.primary_key or field.unique or (field.is_relation and hasattr(field.related_model, "steplen")):
                return True
    return False


def numbered(sql: str) -> tuple[str, int]:
    """``sql`` written for psycopg2 (``%s`` a value, ``%%`` a percent sign) as PostgreSQL prepares it (``$n``),
    and how many values it takes."""
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql), count


class PreparingCursor(extensions.cursor):
    """psycopg2's cursor, running the statements in ``PREPARABLE`` and ``ALWAYS`` as prepared statements."""

    sent: tuple | None = None  # the statement and values of the last EXECUTE (``last_executed_query``)

    def execute(self, query, vars=None):
        self.sent = None
        if vars is None or self.name is not None or type(vars) is dict:
            return super().execute(query, vars)
        conn = self.connection
        run = conn.prepared.get(query)
        if run is None:
            if query not in PREPARABLE and query not in ALWAYS:
                return super().execute(query, vars)
            run = conn.prepare(self, query, len(vars))
        if not run:
            return super().execute(query, vars)
        self.sent = (query, vars)
        try:
            return super().execute(run, vars)
        except (errors.FeatureNotSupported, errors.InvalidSqlStatementName):
            # its table's columns changed under it (a migration by another process: "cached plan must not
            # change result type"), or the server forgot it: run as text when met again
            conn.lost(query)
            raise


class PreparingConnection(extensions.connection):
    """psycopg2's connection, knowing the statements it has prepared."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: dict[str, str] = {}  # statement → "EXECUTE name(%s, …)", or "" for one always run as text
        self.seen: set[str] = set()
        self.made = 0

    def prepare(self, cursor: PreparingCursor, query: str, values: int) -> str | None:
        """The EXECUTE that runs ``query`` from now on on this connection, "" if it is run as text for good, or
        None to run it as text this time (met once, or a transaction already failed)."""
        if query not in self.seen:
            if len(self.seen) >= SEEN_LIMIT:
                self.seen.clear()
            self.seen.add(query)
            return None
        status = self.info.transaction_status
        if status not in (extensions.TRANSACTION_STATUS_IDLE, extensions.TRANSACTION_STATUS_INTRANS):
            return None
        text, count = numbered(query)
        if count != values:  # psycopg2 refuses it as it stands
            self.prepared[query] = ""
            return ""
        if len(self.prepared) >= LIMIT:
            self.forget(cursor)
        self.made += 1
        name = f"kept_{self.made}"
        in_transaction = not self.autocommit or status == extensions.TRANSACTION_STATUS_INTRANS
        try:
            if in_transaction:
                extensions.cursor.execute(
                    cursor, f"SAVEPOINT {name}; PREPARE {name} AS {text}; RELEASE SAVEPOINT {name}"
                )
            else:
                extensions.cursor.execute(cursor, f"PREPARE {name} AS {text}")
        except (psycopg2.ProgrammingError, psycopg2.NotSupportedError, psycopg2.DataError):
            # refused as a statement (a value whose type it cannot infer); a lost connection is not caught
            if in_transaction:
                extensions.cursor.execute(cursor, f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
            self.prepared[query] = ""
            return ""
        run = f"EXECUTE {name}({', '.join(['%s'] * values)})" if values else f"EXECUTE {name}"
        self.prepared[query] = run
        self.seen.discard(query)
        return run

    def lost(self, query: str) -> None:
        """The statement prepared for ``query`` failed as such: never run again (its name is not reused), and
        ``query`` is met anew."""
        self.prepared.pop(query, None)
        self.seen.discard(query)

    def forget(self, cursor=None) -> None:
        """Deallocate every statement prepared on this connection (left to the connection's end when its
        transaction has failed: the names are never used again)."""
        usable = (extensions.TRANSACTION_STATUS_IDLE, extensions.TRANSACTION_STATUS_INTRANS)
        if any(self.prepared.values()) and not self.closed and self.info.transaction_status in usable:
            extensions.cursor.execute(cursor or self.cursor(), "DEALLOCATE ALL")
        self.prepared.clear()
        self.seen.clear()
