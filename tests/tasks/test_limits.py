"""Amounts and dates within bounds: a running total (and every total it rolls into) must fit the amount
columns, a share's target may not exceed its parent's, an extension may not run past a year after the
campaign. Each refusal is a 400 that says the bound, and nothing is written."""

import re
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tasks.models import AMOUNT_MAX, Assignment, ExtensionRequest, Item, ProgressReport
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db

LIMIT = "999,999,999,999.99"  # the largest amount an amount column (numeric(14, 2)) holds, as messages write it


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def get(item, unit) -> Assignment:
    return Assignment.objects.select_related("item", "campaign", "unit").get(item__code=item, unit__code=unit)


def report(user, a: Assignment, value: str):
    return api(user).post(f"/api/v1/assignments/{a.pk}/reports/", {"value": value, "text": "清查"})


@pytest.fixture
def eighty(published):
    """Item 2.1 of 城东分局 (lead) with a count target of at least 80 起."""
    Item.objects.filter(code="2.1").update(target_value=80, target_comparator="ge", target_basis="", target_unit="起")
    return get("2.1", "330310")


@pytest.fixture
def share(city, eighty) -> Assignment:
    """城东分局 passes 60 of its 80 down to 城关派出所."""
    response = api(city["east_lead"]).post(
        f"/api/v1/assignments/{eighty.pk}/pass-down/?keep_remainder=true",
        [{"unit": "33031001", "target": "60"}],
        format="json",
    )
    assert response.status_code == 201, response.content
    return get("2.1", "33031001")


def progress(*assignments: Assignment) -> list[Decimal]:
    return [Assignment.objects.get(pk=a.pk).progress for a in assignments]


def test_the_limit_is_what_the_column_holds():
    field = Assignment._meta.get_field("progress")
    digits, exponent = AMOUNT_MAX.as_tuple().digits, AMOUNT_MAX.as_tuple().exponent
    assert f"{AMOUNT_MAX:,}" == LIMIT
    assert (len(digits), -exponent) == (field.max_digits, field.decimal_places)


class TestRunningTotals:
    def test_the_testers_reproduction_on_a_share(self, city, eighty, share):
        """1, then 999,999,999,999.99 on the share: the second is refused; the share and its parent keep 1."""
        lead = city["station_lead"]
        assert report(lead, share, "1").status_code == 201
        events = AuditEvent.objects.count()
        response = report(lead, share, "999999999999.99")
        assert response.status_code == 400, response.content
        detail = response.json()["detail"]
        assert LIMIT in detail and "城关派出所" in detail and "未记录" in detail
        assert progress(share, eighty) == [Decimal(1), Decimal(1)]
        assert ProgressReport.objects.filter(assignment=share).count() == 1
        assert AuditEvent.objects.count() == events
        # everyone's pages still answer: the share, its parent, the parent lead's list, HQ's item page
        assert api(lead).get(f"/api/v1/assignments/{share.pk}/").json()["progress"] == "1.00"
        assert api(city["east_lead"]).get(f"/api/v1/assignments/{eighty.pk}/").json()["progress"] == "1.00"
        assert api(city["east_lead"]).get("/api/v1/assignments/?mine=true").status_code == 200
        assert login(city["east_lead"]).get("/my/").status_code == 200
        assert login(city["hq"]).get(f"/items/{eighty.item_id}/").status_code == 200

    def test_a_total_it_rolls_into_is_checked_too(self, city, eighty, share):
        """The share's own total would fit; its parent's would not: refused, naming the parent."""
        assert report(city["east_lead"], eighty, "999999999000").status_code == 201
        response = report(city["station_lead"], share, "1000")
        assert response.status_code == 400, response.content
        assert LIMIT in response.json()["detail"] and "城东分局" in response.json()["detail"]
        assert progress(share, eighty) == [Decimal(0), Decimal("999999999000")]
        assert not ProgressReport.objects.filter(assignment=share).exists()
        # up to the limit exactly is fine, all the way up
        assert report(city["station_lead"], share, "999.99").status_code == 201
        assert progress(share, eighty) == [Decimal("999.99"), AMOUNT_MAX]

    def test_on_an_assignment_of_ones_own(self, city, published):
        a = get("1.1", "33031001")
        lead = city["station_lead"]
        assert report(lead, a, "1").status_code == 201
        response = report(lead, a, "999999999999.99")
        assert response.status_code == 400 and LIMIT in response.json()["detail"]
        assert progress(a) == [Decimal(1)] and ProgressReport.objects.filter(assignment=a).count() == 1

    @pytest.mark.parametrize("value", ["1000000000000", "1e15", "99999999999999999999999999999"])
    def test_a_report_value_above_the_limit_is_refused_by_the_api(self, city, published, value):
        a = get("1.1", "33031001")
        response = report(city["station_lead"], a, value)
        assert response.status_code == 400, response.content
        assert response.json()["value"] == [f"数量不能超过{LIMIT}"]
        assert not ProgressReport.objects.exists()

    def test_the_page_form_says_the_limit(self, city, published):
        a = get("1.1", "33031001")
        page = login(city["station_lead"])
        too_big = page.post(f"/assignments/{a.pk}/report/", {"value": "1000000000000", "text": "保留"})
        assert too_big.status_code == 400 and f"数量不能超过{LIMIT}" in text(too_big) and "保留" in text(too_big)
        assert page.post(f"/assignments/{a.pk}/report/", {"value": "1"}).status_code == 302
        overflow = page.post(f"/assignments/{a.pk}/report/", {"value": "999999999999.99", "text": "再报"})
        assert overflow.status_code == 400 and LIMIT in text(overflow) and "再报" in text(overflow)
        assert progress(a) == [Decimal(1)] and ProgressReport.objects.filter(assignment=a).count() == 1
        assert page.get(f"/assignments/{a.pk}/").status_code == 200


class TestShareTargets:
    def test_a_share_may_not_exceed_the_parents_target(self, city, eighty):
        url = f"/api/v1/assignments/{eighty.pk}/pass-down/"
        response = api(city["east_lead"]).post(url, [{"unit": "33031001", "target": "99999999999"}], format="json")
        assert response.status_code == 400, response.content
        assert response.json()["detail"] == "“城关派出所”分得的指标99,999,999,999.00不能超过城东分局的指标80.00"
        assert not Assignment.objects.filter(parent=eighty).exists()
        whole = api(city["east_lead"]).post(url, [{"unit": "33031001", "target": "80"}], format="json")
        assert whole.status_code == 201 and whole.json()[0]["target"] == "80.00"

    def test_a_parent_that_is_itself_a_share_bounds_by_its_share(self, city, eighty):
        """When 城东分局's number is a share of its own (50 of the item's 80), its shares stay within 50."""
        from tasks.services.cascade import Share, pass_down
        from tasks.services.errors import ReportError

        Assignment.objects.filter(pk=eighty.pk).update(target_share=50)
        with pytest.raises(ReportError, match=re.escape("不能超过城东分局的指标50.00")):
            pass_down(assignment=eighty, by=city["east_lead"], shares=[Share(city.units["33031002"], Decimal(60))])
        assert not Assignment.objects.filter(parent=eighty).exists()

    def test_without_a_parent_target_a_share_must_still_fit(self, city, published):
        """2.2 is qualitative (no number): a share may carry one, as long as an amount column holds it."""
        from tasks.services.cascade import Share, pass_down
        from tasks.services.errors import ReportError

        parent = get("2.2", "330310")
        with pytest.raises(ReportError, match=re.escape(f"数量不能超过{LIMIT}")):
            pass_down(assignment=parent, by=city["east_lead"], shares=[Share(city.units["33031001"], Decimal("1e12"))])
        assert not Assignment.objects.filter(parent=parent).exists()


class TestExtensionDates:
    def test_no_later_than_a_year_after_the_campaign(self, city, published):
        a = get("1.1", "33031001")  # campaign 2026-07-01 → 2026-10-08
        url = f"/api/v1/assignments/{a.pk}/extensions/"
        lead = api(city["station_lead"])
        # a date no campaign could mean is refused by the field (utilities.params: 2000–2099) …
        assert lead.post(url, {"requested_due": "9999-12-31", "reason": "无限期"}).status_code == 400
        # … and a plausible one too far from this campaign by the service
        far = lead.post(url, {"requested_due": "2030-12-31", "reason": "过远"})
        assert far.status_code == 400, far.content
        assert far.json()["detail"] == "申请的完成时限不能晚于行动结束后一年（2027年10月8日）"
        assert lead.post(url, {"requested_due": "2027-10-09", "reason": "晚一天"}).status_code == 400
        assert not ExtensionRequest.objects.exists()
        assert lead.post(url, {"requested_due": "2027-10-08", "reason": "一年"}).status_code == 201

    def test_a_request_made_before_the_rule_is_not_approved(self, city, published):
        a = get("1.1", "33031001")
        old = ExtensionRequest.objects.create(
            assignment=a,
            requested_due=date(9999, 12, 31),
            previous_due=a.due_date,
            reason="旧申请",
            requested_by=city["station_lead"],
        )
        url = f"/api/v1/extension-requests/{old.pk}/decide/"
        response = api(city["hq"]).post(url, {"approve": True, "note": "同意"})
        assert response.status_code == 400 and "2027年10月8日" in response.json()["detail"]
        a.refresh_from_db()
        old.refresh_from_db()
        assert (a.due_date, a.extensions, old.status) == (date(2026, 8, 31), 0, "pending")
        # refusing it stays possible
        assert api(city["hq"]).post(url, {"approve": False, "note": "过远"}).json()["status"] == "refused"

    def test_the_page_form_path(self, city, published):
        a = get("1.1", "33031001")
        response = login(city["station_lead"]).post(
            f"/assignments/{a.pk}/extension/", {"requested_due": "2030-12-31", "reason": "保留理由"}
        )
        assert response.status_code == 400 and "2027年10月8日" in text(response) and "保留理由" in text(response)
        assert not ExtensionRequest.objects.exists()
