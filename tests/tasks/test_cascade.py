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
        if message == "重复":
            assert response.json()["row"] == 1  # the second row naming the unit

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


def split(city, parent, *shares, keep=False, by="east_lead"):
    from tasks.services.cascade import Share, pass_down

    made = [Share(city.units[code], None if t is None else Decimal(t), d) for code, t, d in shares]
    return pass_down(assignment=parent, by=city[by], shares=made, keep_remainder=keep)


class TestSplitRules:
    """The shares of a parent with a number: the target, or more, or less with the remainder kept."""

    def test_shares_that_make_the_target_or_more_need_no_word(self, city, counted):
        split(city, counted, ("33031001", "60", None), ("33031002", "40", None))
        split(city, counted, ("33031002", "70", None))  # 130 of 100: offices over-assign on purpose
        assert sorted(counted.children.values_list("target_share", flat=True)) == [60, 70]

    def test_short_shares_need_the_remainder_kept(self, city, counted):
        from tasks.services.cascade import RemainderUnconfirmed

        with pytest.raises(RemainderUnconfirmed) as refused:
            split(city, counted, ("33031001", "60", None), ("33031002", "15.5", None))
        assert refused.value.payload() == {
            "detail": "分解指标合计75.5，上级指标100，尚余24.5未分解。确认余量由城东分局自行承担？",
            "target": "100.00",
            "shared": "75.50",
            "remainder": "24.50",
            "confirm": "keep_remainder",
        }
        assert not counted.children.exists()
        split(city, counted, ("33031001", "60", None), ("33031002", "15.5", None), keep=True)
        from audit.models import AuditEvent

        event = AuditEvent.objects.filter(verb="assignment.passed_down", object_id=counted.pk).get()
        assert event.changes["remainder_kept"] == "24.50"

    def test_the_sum_counts_the_shares_passed_down_before(self, city, counted):
        from tasks.services.cascade import RemainderUnconfirmed, remainder_of

        split(city, counted, ("33031001", "60", None), keep=True)
        assert remainder_of(counted) == Decimal(40)
        split(city, counted, ("33031002", "40", None))  # 60 before + 40 now: the whole target
        assert remainder_of(counted) is None
        with pytest.raises(RemainderUnconfirmed):  # lowering a share leaves a remainder again
            split(city, counted, ("33031002", "10", None))

    def test_a_share_without_a_number_carries_the_whole_target(self, city, counted):
        split(city, counted, ("33031001", None, None))
        assert get("2.1", "33031001").target == Decimal(100)

    def test_without_a_number_on_the_parent_there_is_no_sum(self, city, published):
        split(city, get("2.2", "330310"), ("33031001", "5", None))
        assert get("2.2", "33031001").target_share == 5

    @pytest.mark.parametrize(("basis", "comparator"), [("yoy", "ge"), ("", "le")])
    def test_a_rate_or_a_ceiling_does_not_add_up(self, city, counted, basis, comparator):
        """同比下降20% is a rate each unit reaches, 不超过100起 a ceiling: neither is split into a sum."""
        from tasks.services.cascade import adds_up

        Item.objects.filter(code="2.1").update(target_basis=basis, target_comparator=comparator)
        parent = get("2.1", "330310")
        assert not adds_up(parent)
        split(city, parent, ("33031001", "20", None))
        assert get("2.1", "33031001").target_share == 20

    def test_a_refused_share_names_its_row(self, city, counted):
        from tasks.services.cascade import ShareRefused

        with pytest.raises(ShareRefused) as late:
            split(city, counted, ("33031001", "50", None), ("33031002", "50", date(2026, 10, 9)))
        assert late.value.row == 1 and "东湖派出所" in str(late.value) and "晚于上级" in str(late.value)
        assert late.value.payload()["row"] == 1
        with pytest.raises(ShareRefused) as above:  # the parent's own unit, and a unit not under it
            split(city, counted, ("330310", "100", None))
        assert above.value.row == 0 and "不是城东分局的下级单位" in str(above.value)
        assert not counted.children.exists()

    def test_shares_are_split_again_down_the_tree(self, city, counted):
        """A share is an assignment: the unit that got it splits it in turn, within its own share."""
        from accounts.models import Role, Unit
        from tasks.services.cascade import ShareRefused
        from tests.conftest import make_user

        station = city.units["33031001"]
        post = Unit.objects.add_child(station, instance=Unit(code="3303100101", name="城关警务室", kind="other"))
        make_user("post_lead", post, (Role.UNIT_LEAD, post))
        city.units["3303100101"] = post
        (share,) = split(city, counted, ("33031001", "60", None), keep=True)
        share = Assignment.objects.select_related("unit", "item", "campaign").get(pk=share.pk)
        with pytest.raises(ShareRefused, match=r"不能超过城关派出所的指标60\.00"):
            split(city, share, ("3303100101", "61", None), by="station_lead")
        (grandchild,) = split(city, share, ("3303100101", "60", None), by="station_lead")
        assert grandchild.parent_id == share.pk and grandchild.target_share == 60


def api_split(client, parent, rows, query=""):
    return client.post(f"/api/v1/assignments/{parent.pk}/pass-down/{query}", rows, format="json")


class TestPassDownApi:
    def test_the_remainder_is_the_same_rule(self, city, counted):
        client = api(city["east_lead"])
        short = api_split(client, counted, [{"unit": "33031001", "target": "60"}])
        assert short.status_code == 409 and short.json()["remainder"] == "40.00"
        assert short.json()["confirm"] == "keep_remainder"
        assert (
            api_split(client, counted, [{"unit": "33031001", "target": "60"}], "?keep_remainder=maybe").status_code
            == 400
        )
        kept = api_split(
            client, counted, [{"unit": "33031001", "target": "60", "note": "先完成60起"}], "?keep_remainder=true"
        )
        assert kept.status_code == 201
        assert get("2.1", "33031001").comments.get().text == "先完成60起"

    def test_a_refused_share_names_its_row(self, city, counted):
        rows = [{"unit": "33031001", "target": "50"}, {"unit": "33031002", "target": "50", "due_date": "2026-10-20"}]
        late = api_split(api(city["east_lead"]), counted, rows)
        assert late.status_code == 400 and late.json()["row"] == 1


class TestSplitReview:
    """The unit that split the work accepts, returns and reopens its shares — never its own work."""

    @pytest.fixture
    def submitted(self, city, counted):
        from tasks.services.progress import report_progress
        from tasks.services.workflow import transition_assignment

        (share,) = split(city, counted, ("33031001", "100", None))
        report_progress(assignment=share, by=city["station_lead"], value=100, text="", files=[])
        transition_assignment(assignment=share, name="submit", by=city["station_lead"])
        return Assignment.objects.select_related("unit", "item", "campaign").get(pk=share.pk)

    def test_the_lead_reviews_the_station_not_the_station_itself(self, city, submitted):
        from tasks.services.workflow import allowed_transitions, may_review, transition_assignment
        from utilities.errors import Forbidden

        assert may_review(city["east_lead"], submitted) and may_review(city["hq"], submitted)
        assert not may_review(city["station_lead"], submitted) and not may_review(city["west_lead"], submitted)
        assert not may_review(city["east_leader"], submitted)  # a leader reads, it does not accept
        with pytest.raises(Forbidden):
            transition_assignment(assignment=submitted, name="accept", by=city["station_lead"])
        returned = transition_assignment(assignment=submitted, name="return", by=city["east_lead"], note="证据不全")
        assert returned.status == "returned"
        assert allowed_transitions(city["station_lead"], returned) == ["resume"]

    def test_reopen_by_the_lead(self, city, submitted):
        from tasks.services.workflow import transition_assignment

        accepted = transition_assignment(assignment=submitted, name="accept", by=city["east_lead"])
        reopened = transition_assignment(assignment=accepted, name="reopen", by=city["east_lead"], note="数据有误")
        assert reopened.status == "in_progress"

    def test_a_lead_who_also_leads_the_station_does_not_review_it(self, city, submitted):
        from accounts.models import Role
        from tasks.services.workflow import may_review
        from tests.conftest import make_user

        both = make_user(
            "both", city.units["330310"], *((Role.UNIT_LEAD, city.units[u]) for u in ("330310", "33031001"))
        )
        assert not may_review(both, submitted)

    def test_a_share_the_lead_submitted_itself_is_not_its_to_accept(self, city, counted):
        from tasks.services.workflow import may_review, split_reviewable, transition_assignment

        (share,) = split(city, counted, ("33031002", "100", None))
        done = transition_assignment(assignment=share, name="submit", by=city["east_lead"], confirm_shortfall=True)
        assert not may_review(city["east_lead"], done) and may_review(city["hq"], done)
        assert not split_reviewable(Assignment.objects.all(), city["east_lead"]).exists()

    def test_a_plans_own_assignment_is_not_a_share(self, city, published):
        from tasks.services.workflow import may_review, transition_assignment

        station = get("1.1", "33031001")  # the plan gave it to the station directly: HQ's to accept
        done = transition_assignment(assignment=station, name="submit", by=city["station_lead"], confirm_shortfall=True)
        assert not may_review(city["east_lead"], done) and may_review(city["hq"], done)

    def test_a_superuser_reviews_every_share(self, city, submitted):
        from accounts.models import User
        from accounts.scope import grant_paths
        from tasks.services.workflow import may_review, split_reviewable

        root = User.objects.create_superuser("root", password="pw-root", name="root", unit=city.units["3303"])
        assert grant_paths(root, "report") == () and may_review(root, submitted)
        assert list(split_reviewable(Assignment.objects.all(), root)) == [submitted]
