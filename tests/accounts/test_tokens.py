"""API tokens live ``API_TOKEN_TTL_HOURS``, die with a password change or a deactivation, and their
owner sees and revokes them (page and API); every revocation is in the audit trail."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.management.commands import changepassword
from accounts.models import User
from audit.models import AuditEvent
from tests.accounts.test_admin_writes import form_data
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 7, 6, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def obtain(user: User) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": f"pw-{user.username}"})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    status = with_token(key).get("/api/v1/units/").status_code
    assert status in (200, 401, 403), status  # 403: session authentication comes first, it names no scheme
    return status == 200


def revocations(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(verb="token.revoked", object_id=user.pk).values_list("changes__reason", flat=True)
    )


def test_a_token_lives_twelve_hours_then_a_new_one_is_issued(city, settings):
    assert settings.API_TOKEN_TTL_HOURS == 12
    lead = city["station_lead"]
    with time_machine.travel(MORNING, tick=False):
        key = obtain(lead)
        assert obtain(lead) == key  # asking again within its life gives the same token
        answer = APIClient().post("/api/v1/auth/token/", {"username": "station_lead", "password": "pw-station_lead"})
        assert answer.json()["expires"] == "2026-07-06T20:00:00+08:00"
    with time_machine.travel(MORNING + timedelta(hours=11, minutes=59), tick=False):
        assert works(key)
    with time_machine.travel(MORNING + timedelta(hours=12), tick=False):
        refused = with_token(key).get("/api/v1/units/")
        assert refused.status_code in (401, 403) and "过期" in refused.json()["detail"]
        fresh = obtain(lead)
        assert fresh != key and works(fresh) and not Token.objects.filter(key=key).exists()


def test_the_lifetime_is_a_setting(city, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    with time_machine.travel(MORNING, tick=False):
        key = obtain(city["hq"])
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        assert not works(key)


def test_a_password_changed_in_the_admin_revokes_the_token(city):
    lead, hq = city["station_lead"], city["hq"]
    key, others = obtain(lead), obtain(city["east_lead"])
    client = login(hq)
    url = f"/admin/accounts/user/{lead.pk}/password/"
    response = client.post(
        url, {"password1": "new-Secret-2026", "password2": "new-Secret-2026", "usable_password": "true"}
    )
    assert response.status_code == 302, text(response)[:2000]
    lead.refresh_from_db()
    assert lead.check_password("new-Secret-2026")
    assert not works(key) and works(others)
    assert revocations(lead) == ["password_changed"]
    changed = AuditEvent.objects.get(verb="user.password_changed", object_id=lead.pk)
    assert changed.actor == hq and changed.changes == {} and changed.source.startswith("admin")


def test_manage_py_changepassword_revokes_the_token_and_is_audited(city, monkeypatch):
    lead = city["station_lead"]
    key, others = obtain(lead), obtain(city["east_lead"])
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": "new-Secret-2026")
    call_command("changepassword", "station_lead", stdout=io.StringIO())
    lead.refresh_from_db()
    assert lead.check_password("new-Secret-2026")
    assert not works(key) and works(others)
    assert revocations(lead) == ["password_changed"]
    changed = AuditEvent.objects.get(verb="user.password_changed", object_id=lead.pk)
    assert changed.actor is None and changed.source == "command"


def test_a_user_deactivated_in_the_admin_loses_the_token(city):
    lead, hq = city["station_lead"], city["hq"]
    key = obtain(lead)
    client = login(hq)
    url = f"/admin/accounts/user/{lead.pk}/change/"
    data = form_data(client.get(url))
    del data["is_active"]
    assert client.post(url, data).status_code == 302
    assert not Token.objects.filter(key=key).exists()
    event = AuditEvent.objects.get(verb="token.revoked", object_id=lead.pk)
    assert event.actor == hq and event.changes["reason"] == "deactivated"


def test_a_user_sees_and_revokes_its_token_by_the_api(city):
    lead = city["station_lead"]
    with time_machine.travel(MORNING, tick=False):
        key, others = obtain(lead), obtain(city["east_lead"])
        client = with_token(key)
        listed = client.get("/api/v1/auth/tokens/")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "prefix": key[:6],
            "created": "2026-07-06T08:00:00+08:00",
            "expires": "2026-07-06T20:00:00+08:00",
            "expired": False,
            "current": True,
        }
    ]
    assert key not in listed.content.decode()  # the secret is never shown again
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        assert client.delete("/api/v1/auth/tokens/").status_code == 204
        assert not works(key) and works(others)
    assert revocations(lead) == ["revoked_by_owner"]
    assert APIClient().get("/api/v1/auth/tokens/").status_code in (401, 403)


def test_a_user_sees_and_revokes_its_token_on_its_page(city):
    lead = city["station_lead"]
    with time_machine.travel(MORNING, tick=False):
        key, others = obtain(lead), obtain(city["east_lead"])
    client = login(lead)
    page = client.get("/account/tokens/")
    html = text(page)
    assert page.status_code == 200 and "API 令牌" in html and key[:6] in html and key not in html
    assert "2026年7月6日 20:00" in html and "已过期" in html  # now is long after that morning
    assert "<script>" not in html
    response = client.post("/account/tokens/")
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    assert not Token.objects.filter(key=key).exists() and Token.objects.filter(key=others).exists()
    assert revocations(lead) == ["revoked_by_owner"]
    assert "没有 API 令牌" in text(client.get("/account/tokens/"))
    assert Client().get("/account/tokens/").status_code == 302  # signed out: to the sign-in page


def test_a_token_deleted_in_the_admin_is_a_revocation(city):
    lead = city["station_lead"]
    key = obtain(lead)
    root = User.objects.create_superuser("root", password="pw-root-admin")
    client = Client()
    client.force_login(root)
    assert client.post(f"/admin/authtoken/tokenproxy/{lead.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not works(key)
    event = AuditEvent.objects.get(verb="token.revoked", object_id=lead.pk)
    assert event.actor == root and event.changes["reason"] == "admin"
