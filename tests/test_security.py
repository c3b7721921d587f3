"""Hardening (docs/trust.md §2): production settings pass ``check --deploy``; a Content-Security-Policy
with no inline script; sign-in throttling that locks the (user, address) pair, visible to and lifted by
HQ; sign-ins, failures, lock-outs and refused requests recorded with their address; the trails are
read-only; sessions end with the browser and after a working day."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent, SecurityEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
Kind = SecurityEvent.Kind
OFFICE = "10.20.30.40"  # the user's own workstation
ELSEWHERE = "10.99.0.7"  # someone else guessing


def sign_in(username: str, password: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.response = client.post("/accounts/login/", {"username": username, "password": password})
    return client


# --- production settings --------------------------------------------------------------------------


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_COOKIES", "SECURE_SSL_REDIRECT"}}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="tracker.example", **extra)
    return env


def test_production_settings_pass_the_deploy_check():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr


# --- content security policy ----------------------------------------------------------------------


def test_every_page_carries_a_policy_without_inline_script(city):
    client = Client()
    client.force_login(city["hq"])
    for url in ["/accounts/login/", "/", "/board/", "/findings/", "/api/v1/assignments/", "/admin/"]:
        response = client.get(url, follow=True)
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
        )
        assert policy["script-src"] == "'self'", url
        assert "unsafe-inline" not in policy["style-src"], url
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", url


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(?!\s*</script>)", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle=[\"']", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+=[\"']", re.I), "an event-handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_needs_inline_script_or_style():
    """The policy would block them; ``json_script`` data (type="application/json") is not a script."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                if "application/json" in match.group(0):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []


# --- sign-in throttling ---------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_pair_not_the_user(city):
    lead = city["station_lead"]
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in("station_lead", "guess", ELSEWHERE).response.status_code == 200  # the form again
    assert sign_in("station_lead", "guess", ELSEWHERE).response.status_code == 429  # the fifth locks
    locked = sign_in("station_lead", "pw-station_lead", ELSEWHERE).response  # even the right password
    assert locked.status_code == 429
    assert "登录已暂停" in locked.content.decode() and "15" in locked.content.decode()
    # the real user, at their own workstation, is not locked out by someone guessing elsewhere
    own = sign_in("station_lead", "pw-station_lead", OFFICE).response
    assert own.status_code == 302 and own.url == "/"
    # the API's token endpoint is behind the same lock
    token = APIClient(REMOTE_ADDR=ELSEWHERE).post(
        "/api/v1/auth/token/", {"username": "station_lead", "password": "pw-station_lead"}
    )
    assert token.status_code == 429 and "token" not in token.content.decode()
    assert (
        APIClient(REMOTE_ADDR=OFFICE)
        .post("/api/v1/auth/token/", {"username": "station_lead", "password": "pw-station_lead"})
        .status_code
        == 200
    )

    trail = SecurityEvent.objects.filter(username="station_lead").order_by("id")
    kinds = list(trail.values_list("kind", "address"))
    assert kinds.count((Kind.SIGN_IN_FAILED, ELSEWHERE)) >= settings.AXES_FAILURE_LIMIT
    assert (Kind.LOCKED_OUT, ELSEWHERE) in kinds and (Kind.SIGNED_IN, ELSEWHERE) not in kinds
    assert trail.filter(kind=Kind.SIGNED_IN, address=OFFICE, user=lead).exists()


def test_hq_sees_the_locks_of_its_units_and_lifts_them(city):
    east_hq = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    west_hq = make_user("west_hq", city.units["330320"], (Role.HQ, city.units["330320"]))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("station_lead", "guess", ELSEWHERE)  # 城关派出所, under 城东分局
        sign_in("no_such_user", "guess", ELSEWHERE)
    assert AccessAttempt.objects.count() == 2

    def listed(user) -> str:
        client = Client()
        client.force_login(user)
        response = client.get("/admin/axes/accessattempt/")
        assert response.status_code == 200
        return response.content.decode()

    assert "station_lead" in listed(east_hq) and "no_such_user" not in listed(east_hq)
    assert "station_lead" not in listed(west_hq)
    assert "station_lead" in listed(city["hq"]) and "no_such_user" in listed(city["hq"])  # the city sees all

    attempt = AccessAttempt.objects.get(username="station_lead")
    west = Client()
    west.force_login(west_hq)
    west.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()  # not theirs to lift
    east = Client()
    east.force_login(east_hq)
    lifted = east.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert lifted.status_code == 302 and not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert sign_in("station_lead", "pw-station_lead", ELSEWHERE).response.status_code == 302


# --- the security trail ---------------------------------------------------------------------------


def test_sign_in_and_out_are_recorded_with_the_address(city):
    client = sign_in("hq", "pw-hq", OFFICE)
    client.post("/accounts/logout/")
    events = list(SecurityEvent.objects.filter(user=city["hq"]).values_list("kind", "address", "unit"))
    assert events == [(Kind.SIGNED_OUT, OFFICE, city.units["3303"].pk), (Kind.SIGNED_IN, OFFICE, city.units["3303"].pk)]


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(city, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {OFFICE}")  # the first is forged
    client.post("/accounts/login/", {"username": "hq", "password": "pw-hq"})
    assert SecurityEvent.objects.get(kind=Kind.SIGNED_IN).address == OFFICE


def test_refused_requests_are_recorded(city, published):
    from tasks.models import Assignment

    theirs = Assignment.objects.filter(unit__code="33032001").first()  # 西山派出所, the other branch
    client = Client(REMOTE_ADDR=OFFICE)
    client.force_login(city["station_lead"])
    assert client.get(f"/assignments/{theirs.pk}/").status_code == 404
    api = APIClient(REMOTE_ADDR=OFFICE)
    api.force_authenticate(city["station_lead"])
    assert api.get(f"/api/v1/assignments/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/v1/units/{city.units['3303'].pk}/", {}).status_code in (403, 404, 405)
    assert APIClient(REMOTE_ADDR=ELSEWHERE).get("/api/v1/assignments/").status_code in (401, 403)

    refused = SecurityEvent.objects.filter(kind=Kind.REFUSED)
    mine = refused.filter(user=city["station_lead"])
    assert set(mine.values_list("path", "status", "address")) >= {
        (f"/assignments/{theirs.pk}/", 404, OFFICE),
        (f"/api/v1/assignments/{theirs.pk}/", 404, OFFICE),
    }
    assert refused.filter(user=None, address=ELSEWHERE, path="/api/v1/assignments/").exists()


def test_a_missing_page_is_not_a_refusal(city):
    client = Client()
    client.force_login(city["hq"])
    assert client.get("/no/such/page/").status_code == 404
    assert not SecurityEvent.objects.filter(kind=Kind.REFUSED).exists()


def test_changes_made_from_a_request_name_the_address(city, published):
    from tasks.models import Assignment

    work = Assignment.objects.filter(unit__code="33031001").first()
    client = Client(REMOTE_ADDR=OFFICE)
    client.force_login(city["station_lead"])
    response = client.post(f"/assignments/{work.pk}/comment/", {"text": "已部署"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_id=work.pk).latest("id")
    assert event.actor == city["station_lead"] and OFFICE in event.source


@pytest.mark.parametrize("model", [AuditEvent, SecurityEvent], ids=["changes", "security"])
def test_the_trails_are_searchable_and_read_only(city, model):
    sign_in("station_lead", "pw-station_lead", OFFICE)
    url = f"/admin/audit/{model._meta.model_name}/"
    query, row = (
        (OFFICE, SecurityEvent.objects.get(kind=Kind.SIGNED_IN))
        if model is SecurityEvent
        else ("role.granted", AuditEvent.objects.filter(verb="role.granted", object_id=city["station_lead"].pk).get())
    )
    client = Client()
    client.force_login(city["hq"])
    found = client.get(url, {"q": query})
    assert found.status_code == 200 and f"/{row.pk}/change/" in found.content.decode()
    assert f"/{row.pk}/change/" not in client.get(url, {"q": "nothing-like-this"}).content.decode()
    before = list(model.objects.order_by("id").values())
    assert client.get(f"{url}add/").status_code == 403
    assert client.post(f"{url}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{url}{row.pk}/change/", {"kind": "signed_out", "verb": "x"}).status_code == 403
    assert list(model.objects.order_by("id").values())[: len(before)] == before


# --- sessions and passwords -----------------------------------------------------------------------


def test_a_session_ends_with_the_browser_and_after_a_working_day(city):
    client = sign_in("hq", "pw-hq", OFFICE)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert cookie["httponly"]
    assert client.session.get_expiry_age() <= 10 * 3600


@pytest.mark.parametrize("password", ["12345678", "password123", "station_lead1", "20262026"])
def test_weak_passwords_are_refused(city, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=city["station_lead"])


def test_a_strong_password_is_accepted(city):
    validate_password("江城-平安-2026-春雷", user=city["station_lead"])
