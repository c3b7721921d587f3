"""HQ's item edit page (``web:tasks-item-edit``): the form as the item stands, a change that the
assignments follow, work already reported withdrawn only when "confirm" is ticked, and who may open it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from tasks.models import Assignment, Item
from tasks.services.progress import report_progress
from tests.conftest import make_user
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db


def item(code: str) -> Item:
    return Item.objects.get(code=code)


def form_of(it: Item, **changes) -> dict:
    data = {
        "title": it.title,
        "measures": it.measures,
        "target_text": it.target_text,
        "target_value": "" if it.target_value is None else str(it.target_value),
        "deadline_text": it.deadline_text,
        "due_date": it.due_date.isoformat() if it.due_date else "",
        "lead_text": it.lead_text,
        "lead_units": " ".join(
            it.responsibilities.filter(role="lead", scope="unit").values_list("unit__code", flat=True)
        ),
        "cooperating_text": it.cooperating_text,
        "cooperating_units": " ".join(
            it.responsibilities.filter(role="coop", scope="unit").values_list("unit__code", flat=True)
        ),
    }
    return {**data, **changes}


def test_hq_sees_the_form_and_the_groups_the_plan_named(city, published):
    it = item("1.1")  # lead 各派出所 (a group), cooperating 治安支队
    page = login(city["hq"]).get(reverse("web:tasks-item-edit", args=[it.pk]))
    assert page.status_code == 200
    body = text(page)
    assert 'name="cooperating_units"' in body and 'value="330302"' in body and "各派出所" in body
    assert 'name="confirm"' in body
    # the item page links to it for HQ only
    assert reverse("web:tasks-item-edit", args=[it.pk]) in text(login(city["hq"]).get(f"/items/{it.pk}/"))
    assert "/edit/" not in text(login(city["east_lead"]).get(f"/items/{it.pk}/"))


def test_a_change_on_the_page_moves_the_assignments(city, published):
    it = item("1.2")
    url = reverse("web:tasks-item-edit", args=[it.pk])
    response = login(city["hq"]).post(url, form_of(it, cooperating_units="33031003", due_date="2026-07-31"))
    assert response.status_code == 302 and response["Location"] == f"/items/{it.pk}/"
    added = Assignment.objects.get(item=it, unit__code="33031003")
    assert added.is_active and str(added.due_date) == "2026-07-31"
    event = AuditEvent.objects.get(verb="item.updated", object_id=it.pk)
    assert event.changes["due_date"] == ["2026-07-15", "2026-07-31"]
    assert event.changes["cooperating_units"] == [[], ["33031003"]]
    assert set(event.changes) == {"due_date", "cooperating_units", "assignments"}  # untouched fields stay out


def test_withdrawing_reported_work_asks_for_confirmation(city, published):
    lead = make_user("zhi_lead", city.units["330302"], (Role.UNIT_LEAD, city.units["330302"]), name="治安")
    a = Assignment.objects.get(item__code="1.1", unit__code="330302")
    report_progress(assignment=a, by=lead, value=Decimal(2), text="清查 2 家")
    it = item("1.1")
    url = reverse("web:tasks-item-edit", args=[it.pk])
    hq = login(city["hq"])
    refused = hq.post(url, form_of(it, cooperating_units="", title="重点场所清查（调整）"))
    assert refused.status_code == 409
    body = text(refused)
    assert "治安支队" in body and "重点场所清查（调整）" in body  # the units named, the form as typed
    assert Assignment.objects.get(pk=a.pk).is_active and item("1.1").title == "重点场所清查"
    done = hq.post(url, form_of(it, cooperating_units="", title="重点场所清查（调整）", confirm="on"))
    assert done.status_code == 302
    kept = Assignment.objects.get(pk=a.pk)
    assert (kept.is_active, kept.progress, kept.status) == (False, 2, "in_progress")


def test_unknown_codes_and_bad_fields_come_back_on_the_page(city, published):
    it = item("1.2")
    url = reverse("web:tasks-item-edit", args=[it.pk])
    unknown = login(city["hq"]).post(url, form_of(it, lead_units="330302 99887766"))
    assert unknown.status_code == 400 and "99887766" in text(unknown)
    bad = login(city["hq"]).post(url, form_of(it, due_date="9999-12-31", title=""))
    assert bad.status_code == 400
    assert not AuditEvent.objects.filter(verb="item.updated").exists()


@pytest.mark.parametrize(("who", "status"), [("east_lead", 403), ("east_leader", 403), ("inspector", 403)])
def test_only_hq_over_the_owner_opens_it(city, published, who, status):
    it = item("1.2")
    url = reverse("web:tasks-item-edit", args=[it.pk])
    assert login(city[who]).get(url).status_code == status
    assert login(city[who]).post(url, form_of(it, title="改")).status_code == status
    assert item("1.2").title == "涉危企业检查"
