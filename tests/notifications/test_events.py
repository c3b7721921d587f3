"""Event messages (docs/events.md): when someone acts on a unit's work, the people concerned hear of it
through the outbox — who gets each, who does not, never the one who acted; a published plan tells each
unit's leads once, not once per item, in a number of statements that does not grow with the plan; the
inbox opens what it is about; mail by preference; the texts are HQ's to edit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from inspections import letters
from inspections import services as inspections
from inspections.models import InspectionKind
from notifications import delivery
from notifications import events as tell
from notifications.inbox import link
from notifications.models import Channel, Event, Message, MessageTemplate
from tasks.models import Assignment, Campaign, Item
from tasks.services.cascade import Share, pass_down
from tasks.services.extensions import decide_extension, request_extension
from tasks.services.plans import import_plan
from tasks.services.progress import add_comment
from tasks.services.workflow import Step, transition_assignment, transition_assignments
from tests.conftest import make_user
from tests.tasks.planfiles import CAMPAIGN, write_xlsx
from tests.web.pages import login

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):  # 08:00 in Beijing: no quiet hours
        yield


def told(kind: str | None = None) -> dict[str, list[str]]:
    """username → the subjects of its inbox messages (of ``kind``), drained now."""
    delivery.drain()
    rows = Message.objects.filter(channel=Channel.INBOX, event__isnull=False, status="sent")
    if kind:
        rows = rows.filter(event__kind=kind)
    out: dict[str, list[str]] = {}
    for name, subject in rows.order_by("id").values_list("recipient__username", "subject"):
        out.setdefault(name, []).append(subject)
    return out


def get(item: str, unit: str) -> Assignment:
    return Assignment.objects.select_related("item", "unit", "campaign").get(item__code=item, unit__code=unit)


# --- Publishing: one message per unit lead, not per assignment -----------------------------------------------


def publish(tmp_path) -> Campaign:
    opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx"), publish=True, **opts)
    return Campaign.objects.get(code=CAMPAIGN["code"])


def test_a_published_plan_tells_each_units_leads_once_with_the_count(city, tmp_path):
    second = make_user("station_lead2", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]))
    city["station_lead"].email = "lead@example.cn"
    city["station_lead"].save(update_fields=["email"])
    campaign = publish(tmp_path)
    work = Assignment.objects.filter(campaign=campaign, is_active=True)
    leads = {"station_lead": "33031001", "station_lead2": "33031001", "east_lead": "330310", "west_lead": "330320"}
    per_unit = {u: work.filter(unit__code=u).count() for u in leads.values()}
    assert max(per_unit.values()) > 1  # several items, one message
    events = Event.objects.filter(kind="assigned")
    assert events.count() == work.values("unit").distinct().count()
    name = CAMPAIGN["name"]
    assert told("assigned") == {
        lead: [f"【任务下达】您单位在《{name}》中有{per_unit[unit]}项任务"]
        for lead, unit in leads.items()
        if per_unit[unit]
    }  # not HQ, the inspector or the leader: they report for no unit
    mine = Message.objects.get(recipient=second, channel=Channel.INBOX)
    assert link(mine) == f"/my/?campaign={campaign.pk}"
    # mail by preference: the station lead has an address; the second lead has none
    mail = Message.objects.get(channel=Channel.EMAIL, event__kind="assigned")
    assert mail.recipient == city["station_lead"] and mail.status == "sent"
    assert mail.idempotency_key == f"event-{mail.event_id}-{mail.recipient_id}-email"


def test_the_statements_of_publishing_do_not_grow_with_the_assignments(city, tmp_path):
    campaign = publish(tmp_path)
    since = campaign.published_at

    def statements() -> int:
        Event.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            units = tell.assigned(campaign=campaign, by=None, since=since)
        assert units == Assignment.objects.filter(campaign=campaign).values("unit").distinct().count()
        return len(queries)

    few = statements()
    # many more assignments: every item for every unit
    have = set(Assignment.objects.filter(campaign=campaign).values_list("item_id", "unit_id"))
    Assignment.objects.bulk_create(
        Assignment(campaign=campaign, item=item, unit=unit, due_date=campaign.end, created_at=since)
        for item in Item.objects.filter(campaign=campaign)
        for unit in city.units.values()
        if (item.pk, unit.pk) not in have and unit.code != "3303"
    )
    assert Assignment.objects.filter(campaign=campaign).count() > 2 * len(have)
    assert statements() == few <= 6
    assert Message.objects.filter(recipient=city["station_lead"], channel=Channel.INBOX).count() == 1


# --- The workflow: returned, accepted, reopened --------------------------------------------------------------


def test_return_accept_and_reopen_reach_the_units_leads_only(city, published):
    a = get("1.1", "33031001")
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], confirm_shortfall=True)
    assert told() == {}  # a submission is the unit's own act; HQ sees it in its queue
    transition_assignment(assignment=a, name="return", by=city["hq"], note="佐证材料不全，请补充现场照片")
    got = told("returned")
    assert list(got) == ["station_lead"]  # not HQ who returned it, nor the sub-bureau above, nor the west
    assert got["station_lead"] == ["【退回】1.1项被退回，请补充完善"]
    body = Message.objects.get(event__kind="returned", channel=Channel.INBOX).body
    assert "退回理由：佐证材料不全，请补充现场照片" in body and "江城市公安局" in body and "赵关" in body
    transition_assignment(assignment=a, name="resume", by=city["station_lead"])
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], confirm_shortfall=True)
    transition_assignment(assignment=a, name="accept", by=city["hq"])
    transition_assignment(assignment=a, name="reopen", by=city["hq"], note="复核发现数据有误")
    assert list(told("accepted")) == list(told("reopened")) == ["station_lead"]
    reopened = Message.objects.get(event__kind="reopened", channel=Channel.INBOX)
    assert "复核发现数据有误" in reopened.body and link(reopened) == f"/assignments/{a.pk}/"


def test_a_bulk_action_coalesces_into_one_message_per_unit(city, published):
    rows = list(Assignment.objects.filter(unit__code="330310", is_active=True).order_by("pk")[:2])
    assert len(rows) == 2
    for a in rows:
        transition_assignment(assignment=a, name="submit", by=city["east_lead"], confirm_shortfall=True)
    with tell.together():
        for a in rows:
            transition_assignment(assignment=a, name="return", by=city["hq"], note="材料不全")
    assert Event.objects.get(kind="returned").count == 2
    (subject,) = told("returned")["east_lead"]
    assert "等2项" in subject
    message = Message.objects.get(event__kind="returned", channel=Channel.INBOX)
    assert link(message).startswith("/my/?campaign=")


def test_hqs_bulk_review_tells_a_unit_once(city, published):
    """The review desk's bulk return (``transition_assignments``) coalesces by itself."""
    rows = list(Assignment.objects.filter(unit__code="330310", is_active=True).order_by("pk")[:3])
    for a in rows:
        transition_assignment(assignment=a, name="submit", by=city["east_lead"], confirm_shortfall=True)
    transition_assignments(steps=[Step(id=a.pk, name="return", note="材料不全") for a in rows], by=city["hq"])
    assert Event.objects.get(kind="returned").count == 3
    assert told("returned") == {"east_lead": [told("returned")["east_lead"][0]]}
    assert "等3项" in told("returned")["east_lead"][0]


# --- Extensions: asked of the deciders, answered to the requester and the leads -------------------------------


def test_an_extension_is_asked_of_hq_and_answered_to_the_requester_and_the_leads(city, published):
    other = make_user("station_lead2", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]))
    a = get("1.1", "33031001")
    request = request_extension(assignment=a, by=city["station_lead"], due=date(2026, 10, 20), reason="嫌疑人在逃")
    asked = told("ext_asked")
    assert list(asked) == ["hq"]  # HQ over the unit; not the leads, the sub-bureau, the inspector
    assert asked["hq"] == ["【延期申请】城关派出所申请1.1项延期至10月20日"]
    decide_extension(request=request, by=city["hq"], approve=False, note="时限不能顺延")
    refused = told("ext_refused")
    assert set(refused) == {"station_lead", "station_lead2"}  # not HQ who decided
    assert refused["station_lead"] == ["【延期未同意】您申请的1.1项延期未获同意"]  # the requester's words
    assert refused["station_lead2"] == ["【延期未同意】1.1项延期申请未获同意"]
    assert other.messages.get(channel=Channel.INBOX, event__kind="ext_refused").body.count("时限不能顺延") == 1


def test_an_extension_asked_by_someone_who_is_also_hq_above_is_not_asked_of_themselves(city, published):
    both = make_user(
        "both", city.units["330310"], (Role.UNIT_LEAD, city.units["330310"]), (Role.HQ, city.units["3303"])
    )
    a = get("2.1", "330310")
    request_extension(assignment=a, by=both, due=date(2026, 10, 20), reason="工作量大")
    assert list(told("ext_asked")) == ["hq"]  # not ``both``: it reports for the unit (and is the requester)


def test_an_extension_is_asked_of_the_unit_above_in_the_work_too(city, published):
    """``may_review``'s deciders below HQ: the item's lead unit for a cooperating unit's work, the unit that
    passed a share down for the share — each never when it reports for the asking unit itself."""
    zhi = make_user("zhi_lead", city.units["330302"], (Role.UNIT_LEAD, city.units["330302"]))
    coop = get("1.2", "330310")  # 涉危企业检查: 治安支队 leads, the sub-bureaus cooperate
    request_extension(assignment=coop, by=city["east_lead"], due=date(2026, 7, 30), reason="企业多")
    assert set(told("ext_asked")) == {"hq", "zhi_lead"}
    Item.objects.filter(code="2.1").update(target_value=100, target_comparator="ge", target_unit="起")
    parent = get("2.1", "330310")
    pass_down(
        assignment=parent,
        by=city["east_lead"],
        shares=[Share(unit=city.units["33031001"], target=Decimal(60))],
        keep_remainder=True,
    )
    both = make_user("both", city.units["330310"], *((Role.UNIT_LEAD, city.units[u]) for u in ("330310", "33031001")))
    share = get("2.1", "33031001")
    request_extension(assignment=share, by=city["station_lead"], due=date(2026, 10, 20), reason="嫌疑人在逃")
    asked = told("ext_asked")
    assert set(asked) == {"hq", "zhi_lead", "east_lead"} and len(asked["east_lead"]) == 1  # not ``both``
    assert asked["east_lead"] == ["【延期申请】城关派出所申请2.1项延期至10月20日"]
    assert zhi.messages.filter(event__kind="ext_asked").count() == 1  # the first one only: 2.1 is not its item's
    assert not both.messages.exists()


def test_a_share_submitted_reaches_the_unit_that_split_it_only(city, published):
    """The splitting unit's leads review a share (``workflow.split_reviewable``): they hear it was submitted;
    the submitter, HQ (its review desk) and whoever reports for the station itself do not."""
    Item.objects.filter(code="2.1").update(target_value=100, target_comparator="ge", target_unit="起")
    parent = get("2.1", "330310")
    pass_down(
        assignment=parent,
        by=city["east_lead"],
        shares=[Share(unit=city.units["33031001"], target=Decimal(60))],
        keep_remainder=True,
    )
    both = make_user("both", city.units["330310"], *((Role.UNIT_LEAD, city.units[u]) for u in ("330310", "33031001")))
    station2 = make_user("station_lead2", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]))
    share = get("2.1", "33031001")
    transition_assignment(assignment=share, name="submit", by=city["station_lead"], confirm_shortfall=True)
    got = told("submitted")
    assert got == {"east_lead": ["【待验收】城关派出所提交了2.1项分解任务"]}  # not hq, both, station_lead(2)
    message = Message.objects.get(event__kind="submitted", channel=Channel.INBOX)
    assert "提交验收" in message.body and link(message) == f"/assignments/{share.pk}/"
    assert not both.messages.exists() and not station2.messages.exists()


def test_work_given_by_the_plan_submitted_tells_nobody(city, published):
    """No parent: HQ's review desk shows it; and the item's lead unit is not told of a cooperating unit's work."""
    zhi = make_user("zhi_lead", city.units["330302"], (Role.UNIT_LEAD, city.units["330302"]))
    for item, unit in (("2.1", "330310"), ("1.2", "330310")):
        transition_assignment(assignment=get(item, unit), name="submit", by=city["east_lead"], confirm_shortfall=True)
    assert not Event.objects.filter(kind="submitted").exists() and told() == {}
    assert not zhi.messages.exists()


# --- Pass down, comments ---------------------------------------------------------------------------------------


def test_a_share_passed_down_reaches_the_lower_units_leads(city, published):
    Item.objects.filter(code="2.1").update(target_value=100, target_comparator="ge", target_unit="起")
    parent = get("2.1", "330310")
    # the one passing it down leads the station too: never told of its own act
    both = make_user("both", city.units["330310"], *((Role.UNIT_LEAD, city.units[u]) for u in ("330310", "33031001")))
    pass_down(
        assignment=parent, by=both, shares=[Share(unit=city.units["33031001"], target=Decimal(60))], keep_remainder=True
    )
    got = told("passed_down")
    assert got == {"station_lead": ["【任务分解】城东分局向您单位分解2.1项任务"]}
    message = Message.objects.get(event__kind="passed_down", channel=Channel.INBOX)
    child = get("2.1", "33031001")
    assert "分解目标60起" in message.body and link(message) == f"/assignments/{child.pk}/"
    # the same share again: nobody told again
    same = Share(unit=city.units["33031001"], target=child.target_share)
    pass_down(assignment=parent, by=both, shares=[same], keep_remainder=True)
    assert Event.objects.filter(kind="passed_down").count() == 1


def test_a_comment_goes_to_the_other_side(city, published):
    a = get("1.1", "33031001")
    add_comment(assignment=a, by=city["hq"], text="请补充本周战果数据")
    assert list(told("commented")) == ["station_lead"]
    add_comment(assignment=a, by=city["station_lead"], text="已补充")
    got = told("commented")
    assert set(got) == {"station_lead", "hq"} and len(got["station_lead"]) == 1  # not told of its own
    answer = Message.objects.filter(recipient=city["hq"], event__kind="commented").get(channel=Channel.INBOX)
    assert answer.subject == "【批注】城关派出所对1.1项作了批注" and "已补充" in answer.body
    add_comment(assignment=a, by=city["east_lead"], text="分局督促：本周内补齐")  # the lead of the unit above
    got = told("commented")
    assert len(got["station_lead"]) == 2 and len(got["hq"]) == 1 and "east_lead" not in got


# --- Rectification: the notice, the verdicts ---------------------------------------------------------------------


def test_a_notice_and_its_verdicts_reach_the_units_leads(city, published):
    visit = inspections.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units["33031001"]],
        planned_on=TODAY,
        kind=InspectionKind.NIGHT,
    )
    first, second = (
        inspections.log_finding(
            by=city["inspector"], inspection=visit, unit=city.units["33031001"], place=p, description="消防通道堵塞"
        )
        for p in ("夜宵摊", "KTV")
    )
    notice = inspections.issue_notice(
        by=city["inspector"],
        unit=city.units["33031001"],
        findings=[first, second],
        deadline=date(2026, 7, 27),
        requirements="立即清理消防通道",
        inspection=visit,
    )
    got = told("notice")
    assert got == {"station_lead": [f"【整改通知】{notice.number}，请于7月27日前整改"]}  # not the inspector
    message = Message.objects.get(event__kind="notice", channel=Channel.INBOX)
    assert "列明问题2个" in message.body and link(message) == f"/notices/{notice.pk}/"
    for f in (first, second):
        inspections.answer_finding(finding=f, by=city["station_lead"], text="已整改")
    assert told("notice") == got  # the answers tell nobody here (the inspector sees them to verify)
    inspections.verify_finding(finding=first, by=city["inspector"], accept=True)
    inspections.verify_finding(
        finding=second, by=city["inspector"], accept=False, note="通道仍有杂物", new_deadline=date(2026, 7, 31)
    )
    assert told("verified") == {"station_lead": ["【整改销号】夜宵摊问题整改已通过验证"]}
    assert told("rejected") == {"station_lead": ["【整改未通过】KTV问题请重新整改"]}
    rejected = Message.objects.get(event__kind="rejected", channel=Channel.INBOX)
    assert "通道仍有杂物" in rejected.body and "7月31日前" in rejected.body
    assert link(rejected) == f"/findings/{second.pk}/"


def test_a_risk_letter_reaches_the_units_leads_and_so_do_its_close_and_return(city, published):
    letter = letters.issue_letter(
        by=city["inspector"],
        unit=city.units["33031001"],
        title="夜市消防风险",
        risk="通道堵塞",
        requirements="落实巡查",
        reply_by=date(2026, 7, 27),
        campaign=published,
    )
    assert told("letter") == {"station_lead": [f"【风险提示】{letter.number}，请于7月27日前反馈"]}
    message = Message.objects.get(event__kind="letter", channel=Channel.INBOX)
    assert "《风险提示函》" in message.body and link(message) == f"/risk-letters/{letter.pk}/"
    letters.answer_letter(letter=letter, by=city["station_lead"], text="已落实")
    assert set(told()) == {"station_lead"}  # the answer tells nobody: HQ's desk shows it
    letters.return_letter(letter=letter, by=city["hq"], reason="不具体")
    assert told("letter_back") == {"station_lead": [f"【风险提示退回】{letter.number}的反馈请补充完善"]}
    back = Message.objects.get(event__kind="letter_back", channel=Channel.INBOX)
    assert back.recipient == city["station_lead"] and "理由：不具体" in back.body
    letters.answer_letter(letter=letter, by=city["station_lead"], text="已逐项落实")
    letters.close_letter(letter=letter, by=city["inspector"])
    assert told("letter_done") == {"station_lead": [f"【风险提示办结】{letter.number}已办结"]}


# --- Texts, the inbox page -----------------------------------------------------------------------------------------


def test_hq_edits_the_words_of_an_event(city, published):
    template = MessageTemplate.objects.get(subject_type="event", kind="returned", audience="lead")
    template.subject = "【退回重办】{{ unit.name }}{{ item.code }}项"
    template.save()
    a = get("1.1", "33031001")
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], confirm_shortfall=True)
    transition_assignment(assignment=a, name="return", by=city["hq"], note="不全")
    assert told("returned") == {"station_lead": ["【退回重办】城关派出所1.1项"]}


def test_the_inbox_shows_an_event_and_opens_what_it_is_about(city, published):
    a = get("1.1", "33031001")
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], confirm_shortfall=True)
    transition_assignment(assignment=a, name="return", by=city["hq"], note="请补充现场照片")
    delivery.drain()
    lead = login(city["station_lead"])
    html = lead.get("/inbox/").content.decode()
    assert "【退回】1.1项被退回，请补充完善" in html and "请补充现场照片" in html
    message = Message.objects.get(recipient=city["station_lead"], channel=Channel.INBOX, event__kind="returned")
    assert lead.post(f"/inbox/{message.pk}/read/").url == f"/assignments/{a.pk}/"
    assert "【退回】" not in login(city["hq"]).get("/inbox/").content.decode()
    api = APIClient()
    api.force_authenticate(city["station_lead"])
    (row,) = [r for r in api.get("/api/v1/inbox/").json()["results"] if r["id"] == message.pk]
    assert row["kind"] == "event_returned" and row["url"] == f"/assignments/{a.pk}/" and row["unit"] == "33031001"


def test_a_transaction_queues_one_delivery_however_many_events(city, published):
    """(The test runs in one transaction: what publishing queued is still there, never run.)"""
    from notifications.jobs import deliver_messages

    rows = list(Assignment.objects.filter(unit__code="330310", is_active=True).order_by("pk")[:2])
    for a in rows:
        transition_assignment(assignment=a, name="submit", by=city["east_lead"], confirm_shortfall=True)
        transition_assignment(assignment=a, name="accept", by=city["hq"])
    assert Event.objects.filter(kind="accepted").count() == 2  # not coalesced outside ``together``
    assert [entry[1] for entry in connection.run_on_commit].count(deliver_messages.delay) == 1


def test_hq_sees_event_messages_in_its_outbox(city, published):
    a = get("1.1", "33031001")
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], confirm_shortfall=True)
    transition_assignment(assignment=a, name="return", by=city["hq"], note="不全")
    queued = Message.objects.get(event__kind="returned", channel=Channel.INBOX)
    html = login(city["hq"]).get("/outbox/").content.decode()
    assert f"/outbox/{queued.pk}/" in html and "城关派出所 · " in html  # queued, not yet worded
    assert login(city["hq"]).get(f"/outbox/{queued.pk}/").status_code == 200
    assert login(city["west_lead"]).get(f"/outbox/{queued.pk}/").status_code == 403  # HQ's page only
