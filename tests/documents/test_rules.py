"""Sign-off rules (issue 22.2): HQ over the campaign's owner lists, adds and removes who checks and signs
each kind of document, audited; the rules then decide the sign-off."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from documents import rules
from documents import services as svc
from documents.models import SignOffRule
from tests.web.pages import login, text
from utilities.errors import Forbidden

pytestmark = [pytest.mark.django_db]


def test_hq_adds_and_removes_rules_audited(city, published):
    rule = rules.add_rule(by=city["hq"], campaign=published, kind="notice", step="check", user=city["inspector"])
    added = AuditEvent.objects.get(verb="document.rule_added")
    assert added.changes == {
        "campaign": published.pk,
        "kind": "notice",
        "step": "check",
        "user": "inspector",
        "role": "",
    }
    with pytest.raises(rules.RuleError, match="已存在"):
        rules.add_rule(by=city["hq"], campaign=published, kind="notice", step="check", user=city["inspector"])
    with pytest.raises(rules.RuleError, match="二者选一"):
        rules.add_rule(by=city["hq"], campaign=published, kind="notice", step="check")
    with pytest.raises(rules.RuleError, match="二者选一"):
        rules.add_rule(by=city["hq"], campaign=published, kind="notice", step="sign", user=city["hq"], role=Role.LEADER)
    for who in ("east_lead", "inspector", "east_leader", "nobody"):
        with pytest.raises(Forbidden):
            rules.add_rule(by=city[who], campaign=published, kind="notice", step="sign", role=Role.HQ)
        with pytest.raises(Forbidden):
            rules.remove_rule(by=city[who], rule=rule)
    assert list(rules.rules_for(city["east_lead"], published)) == [rule]  # seen by who sees the campaign
    rules.remove_rule(by=city["hq"], rule=rule)
    assert not SignOffRule.objects.exists()
    assert AuditEvent.objects.get(verb="document.rule_removed").changes["user"] == "inspector"


def test_a_rule_added_decides_who_checks(city, published):
    doc = svc.draft_document(by=city["hq"], campaign=published, kind="notice", unit=city.units["3303"], title="通知")
    doc = svc.update_draft(document=doc, by=city["hq"], requirements="加强巡查。")
    doc = svc.submit_document(document=doc, by=city["hq"])
    assert svc.allowed_actions(city["inspector"], doc) == []
    rules.add_rule(by=city["hq"], campaign=published, kind="notice", step="check", role=Role.INSPECTOR)
    assert svc.allowed_actions(city["inspector"], doc) == ["check", "return"]
    assert svc.allowed_actions(city["hq"], doc) == []  # the rule replaces the default


def test_the_page_lists_adds_and_removes(city, published):
    hq = login(city["hq"])
    url = f"/documents/rules/?campaign={published.pk}"
    assert "未设规则，按默认办理。" in text(hq.get(url))
    got = hq.post(url, {"kind": "bulletin", "step": "sign", "username": "", "role": Role.HQ})
    assert got.status_code == 302 and got["Location"] == url
    rule = SignOffRule.objects.get()
    assert (rule.kind, rule.step, rule.role) == ("bulletin", "sign", Role.HQ)
    assert hq.post(url, {"kind": "bulletin", "step": "sign", "username": "ghost"}).status_code == 400
    lead = login(city["east_lead"])
    page = text(lead.get(url))
    assert f"/documents/rules/{rule.pk}/delete/" not in page and "csrf" not in page.split('id="rules"')[1]
    assert lead.post(url, {"kind": "bulletin", "step": "check", "role": Role.HQ}).status_code == 403
    assert lead.post(f"/documents/rules/{rule.pk}/delete/").status_code == 403
    assert login(city["hq"]).get("/documents/rules/?campaign=999999").status_code == 404
    assert hq.post(f"/documents/rules/{rule.pk}/delete/").status_code == 302
    assert not SignOffRule.objects.exists()


def test_the_api(city, published):
    api = APIClient()
    api.force_authenticate(city["hq"])
    got = api.post(
        "/api/v1/document-rules/",
        {"campaign": published.pk, "kind": "summons", "step": "sign", "user": "east_leader"},
        format="json",
    )
    assert got.status_code == 201, got.content
    assert got.json()["user"] == "east_leader" and got.json()["role"] == ""
    listed = api.get("/api/v1/document-rules/", {"campaign": published.pk}).json()["results"]
    assert [r["id"] for r in listed] == [got.json()["id"]]
    lead = APIClient()
    lead.force_authenticate(city["east_lead"])
    assert lead.delete(f"/api/v1/document-rules/{got.json()['id']}/").status_code == 403
    body = {"campaign": published.pk, "kind": "summons", "step": "sign", "user": "east_leader"}
    assert lead.post("/api/v1/document-rules/", body, format="json").status_code == 403
    assert api.post("/api/v1/document-rules/", {**body, "campaign": 999999}, format="json").status_code == 404
    assert api.post("/api/v1/document-rules/", {**body, "role": "hq"}, format="json").status_code == 400
    assert api.delete(f"/api/v1/document-rules/{got.json()['id']}/").status_code == 204
    assert not SignOffRule.objects.exists()
