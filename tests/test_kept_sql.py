"""SELECT statements kept by shape (``utilities.backends.kept``): written once, then only their WHERE
clause; the same text, parameters and rows as Django's own writing; never kept where a part other than
the WHERE clause carries a value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, Q, Value
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import Unit
from tasks.models import Assignment, Item
from utilities.backends import kept
from utilities.backends.kept import KEPT, UNKEPT, KeptSQLCompiler, KeptSQLMismatch, shape

pytestmark = pytest.mark.smoke  # both databases: the embedded SQLite converts values the PostgreSQL driver does not


@pytest.fixture(autouse=True)
def _no_kept_shapes():
    """Each test starts and ends with no statement kept (one test keeps a wrong one on purpose)."""
    KEPT.clear()
    yield
    KEPT.clear()


def _compiler(qs):
    return qs.query.get_compiler(using=qs.db)


def _written(qs):
    """The statement as Django's own compiler writes it."""
    compiler = _compiler(qs)
    return compiler.written_by(qs.query.clone(), compiler.connection, compiler.using).as_sql()


def _key(qs):
    """The shape of ``qs`` as it is now: taken before it is read (writing a statement adds the joins of
    its columns to the query, so the query read is of another shape)."""
    return shape(_compiler(qs), True, False)


def _rows(qs):
    """The assignments as dictionaries of their loaded columns and their related rows' columns."""
    out = []
    for a in qs:
        row = {k: v for k, v in a.__dict__.items() if not k.startswith("_")}
        row["item"] = {k: v for k, v in a.item.__dict__.items() if not k.startswith("_")}
        row["unit"] = {k: v for k, v in a.unit.__dict__.items() if not k.startswith("_")}
        out.append(row)
    return out


def test_the_projects_backends_write_selects_with_the_kept_compiler():
    assert issubclass(connection.ops.compiler("SQLCompiler"), KeptSQLCompiler)
    # the other statements are Django's own
    assert not issubclass(connection.ops.compiler("SQLInsertCompiler"), KeptSQLCompiler)
    assert not issubclass(connection.ops.compiler("SQLUpdateCompiler"), KeptSQLCompiler)


@pytest.mark.parametrize("engine", ["utilities.backends.postgresql", "utilities.backends.sqlite3"])
def test_both_backends_are_djangos_own_with_the_kept_select_compiler(engine):
    """The backend ``ops.settings`` names for either ``DATABASE_URL`` (the other one is not the one this run
    connects to: loaded here, not connected)."""
    from django.db.utils import load_backend

    wrapper = load_backend(engine).DatabaseWrapper
    django_own = load_backend(engine.replace("utilities.backends", "django.db.backends")).DatabaseWrapper
    assert issubclass(wrapper, django_own) and wrapper.vendor == django_own.vendor
    ops = wrapper.ops_class
    assert issubclass(ops, django_own.ops_class)
    module = __import__(ops.compiler_module, fromlist=["SQLCompiler"])
    djangos = __import__(django_own.ops_class.compiler_module, fromlist=["SQLCompiler"])
    assert issubclass(module.SQLCompiler, KeptSQLCompiler) and module.SQLCompiler.written_by is djangos.SQLCompiler
    for name in ("SQLInsertCompiler", "SQLUpdateCompiler", "SQLDeleteCompiler", "SQLAggregateCompiler"):
        assert getattr(module, name) is getattr(djangos, name), name


@pytest.mark.django_db
def test_a_shape_is_written_once_and_then_only_its_where_clause(city, published, monkeypatch):
    lead = city["station_lead"]

    def page(unit, statuses):
        return (
            Assignment.objects.select_related("item", "unit")
            .filter(unit=unit, status__in=statuses)
            .order_by("due_date", "id")[:5]
        )

    first = page(lead.unit, ["pending"])
    key = _key(first)
    assert KEPT.get(key) is None
    rows_first = _rows(first)
    found = KEPT.get(key)
    assert found is not None and found is not UNKEPT and found.head.endswith("WHERE ")
    assert "ORDER BY" in found.tail and "LIMIT 5" in found.tail

    # the next query of the shape: the columns are not written again — and it reads what Django's would
    calls = []
    monkeypatch.setattr(settings, "KEPT_SQL_VERIFY", False)
    base = connection.ops.compiler("SQLCompiler").written_by
    real = base.get_select
    monkeypatch.setattr(base, "get_select", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    second = page(city.units["33031002"], ["pending", "in_progress"])
    assert _key(second) == key
    sql, params = _compiler(second).as_sql()
    assert calls == []  # the kept text: no columns written
    written_sql, written_params = _written(second)
    assert (sql, list(params)) == (written_sql, list(written_params))
    assert calls  # Django's own writing (for the comparison) built the columns
    monkeypatch.undo()
    kept_rows = _rows(second)
    KEPT.clear()
    assert kept_rows == _rows(page(city.units["33031002"], ["pending", "in_progress"]))  # written by Django
    assert rows_first and all(r["unit_id"] == lead.unit_id for r in rows_first)


@pytest.mark.django_db
def test_values_are_converted_as_django_converts_them_on_a_kept_statement(city, published):
    qs = Assignment.objects.filter(campaign=published).values_list("due_date", "progress", "is_active", "updated_at")
    key = _key(qs)
    Assignment.objects.filter(pk=Assignment.objects.filter(campaign=published).first().pk).update(
        progress=Decimal("12.50")
    )
    written = list(qs)  # the first: written by Django, then kept
    again = list(
        Assignment.objects.filter(campaign=published).values_list("due_date", "progress", "is_active", "updated_at")
    )
    assert KEPT.get(key) not in (None, UNKEPT)
    assert again == written
    due, progress, active, _ = again[0]
    assert isinstance(due, date) and isinstance(progress, Decimal) and active in (True, False)
    assert Decimal("12.50") in {row[1] for row in again}


@pytest.mark.django_db
def test_shapes_with_values_outside_the_where_clause_are_written_every_time(city, published):
    # a count per unit (GROUP BY), a union, extra SQL: not kept at all
    grouped = Assignment.objects.filter(campaign=published).values("unit").annotate(n=Count("id"))
    assert shape(_compiler(grouped), True, False) is None
    union = Unit.objects.filter(code="3303").union(Unit.objects.filter(code="330310"))
    assert shape(_compiler(union), True, False) is None
    extra = Unit.objects.extra(select={"one": "1"}).filter(code="3303")
    assert shape(_compiler(extra), True, False) is None
    # a value in the columns: never a shape (one per value), Django writes it each time — and were it
    # met, what is kept would be refused: the statement's parameters are not all its WHERE clause's
    tagged = Unit.objects.annotate(tag=Value("甲")).filter(code="3303")
    assert shape(_compiler(tagged), True, False) is None
    compiler = _compiler(tagged)
    sql, params = compiler.as_sql()
    assert list(params) == ["甲", "3303"] and compiler._keep(sql, params) is UNKEPT
    assert [u.tag for u in tagged] == ["甲"]
    # no WHERE clause at all: nothing to keep
    everything = Unit.objects.order_by("path")
    key = _key(everything)
    assert len(list(everything)) == len(city.units)
    assert KEPT.get(key) is UNKEPT


@pytest.mark.django_db
def test_raw_sql_without_a_value_is_kept_by_its_text_and_with_one_is_not(city):
    table = connection.ops.quote_name(Unit._meta.db_table)
    below = f"SELECT COUNT(*) FROM {table} c WHERE c.depth > "  # the units deeper than this one

    def deeper(sql, params=()):
        return Unit.objects.annotate(deeper=RawSQL(below + sql, params, output_field=IntegerField()))

    plain = deeper(f"{table}.depth").filter(code="3303")
    key = _key(plain)
    assert key is not None
    first = list(plain)
    assert KEPT.get(key) not in (None, UNKEPT)
    again = deeper(f"{table}.depth").filter(code="330310")
    assert _key(again) == key  # the same text: the same shape, only its WHERE clause written
    assert [u.deeper for u in again] == list(
        deeper(f"{table}.depth + 0").filter(code="330310").values_list("deeper", flat=True)
    )
    assert first[0].deeper > again[0].deeper > 0
    assert _key(deeper(f"{table}.depth + 0").filter(code="3303")) != key  # another text, another shape
    assert _key(deeper("%s", (1,)).filter(code="3303")) is None  # a value in it: written every time


@pytest.mark.django_db
def test_a_where_that_matches_nothing_or_everything_is_left_to_django(city):
    key = _key(Unit.objects.filter(code__in=["3303"]))
    units = list(Unit.objects.filter(code__in=["3303"]))
    assert len(units) == 1 and KEPT.get(key) not in (None, UNKEPT)
    with CaptureQueriesContext(connection) as ctx:
        assert list(Unit.objects.filter(code__in=[])) == []  # the same shape, a WHERE that matches nothing
    assert len(ctx.captured_queries) == 0
    # matches everything: ~Q(pk__in=[]) writes no WHERE clause — Django writes the statement
    assert Unit.objects.filter(~Q(code__in=[])).count() == len(city.units)
    assert len(list(Unit.objects.filter(~Q(code__in=[])))) == len(city.units)


@pytest.mark.django_db
def test_a_kept_statement_that_differs_from_djangos_fails_under_verification(city):
    qs = Unit.objects.filter(code="3303")
    key = _key(qs)
    assert len(list(qs)) == 1
    found = KEPT.get(key)
    assert found not in (None, UNKEPT)
    assert " ASC" in found.tail
    # as if the shape did not hold what writes the ordering: the kept text sorts the other way
    KEPT[key] = kept.Kept(**{**found.__dict__, "tail": found.tail.replace(" ASC", " DESC")})
    branches = Unit.objects.filter(code__in=["330310", "330320"])
    with pytest.raises(KeptSQLMismatch), override_settings(KEPT_SQL_VERIFY=True):
        list(branches)
    with override_settings(KEPT_SQL_VERIFY=False):  # unchecked, the wrong text is run
        assert [u.code for u in branches.all()] == ["330320", "330310"]


@pytest.mark.django_db
def test_the_kept_shapes_are_bounded(city, monkeypatch):
    monkeypatch.setattr(kept, "LIMIT", 3)
    for n in range(1, 6):  # each slice is a shape of its own (LIMIT is written in the text)
        list(Unit.objects.filter(code__startswith="33")[:n])
        assert len(KEPT) <= 3
    assert Item.objects.filter(code="x").count() == 0
