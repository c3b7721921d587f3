"""Shares of every target (issue 20 item 7): a pass-down (分解) splits each target of the item, the first
on the assignment (``target_share``), a later one as a ``TargetShare``; each checked against the parent's
amount of that target, read by ``targets.amount``, ``lines`` and ``judged`` alike."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role, Unit
from audit.models import AuditEvent
from stats.models import Indicator
from stats.services import report_figures
from tasks import targets
from tasks.models import Assignment, Target, TargetShare
from tasks.services.cascade import RemainderUnconfirmed, Share, ShareRefused, pass_down
from tasks.services.items import link_targets
from tasks.services.plans import import_plan
from tasks.services.progress import report_progress
from tests.web.pages import login, text

from .planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.django_db

OPTS = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
# 1.1: two targets, 检查场所 ≥ 300 家次 and 整改隐患 ≥ 20 处, lead 城东分局 (stations 城关 33031001, 东湖 33031002)
PLAN = [
    (
        "一、“清患”行动（分管领导：王建国）",
        [("1", "重点场所清查", "", "检查场所不少于300家次，整改隐患不少于20处", "城东分局", "", "", "9月30日前", "")],
    )
]
TODAY = date(2026, 8, 1)
CITY, EAST = "33031001", "33031002"


@pytest.fixture
def plan(city, tmp_path):
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx", PLAN), publish=True, **OPTS)


def east() -> Assignment:
    return Assignment.objects.select_related("item", "campaign", "unit").get(item__code="1.1", unit__code="330310")


def share_of(code: str) -> Assignment:
    return Assignment.objects.select_related("item", "campaign", "unit").get(item__code="1.1", unit__code=code)


def split(city, parent, *rows, keep=False, by="east_lead"):
    """``rows``: (unit code, first target's share, {seq: share}) each."""
    shares = [
        Share(
            city.units[code],
            None if first is None else Decimal(first),
            targets={k: Decimal(v) for k, v in more.items()},
        )
        for code, first, more in rows
    ]
    return pass_down(assignment=parent, by=city[by], shares=shares, keep_remainder=keep)


def amounts(a: Assignment) -> list:
    return [line.amount for line in targets.lines([a])[a.pk]]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the service --------------------------------------------------------------------------------------


def test_each_target_is_split_and_read_as_the_shares_amount(city, plan):
    parent = east()
    split(city, parent, (CITY, "200", {2: "12"}), (EAST, "100", {2: "8"}))
    assert amounts(share_of(CITY)) == [200, 12] and amounts(share_of(EAST)) == [100, 8]
    assert amounts(parent) == [300, 20]  # the parent's own: the item's
    second = Target.objects.get(item=parent.item, seq=2)
    assert targets.amount(share_of(CITY), second) == 12  # read by itself: one query
    assert TargetShare.objects.get(assignment=share_of(EAST)).amount == 8
    created = AuditEvent.objects.get(verb="assignment.created_by_pass_down", object_id=share_of(CITY).pk)
    assert created.changes["target_shares"] == {"2": "12.00"} and created.changes["target_share"] == "200"


def test_a_share_without_a_later_amount_carries_the_items_whole_value(city, plan):
    split(city, east(), (CITY, "300", {}))
    assert amounts(share_of(CITY)) == [300, 20] and not TargetShare.objects.exists()
    assert "target_shares" not in AuditEvent.objects.get(verb="assignment.created_by_pass_down").changes


@pytest.mark.parametrize(
    ("more", "field", "words"),
    [
        ({2: "21"}, "targets.2", "“城关派出所”的“整改隐患（处）”分解指标21.00不能超过城东分局的20.00"),
        ({2: "-1"}, "targets.2", "不能为负数"),
        ({3: "5"}, "targets.3", "该事项没有第3项指标"),
        ({1: "5"}, "targets.1", "第一项指标"),
    ],
)
def test_a_refused_target_share_names_its_row_and_target_and_writes_nothing(city, plan, more, field, words):
    with pytest.raises(ShareRefused) as refused:
        split(city, east(), (EAST, "100", {2: "5"}), (CITY, "100", more))
    assert (refused.value.row, refused.value.field) == (1, field) and words in str(refused.value)
    assert refused.value.payload() == {"detail": str(refused.value), "row": 1, "field": field}
    assert not Assignment.objects.filter(parent__isnull=False).exists() and not TargetShare.objects.exists()


def test_the_first_targets_refusal_names_its_field_too(city, plan):
    with pytest.raises(ShareRefused) as refused:
        split(city, east(), (CITY, "301", {}))
    assert refused.value.field == "target" and "不能超过" in str(refused.value)


def test_short_shares_of_a_later_target_need_the_remainder_kept(city, plan):
    parent = east()
    with pytest.raises(RemainderUnconfirmed) as short:
        split(city, parent, (CITY, "150", {2: "5"}), (EAST, "150", {2: "7"}))
    assert short.value.payload() == {
        "detail": "“整改隐患（处）”分解合计12，上级指标20，尚余8未分解。确认余量由城东分局自行承担？",
        "seq": 2,
        "target": "20.00",
        "shared": "12.00",
        "remainder": "8.00",
        "confirm": "keep_remainder",
    }
    assert not TargetShare.objects.exists()
    split(city, parent, (CITY, "150", {2: "5"}), (EAST, "150", {2: "7"}), keep=True)
    event = AuditEvent.objects.get(verb="assignment.passed_down", object_id=parent.pk)
    assert event.changes["remainders_kept"] == {"2": "8.00"} and "remainder_kept" not in event.changes
    page = text(login(city["east_lead"]).get(f"/assignments/{parent.pk}/"))
    assert "本单位承担“整改隐患（处）”余量：8" in page  # the parent's page says what it keeps of each
    # a share passed down before counts: the 8 given to 东湖 now (7 → 15) makes the whole 20
    split(city, parent, (EAST, "150", {2: "15"}))
    assert "data-remainder-of" not in text(login(city["east_lead"]).get(f"/assignments/{parent.pk}/"))
    # one share without a later amount carries the whole: nothing to add up
    split(city, parent, (EAST, "150", {}))


def test_passing_down_again_updates_removes_and_audits_the_rows(city, plan):
    parent = east()
    split(city, parent, (CITY, "300", {2: "10"}), keep=True)
    row = TargetShare.objects.get()
    version = share_of(CITY).version
    split(city, parent, (CITY, "300", {2: "14"}), keep=True)
    again = TargetShare.objects.get()
    assert (again.pk, again.amount) == (row.pk, 14) and share_of(CITY).version == version + 1
    changed = AuditEvent.objects.filter(verb="assignment.share_changed").order_by("pk")
    assert changed.get().changes == {"target_shares": [{"2": "10.00"}, {"2": "14.00"}]}
    split(city, parent, (CITY, "300", {2: "14.00"}), keep=True)  # the same amounts: nothing changes
    assert changed.count() == 1
    split(city, parent, (CITY, "300", {}))  # left out: the item's whole value again
    assert not TargetShare.objects.exists() and amounts(share_of(CITY)) == [300, 20]
    assert changed.last().changes == {"target_shares": [{"2": "14.00"}, {}]}
    page = text(login(city["east_lead"]).get(f"/assignments/{share_of(CITY).pk}/"))
    assert "target 2: 14.00" in page or "指标2：14.00" in page  # the timeline says it


def test_a_share_is_split_again_within_its_own_amount(city, plan):
    station = city.units[CITY]
    post = Unit.objects.add_child(station, instance=Unit(code="3303100101", name="城关警务室", kind="other"))
    from tests.conftest import make_user

    make_user("post_lead", post, (Role.UNIT_LEAD, post))
    city.units["3303100101"] = post
    (share,) = split(city, east(), (CITY, "300", {2: "9"}), keep=True)
    share = share_of(CITY)
    with pytest.raises(ShareRefused, match=r"不能超过城关派出所的9\.00"):
        split(city, share, ("3303100101", "300", {2: "10"}), by="station_lead")
    split(city, share, ("3303100101", "300", {2: "9"}), by="station_lead")
    assert amounts(share_of("3303100101")) == [300, 9]


def test_a_linked_targets_share_is_compared_with_the_share_units_figures(city, plan):
    parent = east()
    fix = Indicator.objects.create(campaign=parent.campaign, code="fix", name="整改隐患", measure="处", seq=1)
    link_targets(campaign=parent.campaign, by=None)
    split(city, parent, (CITY, "300", {2: "10"}), (EAST, "300", {2: "10"}))
    report_figures(
        campaign=parent.campaign, unit=city.units[CITY], day=date(2026, 7, 20), values={fix.pk: 4}, by=city["hq"]
    )
    station = share_of(CITY)
    report_progress(assignment=station, by=city["station_lead"], value=Decimal(300))  # the first: reached
    station = share_of(CITY)
    line = targets.lines([station])[station.pk][1]
    assert (line.linked, line.progress, line.amount, line.short) == (True, 4, 10, True)
    with time_machine.travel(TODAY):
        assert targets.judged([station])[station.pk].short == (4, 10)  # not the item's 20


# --- lines and judged read the same amounts -----------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lines_and_judged_read_the_same_shares(city, plan, settings, fast, seed):
    """Random shares of the second target and random reports on it: ``judged`` (one statement, the LEFT
    JOIN) and ``lines`` (one more query) agree on each row's pace and shortfall, and ``lines`` on the
    amount ``targets.amount`` reads one by one."""
    settings.DB_FAST_PATHS = fast
    rnd = random.Random(seed)
    parent = east()
    second = Target.objects.get(item=parent.item, seq=2)
    rows = [(code, "300", {2: str(rnd.randint(0, 20))} if rnd.random() < 0.8 else {}) for code in (CITY, EAST)]
    split(city, parent, *rows, keep=True)
    for a in Assignment.objects.filter(parent=parent):
        report_progress(assignment=a, by=city["east_lead"], value=Decimal(300))  # the first target reached
        report_progress(assignment=a, by=city["east_lead"], value=Decimal(rnd.randint(0, 20)), target=second)
    found = list(Assignment.objects.select_related("item", "campaign", "unit"))
    with time_machine.travel(TODAY):
        judged = targets.judged(found)
        pages = targets.lines(found)
    for a in found:
        lines = pages[a.pk]
        assert [line.amount for line in lines] == [targets.amount(a, line.target) for line in lines]
        short = next(((line.progress, line.amount) for line in lines if line.short), None)
        assert (judged[a.pk].behind, judged[a.pk].short) == (any(line.behind for line in lines), short), a
    shared = {r[0]: r[2] for r in rows}
    for code in (CITY, EAST):
        a = share_of(code)
        want = Decimal(shared[code][2]) if shared[code] else Decimal(20)
        assert pages[a.pk][1].amount == want


def test_lines_reads_the_shares_in_one_more_query_however_many_rows(city, plan, django_assert_num_queries):
    split(city, east(), (CITY, "150", {2: "10"}), (EAST, "150", {2: "10"}))
    one = list(Assignment.objects.select_related("item", "campaign", "unit").filter(unit__code=CITY))
    every = list(Assignment.objects.select_related("item", "campaign", "unit"))
    assert len(every) == 3
    with django_assert_num_queries(3):  # the targets, the reports' sums, the shares
        targets.lines(one)
    with django_assert_num_queries(3):
        targets.lines(every)
    with django_assert_num_queries(1):
        targets.judged(every)


# --- the page and the API -----------------------------------------------------------------------------


def page_rows(*shares, keep=False) -> dict:
    """The form's POST: ``(unit, first, second)`` per row."""
    data = {"share-TOTAL_FORMS": str(len(shares)), "share-INITIAL_FORMS": "0", "share-MAX_NUM_FORMS": "100"}
    for i, (unit, first, second) in enumerate(shares):
        data |= {f"share-{i}-unit": unit, f"share-{i}-target": first, f"share-{i}-target_2": second}
        data |= {f"share-{i}-due_date": "", f"share-{i}-note": ""}
    if keep:
        data["keep_remainder"] = "on"
    return data


def test_the_page_has_a_column_per_later_target_and_splits_each(city, plan):
    parent = east()
    lead = login(city["east_lead"])
    body = text(lead.get(f"/assignments/{parent.pk}/"))
    assert 'data-target-seq="2"' in body and "整改隐患（处）" in body and 'name="share-0-target_2"' in body
    url = f"/assignments/{parent.pk}/pass-down/"
    over = lead.post(url, page_rows((CITY, "150", "21"), (EAST, "150", "")))
    assert over.status_code == 400 and "不能超过城东分局的20.00" in text(over)
    row = over.context["pass_down_form"].rows.forms[0]
    assert row.errors["target_2"] and not TargetShare.objects.exists()
    bad = lead.post(url, page_rows((CITY, "150", "十"), (EAST, "150", "-2")))
    rows = bad.context["pass_down_form"].rows.forms
    assert bad.status_code == 400 and rows[0].errors["target_2"] and rows[1].errors["target_2"]
    done = lead.post(url, page_rows((CITY, "150", "12"), (EAST, "150", "8")))
    assert done.status_code == 302, text(done)
    assert amounts(share_of(CITY)) == [150, 12] and amounts(share_of(EAST)) == [150, 8]
    short = lead.post(url, page_rows((CITY, "150", "2")))
    assert short.status_code == 409 and "尚余10" in text(short)


def test_a_page_of_an_item_with_one_target_has_no_more_columns(city, published):
    parent = Assignment.objects.get(item__code="2.1", unit__code="330310")
    Target.objects.filter(item=parent.item, seq__gt=1).delete()
    body = text(login(city["east_lead"]).get(f"/assignments/{parent.pk}/"))
    assert "data-target-seq" not in body and "target_2" not in body


def test_the_api_takes_one_amount_per_target(city, plan):
    parent = east()
    client = api(city["east_lead"])
    url = f"/api/v1/assignments/{parent.pk}/pass-down/"

    def post(*rows):
        return client.post(url, list(rows), format="json")

    over = post({"unit": CITY, "target": "150", "targets": {"2": "21"}})
    assert over.status_code == 400 and over.json()["row"] == 0 and over.json()["field"] == "targets.2"
    missing = post({"unit": CITY, "target": "150", "targets": {"3": "1"}})
    assert missing.status_code == 400 and missing.json()["field"] == "targets.3"
    assert post({"unit": CITY, "targets": {"1": "1"}}).json()["0"]["targets"] == {"1": ["不是后续指标的序号（2、3……）"]}
    for bad in ({"x": "1"}, {"1": "1"}, {"²": "1"}, {"2": "abc"}, {"2": "-1"}, ["2", "1"]):
        answer = post({"unit": CITY, "target": "150", "targets": bad})
        assert answer.status_code == 400 and "targets" in answer.json()["0"], (bad, answer.json())
    assert not TargetShare.objects.exists()
    done = post(
        {"unit": CITY, "target": "150", "targets": {"2": "12"}}, {"unit": EAST, "target": "150", "targets": {"2": "8"}}
    )
    assert done.status_code == 201, done.json()
    detail = client.get(f"/api/v1/assignments/{share_of(CITY).pk}/").json()
    assert [t["amount"] for t in detail["targets"]] == ["150.00", "12.00"]
    short = post({"unit": EAST, "target": "150", "targets": {"2": "1"}})
    assert short.status_code == 409 and short.json()["seq"] == 2 and short.json()["remainder"] == "7.00"
    schema = client.get("/api/schema/?format=json").json()
    share = schema["components"]["schemas"]["ShareRequest"]["properties"]["targets"]
    assert share["type"] == "object" and "seq" in share["description"]


def test_the_query_count_of_the_assignment_page_does_not_grow_with_the_targets(city, plan):
    parent = east()
    lead = login(city["east_lead"])
    with CaptureQueriesContext(connection) as before:
        lead.get(f"/assignments/{parent.pk}/")
    split(city, parent, (CITY, "150", {2: "10"}), (EAST, "150", {2: "10"}))
    Target.objects.create(
        item=parent.item, seq=3, text="宣传不少于5次", metric="宣传", comparator="ge", value=5, unit="次"
    )
    with CaptureQueriesContext(connection) as after:
        page = lead.get(f"/assignments/{parent.pk}/")
    assert 'data-target-seq="3"' in text(page)
    # the shares listed under the parent and the shares' query of ``lines``: at most two more
    assert len(after) <= len(before) + 2, [q["sql"] for q in after.captured_queries]
