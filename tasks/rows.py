"""A list's assignments as plain rows, not model instances (docs/cpu.md, "List rows without models").

A lead's list writes 50 assignments, each with its item, unit, campaign and the user who signed for it:
built as model instances that was 250 objects a page, each read back through Django's descriptors — the
largest part of the request's CPU left. ``rows`` runs the same statement as the model read
(``select_related`` of the item, unit and campaign, the columns ``only`` names) and makes each row a tuple
with names (``AssignmentRow``, with ``ItemRow``, ``UnitRow``, ``CampaignRow``; the signer a ``User`` read
apart, one statement for the page's few), built and read in C. The model's own rules are the rows'
rules: ``AssignmentRow`` borrows ``Assignment``'s ``target``, ``expected_share``, ``is_behind_pace`` and
``shortfall`` (the same functions, not copies), so the list's pace, overdue and shortfall are what an
assignment's page says; ``tests/tasks/test_list_rows.py`` compares rows with instances over every kind of
row. A column the rows lack is an ``AttributeError`` (or, missing from the statement, a ``KeyError``
before any row), never a query per row.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from operator import itemgetter

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import BaseIterable

from accounts.models import User
from tasks.models import Assignment, Target
from tasks.targets import read_apart_sql

# the related rows' columns: what a list row is written and judged from (the pace reads the item's
# target words and cadence, the campaign's start)
ITEM = (
    "id",
    "code",
    "title",
    "target_text",
    "target_value",
    "deadline_text",
    "action_id",
    "target_comparator",
    "target_basis",
    "target_per",
    "target_unit",
    "deadline_kind",
    "cadence_weekday",
    "cadence_day",
)
UNIT = ("id", "code", "name", "short_name", "kind", "depth", "is_active")
CAMPAIGN = ("id", "code", "start", "end", "status", "published_at")
USER = ("id", "name", "first_name", "last_name")  # what ``User.get_full_name`` reads
OWN = tuple(f.attname for f in Assignment._meta.concrete_fields)


def _row(name: str, fields: tuple[str, ...]) -> type:
    """A named tuple of ``fields`` (the first the id) that answers ``pk`` as a model does."""
    return type(name, (namedtuple(name, fields),), {"__slots__": (), "pk": property(itemgetter(0))})


ItemRow, UnitRow, CampaignRow = _row("ItemRow", ITEM), _row("UnitRow", UNIT), _row("CampaignRow", CAMPAIGN)


class AssignmentRow(
    _row("AssignmentRowFields", (*OWN, "item", "unit", "campaign", "acknowledged_by", "targets_apart"))
):
    """An assignment of a list: its own columns by attribute name, its item, unit, campaign and signer as
    rows, whether its item has a target read apart from the row (``targets_apart``: ``targets.judged``
    reads those for the rows that have one), and the model's rules over them."""

    __slots__ = ()
    target = Assignment.target
    expected_share = Assignment.expected_share
    is_behind_pace = Assignment.is_behind_pace
    shortfall = Assignment.shortfall


RELATED = {"item": ITEM, "unit": UNIT, "campaign": CAMPAIGN}
# ``only``'s names: every column of the assignment, the related rows' columns above
ONLY = (
    *(f.name for f in Assignment._meta.concrete_fields),
    *(f"{relation}__{name.removesuffix('_id')}" for relation, names in RELATED.items() for name in names),
)


def _maker(compiler) -> tuple[Callable[[tuple, dict], AssignmentRow], itemgetter]:
    """A row of ``compiler``'s statement (the columns where its ``select_related`` put them) and the signers
    by id made into an ``AssignmentRow``, and the getter of a row's signer id; a column the statement lacks
    is a ``KeyError`` here, before any row."""
    select, info = compiler.select, compiler.klass_info

    def getter(klass_info, names) -> itemgetter:
        at = {select[i][0].target.attname: i for i in klass_info["select_fields"]}
        return itemgetter(*(at[name] for name in names))

    related = {r["field"].name: r for r in info["related_klass_infos"]}
    own, item, unit, campaign = (getter(info, OWN), *(getter(related[name], names) for name, names in RELATED.items()))
    signer = getter(info, ("acknowledged_by_id",))
    apart = itemgetter(compiler.annotation_col_map[APART])
    new = tuple.__new__

    def make(r: tuple, signers: dict) -> AssignmentRow:
        return new(
            AssignmentRow,
            (
                *own(r),
                new(ItemRow, item(r)),
                new(UnitRow, unit(r)),
                new(CampaignRow, campaign(r)),
                signers.get(signer(r)),
                bool(apart(r)),
            ),
        )

    return make, signer


def _signers(ids: set) -> dict:
    """The users who signed for the rows, by id: one statement for a page's few (most rows are signed by
    their unit's lead, or by nobody yet), as users (their ``get_full_name``). Read apart rather than joined:
    PostgreSQL hashed every user for the join, half the statement's time (1.5 of 3.0 ms for a station's list
    of 77, 1,530 users)."""
    ids.discard(None)
    return {u.id: u for u in User.objects.filter(id__in=ids).only(*USER)} if ids else {}


class RowIterable(BaseIterable):
    """The rows of a ``select_related`` read of assignments (``rows``) as ``AssignmentRow``s: the same
    statement as the model read, the tuples not made into model instances; the signers read after each
    chunk of rows."""

    def __iter__(self):
        qs = self.queryset
        compiler = qs.query.get_compiler(using=qs.db)
        results = compiler.execute_sql(chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        make = signer = None
        for chunk in results:
            chunk = list(compiler.results_iter([chunk]))
            if make is None:  # the statement's columns are known once it has run
                make, signer = _maker(compiler)
            signers = _signers(set(map(signer, chunk)))
            for r in chunk:
                yield make(r, signers)


APART = "targets_apart"


def _apart() -> RawSQL:
    """Whether the row's item has a target ``targets.judged`` reads apart (``targets.read_apart_sql``: any but
    the first, or a first linked to an indicator), as a column of the list's statement: a probe a row over
    the item's few targets, where the judging statement cost a page a round trip and
    its planning (0.3–0.5 ms of PostgreSQL's CPU) even when, as for most items, there was nothing to read.
    Written without a value, so the statement is kept by shape (``utilities.backends.kept``)."""
    q = connection.ops.quote_name
    target, assignment = q(Target._meta.db_table), q(Assignment._meta.db_table)
    return RawSQL(  # noqa: S611 (table and column names only, no value)
        f"EXISTS (SELECT 1 FROM {target} t WHERE t.item_id = {assignment}.item_id AND {read_apart_sql('t')})",  # noqa: S608
        (),
    )


def with_targets_apart(qs: QuerySet) -> QuerySet:
    """``qs`` (assignments, read as model instances) with ``targets_apart`` on each row, as ``rows`` has it:
    ``targets.judged`` then reads the later targets of those rows only. For a read run as it is, at the top
    (the raw ``EXISTS`` names the assignments' table: not inside another query as a subquery)."""
    return qs.annotate(**{APART: _apart()})


def rows() -> QuerySet:
    """The assignments read as ``AssignmentRow``s: narrow (``scope.restrict``), filter, order, count and
    page it as any queryset of assignments."""
    out = Assignment.objects.select_related(*RELATED).only(*ONLY).annotate(**{APART: _apart()})
    out._iterable_class = RowIterable
    return out
