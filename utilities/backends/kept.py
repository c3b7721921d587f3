"""SELECT statements written once per shape (docs/cpu.md, "Statements kept by shape").

Django writes every SELECT anew from its query: the column list of each model read (a lead's list and
an assignment's page read 50–60 columns over five tables), the joins, the ordering, the converters of
each column — the same text request after request, where only the values in the WHERE clause change.
Written, that is two fifths of the CPU of an assignment's page and a fifth of a lead's list.

``KeptSQLCompiler`` (the SELECT compiler of this project's database backends, ``utilities.backends``) keeps,
per *shape* of a query, the statement's text before and after its WHERE clause, the compiler's column
state and the converters, and on every later query of that shape writes only the WHERE clause. The
shape is everything that writes the rest of the statement: the model, the tables joined (each alias
with its join and join type, and whether the statement uses it), the columns (deferred or chosen,
``select_related``, annotations), the ordering, the slice, DISTINCT, FOR UPDATE, the database. A
statement is kept only when all its parameters are its WHERE clause's — a join or a column with a
parameter, a GROUP BY, a HAVING, a union, extra SQL are written by Django each time, as is a query
whose WHERE clause is empty or matches nothing.

``KEPT_SQL_VERIFY`` (on in the tests) writes each kept statement in full as well and fails if the
two differ: the whole test suite checks that the shape holds everything that writes the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models import Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Lookup
from django.db.models.sql.where import WhereNode

UNKEPT = object()  # a shape Django writes every time
LIMIT = 4096  # shapes kept per process: past it, the kept ones are forgotten and kept again as met
KEPT: dict[tuple, Any] = {}


class KeptSQLMismatch(AssertionError):
    """A kept statement differs from the one Django writes (``KEPT_SQL_VERIFY``)."""


@dataclass(frozen=True)
class Kept:
    head: str  # up to and including "WHERE "
    tail: str  # after the WHERE clause: GROUP BY none, ORDER BY, LIMIT, FOR UPDATE
    select: list
    klass_info: dict | None
    annotation_col_map: dict | None
    col_count: int
    has_extra_select: bool
    converters: dict


def _frozen(value):
    """``select_related``'s nested dict as nested tuples."""
    if isinstance(value, dict):
        return tuple(sorted((name, _frozen(below)) for name, below in value.items()))
    return value


_VALUED = (Value, RawSQL, Lookup, WhereNode)


def _plain(expressions) -> bool:
    """No value in ``expressions`` (a column's or an ordering's): no parameter, no subquery, no condition.
    One with a value would be written with a parameter outside the WHERE clause anyway — and would be a
    shape of its own for every value (a subquery, hashed by its query object, for every query). Raw SQL
    without parameters is plain: the same text every time, compared by it."""
    stack = list(expressions)
    while stack:
        e = stack.pop()
        if e is None or isinstance(e, str):
            continue
        if type(e) is RawSQL and not e.params:
            continue  # SQL without a value: its text is in the shape (an expression's identity)
        if isinstance(e, _VALUED) or hasattr(e, "query"):
            return False
        sources = getattr(e, "get_source_expressions", None)
        if sources is not None:
            stack.extend(sources())
    return True


def shape(compiler, with_limits: bool, with_col_aliases: bool) -> tuple | None:
    """What writes ``compiler``'s statement outside its WHERE clause, or None for a query never kept."""
    q = compiler.query
    if (
        q.combinator
        or q.explain_info
        or q.group_by is not None
        or q.extra
        or q.extra_tables
        or q.extra_order_by
        or q.distinct_fields
        or q.combined_queries
    ):
        return None
    annotations = q.annotation_select
    if (annotations and not _plain(annotations.values())) or not _plain(q.order_by):
        return None
    refcount = q.alias_refcount
    tables = []
    for alias, join in q.alias_map.items():
        if getattr(join, "filtered_relation", None) is not None:
            return None
        tables.append(
            (alias, refcount[alias], join.identity, getattr(join, "join_type", None), getattr(join, "nullable", None))
        )
    key = (
        compiler.connection.alias,
        compiler.connection.vendor,
        type(compiler),
        compiler.elide_empty,
        q.model,
        q.alias_prefix,
        tuple(tables),
        q.default_cols,
        q.select,
        q.values_select,
        tuple(annotations.items()),
        _frozen(q.select_related),
        q.max_depth,
        frozenset(q.deferred_loading[0]),
        q.deferred_loading[1],
        q.order_by,
        q.default_ordering,
        q.standard_ordering,
        q.low_mark,
        q.high_mark,
        with_limits,
        with_col_aliases,
        q.subquery,
        q.distinct,
        q.select_for_update,
        q.select_for_update_nowait,
        q.select_for_update_skip_locked,
        q.select_for_update_of,
        q.select_for_no_key_update,
    )
    try:
        hash(key)
    except TypeError:  # an expression with an unhashable argument: written each time
        return None
    return key


class KeptSQLCompiler:
    """The SELECT compiler's mixin (see the module)."""

    _kept_converters = None
    written_by: type  # the backend's own SELECT compiler (``kept_compiler``)
    marks = None  # told each kept statement written, with its compiler (``kept_compiler``): PostgreSQL's prepares them

    def as_sql(self, with_limits=True, with_col_aliases=False):
        key = shape(self, with_limits, with_col_aliases)
        if key is None:
            return super().as_sql(with_limits, with_col_aliases)
        kept = KEPT.get(key)
        if kept is None:
            sql, params = super().as_sql(with_limits, with_col_aliases)
            if len(KEPT) >= LIMIT:
                KEPT.clear()
            KEPT[key] = self._keep(sql, params)
            return sql, params
        where = self.query.where
        if kept is UNKEPT or where.contains_aggregate or where.contains_over_clause:
            return super().as_sql(with_limits, with_col_aliases)
        # the columns first: a WHERE clause that matches nothing ends the statement, and the rows (none)
        # are still read through them
        self.select, self.klass_info, self.annotation_col_map = kept.select, kept.klass_info, kept.annotation_col_map
        self.col_count, self.has_extra_select = kept.col_count, kept.has_extra_select
        self.where, self.having, self.qualify = where, None, None
        self._kept_converters = kept.converters
        try:
            where_sql, where_params = self.compile(where)
        except EmptyResultSet:
            if self.elide_empty:
                raise
            return super().as_sql(with_limits, with_col_aliases)
        except FullResultSet:
            return super().as_sql(with_limits, with_col_aliases)
        sql, params = kept.head + where_sql + kept.tail, tuple(where_params)
        if settings.KEPT_SQL_VERIFY:
            self._verify(sql, params, with_limits, with_col_aliases)
        if self.marks is not None:
            self.marks(self, sql)
        return sql, params

    def _keep(self, sql: str, params) -> Kept | object:
        """What to keep of the statement just written, or ``UNKEPT``."""
        if self.where is None or self.having is not None or self.qualify is not None:
            return UNKEPT
        try:
            where_sql, where_params = self.compile(self.where)
        except (EmptyResultSet, FullResultSet):
            return UNKEPT
        clause = "WHERE " + where_sql
        if sql.count(clause) != 1 or not _same(params, where_params):
            return UNKEPT
        head, tail = sql.split(clause)
        fields = [s[0] for s in self.select[0 : self.col_count]]
        return Kept(
            head=head + "WHERE ",
            tail=tail,
            select=self.select,
            klass_info=self.klass_info,
            annotation_col_map=self.annotation_col_map,
            col_count=self.col_count,
            has_extra_select=self.has_extra_select,
            converters=super().get_converters(fields),
        )

    def _verify(self, sql: str, params: tuple, with_limits: bool, with_col_aliases: bool) -> None:
        written = self.written_by(self.query.clone(), self.connection, self.using, self.elide_empty)
        expected_sql, expected_params = written.as_sql(with_limits, with_col_aliases)
        if sql != expected_sql or not _same(params, expected_params):
            raise KeptSQLMismatch(f"kept:    {sql} {params}\nwritten: {expected_sql} {expected_params}")
        if (written.col_count, _columns(written.klass_info)) != (self.col_count, _columns(self.klass_info)):
            raise KeptSQLMismatch(f"the columns read differ: {sql}")

    def get_converters(self, expressions):
        # the kept converters for the kept columns (``results_iter``); anything else asked is worked out
        kept = self._kept_converters
        if (
            kept is not None
            and type(expressions) is list
            and len(expressions) == self.col_count
            and (not expressions or expressions[0] is self.select[0][0])
        ):
            return kept
        return super().get_converters(expressions)


def _same(params, others) -> bool:
    """The same parameters: equal, or of one type and written alike (a driver's adapter, such as
    psycopg2's ``Inet``, need not compare equal to its twin)."""
    return len(params) == len(others) and all(
        a == b or (type(a) is type(b) and repr(a) == repr(b)) for a, b in zip(params, others, strict=True)
    )


def _columns(info: dict | None):
    """What a compiler's ``klass_info`` says of the models built from a row: each model and its columns."""
    if info is None:
        return None
    below = info.get("related_klass_infos", ())
    return (info["model"], tuple(info["select_fields"]), tuple(_columns(r) for r in below))


def kept_compiler(base: type, marks=None) -> type:
    """``base`` (a backend's SELECT compiler) with its statements kept by shape (made once, by the backend's
    compiler module); ``marks(compiler, sql)`` is told each kept statement as written."""
    attrs = {"__module__": __name__, "written_by": base, "marks": None if marks is None else staticmethod(marks)}
    return type(f"Kept{base.__name__}", (KeptSQLCompiler, base), attrs)
