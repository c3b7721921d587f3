"""Pass-down to subordinate units with roll-up, deadline extensions, and the planned pace (序时进度)."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from tasks.models import Assignment, Item
from tasks.services.plans import import_plan

from .planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def get(item, unit) -> Assignment:
    return Assignment.objects.select_related("item", "campaign").get(item__code=item, unit__code=unit)


@pytest.fixture
def counted(published):
    """Item 2.1 (lead 城东分局, 城西分局) with a count target: at least 100 起."""
    Item.objects.filter(code="2.1").update(target_value=100, target_comparator="ge", target_basis="", target_unit="起")
    return get("2.1", "330310")


class TestPassDown:
    def test_split_and_roll_up(self, city, counted):
        response = api(city["east_lead"]).post(
            f"/api/v1/assignments/{counted.pk}/pass-down/",
            [{"unit": "33031001", "target": "60", "due_date": "2026-09-30"}, {"unit": "33031002", "target": "40"}],
            format="json",
        )
        assert response.status_code == 201, response.content
        shares = {row["unit"]["code"]: (row["target"], row["due_date"]) for row in response.json()}
        assert shares == {"33031001": ("60.00", "2026-09-30"), "33031002": ("40.00", "2026-10-08")}
        child = get("2.1", "33031001")
        assert child.parent_id == counted.pk and child.role == "lead"
        # the station reports on its share; the sub-bureau's progress follows
        report = api(city["station_lead"]).post(f"/api/v1/assignments/{child.pk}/reports/", {"value": "30"})
        assert report.status_code == 201
        child.refresh_from_db()
        counted.refresh_from_db()
        assert (child.progress, counted.progress) == (Decimal(30), Decimal(30))
        listed = api(city["east_lead"]).get(f"/api/v1/assignments/?parent={counted.pk}").json()
        assert listed["count"] == 2

    def test_shares_can_be_adjusted_again(self, city, counted):
        client = api(city["east_lead"])
        url = f"/api/v1/assignments/{counted.pk}/pass-down/?keep_remainder=true"
        client.post(url, [{"unit": "33031001", "target": "60"}], format="json")
        again = client.post(url, [{"unit": "33031001", "target": "70"}], format="json")
        assert again.status_code == 201 and again.json()[0]["target"] == "70.00"
        assert Assignment.objects.filter(parent=counted).count() == 1

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ([{"unit": "33031001", "due_date": "2026-10-20"}], "晚于上级"),
            ([{"unit": "330310"}], "不是城东分局的下级单位"),
            ([{"unit": "33032001"}], "不在您的范围内"),
            ([{"unit": "33031001"}, {"unit": "33031001"}], "重复"),
            ([], "至少"),
        ],
    )
    def test_refused_splits_write_nothing(self, city, counted, rows, message):
        response = api(city["east_lead"]).post(f"/api/v1/assignments/{counted.pk}/pass-down/", rows, format="json")
        assert response.status_code == 400 and message in response.json()["detail"]
        assert not Assignment.objects.filter(parent=counted).exists()

    def test_a_unit_already_assigned_directly_is_refused(self, city, published):
        # 1.1 goes to every station directly; 城东分局 gets a cooperating row too
        parent = Assignment.objects.create(
            campaign=published,
            item=Item.objects.get(code="1.1"),
            unit=city.units["330310"],
            role="coop",
            due_date=date(2026, 8, 31),
        )
        response = api(city["east_lead"]).post(
            f"/api/v1/assignments/{parent.pk}/pass-down/", [{"unit": "33031001"}], format="json"
        )
        assert response.status_code == 400 and "已直接承担" in response.json()["detail"]

    def test_station_cannot_split_its_parents_work(self, city, counted):
        response = api(city["station_lead"]).post(
            f"/api/v1/assignments/{counted.pk}/pass-down/", [{"unit": "33031001"}], format="json"
        )
        assert response.status_code == 404  # the sub-bureau's assignment is outside the station's scope

    def test_reimporting_the_plan_keeps_passed_down_shares(self, city, counted, tmp_path):
        api(city["east_lead"]).post(
            f"/api/v1/assignments/{counted.pk}/pass-down/?keep_remainder=1",
            [{"unit": "33031001", "target": "60"}],
            format="json",
        )
        opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
        result = import_plan(path=write_xlsx(tmp_path / "again.xlsx"), **opts)
        assert result.withdrawn.get("assignments", 0) == 0
        assert get("2.1", "33031001").is_active


class TestExtensions:
    def test_request_and_approve(self, city, published):
        a = get("1.1", "33031001")
        lead, hq = api(city["station_lead"]), api(city["hq"])
        made = lead.post(f"/api/v1/assignments/{a.pk}/extensions/", {"requested_due": "2026-09-15", "reason": "暴雨"})
        assert made.status_code == 201, made.content
        again = lead.post(f"/api/v1/assignments/{a.pk}/extensions/", {"requested_due": "2026-09-20", "reason": "再延"})
        assert again.status_code == 400 and "等待审批" in again.json()["detail"]
        pk = made.json()["id"]
        assert lead.post(f"/api/v1/extension-requests/{pk}/decide/", {"approve": True}).status_code == 403
        decided = hq.post(f"/api/v1/extension-requests/{pk}/decide/", {"approve": True, "note": "同意"})
        assert decided.status_code == 200 and decided.json()["status"] == "approved"
        a.refresh_from_db()
        assert a.due_date == date(2026, 9, 15) and a.extensions == 1
        assert hq.post(f"/api/v1/extension-requests/{pk}/decide/", {"approve": False}).status_code == 400

    def test_refusal_needs_a_reason_and_keeps_the_date(self, city, published):
        a = get("1.1", "33031001")
        made = api(city["station_lead"]).post(
            f"/api/v1/assignments/{a.pk}/extensions/", {"requested_due": "2026-09-15", "reason": "警力不足"}
        )
        url = f"/api/v1/extension-requests/{made.json()['id']}/decide/"
        assert api(city["hq"]).post(url, {"approve": False}).status_code == 400
        assert api(city["hq"]).post(url, {"approve": False, "note": "按期完成"}).json()["status"] == "refused"
        a.refresh_from_db()
        assert a.due_date == date(2026, 8, 31) and a.extensions == 0

    def test_an_earlier_date_is_not_an_extension(self, city, published):
        a = get("1.1", "33031001")
        response = api(city["station_lead"]).post(
            f"/api/v1/assignments/{a.pk}/extensions/", {"requested_due": "2026-08-01", "reason": "x"}
        )
        assert response.status_code == 400 and "应晚于" in response.json()["detail"]


class TestPace:
    def test_linear_pace_to_the_due_date(self, city, published):
        a = get("1.1", "33031001")  # ≥300 家次 by 8月31日, campaign from 7月1日
        today = date(2026, 7, 31)  # 30 of 61 days: 147.54 expected
        a.progress = Decimal(147)
        assert a.is_behind_pace(today)
        a.progress = Decimal(148)
        assert not a.is_behind_pace(today)
        assert a.expected_share(date(2026, 6, 1)) == 0 and a.expected_share(date(2026, 9, 1)) == 1

    def test_targets_that_are_not_a_minimum_have_no_pace(self, city, published):
        assert not get("2.1", "330310").is_behind_pace(date(2026, 9, 1))  # 同比下降20%
        assert not get("2.2", "330310").is_behind_pace(date(2026, 9, 1))  # qualitative

    def test_api_shows_it(self, city, published):
        a = get("1.1", "33031001")
        with time_machine.travel(date(2026, 8, 15)):
            row = api(city["station_lead"]).get(f"/api/v1/assignments/{a.pk}/").json()
        assert row["behind_pace"] is True and row["target"] == "300.00"
