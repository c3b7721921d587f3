"""Writes made in the admin go through the same services as everywhere else: a role granted or revoked
there is ``grant_role`` / ``revoke_role`` (group, audit, scope cache), an item's deadline changed there
moves its assignments (``update_item``), and every delete leaves an audit event."""

from __future__ import annotations

from datetime import date

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.forms import MultiWidget
from django.test import Client

from accounts.models import Role, RoleGrant, User
from accounts.services import ADMIN_GROUPS
from audit.models import AuditEvent
from stats.models import Figure, Indicator, Round
from tasks.models import Assignment, Campaign, Item
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.progress import report_progress
from tests.web.pages import login

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the admin's change page posts back when nothing is touched: the form's and its inlines'
    current values, as the browser would send them."""
    data: dict = {}

    def put(form):
        for bound in form:
            field, value = bound.field, bound.value()
            if getattr(field, "disabled", False) or value is None:
                continue
            if isinstance(field.widget, MultiWidget):
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        put(inline.formset.management_form)
        for form in inline.formset.forms:
            put(form)
    return data


def group_of(role: str) -> Group:
    return Group.objects.get(name=ADMIN_GROUPS[role][0])


def superuser() -> Client:
    root = User.objects.create_superuser("root", password="pw-root-admin")
    client = Client()
    client.force_login(root)
    return client


# --- roles ------------------------------------------------------------------------------------------


def test_a_role_granted_in_the_user_admin_inline_is_grant_role(city):
    hq, nobody = city["hq"], city["nobody"]
    client = login(hq)
    url = f"/admin/accounts/user/{nobody.pk}/change/"
    data = form_data(client.get(url))
    data.update({"grants-0-role": Role.UNIT_LEAD, "grants-0-unit": city["33031002"].pk})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    nobody.refresh_from_db()
    assert RoleGrant.objects.filter(user=nobody, role=Role.UNIT_LEAD, unit=city["33031002"]).exists()
    assert nobody.is_staff and group_of(Role.UNIT_LEAD) in nobody.groups.all()
    granted = AuditEvent.objects.get(verb="role.granted", object_id=nobody.pk, actor=hq)
    assert granted.changes == {"role": Role.UNIT_LEAD, "unit": "33031002"} and granted.unit == city["33031002"]


def test_a_role_granted_in_the_grant_admin_is_grant_role(city):
    hq, nobody = city["hq"], city["nobody"]
    response = login(hq).post(
        "/admin/accounts/rolegrant/add/", {"user": nobody.pk, "role": Role.INSPECTOR, "unit": city["330310"].pk}
    )
    assert response.status_code == 302
    nobody.refresh_from_db()
    assert nobody.is_staff and group_of(Role.INSPECTOR) in nobody.groups.all()
    assert AuditEvent.objects.filter(verb="role.granted", object_id=nobody.pk, actor=hq).count() == 1
    assert not AuditEvent.objects.filter(verb="rolegrant.created").exists()  # one event, the service's


def test_a_grant_changed_in_the_admin_is_a_revocation_and_a_grant(city):
    hq, lead = city["hq"], city["station_lead"]
    grant = lead.grants.get()
    client = login(hq)
    url = f"/admin/accounts/rolegrant/{grant.pk}/change/"
    data = form_data(client.get(url))
    data["unit"] = city["33031002"].pk
    assert client.post(url, data).status_code == 302
    assert set(lead.grants.values_list("role", "unit__code")) == {(Role.UNIT_LEAD, "33031002")}
    events = AuditEvent.objects.filter(object_id=lead.pk, actor=hq)
    verbs = [(e.verb, e.changes["unit"]) for e in events]
    assert verbs == [("role.granted", "33031002"), ("role.revoked", "33031001")]  # newest first


def test_a_grant_deleted_in_the_admin_is_revoke_role(city):
    lead = city["station_lead"]
    grant = lead.grants.get()
    client = superuser()
    response = client.post(f"/admin/accounts/rolegrant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not lead.grants.exists()
    assert group_of(Role.UNIT_LEAD) not in lead.groups.all()  # no other grant of that role left
    revoked = AuditEvent.objects.get(verb="role.revoked", object_id=lead.pk)
    assert revoked.changes == {"role": Role.UNIT_LEAD, "unit": "33031001"} and revoked.actor.username == "root"


def test_a_grant_deleted_in_the_user_inline_is_revoke_role(city):
    lead = city["east_lead"]
    client = superuser()
    url = f"/admin/accounts/user/{lead.pk}/change/"
    data = form_data(client.get(url))
    data["grants-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not lead.grants.exists()
    assert AuditEvent.objects.filter(verb="role.revoked", object_id=lead.pk).count() == 1


# --- an item's deadline -----------------------------------------------------------------------------


def test_hq_moves_an_items_deadline_in_the_admin_and_the_assignments_follow(city, published):
    item = Item.objects.get(campaign=published, title="涉危企业检查")
    assert item.due_date == date(2026, 7, 15)
    east = Assignment.objects.get(item=item, unit__code="330310")
    extension = request_extension(assignment=east, by=city["east_lead"], due=date(2026, 7, 25), reason="企业多")
    decide_extension(request=extension, by=city["hq"], approve=True)
    hq = city["hq"]
    client = login(hq)
    url = f"/admin/tasks/item/{item.pk}/change/"
    data = form_data(client.get(url))
    data.update(due_date="2026-07-31", deadline_text="7月底前")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    due = dict(Assignment.objects.filter(item=item).values_list("unit__code", "due_date"))
    # the extended one keeps the date its approved extension gave it
    assert due == {"330302": date(2026, 7, 31), "330310": date(2026, 7, 25), "330320": date(2026, 7, 31)}
    updated = AuditEvent.objects.get(verb="item.updated", object_id=item.pk)
    assert updated.actor == hq and updated.changes == {
        "due_date": ["2026-07-15", "2026-07-31"],
        "deadline_text": ["7月15日前", "7月底前"],
        "assignments": {"moved": 2},
    }
    moved = AuditEvent.objects.filter(verb="assignment.due_changed", actor=hq)
    assert {e.unit.code for e in moved} == {"330302", "330320"}
    assert all(e.changes == {"due_date": ["2026-07-15", "2026-07-31"]} for e in moved)
    assert Assignment.objects.get(item=item, unit__code="330302").version == 2


def test_taking_an_item_with_reported_work_out_of_the_plan_in_the_admin_needs_the_confirmation(city, published):
    item = Item.objects.get(campaign=published, title="涉危企业检查")
    east = Assignment.objects.get(item=item, unit__code="330310")
    report_progress(assignment=east, by=city["east_lead"], value=2, text="检查 2 家")
    client = login(city["hq"])
    url = f"/admin/tasks/item/{item.pk}/change/"
    data = form_data(client.get(url))
    data.pop("is_active", None)  # unticked: out of the plan
    refused = client.post(url, data, follow=True)
    assert "城东分局" in refused.content.decode()  # the admin's error message names the unit
    assert Item.objects.get(pk=item.pk).is_active and Assignment.objects.get(pk=east.pk).is_active
    response = client.post(url, {**data, "confirm": "on"})
    assert response.status_code == 302
    kept = Assignment.objects.get(pk=east.pk)
    assert not Item.objects.get(pk=item.pk).is_active and (kept.is_active, kept.progress) == (False, 2)


# --- deletes ----------------------------------------------------------------------------------------


def test_a_delete_in_the_admin_is_audited(city, published):
    client = superuser()
    first = Round.objects.create(campaign=published, name="第一轮", start=date(2026, 7, 7), end=date(2026, 7, 9))
    second = Round.objects.create(campaign=published, name="第二轮", start=date(2026, 8, 7), end=date(2026, 8, 9))
    response = client.post(f"/admin/stats/round/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = client.post(
        "/admin/stats/round/", {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"}
    )
    assert response.status_code == 302 and not Round.objects.exists()
    deleted = AuditEvent.objects.filter(verb="round.deleted").order_by("id")
    assert [(e.object_id, e.object_repr, e.unit) for e in deleted] == [
        (first.pk, str(first), published.owner),
        (second.pk, str(second), published.owner),
    ]
    assert all(e.actor.username == "root" and e.source.startswith("admin") for e in deleted)


def test_what_the_domain_keeps_is_not_deleted_in_the_admin(city, published):
    """Published work, reported figures and delivered messages are history: not even a superuser
    deletes them from the admin (the plan withdraws items, a draft campaign may go)."""
    client = superuser()
    assert client.get(f"/admin/tasks/campaign/{published.pk}/delete/").status_code == 403
    item = published.items.first()
    assert client.get(f"/admin/tasks/item/{item.pk}/delete/").status_code == 403
    indicator = Indicator.objects.create(campaign=published, code="police", name="出动警力", measure="人次")
    Figure.objects.create(
        campaign=published,
        indicator=indicator,
        unit=city["33031001"],
        day=date(2026, 7, 2),
        value=3,
        reported_by=city["station_lead"],
    )
    assert client.post(f"/admin/stats/indicator/{indicator.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        "/admin/stats/indicator/", {"action": "delete_selected", "_selected_action": [indicator.pk], "post": "yes"}
    )
    assert response.status_code == 403 and Figure.objects.count() == 1
    draft = Campaign.objects.create(
        code="DR", name="草稿行动", owner=city["3303"], start=date(2026, 7, 1), end=date(2026, 8, 1)
    )
    assert client.post(f"/admin/tasks/campaign/{draft.pk}/delete/", {"post": "yes"}).status_code == 302
    assert AuditEvent.objects.filter(verb="campaign.deleted", object_id=draft.pk).exists()


def test_hq_lifting_a_sign_in_lock_is_audited(city):
    hq = city["hq"]
    lock = AccessAttempt.objects.create(
        username="station_lead",
        ip_address="10.0.0.9",
        failures_since_start=5,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
    )
    response = login(hq).post(f"/admin/axes/accessattempt/{lock.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    lifted = AuditEvent.objects.get(verb="accessattempt.deleted", object_id=lock.pk)
    assert lifted.actor == hq and lifted.unit == city["33031001"]  # the unit of the person it locked
