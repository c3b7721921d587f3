"""The checker is not the drafter (核稿 is a second pair of eyes): the drafter may check its own draft
only when no one else may (one HQ clerk alone over the unit)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from boards.bulletin import week_of
from documents import services as svc
from documents.models import DocumentState, SignOffRule
from tests.conftest import make_user
from utilities.errors import Forbidden

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


@pytest.fixture
def submitted(city, worked):
    doc = svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))
    return svc.submit_document(document=doc, by=city["hq"])


def test_the_drafter_alone_may_check_its_own_draft(city, submitted):
    assert svc.allowed_actions(city["hq"], submitted) == ["check", "return"]
    assert svc.check_document(document=submitted, by=city["hq"]).state == DocumentState.SIGNING


def test_with_another_checker_the_drafter_may_not(city, submitted):
    other = make_user("hq2", city.units["3303"], (Role.HQ, city.units["3303"]), name="林核")
    assert svc.allowed_actions(city["hq"], submitted) == ["return"]
    with pytest.raises(Forbidden, match="起草人不能核稿"):
        svc.check_document(document=submitted, by=city["hq"])
    assert svc.allowed_actions(other, submitted) == ["check", "return"]
    doc = svc.check_document(document=submitted, by=other)
    assert doc.state == DocumentState.SIGNING and doc.checked_by == other


def test_an_inactive_or_out_of_reach_colleague_does_not_count(city, submitted):
    gone = make_user("hq_gone", city.units["3303"], (Role.HQ, city.units["3303"]))
    gone.is_active = False
    gone.save()
    make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))  # HQ below: no right over 3303
    assert svc.check_document(document=submitted, by=city["hq"]).state == DocumentState.SIGNING


def test_a_rule_decides_who_else_may_check(city, submitted):
    rule = SignOffRule.objects.create(campaign=submitted.campaign, kind="bulletin", step="check", user=city["hq"])
    assert svc.allowed_actions(city["hq"], submitted) == ["check", "return"]  # the rule names the drafter alone
    rule.user, rule.role = None, Role.INSPECTOR
    rule.save()
    SignOffRule.objects.create(campaign=submitted.campaign, kind="bulletin", step="check", user=city["hq"])
    assert svc.allowed_actions(city["hq"], submitted) == ["return"]  # the city inspector may check
    with pytest.raises(Forbidden, match="起草人不能核稿"):
        svc.check_document(document=submitted, by=city["hq"])
    assert svc.check_document(document=submitted, by=city["inspector"]).checked_by == city["inspector"]
