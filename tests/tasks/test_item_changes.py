"""An item changed after publishing (``tasks.services.items.update_item``): the assignments follow its
units and its deadline in one transaction, work already reported is withdrawn only when confirmed, and
the change is in the audit trail. Also the API's PATCH /api/v1/items/{id}/."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from accounts.models import Role, Unit, UnitKind
from audit.models import AuditEvent
from tasks.models import Assignment, Item, Responsibility
from tasks.services.cascade import Share, pass_down
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.items import ReportedWorkRefused, update_item
from tasks.services.progress import report_progress
from utilities.errors import Refused

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def item(code: str) -> Item:
    return Item.objects.select_related("campaign").get(code=code)


def work(code: str) -> dict[str, tuple[str, bool, str]]:
    """unit code → (role, in the plan, status) of the item's assignments."""
    rows = Assignment.objects.filter(item__code=code, parent=None)
    return {
        u: (role, active, status)
        for u, role, active, status in rows.values_list("unit__code", "role", "is_active", "status")
    }


def units(city, *codes: str) -> list[Unit]:
    return [city.units[c] for c in codes]


def changed(code: str) -> list[dict]:
    return list(
        AuditEvent.objects.filter(verb="item.updated", object_id=item(code).pk)
        .order_by("id")
        .values_list("changes", flat=True)
    )


def test_adding_a_cooperating_unit_creates_its_assignment(city, published):
    # 1.2 涉危企业检查: lead 治安支队, cooperating 各分局 (a group; the plan's 治安支队 there is its lead)
    assert work("1.2") == {
        "330302": ("lead", True, "pending"),
        "330310": ("coop", True, "pending"),
        "330320": ("coop", True, "pending"),
    }
    update_item(item=item("1.2"), by=city["hq"], cooperating_units=units(city, "330302", "33031003"))
    assert work("1.2")["33031003"] == ("coop", True, "pending")
    added = Assignment.objects.get(item__code="1.2", unit__code="33031003")
    assert added.due_date == date(2026, 7, 15) and added.progress == 0
    # the group the plan named stays; the units named one by one are the ones given
    rules = Responsibility.objects.filter(item__code="1.2", role="coop")
    assert {(r.scope, r.unit.code if r.unit else r.unit_kind) for r in rules} == {
        ("kind", UnitKind.SUBBUREAU),
        ("unit", "330302"),
        ("unit", "33031003"),
    }
    assert changed("1.2") == [
        {"cooperating_units": [[], ["330302", "33031003"]], "assignments": {"created": ["33031003"]}}
    ]


def test_a_dropped_unit_is_withdrawn_keeping_its_work_and_comes_back_when_named_again(city, published):
    hq = city["hq"]
    update_item(item=item("1.2"), by=hq, cooperating_units=units(city, "330302", "33031003"))
    update_item(item=item("1.2"), by=hq, cooperating_units=units(city, "330302"))
    assert work("1.2")["33031003"] == ("coop", False, "pending")
    assert AuditEvent.objects.filter(verb="assignment.withdrawn", unit__code="33031003").count() == 1
    update_item(item=item("1.2"), by=hq, cooperating_units=units(city, "330302", "33031003"))
    assert work("1.2")["33031003"] == ("coop", True, "pending")
    assert Assignment.objects.filter(item__code="1.2", unit__code="33031003").count() == 1  # restored, not new
    assert [c.get("assignments") for c in changed("1.2")] == [
        {"created": ["33031003"]},
        {"withdrawn": ["33031003"]},
        {"restored": ["33031003"]},
    ]


def test_a_withdrawn_units_shares_go_with_it_and_come_back_with_it(city, published):
    east = Assignment.objects.get(item__code="2.1", unit__code="330310")
    pass_down(assignment=east, by=city["east_lead"], shares=[Share(unit=city.units["33031001"], target=None)])
    share = Assignment.objects.get(parent=east)
    update_item(item=item("2.1"), by=city["hq"], lead_units=units(city, "330320"))
    assert Assignment.objects.filter(pk__in=[east.pk, share.pk], is_active=True).count() == 0
    assert AuditEvent.objects.filter(verb="assignment.withdrawn", object_id=share.pk).count() == 1
    update_item(item=item("2.1"), by=city["hq"], lead_units=units(city, "330310", "330320"))
    assert Assignment.objects.filter(pk__in=[east.pk, share.pk], is_active=True).count() == 2
    assert AuditEvent.objects.filter(verb="assignment.restored", object_id=share.pk).count() == 1


@pytest.fixture
def reported(city, published) -> Assignment:
    """治安支队's cooperating work on 1.1 (重点场所清查), with a progress report of its lead."""
    lead = make_user("zhi_lead", city.units["330302"], (Role.UNIT_LEAD, city.units["330302"]), name="治安")
    a = Assignment.objects.get(item__code="1.1", unit__code="330302")
    report_progress(assignment=a, by=lead, value=Decimal(3), text="清查 3 家")
    return Assignment.objects.get(pk=a.pk)


def test_withdrawing_reported_work_is_refused_naming_the_units_until_confirmed(city, reported):
    hq = city["hq"]
    assert (reported.status, reported.progress) == ("in_progress", Decimal(3))
    events = AuditEvent.objects.count()
    with pytest.raises(ReportedWorkRefused) as refused:
        update_item(item=item("1.1"), by=hq, cooperating_units=[], title="重点场所清查整治")
    assert refused.value.status_code == 409 and "治安支队" in str(refused.value)
    assert refused.value.payload()["units"] == [
        {"id": reported.pk, "unit": "330302", "name": "治安支队", "status": "in_progress", "progress": "3.00"}
    ]
    # nothing happened: the item, its named units, the assignment and the trail as they were
    assert item("1.1").title == "重点场所清查" and AuditEvent.objects.count() == events
    assert Responsibility.objects.filter(item__code="1.1", unit__code="330302").exists()
    assert work("1.1")["330302"] == ("coop", True, "in_progress")

    update_item(item=item("1.1"), by=hq, cooperating_units=[], title="重点场所清查整治", confirm=True)
    kept = Assignment.objects.get(pk=reported.pk)
    assert (kept.is_active, kept.status, kept.progress, kept.reports.count()) == (False, "in_progress", 3, 1)
    assert changed("1.1") == [
        {
            "title": ["重点场所清查", "重点场所清查整治"],
            "cooperating_units": [["330302"], []],
            "assignments": {"withdrawn": ["330302"]},
        }
    ]
    # named again: back with its progress
    update_item(item=item("1.1"), by=hq, cooperating_units=units(city, "330302"))
    back = Assignment.objects.get(pk=reported.pk)
    assert (back.is_active, back.status, back.progress) == (True, "in_progress", 3)


def test_the_deadline_moves_the_assignments_but_not_an_extended_one(city, published):
    east = Assignment.objects.get(item__code="1.2", unit__code="330310")
    extension = request_extension(assignment=east, by=city["east_lead"], due=date(2026, 7, 25), reason="企业多")
    decide_extension(request=extension, by=city["hq"], approve=True)
    update_item(item=item("1.2"), by=city["hq"], due_date=date(2026, 7, 31), deadline_text="7月底前")
    due = dict(Assignment.objects.filter(item__code="1.2").values_list("unit__code", "due_date"))
    assert due == {"330302": date(2026, 7, 31), "330310": date(2026, 7, 25), "330320": date(2026, 7, 31)}
    assert changed("1.2") == [
        {
            "due_date": ["2026-07-15", "2026-07-31"],
            "deadline_text": ["7月15日前", "7月底前"],
            "milestones": [["2026-07-15"], ["2026-07-31"]],  # the phrase read again
            "assignments": {"moved": 2},
        }
    ]
    # a unit added with the move starts on the new date
    update_item(item=item("1.2"), by=city["hq"], cooperating_units=units(city, "33031003"))
    assert Assignment.objects.get(item__code="1.2", unit__code="33031003").due_date == date(2026, 7, 31)


def test_a_new_deadline_phrase_alone_is_read_for_its_date_and_kind(city, published):
    update_item(item=item("1.2"), by=city["hq"], deadline_text="8月20日前")
    changed_item = item("1.2")
    assert (changed_item.due_date, changed_item.deadline_kind) == (date(2026, 8, 20), "date")
    assert set(Assignment.objects.filter(item__code="1.2").values_list("due_date", flat=True)) == {date(2026, 8, 20)}
    (trail,) = changed("1.2")
    assert trail["due_date"] == ["2026-07-15", "2026-08-20"] and trail["assignments"] == {"moved": 3}
    update_item(item=item("1.2"), by=city["hq"], deadline_text="每周五前报送")
    weekly = item("1.2")
    assert (weekly.deadline_kind, weekly.cadence_weekday, weekly.due_date) == ("weekly", 5, None)
    with pytest.raises(Refused, match="完成时限：") as refused:
        update_item(item=item("1.2"), by=city["hq"], deadline_text="2月30日前")
    assert "2月30日" in str(refused.value)
    assert item("1.2").deadline_text == "每周五前报送"


def test_only_hq_over_the_owner_changes_an_item(city, published):
    before = work("1.2")
    for who in ("east_lead", "station_lead", "inspector", "east_leader"):
        with pytest.raises(PermissionDenied):
            update_item(item=item("1.2"), by=city[who], title="改", cooperating_units=units(city, "33031003"))
    assert item("1.2").title == "涉危企业检查" and work("1.2") == before
    assert not AuditEvent.objects.filter(verb="item.updated").exists()


def test_refusals_of_the_rules(city, published):
    hq = city["hq"]
    with pytest.raises(Refused, match="至少要有一个牵头单位"):
        update_item(item=item("1.2"), by=hq, lead_units=[])  # 治安支队 is its only lead, named one by one
    with pytest.raises(Refused, match="完成时限"):
        update_item(item=item("1.2"), by=hq, due_date=date(2030, 1, 1))
    # nothing to change: nothing written
    update_item(item=item("1.2"), by=hq, title="涉危企业检查", cooperating_units=[])
    assert not AuditEvent.objects.filter(verb="item.updated").exists()


def _stations(city, n: int) -> None:
    parent = city.units["330320"]
    for i in range(n):
        parent.refresh_from_db()
        Unit.objects.add_child(
            parent, instance=Unit(code=f"3303209{i:02d}", name=f"新派出所{i}", kind=UnitKind.STATION)
        )


@pytest.mark.parametrize("n", [2, 20])
def test_the_query_count_does_not_grow_with_the_assignments(city, published, n, django_assert_max_num_queries):
    """1.1 names 各派出所: n new stations get an assignment, every one moves to the new date, one unit is
    withdrawn and one added — in as many queries for 2 stations as for 20."""
    _stations(city, n)
    it = item("1.1")
    ContentType.objects.get_for_models(Assignment, Item)  # cached per process: warm, whatever ran before
    # 32: with the events telling the units given work (notifications.events.assigned: the events, the
    # quiet hours and one statement per channel; the new stations have no leads, so nobody is told here),
    # and one looking for the withdrawn unit's shares
    with django_assert_max_num_queries(33):
        update_item(
            item=it,
            by=city["hq"],
            due_date=date(2026, 9, 15),
            deadline_text="9月15日前",
            cooperating_units=units(city, "33031003"),
        )
    assert Assignment.objects.filter(item=it, is_active=True, unit__kind=UnitKind.STATION).count() == 3 + n
    assert set(Assignment.objects.filter(item=it, is_active=True).values_list("due_date", flat=True)) == {
        date(2026, 9, 15)
    }


# --- the API --------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_patch_changes_the_item_and_its_units(city, published):
    url = f"/api/v1/items/{item('1.2').pk}/"
    response = api(city["hq"]).patch(
        url, {"title": "涉危企业全面检查", "cooperating_units": ["330302", "33031003"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "涉危企业全面检查"
    assert work("1.2")["33031003"] == ("coop", True, "pending")
    unknown = api(city["hq"]).patch(url, {"lead_units": ["99887766"]}, format="json")
    assert unknown.status_code == 400 and "99887766" in unknown.json()["detail"]
    assert api(city["east_lead"]).patch(url, {"title": "改"}, format="json").status_code == 403


def test_api_patch_withdrawing_reported_work_is_409_with_the_units(city, reported):
    url = f"/api/v1/items/{item('1.1').pk}/"
    response = api(city["hq"]).patch(url, {"cooperating_units": []}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert [u["unit"] for u in body["units"]] == ["330302"] and "治安支队" in body["detail"]
    assert work("1.1")["330302"][1] is True
    response = api(city["hq"]).patch(url, {"cooperating_units": [], "confirm": True}, format="json")
    assert response.status_code == 200 and work("1.1")["330302"][1] is False
