"""The assignment lists never count or sort the whole table: a count exact up to ``EXACT_UP_TO`` rows
(through ``LIMIT``), else the planner's estimate marked as such; ``?ordering=`` by indexed columns only,
the id breaking ties; the admin's list without the date drill-down and its DISTINCT filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import Unit, User
from tasks.models import Assignment
from utilities import paging

pytestmark = pytest.mark.django_db
ASSIGNMENT = Assignment._meta.db_table


def whole_counts(queries) -> list[str]:
    """COUNTs over the assignments without a LIMIT inside: the whole (scoped) table."""
    return [
        q["sql"]
        for q in queries
        if re.search(r"COUNT\(\*\)", q["sql"], re.I) and ASSIGNMENT in q["sql"] and " LIMIT " not in q["sql"]
    ]


@pytest.mark.smoke
def test_a_count_up_to_a_limit_is_djangos_sliced_count(city, published):
    """``count_up_to`` writes what Django writes for ``qs.order_by()[:limit].count()`` (its inner read kept by
    shape): over joins, a scope, DISTINCT, an annotation, an empty IN and ``none()``, under and over the limit."""
    from django.db.models import Count

    from accounts import scope

    lead = city["station_lead"]
    sets = [
        Assignment.objects.all(),
        Assignment.objects.filter(item__code__startswith="1.").order_by("-due_date"),
        scope.restrict(Assignment.objects.select_related("item", "unit"), lead).order_by("due_date", "id"),
        scope.restrict(Assignment.objects.all(), city["hq"]).filter(unit__path__startswith="0001").distinct(),
        Assignment.objects.annotate(n=Count("reports")).filter(n=0),
        Assignment.objects.filter(id__in=[]),
        Assignment.objects.none(),
    ]
    for i, qs in enumerate(sets):
        for limit in (1, 3, 10_001):
            assert paging.count_up_to(qs, limit) == qs.order_by()[:limit].count(), (i, limit)
    assert paging.count_up_to(Assignment.objects.all(), 10_001) == Assignment.objects.count() > 3


def test_bounded_count_is_exact_below_the_bound_and_estimated_above(published):
    rows = Assignment.objects.all()
    total = rows.count()
    assert paging.bounded_count(rows) == (total, False)
    assert paging.bounded_count(rows, exact_up_to=total) == (total, False)
    count, estimated = paging.bounded_count(rows, exact_up_to=3)
    assert estimated and count >= 4  # the planner's figure, never below what was counted


def test_the_api_list_counts_through_a_limit(city, published, monkeypatch):
    client = APIClient()
    client.force_login(city["hq"])
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/assignments/").json()
    assert body["count"] == Assignment.objects.count() and body["count_estimated"] is False
    assert whole_counts(ctx.captured_queries) == []
    monkeypatch.setattr(paging, "EXACT_UP_TO", 3)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/assignments/").json()
    assert body["count_estimated"] is True and body["count"] >= 4
    assert len(body["results"]) == Assignment.objects.count() and body["next"] is None
    assert whole_counts(ctx.captured_queries) == []
    assert any(q["sql"].startswith("EXPLAIN") for q in ctx.captured_queries)


@pytest.mark.parametrize("estimate", [4, 100], ids=["estimate-too-low", "estimate-too-high"])
def test_pages_past_an_estimate_follow_the_rows(published, monkeypatch, estimate):
    """An estimate is not where the rows end: each page reads one row ahead to know whether a next exists."""
    monkeypatch.setattr(paging, "EXACT_UP_TO", 3)
    monkeypatch.setattr(paging, "planner_rows", lambda queryset: estimate)
    rows = Assignment.objects.order_by("id")
    ids = list(rows.values_list("id", flat=True))
    assert len(ids) == 12
    pager = paging.BoundedPaginator(rows, 5)
    assert pager.count == max(estimate, 4) and pager.estimated
    seen, number = [], 1
    while True:
        page = pager.page(number)
        seen += [a.pk for a in page]
        if not page.has_next():
            break
        number = page.next_page_number()
    assert seen == ids and number == 3
    with pytest.raises(paging.EmptyPage):
        page.next_page_number()
    with pytest.raises(paging.EmptyPage):
        pager.page(21)
    exact = paging.BoundedPaginator(rows, 5)
    monkeypatch.setattr(paging, "EXACT_UP_TO", 100)
    assert exact.count == 12 and not exact.estimated and len(exact.page(3)) == 2


def test_the_schema_declares_the_estimate(city):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    page = schema["components"]["schemas"]["PaginatedAssignmentList"]
    assert list(page["properties"])[:2] == ["count", "count_estimated"]
    assert "count_estimated" in page["required"]
    assert "count_estimated" not in schema["components"]["schemas"]["PaginatedUnitList"]["properties"]


def test_ordering_by_updated_at_breaks_ties_by_id(city, published):
    now = timezone.now()
    ids = list(Assignment.objects.order_by("id").values_list("id", flat=True))
    Assignment.objects.update(updated_at=now)  # one bulk write: every row ties
    Assignment.objects.filter(pk=ids[-1]).update(updated_at=now - timedelta(days=1))
    client = APIClient()
    client.force_login(city["hq"])
    newest = [r["id"] for r in client.get("/api/v1/assignments/?ordering=-updated_at").json()["results"]]
    assert newest == [*sorted(ids[:-1], reverse=True), ids[-1]]
    oldest = [r["id"] for r in client.get("/api/v1/assignments/?ordering=updated_at").json()["results"]]
    assert oldest == [ids[-1], *ids[:-1]]


def test_ordering_by_status_is_no_longer_offered(city, published):
    """A sort by status would sort every assignment in scope for each page: the default order answers."""
    client = APIClient()
    client.force_login(city["hq"])
    default = client.get("/api/v1/assignments/").json()["results"]
    assert client.get("/api/v1/assignments/?ordering=status").json()["results"] == default


def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-root-admin"))
    return client


def test_the_admins_list_neither_counts_nor_drills_down_the_whole_table(city, published, monkeypatch):
    client = admin_client()
    url = "/admin/tasks/assignment/"
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    total = Assignment.objects.count()
    text = page.content.decode()
    # "约" as the estimate's mark before a number (the admin's menu names 约谈 too)
    assert re.search(rf"\b{total}\b", text) and not re.search(r"约\s*\d", text)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert whole_counts(ctx.captured_queries) == []
    # neither the date drill-down's DISTINCT dates and MIN/MAX, nor a "related only" filter's DISTINCT
    assert not [s for s in sqls if ASSIGNMENT in s and re.search(r"DISTINCT|MIN\(|MAX\(", s)]
    monkeypatch.setattr(paging, "EXACT_UP_TO", 3)
    assert re.search(r"约\s*\d", client.get(url).content.decode())


def test_large_counts_are_grouped_by_thousands_in_chinese():
    template = Template('{{ n|floatformat:"0g" }}')
    with translation.override("zh-hans"):
        assert template.render(Context({"n": 57003})) == "57,003"
        assert template.render(Context({"n": 114003000})) == "114,003,000"


def test_the_admins_filters_still_filter(city, published):
    client = admin_client()
    first = Assignment.objects.select_related("item").order_by("id").first()
    by_campaign = client.get(f"/admin/tasks/assignment/?campaign={published.pk}")
    assert by_campaign.context["cl"].result_count == Assignment.objects.filter(campaign=published).count()
    by_action = client.get(f"/admin/tasks/assignment/?action={first.item.action_id}")
    assert by_action.context["cl"].result_count == Assignment.objects.filter(item__action=first.item.action).count()
    assert published.name in by_campaign.content.decode()
    day = first.due_date
    by_due = client.get(f"/admin/tasks/assignment/?due_date__gte={day}&due_date__lt={day + timedelta(days=1)}")
    assert by_due.context["cl"].result_count == Assignment.objects.filter(due_date=day).count()
    odd = client.get("/admin/tasks/assignment/?campaign=x")
    assert odd.context["cl"].result_count == Assignment.objects.count()


def counts(queries) -> list[str]:
    return [q["sql"] for q in queries if re.search(r"COUNT\(\*\)", q["sql"], re.I)]


@pytest.mark.parametrize("paginator", [paging.BoundedPaginator, paging.FirstPageFirst])
@pytest.mark.parametrize(
    ("rows", "per_page", "counted"),
    [(0, 5, False), (4, 5, False), (5, 5, False), (6, 5, True), (12, 5, True)],
    ids=["empty", "fewer", "exactly-one-page", "one-more", "pages"],
)
def test_a_first_page_holding_the_whole_list_is_counted_by_its_rows(published, paginator, rows, per_page, counted):
    """The first page reads one row beyond itself: when the list fits on it, that is its count (one query,
    not two); when it does not, the count is made as before and the page served from the rows read. The
    API's default pages (``FirstPageFirst``) as the assignment lists' (``BoundedPaginator``)."""
    ids = list(Assignment.objects.order_by("id").values_list("id", flat=True))[:rows]
    assert len(ids) == rows
    pager = paginator(Assignment.objects.filter(id__in=ids or [-1]).order_by("id"), per_page)
    with CaptureQueriesContext(connection) as ctx:
        page = pager.page(1)
        assert pager.count == rows and not getattr(pager, "estimated", False)
    assert [a.pk for a in page] == ids[:per_page]
    assert page.has_next() is (rows > per_page)
    assert bool(counts(ctx.captured_queries)) is counted
    assert len(ctx.captured_queries) == (2 if counted else 1)


@pytest.mark.parametrize("paginator", [paging.BoundedPaginator, paging.FirstPageFirst])
def test_a_later_page_is_counted_as_before(published, paginator):
    pager = paginator(Assignment.objects.order_by("id"), 5)
    with CaptureQueriesContext(connection) as ctx:
        page = pager.page("2")
    assert pager.count == Assignment.objects.count() and len(page) == 5
    assert len(counts(ctx.captured_queries)) == 1
    assert [a.pk for a in page] == list(Assignment.objects.order_by("id").values_list("id", flat=True)[5:10])


def test_the_apis_default_pages_read_a_short_list_without_a_count(city, published, settings, monkeypatch):
    """Every list's pages (``REST_FRAMEWORK``'s default, ``utilities.paging.Pagination``): a list that fits
    on its first page is one statement, no COUNT; a longer one is counted exactly, with its next page."""
    client = APIClient()
    client.force_login(city["hq"])
    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "utilities.paging.Pagination"
    total = Unit.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/units/").json()
    assert body["count"] == len(body["results"]) == total and body["next"] is None
    assert counts(ctx.captured_queries) == []
    monkeypatch.setattr(paging.Pagination, "page_size", 2)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/units/").json()
    assert body["count"] == total > 2 and len(body["results"]) == 2 and body["next"].endswith("?page=2")
    assert len(counts(ctx.captured_queries)) == 1
    later = client.get(body["next"]).json()
    assert later["count"] == total and {u["id"] for u in later["results"]}.isdisjoint(u["id"] for u in body["results"])


def test_a_station_leads_whole_list_is_one_query_for_its_rows(city, published):
    client = APIClient()
    client.force_login(city["station_lead"])
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/assignments/?mine=true").json()
    assert 0 < body["count"] == len(body["results"]) <= 50 and body["next"] is None
    assert counts(ctx.captured_queries) == []


def test_a_detail_route_is_not_narrowed_by_list_filters(city, published):
    """``?status=`` and the like filter lists; the row a detail route names is found by its id in the
    user's scope alone (no filter set made for it), and out of scope stays a 404."""
    client = APIClient()
    client.force_login(city["station_lead"])
    mine = Assignment.objects.filter(unit=city["station_lead"].unit).first()
    other = Assignment.objects.exclude(unit=city["station_lead"].unit).exclude(unit__path__startswith=mine.unit.path)
    url = f"/api/v1/assignments/{mine.pk}/"
    assert client.get(f"{url}?status=accepted&campaign=999999").status_code == 200
    assert client.get(f"/api/v1/assignments/{other.first().pk}/?mine=false").status_code == 404
