"""HQ's review desk (/review/): filters kept in the URL, bulk accept / return all or nothing with every
refused row named, progress against the target; and the confirmation a submit below target asks for."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tasks.models import Assignment, AssignmentStatus
from tasks.services.progress import report_progress
from tasks.services.workflow import transition_assignment
from tests.tasks.test_api import api
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
S = AssignmentStatus


def get(code: str, unit: str) -> Assignment:
    return Assignment.objects.get(item__code=code, unit__code=unit)


def submit(city, code: str, unit: str, lead: str, day: date) -> Assignment:
    with time_machine.travel(day, tick=False):
        return transition_assignment(assignment=get(code, unit), name="submit", by=city[lead], confirm_shortfall=True)


@pytest.fixture
def queue(city, published) -> dict[str, Assignment]:
    """Four pieces of work awaiting HQ: 城关 (51 of 300 done, with evidence) and 东湖 on 1.1 on 10 July,
    西山 on 1.1 and 城东分局 on 2.2 (no numeric target) on 20 July."""
    report_progress(
        assignment=get("1.1", "33031001"),
        by=city["station_lead"],
        value=Decimal(51),
        files=[SimpleUploadedFile("现场.png", PNG)],
    )
    return {
        "chengguan": submit(city, "1.1", "33031001", "station_lead", date(2026, 7, 10)),
        "donghu": submit(city, "1.1", "33031002", "east_lead", date(2026, 7, 10)),
        "xishan": submit(city, "1.1", "33032001", "west_lead", date(2026, 7, 20)),
        "east": submit(city, "2.2", "330310", "east_lead", date(2026, 7, 20)),
    }


def shown(response) -> list[int]:
    return [a.pk for a in response.context["page"].object_list]


def test_the_desk_filters_each_way(city, queue):
    hq = login(city["hq"])
    every = {a.pk for a in queue.values()}
    assert set(shown(hq.get("/review/"))) == every
    assert set(shown(hq.get(f"/review/?campaign={published_pk(queue)}"))) == every
    qinghuan = queue["chengguan"].item.action_id
    assert set(shown(hq.get(f"/review/?action={qinghuan}"))) == {queue[k].pk for k in ("chengguan", "donghu", "xishan")}
    # a unit means its subtree; typed with its name as the datalist shows it
    assert set(shown(hq.get("/review/?unit=330310+城东分局"))) == {queue[k].pk for k in ("chengguan", "donghu", "east")}
    assert shown(hq.get("/review/?unit=33032001")) == [queue["xishan"].pk]
    unknown = hq.get("/review/?unit=99887766")
    assert shown(unknown) == [] and "99887766" in text(unknown)  # named as not HQ's, nothing shown
    assert set(shown(hq.get("/review/?since=2026-07-15"))) == {queue["xishan"].pk, queue["east"].pk}
    assert shown(hq.get("/review/?evidence=yes")) == [queue["chengguan"].pk]
    assert queue["chengguan"].pk not in shown(hq.get("/review/?evidence=no"))
    assert shown(hq.get("/review/?q=西山")) == [queue["xishan"].pk]
    assert set(shown(hq.get("/review/?q=全域巡逻"))) == {queue["east"].pk}
    oldest, newest = shown(hq.get("/review/")), shown(hq.get("/review/?order=newest"))
    assert newest == oldest[::-1] and oldest[0] == queue["chengguan"].pk
    # odd values are ignored or named, never a 500
    for odd in ("campaign=²", "action=１", "since=9999-01-01", "evidence=maybe", "order=x", "unit=%00", "page=²"):
        assert hq.get(f"/review/?{odd}").status_code == 200, odd


def published_pk(queue) -> int:
    return queue["chengguan"].campaign_id


def test_the_pager_keeps_the_filters(city, queue, monkeypatch):
    monkeypatch.setattr("web.tasks.assignments.PAGE_SIZE", 1)
    page = text(login(city["hq"]).get("/review/?unit=330310&order=newest"))
    assert "?unit=330310&order=newest&page=2" in page
    assert 'action="/review/bulk/?unit=330310&amp;order=newest"' in page


def test_the_desk_shows_the_shortfall(city, queue):
    page = text(login(city["hq"]).get("/review/"))
    row = page.split(f'data-assignment="{queue["chengguan"].pk}"')[1].split("</tr>")[0]
    assert row.startswith(' class="short"') and "51 / 300" in row and "17%" in row
    east = page.split(f'data-assignment="{queue["east"].pk}"')[1].split("</tr>")[0]
    assert not east.startswith(' class="short"')  # no numeric target: nothing to fall short of


def test_the_desks_queries_do_not_grow_with_its_rows(city, queue):
    hq = login(city["hq"])
    hq.get("/review/")  # warm (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert len(shown(hq.get("/review/"))) == 4
    for code, unit, lead in (("2.1", "330310", "east_lead"), ("2.1", "330320", "west_lead")):
        submit(city, code, unit, lead, date(2026, 7, 21))
    report_progress(assignment=get("2.2", "330320"), by=city["west_lead"], files=[SimpleUploadedFile("a.png", PNG)])
    submit(city, "2.2", "330320", "west_lead", date(2026, 7, 21))
    with CaptureQueriesContext(connection) as more:
        assert len(shown(hq.get("/review/"))) == 7
    assert len(more.captured_queries) == len(few.captured_queries)


def test_bulk_accept_keeps_the_filters(city, queue):
    hq = login(city["hq"])
    rows = [f"{queue[k].pk}:{queue[k].version}" for k in ("chengguan", "donghu")]
    response = hq.post("/review/bulk/?unit=330310", {"rows": rows, "action": "accept"})
    assert response.status_code == 302 and response["Location"] == "/review/?unit=330310"
    assert {get("1.1", u).status for u in ("33031001", "33031002")} == {S.ACCEPTED}


def test_bulk_is_all_or_nothing_and_names_every_refused_row(city, queue):
    hq = login(city["hq"])
    transition_assignment(assignment=queue["xishan"], name="accept", by=city["hq"])  # accepted meanwhile
    stale = queue["donghu"]
    Assignment.objects.filter(pk=stale.pk).update(version=stale.version + 1)  # changed meanwhile
    events = AuditEvent.objects.count()
    rows = [f"{queue[k].pk}:{queue[k].version}" for k in ("chengguan", "donghu")]
    rows.append(f"{queue['xishan'].pk}:{get('1.1', '33032001').version}")  # seen after its acceptance
    response = hq.post("/review/bulk/", {"rows": rows, "action": "accept"})
    assert response.status_code == 409  # the first refusal's: the stale version
    page = text(response)
    refused = page.split('id="refused-rows"')[1].split("</div>")[0]
    assert "东湖派出所" in refused and "重点场所清查" in refused and "已被他人修改" in refused
    assert "西山派出所" in refused and "当前状态" in refused
    assert "城关派出所" not in refused
    assert get("1.1", "33031001").status == S.SUBMITTED  # the good row was not accepted either
    assert AuditEvent.objects.count() == events
    assert f'value="{queue["chengguan"].pk}:{queue["chengguan"].version}" aria-label' in page  # still listed


def test_bulk_refuses_a_row_the_user_may_not_review(city, queue):
    """城东分局's lead may not accept its own stations' work; a row out of its view: the 404 of any page."""
    from accounts.models import Role
    from tests.conftest import make_user

    both = make_user(
        "both", city.units["330310"], (Role.UNIT_LEAD, city.units["330310"]), (Role.HQ, city.units["3303"])
    )
    page = login(both)
    own = queue["chengguan"]
    response = page.post("/review/bulk/", {"rows": [f"{own.pk}:{own.version}"], "action": "accept"})
    assert response.status_code == 403 and "城关派出所" in text(response).split('id="refused-rows"')[1]
    assert (
        login(city["west_lead"]).post("/review/bulk/", {"rows": f"{own.pk}:1", "action": "accept"}).status_code == 403
    )
    assert get("1.1", "33031001").status == S.SUBMITTED


def test_bulk_return_needs_a_reason(city, queue):
    hq = login(city["hq"])
    rows = [f"{queue['chengguan'].pk}:{queue['chengguan'].version}"]
    response = hq.post("/review/bulk/", {"rows": rows, "action": "return", "reason": "  "})
    assert response.status_code == 400 and "请写明退回理由" in text(response)
    assert get("1.1", "33031001").status == S.SUBMITTED
    response = hq.post("/review/bulk/", {"rows": rows, "action": "return", "reason": "台账缺少照片"})
    assert response.status_code == 302
    returned = get("1.1", "33031001")
    assert returned.status == S.RETURNED
    event = AuditEvent.objects.filter(verb="assignment.return").latest("pk")
    assert event.changes["note"] == "台账缺少照片"
    for odd in (["x:1"], ["²:1"], [f"{returned.pk}"], []):
        assert hq.post("/review/bulk/", {"rows": odd, "action": "accept"}).status_code == 400, odd


# --- submitting below the target ---------------------------------------------------------------------


def test_the_api_asks_to_confirm_a_submit_below_target(city, published):
    a = get("1.1", "33031001")
    report_progress(assignment=a, by=city["station_lead"], value=Decimal(51))
    lead = api(city["station_lead"])
    refused = lead.post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "进度 17%（51/300），确认提交验收？" and refused.json()["percent"] == 17
    assert get("1.1", "33031001").status == S.IN_PROGRESS
    done = lead.post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit", "confirm_shortfall": True})
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    event = AuditEvent.objects.filter(verb="assignment.submit").latest("pk")
    assert event.changes["shortfall"] == ["51.00", "300.00"]
    bulk = api(city["west_lead"]).post(
        "/api/v1/assignments/bulk-transition/", [{"id": get("1.1", "33032001").pk, "name": "submit"}], format="json"
    )
    assert bulk.status_code == 409 and bulk.json()["rows"][0]["detail"].startswith("进度 0%（0/300）")


def test_no_confirmation_without_a_numeric_target_for_a_cadence_or_when_reached(city, published):
    east = api(city["east_lead"])
    for code in ("2.1", "2.2"):  # weekly reporting (同比下降20%), a mechanism (建立长效机制)
        a = get(code, "330310")
        response = east.post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit"})
        assert response.status_code == 200, (code, response.json())
    reached = get("1.1", "33031002")
    report_progress(assignment=reached, by=city["east_lead"], value=Decimal(300))
    assert east.post(f"/api/v1/assignments/{reached.pk}/transition/", {"name": "submit"}).status_code == 200


def test_the_page_asks_to_confirm_a_submit_below_target(city, published):
    a = get("1.1", "33031001")
    report_progress(assignment=a, by=city["station_lead"], value=Decimal(51))
    lead = login(city["station_lead"])
    page = text(lead.get(f"/assignments/{a.pk}/"))
    assert 'name="confirm_shortfall"' in page and "17%" in page
    refused = lead.post(f"/assignments/{a.pk}/transition/", {"name": "submit"})
    assert refused.status_code == 409 and "进度 17%（51/300），确认提交验收？" in text(refused)
    assert get("1.1", "33031001").status == S.IN_PROGRESS
    assert (
        lead.post(f"/assignments/{a.pk}/transition/", {"name": "submit", "confirm_shortfall": "on"}).status_code == 302
    )
    assert get("1.1", "33031001").status == S.SUBMITTED
