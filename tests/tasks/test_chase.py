"""催办 (chase-up): HQ or a leader over the units chases their open work, by ids or by a board cell's
filters; each unit's leads hear once ("等N项"), each assignment's history records it; at most once a day
per assignment (a second is refused with the time of the first; a batch leaves those out and says so);
a unit lead or an inspector is refused (403), rows out of scope are missing (404); the statements do not
grow with the rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditEvent
from notifications import delivery
from notifications.models import Channel, Event, Message
from tasks.models import Assignment, AssignmentStatus
from tasks.services.chase import AlreadyChased, NothingToChase, chase_assignments
from utilities.errors import Forbidden, Missing

pytestmark = pytest.mark.django_db

AT = datetime(2026, 7, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # in the campaign, out of quiet hours


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(AT, tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def work(*units: str) -> list[Assignment]:
    return list(Assignment.objects.filter(unit__code__in=units, is_active=True).order_by("id"))


def told() -> dict[str, list[str]]:
    """username → subjects of its inbox messages about a 催办."""
    delivery.drain()
    rows = Message.objects.filter(channel=Channel.INBOX, event__kind="chased")
    out: dict[str, list[str]] = {}
    for name, subject in rows.order_by("id").values_list("recipient__username", "subject"):
        out.setdefault(name, []).append(subject)
    return out


def history(a: Assignment) -> list[tuple[str, dict]]:
    rows = AuditEvent.objects.filter(object_id=a.pk, verb="assignment.chased").order_by("id")
    return list(rows.values_list("actor__username", "changes"))


def test_hq_chases_two_units_each_lead_told_once_with_the_count_and_the_note(city, published):
    west, east = work("330320"), work("330310")
    assert len(west) > 1 and len(east) > 1
    done = chase_assignments(assignments=[a.pk for a in west + east], by=city["hq"], note="本周五前报送进展")
    assert (done.chased, done.units, done.already, done.not_open) == (len(west) + len(east), 2, 0, 0)
    messages = told()
    assert set(messages) == {"west_lead", "east_lead"}  # never the actor, never another unit's lead
    assert len(messages["west_lead"]) == 1 and f"等{len(west)}项" in messages["west_lead"][0]
    assert messages["west_lead"][0].startswith("【催办】")
    body = Message.objects.get(recipient=city["west_lead"], channel=Channel.INBOX, event__kind="chased").body
    assert "“本周五前报送进展”" in body
    assert Event.objects.filter(kind="chased").count() == 2
    for a in west + east:
        assert history(a) == [("hq", {"note": "本周五前报送进展"})]


def test_a_second_chase_the_same_day_is_refused_with_the_time_of_the_first(city, published):
    a = work("33031001")[0]
    chase_assignments(assignments=[a.pk], by=city["hq"])
    with time_machine.travel(AT + timedelta(hours=2), tick=False), pytest.raises(AlreadyChased) as refused:
        chase_assignments(assignments=[a.pk], by=city["east_leader"])
    assert "09:30" in str(refused.value)
    assert refused.value.status_code == 409
    assert len(history(a)) == 1
    with time_machine.travel(AT + timedelta(days=1), tick=False):  # the next day it may be chased again
        assert chase_assignments(assignments=[a.pk], by=city["hq"]).chased == 1
    assert len(history(a)) == 2


def test_a_batch_leaves_out_those_chased_today_and_says_so(city, published):
    rows = work("33031001", "33031002")
    chase_assignments(assignments=[rows[0].pk], by=city["hq"])
    with time_machine.travel(AT + timedelta(minutes=5), tick=False):
        done = chase_assignments(assignments=[a.pk for a in rows], by=city["hq"])
    assert (done.chased, done.already) == (len(rows) - 1, 1)
    assert timezone_hm(done.first_at) == "09:30"
    assert [len(history(a)) for a in rows] == [1] * len(rows)


def timezone_hm(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")


def test_submitted_or_accepted_work_is_not_chased(city, published):
    rows = work("330310")
    Assignment.objects.filter(pk=rows[0].pk).update(status=AssignmentStatus.SUBMITTED)
    done = chase_assignments(assignments=[a.pk for a in rows], by=city["hq"])
    assert (done.chased, done.not_open) == (len(rows) - 1, 1)
    assert history(rows[0]) == []
    Assignment.objects.filter(pk__in=[a.pk for a in rows]).update(status=AssignmentStatus.ACCEPTED)
    with pytest.raises(NothingToChase):
        chase_assignments(assignments=[rows[0].pk], by=city["hq"])


def test_a_leader_chases_what_it_leads_others_are_refused_or_see_nothing(city, published):
    east, west = work("330310"), work("330320")
    assert chase_assignments(assignments=[east[0].pk], by=city["east_leader"]).chased == 1
    with pytest.raises(Missing):  # the west sub-bureau is out of the leader's view: as if missing
        chase_assignments(assignments=[west[0].pk], by=city["east_leader"])
    for who in ("east_lead", "inspector"):  # they see it, may not chase it
        with pytest.raises(Forbidden):
            chase_assignments(assignments=[east[1].pk], by=city[who])
    for who in ("station_lead", "nobody"):  # the sub-bureau's work is out of their view
        with pytest.raises(Missing):
            chase_assignments(assignments=[east[1].pk], by=city[who])
    assert len(history(east[1])) == 0


def test_the_statements_do_not_grow_with_the_rows(city, published):
    chase_assignments(assignments=[work("330302")[0].pk], by=city["hq"])  # caches warm (content types, grants)
    one_each = [work("330320")[0].pk, work("330310")[0].pk]
    with CaptureQueriesContext(connection) as few:
        chase_assignments(assignments=one_each, by=city["hq"])
    with time_machine.travel(AT + timedelta(days=1), tick=False):
        every = [a.pk for a in work("330320", "330310")]
        assert len(every) > len(one_each)
        with CaptureQueriesContext(connection) as many:
            done = chase_assignments(assignments=every, by=city["hq"])
    assert done.chased == len(every)
    assert len(many) == len(few)


# --- The API ---------------------------------------------------------------------------------------------


def test_api_chases_by_ids_then_refuses_the_same_with_409(city, published):
    rows = work("330310")
    url = "/api/v1/assignments/chase/"
    answer = api(city["hq"]).post(url, {"ids": [a.pk for a in rows], "note": "抓紧"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"chased": len(rows), "units": 1, "already": 0, "first_at": None, "not_open": 0}
    again = api(city["hq"]).post(url, {"ids": [rows[0].pk]}, format="json")
    assert again.status_code == 409 and "09:30" in again.json()["detail"] and again.json()["chased_at"]


def test_api_chases_a_board_cells_filters(city, published):
    campaign = published.pk
    east_subtree = Assignment.objects.filter(campaign=campaign, unit__path__startswith=city.units["330310"].path)
    expected = east_subtree.filter(is_active=True, status__in=["pending", "in_progress", "returned"])
    body = {"campaign": campaign, "unit_subtree": "330310", "note": ""}
    answer = api(city["hq"]).post("/api/v1/assignments/chase/", body, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["chased"] == expected.count() > 0
    assert answer.json()["units"] == expected.values("unit").distinct().count()
    assert not AuditEvent.objects.filter(verb="assignment.chased", unit=city.units["330320"]).exists()


def test_api_refuses_a_unit_lead_and_hides_rows_out_of_scope(city, published):
    url = "/api/v1/assignments/chase/"
    mine = work("330310")[0].pk
    assert api(city["east_lead"]).post(url, {"ids": [mine]}, format="json").status_code == 403
    assert api(city["inspector"]).post(url, {"ids": [mine]}, format="json").status_code == 403
    west = work("330320")[0].pk
    assert api(city["east_leader"]).post(url, {"ids": [west]}, format="json").status_code == 404
    assert api(city["hq"]).post(url, {"ids": [10**12]}, format="json").status_code == 404
    assert api(city["hq"]).post(url, {"note": "x"}, format="json").status_code == 400  # neither ids nor campaign


def test_the_list_filters_by_unit_subtree_and_line_of_action(city, published):
    client = api(city["hq"])
    got = client.get("/api/v1/assignments/", {"unit_subtree": "330310", "page_size": 100}).json()["results"]
    below = Assignment.objects.filter(unit__path__startswith=city.units["330310"].path)
    assert sorted(r["id"] for r in got) == sorted(below.values_list("id", flat=True))
    assert client.get("/api/v1/assignments/", {"unit_subtree": "nope"}).json()["count"] == 0
    action = Assignment.objects.filter(campaign=published).values_list("item__action", flat=True).first()
    got = client.get("/api/v1/assignments/", {"action": action, "page_size": 100}).json()["results"]
    assert {r["id"] for r in got} == set(Assignment.objects.filter(item__action=action).values_list("id", flat=True))
