"""Targets of an item (issue 20 items 6 and 7): every target of a cell kept, each with its progress; a
target linked to an indicator takes the figures the unit and its subtree reported, never entered twice."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from audit.models import AuditEvent
from stats.models import Indicator, Kind
from stats.services import report_figures
from tasks import targets
from tasks.models import Assignment, AssignmentStatus, Item, ProgressReport, Target
from tasks.services.errors import LinkedTarget, ReportError
from tasks.services.items import link_targets, update_item
from tasks.services.plans import import_plan
from tasks.services.progress import report_progress
from tasks.services.workflow import ShortfallUnconfirmed, transition_assignment
from utilities.errors import Refused

from .planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.django_db

OPTS = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
PLAN = [
    (
        "一、“清患”行动（分管领导：王建国）",
        [
            ("1", "重点场所清查", "", "检查场所不少于300家次，整改隐患不少于20处", "城东分局", "", "", "9月30日前", ""),
            (
                "2",
                "整改督办",
                "",
                "盗窃警情同比下降15%，拥挤踩踏事故0起",
                "城东分局",
                "",
                "",
                "每周五前报送整改进度，9月30日前全部整改销号",
                "",
            ),
        ],
    )
]
TODAY = date(2026, 8, 1)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def plan(city, tmp_path):
    path = write_xlsx(tmp_path / "plan.xlsx", PLAN)
    import_plan(path=path, publish=True, **OPTS)
    return path


def east(code="1.1") -> Assignment:
    return Assignment.objects.select_related("item", "campaign", "unit").get(item__code=code, unit__code="330310")


def places(campaign_code="XJ") -> Indicator:
    from tasks.models import Campaign

    campaign = Campaign.objects.get(code=campaign_code)
    return Indicator.objects.create(campaign=campaign, code="places", name="检查场所", measure="家次", seq=1)


# --- the import ---------------------------------------------------------------------------------------


def test_the_import_keeps_every_target_and_the_deadline_cadence_with_its_final_date(city, plan):
    item = Item.objects.get(code="1.1")
    rows = list(item.targets.order_by("seq").values_list("seq", "text", "metric", "comparator", "value", "unit"))
    assert rows == [
        (1, "检查场所不少于300家次", "检查场所", "ge", Decimal(300), "家次"),
        (2, "整改隐患不少于20处", "整改隐患", "ge", Decimal(20), "处"),
    ]
    assert item.target_text == "检查场所不少于300家次，整改隐患不少于20处"  # the cell as written
    two = Item.objects.get(code="1.2")
    assert [(t.basis, t.direction, t.comparator, t.value) for t in two.targets.order_by("seq")] == [
        ("yoy", "down", "ge", Decimal(15)),
        ("", "", "le", Decimal(0)),
    ]
    # a weekly check-in AND a final deadline
    assert (two.deadline_kind, two.cadence_weekday, two.due_date) == ("weekly", 5, date(2026, 9, 30))
    assert east("1.2").due_date == date(2026, 9, 30)


def test_a_reimport_of_the_same_file_writes_nothing_and_links_by_name(city, plan, django_assert_max_num_queries):
    ids = set(Target.objects.values_list("pk", flat=True))
    result = import_plan(path=plan, **OPTS)
    assert result.changes == []
    assert set(Target.objects.values_list("pk", flat=True)) == ids
    indicator = places()
    result = import_plan(path=plan, **OPTS)  # the indicator exists now: 检查场所 names it
    assert Target.objects.get(item__code="1.1", seq=1).indicator == indicator
    assert Target.objects.get(item__code="1.1", seq=2).indicator is None
    assert AuditEvent.objects.filter(verb="item.target_updated").count() == 1


def test_a_target_the_cell_drops_goes_unless_reports_name_it(city, plan, tmp_path):
    a = east()
    report_progress(assignment=a, by=city["east_lead"], value=Decimal(3), target=Target.objects.get(item=a.item, seq=2))
    (heading, (one, two)) = PLAN[0]
    fewer = [(heading, [(*one[:3], "检查场所不少于300家次", *one[4:]), two])]
    import_plan(path=write_xlsx(tmp_path / "fewer.xlsx", fewer), **OPTS)
    assert list(a.item.targets.values_list("seq", flat=True)) == [1, 2]  # a report names the second
    ProgressReport.objects.filter(target__isnull=False).delete()
    import_plan(path=write_xlsx(tmp_path / "again.xlsx", [(heading, fewer[0][1][:1])]), **OPTS)
    # 1.2 withdrawn keeps its targets; 1.1 lost its second
    assert list(a.item.targets.values_list("seq", flat=True)) == [1]
    assert Target.objects.filter(item__code="1.2").count() == 2


# --- progress per target ------------------------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_a_linked_target_reads_the_units_subtree_figures(city, plan, settings, fast):
    settings.DB_FAST_PATHS = fast
    a = east()
    indicator = places()
    assert link_targets(campaign=a.campaign, by=city["hq"]) == 1
    for code, value in (("330310", 4), ("33031001", 10), ("33031002", 7), ("33032001", 99)):  # 西山: not under 城东
        report_figures(
            campaign=a.campaign,
            unit=city.units[code],
            day=date(2026, 7, 3),
            values={indicator.pk: value},
            by=city["hq"],
        )
    report_figures(
        campaign=a.campaign, unit=city.units["33031001"], day=date(2026, 7, 4), values={indicator.pk: 2}, by=city["hq"]
    )
    with time_machine.travel(TODAY):
        first, second = targets.lines([a])[a.pk]
    assert (first.linked, first.progress, first.amount, first.short) == (True, Decimal(23), Decimal(300), True)
    assert first.behind  # 23 of 300 a month in
    assert (second.linked, second.progress, second.amount) == (False, Decimal(0), Decimal(20))


def test_a_report_on_a_linked_target_is_refused_and_another_target_counts_apart(city, plan):
    a = east()
    places()
    link_targets(campaign=a.campaign, by=None)
    with pytest.raises(LinkedTarget, match=r"战果统计|results statistics"):
        report_progress(assignment=a, by=city["east_lead"], value=Decimal(5))
    report_progress(assignment=a, by=city["east_lead"], text="只写情况可以")  # words without an amount: fine
    second = Target.objects.get(item=a.item, seq=2)
    report_progress(assignment=a, by=city["east_lead"], value=Decimal(8), target=second)
    a.refresh_from_db()
    assert a.progress == 0  # the first target's total is not the second's
    assert targets.lines([a])[a.pk][1].progress == Decimal(8)
    other = Target.objects.get(item__code="1.2", seq=1)
    with pytest.raises(ReportError, match="不属于该任务"):
        report_progress(assignment=a, by=city["east_lead"], value=Decimal(1), target=other)
    assert ProgressReport.objects.get(target=second).value == Decimal(8)


def test_submitting_is_short_if_any_target_is(city, plan):
    a = east()
    report_progress(assignment=a, by=city["east_lead"], value=Decimal(300))  # the first reached
    with pytest.raises(ShortfallUnconfirmed) as info:
        transition_assignment(assignment=east(), name="submit", by=city["east_lead"])
    assert (info.value.progress, info.value.target) == (Decimal(0), Decimal(20))  # the second is short
    report_progress(
        assignment=east(), by=city["east_lead"], value=Decimal(20), target=Target.objects.get(item=a.item, seq=2)
    )
    assert transition_assignment(assignment=east(), name="submit", by=city["east_lead"]).status == "submitted"


def test_an_assignment_of_an_item_without_target_rows_reads_the_items_fields(city, plan):
    a = east()
    Target.objects.filter(item=a.item).delete()
    assert targets.shortfall(a) == (Decimal(0), Decimal(300))
    assert targets.lines([a]) == {a.pk: []}


def test_per_period_targets_multiply_and_are_never_short(city, plan):
    a = east()
    t = Target.objects.get(item=a.item, seq=2)
    t.per = "weekly"
    t.save()
    line = targets.lines([a])[a.pk][1]
    assert line.amount == Decimal(20) * 13  # the Fridays from 7/3 to 9/25
    assert not line.short and not line.behind


# --- HQ links a target --------------------------------------------------------------------------------


def test_update_item_links_and_unlinks_and_rereads_the_targets(city, plan):
    a = east()
    indicator = places()
    update_item(item=a.item, by=city["hq"], indicators={2: indicator})
    assert Target.objects.get(item=a.item, seq=2).indicator == indicator
    event = AuditEvent.objects.filter(verb="item.updated").latest("pk")
    assert event.changes["indicators"] == {"2": [None, indicator.pk]}
    update_item(item=a.item, by=city["hq"], indicators={2: None})
    assert Target.objects.get(item=a.item, seq=2).indicator is None
    update_item(item=a.item, by=city["hq"], target_text="检查场所不少于400家次，整改隐患不少于30处，立案5起")
    assert [(t.seq, t.value) for t in a.item.targets.order_by("seq")] == [
        (1, Decimal(300)),  # the first is the item's fields, which HQ changes itself
        (2, Decimal(30)),
        (3, Decimal(5)),
    ]
    update_item(item=a.item, by=city["hq"], target_text="检查场所不少于400家次", target_value=Decimal(400))
    assert [(t.seq, t.text, t.value) for t in a.item.targets.all()] == [(1, "检查场所不少于400家次", Decimal(400))]


def test_update_item_refuses_a_foreign_indicator_a_rate_and_a_missing_target(city, plan):
    a = east()
    rate_parts = [
        Indicator.objects.create(campaign=a.campaign, code=c, name=n, measure="起", seq=s)
        for c, n, s in (("solved", "破案", 2), ("filed", "立案", 3))
    ]
    rate = Indicator.objects.create(
        campaign=a.campaign,
        code="rate",
        name="破案率",
        measure="%",
        kind=Kind.RATE,
        numerator=rate_parts[0],
        denominator=rate_parts[1],
    )
    with pytest.raises(Refused, match="可累计"):
        update_item(item=a.item, by=city["hq"], indicators={1: rate})
    with pytest.raises(Refused, match="第9项"):
        update_item(item=a.item, by=city["hq"], indicators={9: rate_parts[0]})
    with pytest.raises(PermissionDenied):
        link_targets(campaign=a.campaign, by=city["east_lead"])


def test_the_data_migration_fills_the_targets_of_existing_items(city, plan):
    Target.objects.all().delete()
    migration = importlib.import_module("tasks.migrations.0019_targets")
    migration.fill_targets(apps, None)
    item = Item.objects.get(code="1.1")
    assert list(item.targets.values_list("seq", "text", "value")) == [
        (1, "检查场所不少于300家次", Decimal(300)),
        (2, "整改隐患不少于20处", Decimal(20)),
    ]
    assert migration._fit(Decimal("1e20")) is None


# --- pages and API ------------------------------------------------------------------------------------


def test_the_pages_list_every_target_and_the_edit_page_links_one(city, plan, client):
    a = east()
    indicator = places()
    client.force_login(city["hq"])
    response = client.post(f"/items/{a.item_id}/edit/", {**_edit_form(a.item), "indicator_1": indicator.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(item=a.item, seq=1).indicator == indicator
    page = client.get(f"/items/{a.item_id}/").content.decode()
    assert f'data-linked="{indicator.pk}"' in page and "整改隐患不少于20处" in page
    client.force_login(city["east_lead"])
    page = client.get(f"/assignments/{a.pk}/").content.decode()
    assert 'id="targets"' in page and f'data-linked="{indicator.pk}"' in page
    assert 'name="target"' in page  # the second may be reported on; the linked first is not offered
    response = client.post(f"/assignments/{a.pk}/report/", {"value": "5", "text": "", "target": "2"})
    assert response.status_code == 302
    assert ProgressReport.objects.get(assignment=a).target.seq == 2
    page = client.get(f"/assignments/{a.pk}/").content.decode()
    assert 'data-report-target="2"' in page and "+5处" in page and "+5家次" not in page  # in its own unit
    response = client.post(f"/assignments/{a.pk}/report/", {"value": "5", "text": "", "target": "1"})
    assert response.status_code == 400  # not a choice: linked


def _edit_form(item) -> dict:
    return {
        "title": item.title,
        "measures": item.measures,
        "target_text": item.target_text,
        "target_value": item.target_value,
        "deadline_text": item.deadline_text,
        "due_date": item.due_date.isoformat() if item.due_date else "",
        "lead_text": item.lead_text,
        "cooperating_text": item.cooperating_text,
        "lead_units": "330310",
        "cooperating_units": "",
    }


def test_the_api_gives_targets_links_them_and_reports_on_one(city, plan):
    a = east()
    indicator = places()
    hq = api(city["hq"])
    row = hq.get(f"/api/v1/items/{a.item_id}/").json()
    assert [t["text"] for t in row["targets"]] == ["检查场所不少于300家次", "整改隐患不少于20处"]
    response = hq.patch(
        f"/api/v1/items/{a.item_id}/", {"indicators": [{"seq": 1, "indicator": indicator.pk}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["targets"][0]["indicator_name"] == "检查场所"
    response = hq.patch(f"/api/v1/items/{a.item_id}/", {"indicators": [{"seq": 1, "indicator": 10**9}]}, format="json")
    assert response.status_code == 400
    lead = api(city["east_lead"])
    detail = lead.get(f"/api/v1/assignments/{a.pk}/").json()
    assert [(t["seq"], t["source"], t["amount"]) for t in detail["targets"]] == [
        (1, "statistics", "300.00"),
        (2, "reports", "20.00"),
    ]
    refused = lead.post(f"/api/v1/assignments/{a.pk}/reports/", {"value": "3"}, format="json")
    assert refused.status_code == 400
    assert "来自战果统计（检查场所）" in refused.json()["detail"]
    ok = lead.post(f"/api/v1/assignments/{a.pk}/reports/", {"value": "3", "target": 2}, format="json")
    assert ok.status_code == 201
    missing = lead.post(f"/api/v1/assignments/{a.pk}/reports/", {"value": "3", "target": 7}, format="json")
    assert missing.status_code == 400 and "第7项" in missing.json()["detail"]
    assert lead.get(f"/api/v1/assignments/{a.pk}/").json()["targets"][1]["progress"] == "3.00"
    assert [r["target"] for r in lead.get(f"/api/v1/assignments/{a.pk}/reports/").json()] == [2]


@pytest.mark.smoke
def test_smoke_two_targets_and_a_linked_one(city, plan):
    a = east()
    indicator = places()
    link_targets(campaign=a.campaign, by=None)
    report_figures(
        campaign=a.campaign, unit=city.units["33031001"], day=date(2026, 7, 3), values={indicator.pk: 9}, by=city["hq"]
    )
    first, second = targets.lines([a])[a.pk]
    assert (first.progress, first.linked, second.linked) == (Decimal(9), True, False)
    assert a.status == AssignmentStatus.PENDING


def test_a_qualitative_target_has_no_percent_and_accepted_work_is_never_behind(city, plan):
    a = east()
    Target.objects.filter(item=a.item, seq=2).update(text="建立长效机制", comparator="", value=None, unit="")
    with time_machine.travel(TODAY):
        first, second = targets.lines([a])[a.pk]
        assert (second.amount, second.percent, second.short, second.behind) == (None, None, False, False)
        assert first.percent == 0 and first.behind
        Assignment.objects.filter(pk=a.pk).update(status=AssignmentStatus.ACCEPTED)
        assert not targets.lines([east()])[a.pk][0].behind
    indicator = places()
    update_item(item=a.item, by=city["hq"], indicators={1: indicator})
    before = AuditEvent.objects.count()
    update_item(item=a.item, by=city["hq"], indicators={1: indicator})  # the same link: nothing written
    assert AuditEvent.objects.count() == before


def test_no_pairs_no_query(django_assert_num_queries):
    from stats.queries import subtree_totals

    with django_assert_num_queries(0):
        assert subtree_totals(1, set()) == {}


# --- the lists judge every target (issue 20) ----------------------------------------------------------


def _listed(client, code="1.1") -> tuple[dict, Assignment]:
    """The /my/ row and the API list row of 城东分局's assignment of ``code``."""
    rows = [a for _k, _t, group in client.get("/my/").context["groups"] for a in group]
    page = next(a for a in rows if a.item.code == code)
    body = client.get("/api/v1/assignments/?mine=true").json()["results"]
    return next(r for r in body if r["id"] == page.pk), page


@pytest.mark.parametrize("fast", [True, False])
def test_the_lists_judge_pace_by_every_target_a_linked_one_by_its_figures(city, plan, settings, client, fast):
    settings.DB_FAST_PATHS = fast
    a = east()
    indicator = places()
    link_targets(campaign=a.campaign, by=None)
    for code, value in (("330310", 40), ("33031001", 70)):  # 110 of 300 by 8/1: ahead of 34% (102.2)
        report_figures(
            campaign=a.campaign,
            unit=city.units[code],
            day=date(2026, 7, 20),
            values={indicator.pk: value},
            by=city["hq"],
        )
    client.force_login(city["east_lead"])
    with time_machine.travel(TODAY):
        assert a.is_behind_pace()  # the row alone: the first target's own reports, none (it is linked)
        row, page = _listed(client)
        # the second target (整改隐患不少于20处) has nothing reported: behind 6.81 by 8/1
        assert (row["behind_pace"], page.behind, page.done, page.slip) == (True, True, Decimal(110), "yellow")
        report_progress(
            assignment=a, by=city["east_lead"], value=Decimal(7), target=Target.objects.get(item=a.item, seq=2)
        )
        row, page = _listed(client)
        assert (row["behind_pace"], page.behind, page.slip) == (False, False, None)  # the first target's 0: not read
        Target.objects.filter(item=a.item, seq=1).update(indicator=None)  # unlinked: its reports' 0 is behind
        row, page = _listed(client)
        assert (row["behind_pace"], page.behind, page.done) == (True, True, Decimal(0))


@pytest.mark.parametrize("fast", [True, False])
def test_judged_reads_as_the_assignment_page_for_every_row(city, plan, settings, fast, django_assert_num_queries):
    """``judged`` (the lists, one query) and ``lines`` (the pages) agree on progress, pace and shortfall for
    every row: linked first and second targets, reports on a second one, shares, an item without targets."""
    settings.DB_FAST_PATHS = fast
    a = east()
    indicator = places()
    Indicator.objects.create(campaign=a.campaign, code="fix", name="整改隐患", measure="处", seq=2)
    link_targets(campaign=a.campaign, by=None)
    report_figures(
        campaign=a.campaign,
        unit=city.units["33031001"],
        day=date(2026, 7, 3),
        values={indicator.pk: 200},
        by=city["hq"],
    )
    report_progress(
        assignment=east("1.2"),
        by=city["east_lead"],
        value=Decimal(1),
        target=Target.objects.get(item__code="1.2", seq=2),
    )
    Target.objects.filter(item__code="1.2", seq=1).delete()
    rows = list(Assignment.objects.select_related("item", "campaign", "unit"))
    with time_machine.travel(TODAY):
        with django_assert_num_queries(1):
            found = targets.judged(rows)
        pages = targets.lines(rows)
        for r in rows:
            lines = pages[r.pk]
            expected = (
                lines[0].progress if lines and lines[0].target.seq == 1 else r.progress,
                any(line.behind for line in lines) if lines else r.is_behind_pace(),
                targets.shortfall(r),
            )
            assert (found[r.pk].progress, found[r.pk].behind, found[r.pk].short) == expected, r
    # 200 of 300: ahead; the second (整改隐患, linked too) has no figure: behind; the first is short of 300
    assert (found[a.pk].progress, found[a.pk].behind, found[a.pk].short) == (200, True, (200, 300))


def test_a_rate_target_has_no_pace_but_can_be_short(city, plan):
    a = east()
    Target.objects.filter(item=a.item, seq=2).update(text="回复率100%", metric="回复率", value=100, unit="%")
    with time_machine.travel(TODAY):
        first, second = targets.lines([a])[a.pk]
        assert (second.behind, second.short) == (False, True)  # a level reached, not an amount done day by day
        assert first.behind and targets.judged([a])[a.pk].behind
