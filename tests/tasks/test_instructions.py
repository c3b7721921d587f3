"""报请领导批示 and 批示 (``tasks.services.progress.request_instruction`` / ``give_instruction``): the unit or
HQ asks the item's leader (else the line's) for an instruction; a leader over the unit answers with an
instruction that closes the open requests on the assignment. Both audited; the leader hears of the
request, the unit of the instruction; the assignment page offers each to whom it may."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Message
from tasks.models import Assignment, CampaignStatus, Comment, CommentKind, LineOfAction
from tasks.services.errors import CampaignClosed
from tasks.services.progress import default_leader, give_instruction, request_instruction
from tests.conftest import make_user
from tests.web.pages import login, text
from utilities.errors import Forbidden, Refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(city, published):
    city_unit = city.units["3303"]
    chief = make_user("chief", city_unit, (Role.LEADER, city_unit), name="陈志远")
    deputy = make_user("deputy", city_unit, (Role.LEADER, city_unit), name="王建国")
    a = (
        Assignment.objects.filter(campaign=published, unit=city.units["33031001"])
        .select_related("item__action", "unit")
        .first()
    )
    LineOfAction.objects.filter(pk=a.item.action_id).update(leader=deputy)
    a.item.action.refresh_from_db()
    return {"a": a, "chief": chief, "deputy": deputy}


def told(kind: str = "commented") -> set[str]:
    return set(Message.objects.filter(event__kind=kind).values_list("recipient__username", flat=True))


def test_the_line_leader_by_default_and_the_item_leader_before_him(city, setting):
    a = setting["a"]
    assert default_leader(a) == setting["deputy"]
    a.item.leader = setting["chief"]
    a.item.save(update_fields=["leader"])
    assert default_leader(a) == setting["chief"]


def test_a_station_asks_and_the_leader_answers(city, setting):
    a, deputy = setting["a"], setting["deputy"]
    asked = request_instruction(assignment=a, by=city["station_lead"], text="夜市清查需城管配合，请批示")
    assert (asked.kind, asked.addressed_to, asked.is_open_request) == (CommentKind.REQUEST, deputy, True)
    event = AuditEvent.objects.get(verb="assignment.instruction_requested")
    assert event.changes["addressed_to"] == deputy.pk and event.actor == city["station_lead"]
    # the leader hears of it, and the reviewers over the station as for the unit's own comment
    assert {"deputy", "hq"} <= told() and "station_lead" not in told()
    msg = Message.objects.filter(recipient=deputy, event__kind="commented").first()
    assert msg.event.person == deputy and "【报请批示】" in msg.event.reason

    Message.objects.all().delete()
    answer = give_instruction(assignment=a, by=deputy, text="同意，由治安支队协调城管")
    asked.refresh_from_db()
    assert asked.answer == answer and not asked.is_open_request and answer.closed == [asked.pk]
    event = AuditEvent.objects.get(verb="assignment.instructed")
    assert event.changes["answers"] == [asked.pk] and event.actor == deputy
    assert told() == {"station_lead"}  # the unit's leads: the existing comment message


def test_hq_asks_and_the_bureau_chief_answers_every_open_request(city, setting):
    a, chief = setting["a"], setting["chief"]
    one = request_instruction(assignment=a, by=city["hq"], text="请示一", leader=chief)
    two = request_instruction(assignment=a, by=city["station_lead"], text="请示二")
    assert one.addressed_to == chief and two.addressed_to == setting["deputy"]
    answer = give_instruction(assignment=a, by=chief, text="统一部署")
    assert set(Comment.objects.filter(answer=answer).values_list("pk", flat=True)) == {one.pk, two.pk}
    # an instruction without a request stands on its own, and closes nothing
    again = give_instruction(assignment=a, by=setting["deputy"], text="抓紧落实")
    assert again.closed == [] and again.kind == CommentKind.INSTRUCTION


@pytest.mark.parametrize("who", ["inspector", "east_leader", "west_lead"])
def test_who_may_not_ask(city, setting, who):
    with pytest.raises(Forbidden):
        request_instruction(assignment=setting["a"], by=city[who], text="请示")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("who", ["hq", "station_lead", "inspector"])
def test_only_a_leader_over_the_unit_instructs(city, setting, who):
    with pytest.raises(Forbidden):
        give_instruction(assignment=setting["a"], by=city[who], text="批示")


def test_the_sub_bureau_leader_instructs_under_him(city, setting):
    assert give_instruction(assignment=setting["a"], by=city["east_leader"], text="批示").pk


def test_refusals(city, setting, published):
    a = setting["a"]
    with pytest.raises(Refused, match="请填写"):
        request_instruction(assignment=a, by=city["hq"], text="  ")
    with pytest.raises(Refused, match="批示内容不能为空"):
        give_instruction(assignment=a, by=setting["chief"], text="")
    with pytest.raises(Refused, match="不是该单位的分管领导"):  # a leader who does not lead the unit
        request_instruction(assignment=a, by=city["hq"], text="请示", leader=city["station_lead"])
    LineOfAction.objects.filter(pk=a.item.action_id).update(leader=None)
    a = Assignment.objects.select_related("item__action", "unit", "campaign").get(pk=a.pk)
    with pytest.raises(Refused, match="未关联分管领导"):
        request_instruction(assignment=a, by=city["hq"], text="请示")
    type(published).objects.filter(pk=published.pk).update(status=CampaignStatus.CLOSED)
    a = Assignment.objects.select_related("item__action", "unit", "campaign").get(pk=a.pk)
    with pytest.raises(CampaignClosed):
        request_instruction(assignment=a, by=city["hq"], text="请示", leader=setting["chief"])
    with pytest.raises(CampaignClosed):
        give_instruction(assignment=a, by=setting["chief"], text="批示")
    assert not Comment.objects.exists()


def test_the_assignment_page_offers_each_its_own(city, setting):
    a, deputy = setting["a"], setting["deputy"]
    url = f"/assignments/{a.pk}/"
    lead_page = text(login(city["station_lead"]).get(url))
    assert 'value="request"' in lead_page and "王建国" in lead_page and 'value="instruction"' not in lead_page
    leader_page = text(login(deputy).get(url))
    assert 'value="instruction"' in leader_page and 'value="request"' not in leader_page
    assert 'id="comment-kind"' not in text(login(city["inspector"]).get(url))

    done = login(city["station_lead"]).post(f"{url}comment/", {"text": "请示：需协调", "kind": "request"})
    assert done.status_code == 302
    asked = Comment.objects.get(kind=CommentKind.REQUEST)
    assert asked.addressed_to == deputy
    desk = text(login(deputy).get("/leader/"))
    assert f"/assignments/{a.pk}/#comments" in desk and "请示：需协调" in desk

    assert login(city["hq"]).post(f"{url}comment/", {"text": "批示", "kind": "instruction"}).status_code == 403
    done = login(deputy).post(f"{url}comment/", {"text": "同意", "kind": "instruction"})
    assert done.status_code == 302
    asked.refresh_from_db()
    assert asked.answer is not None
    shown = text(login(city["station_lead"]).get(url))
    assert 'data-kind="instruction"' in shown and 'data-kind="request"' in shown
    assert f"/assignments/{a.pk}/" not in text(login(deputy).get("/leader/"))
    # a plain comment stays one
    assert login(city["hq"]).post(f"{url}comment/", {"text": "请抓紧"}).status_code == 302
    assert Comment.objects.filter(kind=CommentKind.REMARK).count() == 1
