"""Paging that never counts a whole table: an exact count up to ``EXACT_UP_TO`` rows, read through
``LIMIT`` (so at most that many index entries), and beyond it PostgreSQL's planner estimate, marked as
such (``estimated``) so that a page says "约 114,000" rather than pretending. The assignment lists (the
API's, the admin's) page through it: an exact ``COUNT(*)`` over a province's 114,000 assignments cost
0.11–0.14 s on every page, more than everything else the page did."""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from utilities.backends.postgresql import prepared

EXACT_UP_TO = 10_000


def planner_rows(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows ``queryset`` returns (one EXPLAIN, no scan); None off PostgreSQL."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def count_up_to(queryset: QuerySet, limit: int) -> int:
    """The rows of ``queryset``, counted up to ``limit``: the statement Django writes for
    ``queryset.order_by()[:limit].count()``, its inner read written as any other read (by shape,
    ``utilities.backends.kept``) where Django writes a sliced count's aggregate anew each time (a fifth of
    a lead's list when the list is longer than its page)."""
    inner = queryset.order_by().values("pk")[:limit]
    try:
        sql, params = inner.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # .none(), an empty IN: nothing to count
        return 0
    counted = f"SELECT COUNT(*) FROM ({sql}) subquery"  # noqa: S608 (the ORM's SQL)
    prepared.wrapped(sql, counted)  # prepared as the read it counts is (PostgreSQL)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(counted, params)
        return cursor.fetchone()[0]


def bounded_count(queryset: QuerySet, exact_up_to: int | None = None) -> tuple[int, bool]:
    """``(count, estimated)``: exact when there are at most ``exact_up_to`` (``EXACT_UP_TO``) rows, else
    the planner's estimate (never below what was counted)."""
    exact_up_to = EXACT_UP_TO if exact_up_to is None else exact_up_to
    counted = count_up_to(queryset, exact_up_to + 1)
    if counted <= exact_up_to:
        return counted, False
    estimate = planner_rows(queryset)
    if estimate is None:  # SQLite: small databases, count them
        return queryset.count(), False
    return max(estimate, counted), True


class FirstPageFirst(Paginator):
    """Django's paginator that reads the first page before it counts, one row beyond it: a list that fits on
    the page (a unit's own work, a filtered list, an inbox with nothing unread) is counted by the rows read —
    one statement, not a ``COUNT`` and a read — and a longer one is counted as Django counts and served from
    the rows in hand. Later pages, and a count asked first, are Django's."""

    def page(self, number):
        return self._first_page() if self._reads_first(number) else super().page(number)

    def _reads_first(self, number) -> bool:
        return (
            isinstance(self.object_list, QuerySet)
            and not self.orphans
            and "count" not in self.__dict__
            and str(number) == "1"
        )

    def _first_page(self) -> Page:
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= min(self.per_page, EXACT_UP_TO):
            self.__dict__["count"] = len(rows)
            if not rows and not self.allow_empty_first_page:
                raise EmptyPage(_("That page contains no results"))
            return self._get_page(rows, 1, self)
        return self._longer(rows)

    def _longer(self, rows: list) -> Page:
        """The first page of a list longer than it can count by its rows (``rows``: the page and the one row
        beyond, if there is one)."""
        return self._get_page(rows[: self.per_page], 1, self)


class BoundedPaginator(FirstPageFirst):
    """``FirstPageFirst`` over ``bounded_count``; ``estimated`` says whether ``count`` is an estimate.

    Past an estimate the pages cannot trust it for where the rows end: a page reads one row more than
    it shows and has a next page when that row exists ("next page exists" paging), and a page number
    past the estimate is served while it has rows."""

    estimated = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.estimated = bounded_count(self.object_list)
        return count

    def validate_number(self, number):
        if not self.count or not self.estimated:
            return super().validate_number(number)
        try:
            return super().validate_number(number)
        except EmptyPage:
            number = int(number)  # valid, above the estimated last page: served if it has rows
            if number > 1 and self.object_list[(number - 1) * self.per_page :][:1].exists():
                return number
            raise

    def page(self, number):
        if self._reads_first(number):
            return self._first_page()
        number = self.validate_number(number)
        if not self.estimated:
            return Paginator.page(self, number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return ReadAheadPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def _longer(self, rows: list) -> Page:
        if self.estimated_count():
            return ReadAheadPage(rows[: self.per_page], 1, self, more=len(rows) > self.per_page)
        return super()._longer(rows)

    def estimated_count(self) -> bool:
        self.count  # noqa: B018 (counts, and says whether the count is an estimate)
        return self.estimated


class ReadAheadPage(Page):
    """A page that knows whether another follows from the one row it read beyond itself."""

    def __init__(self, object_list, number, paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        if not self.more:
            raise EmptyPage(_("That page contains no results"))
        return self.number + 1


class Pagination(PageNumberPagination):
    """The API's default pages (``REST_FRAMEWORK``): DRF's, the first one read before it is counted
    (``FirstPageFirst``)."""

    django_paginator_class = FirstPageFirst


class BoundedPagination(PageNumberPagination):
    """The API's pages over ``BoundedPaginator``: ``count`` is exact up to 10,000 rows, else estimated,
    and ``count_estimated`` says which."""

    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_estimated": self.page.paginator.estimated,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = [*answer["required"], "count_estimated"]
        answer["properties"] = {
            "count": answer["properties"]["count"],
            "count_estimated": {
                "type": "boolean",
                "description": f"count is the database's estimate: more than {EXACT_UP_TO:,} rows",
            },
            **{k: v for k, v in answer["properties"].items() if k != "count"},
        }
        return answer


class StableOrdering(OrderingFilter):
    """``?ordering=``, then the id in the same direction: rows with equal values (two assignments
    updated in the same bulk write) keep one order from page to page, and an index on ``(field, id)``
    serves the sort and stops after one page."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering or any(f.lstrip("-") in ("id", "pk") for f in ordering):
            return ordering
        return [*ordering, "-id" if ordering[-1].startswith("-") else "id"]
