"""A campaign copied from last year's (``tasks.services.campaigns.copy_campaign``): dates moved by the
offset, deadline phrases re-placed in the new period, responsibilities and listed hotspots carried over,
a draft compared with its source; only HQ over the owner. Closing and reopening
(``close_campaign``, ``reopen_campaign``): the final figures stored, the trail. Also the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from inspections import services as inspections
from inspections.models import Hotspot
from tasks.models import Assignment, Campaign, CampaignStatus, Item, LineOfAction, Responsibility
from tasks.services.campaigns import close_campaign, copy_campaign, reopen_campaign
from tasks.services.plans import publish_campaign
from tasks.services.progress import report_progress
from tasks.services.workflow import transition_assignment
from utilities.errors import Forbidden, Refused

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def copy(published, by, **kw):
    args = {"name": "2027年夏季行动", "code": "XJ27", "start": date(2027, 6, 20), "end": date(2027, 9, 28)}
    return copy_campaign(source=published, by=by, **{**args, **kw})


def deadlines(campaign: Campaign) -> dict[str, tuple]:
    return {
        i.code: (i.deadline_text, i.deadline_kind, i.due_date, i.milestones)
        for i in Item.objects.filter(campaign=campaign)
    }


def one_item_campaign(city, *, code: str, start: date, end: date, text: str, due: date | None, kind="date"):
    """A campaign with one item whose deadline reads ``text`` (due ``due``)."""
    c = Campaign.objects.create(code=code, name=f"行动{code}", owner=city.units["3303"], start=start, end=end)
    action = LineOfAction.objects.create(campaign=c, code="一", seq=1, name="清患")
    Item.objects.create(
        campaign=c,
        action=action,
        code="1",
        seq=1,
        title="清查",
        lead_text="治安支队",
        deadline_text=text,
        deadline_kind=kind,
        due_date=due,
        milestones=[due.isoformat()] if due else [],
    )
    return c


def test_a_copy_is_a_draft_with_the_plan_moved_into_the_new_period(city, published):
    new = copy(published, city["hq"])
    assert (new.status, new.compare_to_id, new.owner_id) == (CampaignStatus.DRAFT, published.pk, published.owner_id)
    assert (new.start, new.end, new.name, new.code) == (date(2027, 6, 20), date(2027, 9, 28), "2027年夏季行动", "XJ27")
    assert list(new.actions.values_list("code", "name")) == list(published.actions.values_list("code", "name"))
    # the phrases are re-placed: 8月底前 is the new August's end, not 2026-08-31 plus the 354 days between
    # the starts (2027-08-20); 行动期间 is the new end; a cadence keeps its weekday
    assert deadlines(new) == {
        "1.1": ("8月底前", "date", date(2027, 8, 31), ["2027-08-31"]),
        "1.2": ("7月15日前", "date", date(2027, 7, 15), ["2027-07-15"]),
        "2.1": ("每周五前", "weekly", None, []),
        "2.2": ("行动期间", "ongoing", date(2027, 9, 28), []),
    }
    assert Item.objects.get(campaign=new, code="2.1").cadence_weekday == 5
    # a draft: nobody has work in it until HQ publishes it
    assert not Assignment.objects.filter(campaign=new).exists()
    event = AuditEvent.objects.get(verb="campaign.copied", object_id=new.pk)
    assert event.actor == city["hq"] and event.changes["copied_from"] == "XJ" and event.changes["items"] == 4


def test_the_named_responsibilities_are_copied_and_publish_as_the_source_did(city, published):
    new = copy(published, city["hq"])

    def rules(c):
        return sorted(
            (r.item.code, r.role, r.scope, r.unit_id, r.unit_kind, r.text)
            for r in Responsibility.objects.filter(item__campaign=c).select_related("item")
        )

    assert rules(new) == rules(published) and len(rules(new)) > 4
    publish_campaign(campaign=new, by=city["hq"])

    def work(c):
        return sorted(Assignment.objects.filter(campaign=c).values_list("item__code", "unit__code", "role"))

    assert work(new) == work(published)
    assert Assignment.objects.get(campaign=new, item__code="1.2", unit__code="330302").due_date == date(2027, 7, 15)


def test_an_inactive_unit_and_a_withdrawn_item_are_left_out(city, published):
    Item.objects.filter(campaign=published, code="2.2").update(is_active=False)
    city.units["330302"].is_active = False
    city.units["330302"].save(update_fields=["is_active"])
    new = copy(published, city["hq"])
    assert sorted(new.items.values_list("code", flat=True)) == ["1.1", "1.2", "2.1"]
    assert not Responsibility.objects.filter(item__campaign=new, unit__code="330302").exists()
    assert AuditEvent.objects.get(verb="campaign.copied", object_id=new.pk).changes["units_left_out"] == 2


def test_a_phrase_is_re_placed_across_a_month_end(city):
    # the starts are 346 days apart: 2025-06-30 + 346 days would be 2026-06-11
    source = one_item_campaign(
        city, code="S25", start=date(2025, 6, 20), end=date(2025, 9, 30), text="6月30日前", due=date(2025, 6, 30)
    )
    new = copy_campaign(
        source=source, by=city["hq"], name="2026", code="S26", start=date(2026, 6, 1), end=date(2026, 9, 10)
    )
    assert deadlines(new)["1"] == ("6月30日前", "date", date(2026, 6, 30), ["2026-06-30"])


def test_a_written_year_moves_with_the_campaign(city):
    source = one_item_campaign(
        city, code="Y25", start=date(2025, 7, 1), end=date(2025, 9, 30), text="2025年7月31日前", due=date(2025, 7, 31)
    )
    new = copy_campaign(
        source=source, by=city["hq"], name="2026", code="Y26", start=date(2026, 7, 1), end=date(2026, 9, 30)
    )
    assert deadlines(new)["1"] == ("2026年7月31日前", "date", date(2026, 7, 31), ["2026-07-31"])


def test_29_february_into_a_common_year_is_its_28th(city):
    source = one_item_campaign(
        city, code="L24", start=date(2024, 2, 1), end=date(2024, 3, 31), text="2月29日前", due=date(2024, 2, 29)
    )
    new = copy_campaign(
        source=source, by=city["hq"], name="2025", code="L25", start=date(2025, 2, 3), end=date(2025, 4, 2)
    )
    # the offset (368 days) would say 2025-03-03; the words stay, the day is February's last
    assert deadlines(new)["1"] == ("2月29日前", "date", date(2025, 2, 28), ["2025-02-28"])


def test_february_end_into_a_leap_year_is_the_29th(city):
    source = one_item_campaign(
        city, code="F23", start=date(2023, 2, 1), end=date(2023, 3, 31), text="2月底前", due=date(2023, 2, 28)
    )
    new = copy_campaign(
        source=source, by=city["hq"], name="2024", code="F24", start=date(2024, 2, 1), end=date(2024, 3, 31)
    )
    assert deadlines(new)["1"][2] == date(2024, 2, 29)


def test_a_date_without_a_phrase_moves_by_the_offset_kept_inside_the_new_period(city):
    source = one_item_campaign(
        city, code="O25", start=date(2025, 7, 1), end=date(2025, 9, 30), text="", due=date(2025, 9, 20)
    )
    new = copy_campaign(
        source=source, by=city["hq"], name="short", code="O26", start=date(2026, 7, 10), end=date(2026, 9, 15)
    )
    assert deadlines(new)["1"][2] == date(2026, 9, 15)  # 2026-09-29 by the offset, past the new end
    longer = copy_campaign(
        source=source, by=city["hq"], name="long", code="O27", start=date(2027, 7, 10), end=date(2027, 10, 31)
    )
    assert deadlines(longer)["1"][2] == date(2027, 9, 29)


def test_listed_hotspots_carry_over_with_their_criteria(city, published):
    with time_machine.travel(date(2026, 7, 10), tick=False):
        kept = inspections.list_hotspot(
            by=city["inspector"],
            campaign=published,
            unit=city.units["33031001"],
            name="城关夜市",
            problems="占道经营",
            responsible_name="赵关",
            deadline=date(2026, 8, 31),
            criteria=["无占道经营", "警情同比下降30%"],
        )
        gone = inspections.list_hotspot(
            by=city["inspector"],
            campaign=published,
            unit=city.units["33031002"],
            name="东湖网吧",
            problems="接纳未成年人",
            responsible_name="钱",
            deadline=date(2026, 8, 31),
            criteria=["无未成年人"],
        )
    Hotspot.objects.filter(pk=gone.pk).update(status=Hotspot.Status.DELISTED, delisted_on=date(2026, 8, 1))
    new = copy(published, city["hq"])
    (spot,) = Hotspot.objects.filter(campaign=new)
    assert (spot.name, spot.unit_id, spot.status, spot.extensions) == ("城关夜市", kept.unit_id, "listed", 0)
    assert (spot.listed_on, spot.deadline) == (date(2027, 6, 20), date(2027, 8, 20))  # by the offset
    assert list(spot.criteria.values_list("seq", "text")) == [(1, "无占道经营"), (2, "警情同比下降30%")]
    assert Hotspot.objects.get(pk=kept.pk).campaign_id == published.pk  # last year's stays as it was
    assert AuditEvent.objects.filter(verb="hotspot.listed", object_id=spot.pk, actor=city["hq"]).exists()


def test_only_hq_over_the_owner_copies(city, published):
    east_hq = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    for user in (city["east_lead"], city["inspector"], east_hq):
        with pytest.raises(Forbidden):
            copy(published, user)
    assert not Campaign.objects.filter(code="XJ27").exists()


def test_a_copy_refuses_a_used_code_or_a_reversed_period_and_writes_nothing(city, published):
    with pytest.raises(Refused, match="已被使用"):
        copy(published, city["hq"], code="XJ")
    with pytest.raises(Refused):
        copy(published, city["hq"], start=date(2027, 9, 1), end=date(2027, 8, 1))
    assert Campaign.objects.count() == 1


# --- closing -----------------------------------------------------------------------------------------


def test_closing_stores_the_final_figures_and_reopening_is_audited(city, published):
    work = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    with time_machine.travel(date(2026, 9, 20), tick=False):
        report_progress(assignment=work, by=city["station_lead"], value=300, text="完成")
        transition_assignment(assignment=work, name="submit", by=city["station_lead"])
        transition_assignment(assignment=work, name="accept", by=city["hq"])
        closed = close_campaign(campaign=published, by=city["hq"], note="行动结束")
    summary = closed.final_summary
    assert closed.status == CampaignStatus.CLOSED and closed.closed_by == city["hq"]
    active = Assignment.objects.filter(campaign=published, is_active=True)
    assert summary["assignments"]["total"] == active.count() == 12
    assert summary["assignments"]["by_status"]["accepted"] == 1
    assert summary["assignments"]["by_status"]["pending"] == 11
    # on 2026-09-20, 1.2 (7月15日前) is overdue everywhere and 1.1 (8月底前) in the units still at work
    assert summary["items"] == {"total": 4, "completed": 0, "overdue": 2}
    assert summary["units"] == active.values("unit").distinct().count()
    assert summary["supervision"]["findings"] == 0
    assert Campaign.objects.get(pk=published.pk).final_summary == summary
    event = AuditEvent.objects.get(verb="campaign.closed", object_id=published.pk)
    assert event.changes["note"] == "行动结束" and event.changes["summary"]["items"]["total"] == 4

    with pytest.raises(Refused, match="理由"):
        reopen_campaign(campaign=published, by=city["hq"], reason=" ")
    with pytest.raises(Forbidden):
        reopen_campaign(campaign=published, by=city["east_lead"], reason="补录")
    reopened = reopen_campaign(campaign=published, by=city["hq"], reason="补录战果")
    assert (reopened.status, reopened.closed_at, reopened.final_summary) == (CampaignStatus.PUBLISHED, None, {})
    event = AuditEvent.objects.get(verb="campaign.reopened", object_id=published.pk)
    assert event.actor == city["hq"] and event.changes["reason"] == "补录战果"


def test_only_hq_closes_a_published_campaign(city, published):
    for user in (city["east_lead"], city["inspector"]):
        with pytest.raises(Forbidden):
            close_campaign(campaign=published, by=user)
    draft = copy(published, city["hq"])
    with pytest.raises(Refused, match="只有已发布"):
        close_campaign(campaign=draft, by=city["hq"])
    with pytest.raises(Refused, match="只有已结束"):
        reopen_campaign(campaign=published, by=city["hq"], reason="x")
    assert Campaign.objects.get(pk=published.pk).status == CampaignStatus.PUBLISHED


# --- the API -----------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


BODY = {"name": "2027年夏季行动", "code": "XJ27", "start": "2027-06-20", "end": "2027-09-28"}


def test_api_copy_answers_the_new_draft(city, published):
    response = api(city["hq"]).post(f"/api/v1/campaigns/{published.pk}/copy/", BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["status"], body["compare_to"], body["start"]) == (
        "XJ27",
        "draft",
        published.pk,
        "2027-06-20",
    )
    assert Campaign.objects.get(code="XJ27").items.count() == 4


def test_api_copy_refuses_a_bad_body_and_a_used_code(city, published):
    client = api(city["hq"])
    assert client.post(f"/api/v1/campaigns/{published.pk}/copy/", {**BODY, "start": "9999-01-01"}).status_code == 400
    assert client.post(f"/api/v1/campaigns/{published.pk}/copy/", {**BODY, "code": "XJ"}).status_code == 400
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("east_lead", 403), ("station_lead", 403), ("inspector", 403), ("east_leader", 403), ("nobody", 404)],
)
def test_api_campaign_operations_per_role(city, published, who, status):
    client = api(city[who])
    base = f"/api/v1/campaigns/{published.pk}"
    assert client.post(f"{base}/copy/", BODY, format="json").status_code == status
    assert client.post(f"{base}/close/", {}, format="json").status_code == status
    assert client.post(f"{base}/reopen/", {"reason": "x"}, format="json").status_code == status
    assert Campaign.objects.get(pk=published.pk).status == CampaignStatus.PUBLISHED
    assert Campaign.objects.count() == 1


def test_api_close_and_reopen(city, published):
    client = api(city["hq"])
    base = f"/api/v1/campaigns/{published.pk}"
    response = client.post(f"{base}/close/", {"note": "结束"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed" and response.json()["final_summary"]["items"]["total"] == 4
    assert client.post(f"{base}/close/", {}, format="json").status_code == 400
    assert client.post(f"{base}/reopen/", {}, format="json").status_code == 400  # the reason is required
    response = client.post(f"{base}/reopen/", {"reason": "补录"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "published"


def test_a_copy_carries_the_statistics_catalogue_for_year_over_year(city, published):
    """Indicators keep their codes (同比 matches them) and rounds move by the offset between the starts;
    a round that falls past the new end is cut to it."""
    from stats.models import Indicator, Round

    Indicator.objects.create(campaign=published, code="checked", name="检查场所", measure="家次", seq=1)
    Indicator.objects.create(campaign=published, code="seized", name="收缴管制刀具", measure="把", seq=2)
    offset = date(2027, 6, 20) - published.start
    first = Round.objects.create(campaign=published, name="第一次统一行动", start=published.start, end=published.start)
    Round.objects.create(
        campaign=published, name="收官行动", start=published.end - timedelta(days=1), end=published.end
    )
    shorter = published.end + offset - timedelta(days=1)  # the new campaign ends a day earlier
    new = copy(published, city["hq"], end=shorter)
    copied = {i.code: (i.name, i.measure) for i in Indicator.objects.filter(campaign=new)}
    assert copied == {"checked": ("检查场所", "家次"), "seized": ("收缴管制刀具", "把")}
    rounds = {r.name: (r.start, r.end) for r in Round.objects.filter(campaign=new)}
    assert rounds["第一次统一行动"] == (first.start + offset, first.end + offset) == (new.start, new.start)
    assert rounds["收官行动"] == (new.end, new.end)  # its second day is past the new end: cut to it
    event = AuditEvent.objects.get(verb="campaign.copied", object_id=new.pk)
    assert (event.changes["indicators"], event.changes["rounds"]) == (2, 2)
