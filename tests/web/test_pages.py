"""The pages, through Django's test client: language, landing, my tasks, the assignment page's
forms (report with evidence, transitions, comments, extensions), HQ's review and item pages."""

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tasks.models import Assignment, AssignmentStatus, Evidence, ExtensionRequest, ProgressReport
from tasks.services.cascade import Share, pass_down
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def chengguan(published) -> Assignment:
    return Assignment.objects.get(item__code="1.1", unit__code="33031001")


def test_chinese_by_default_english_only_by_choice(city):
    page = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/accounts/login/")
    assert "登录" in text(page) and 'lang="zh-hans"' in text(page)
    english = Client()
    english.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in text(english.get("/accounts/login/"))


def test_login_and_landing_by_role(city):
    client = Client()
    assert client.get("/my/").status_code == 302  # to the login page
    response = client.post("/accounts/login/", {"username": "station_lead", "password": "pw-station_lead"})
    assert response.status_code == 302
    assert client.get("/").url == "/my/"
    assert login(city["hq"]).get("/").url == "/review/"
    assert login(city["inspector"]).get("/").url == "/inspections/"
    assert login(city["east_leader"]).get("/").url == "/leader/"  # 领导首页 (tests/boards/test_leader.py)
    assert login(city["nobody"]).get("/").url == "/items/"
    assert login(city["east_lead"]).get("/review/").status_code == 403


def test_my_tasks_shows_my_units_work_grouped_by_due(city, published):
    with time_machine.travel(date(2026, 7, 20), tick=False):
        response = login(city["station_lead"]).get("/my/")
    page = text(response)
    mine = Assignment.objects.filter(unit__code="33031001")
    assert mine.exists()
    for a in mine:
        assert f"/assignments/{a.pk}/" in page
    other = Assignment.objects.filter(unit__code="33032001").first()
    assert f"/assignments/{other.pk}/" not in page
    assert [key for key, _, _ in response.context["groups"]] == ["overdue", "week", "later", "done"]
    shown = {a.pk for _, _, rows in response.context["groups"] for a in rows}
    assert shown == set(mine.values_list("pk", flat=True))


def test_my_tasks_groups_by_date_and_by_check_in(city, published):
    east = city["east_lead"]
    with time_machine.travel(date(2026, 7, 20), tick=False):  # a Monday
        groups = {k: {a.item.code for a in rows} for k, _, rows in login(east).get("/my/").context["groups"]}
    # 1.2 was due 7月15日: overdue; 2.1 is weekly and the first weeks went unreported: overdue too
    assert "1.2" in groups["overdue"] and "2.1" in groups["overdue"]
    with time_machine.travel(date(2026, 7, 2), tick=False):  # before any Friday
        groups = {k: {a.item.code for a in rows} for k, _, rows in login(east).get("/my/").context["groups"]}
    assert "2.1" in groups["week"]  # its first check-in is due on Friday 7月3日
    assert "2.2" in groups["later"]  # 行动期间: due at the campaign's end


def test_my_tasks_search_filter_and_partial(city, published):
    client = login(city["east_lead"])
    full = client.get("/my/", {"q": "电信"})
    codes = {a.item.code for _, _, rows in full.context["groups"] for a in rows}
    assert codes == {"2.1"}
    partial = client.get("/my/", {"q": "电信"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and "打击电信诈骗" in text(partial)
    below = client.get("/my/", {"below": "on"})
    units = {a.unit.code for _, _, rows in below.context["groups"] for a in rows}
    assert {"330310", "33031001"} <= units and "33032001" not in units


def test_my_tasks_queries_do_not_grow_with_rows(city, published):
    client = login(city["east_lead"])
    client.get("/my/")  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        client.get("/my/", {"below": "on", "q": "电信"})
    with CaptureQueriesContext(connection) as many:
        client.get("/my/", {"below": "on"})
    assert len(few) == len(many)
    # session, user, grants, campaigns, the rows, their check-ins, their targets judged (every target's
    # progress and pace, ``tasks.targets.judged``), the shares to accept, the risk letters to answer, the
    # documents to acknowledge, the inbox's count, the user's unit, the unit's 约谈: nothing read row by row
    # (the rows' item, unit and campaign joined)
    assert len(many) <= 13


def test_my_tasks_and_the_desk_judge_later_targets_only_when_an_item_has_one(city, published):
    """The pages' rows say whether their item has a target read apart (``with_targets_apart``): a page of
    one-target items runs no judging statement; one item with a second target, one statement."""
    from tasks.models import Target

    def judging(client, url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return sum("row_id" in q["sql"] for q in ctx.captured_queries)

    lead, hq = login(city["east_lead"]), login(city["hq"])
    Assignment.objects.filter(item__code="1.1").update(status=AssignmentStatus.SUBMITTED, submitted_on=date(2026, 7, 1))
    assert judging(lead, "/my/?below=on") == 0 and judging(hq, "/review/") == 0
    item = Assignment.objects.filter(item__code="1.1").first().item
    Target.objects.create(item=item, seq=2, text="整改隐患不少于5处", comparator="ge", value=5, unit="处")
    assert judging(lead, "/my/?below=on") == 1 and judging(hq, "/review/") == 1


def test_assignment_page_is_scoped(city, chengguan):
    assert login(city["station_lead"]).get(f"/assignments/{chengguan.pk}/").status_code == 200
    assert login(city["hq"]).get(f"/assignments/{chengguan.pk}/").status_code == 200
    assert login(city["west_lead"]).get(f"/assignments/{chengguan.pk}/").status_code == 404
    assert login(city["west_lead"]).post(f"/assignments/{chengguan.pk}/report/", {"text": "x"}).status_code == 404


def test_assignment_page_shows_the_newest_reports_and_history_and_all_on_asking(city, chengguan):
    """A cadence item reported daily gathers hundreds of reports and events: the page shows the newest
    ``HISTORY_SHOWN`` of each, says how many older ones are left out and links to them all; its statements
    do not grow with them."""
    from datetime import timedelta

    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from audit.models import AuditEvent
    from web.tasks.assignments import HISTORY_SHOWN

    lead, start = city["station_lead"], timezone.now() - timedelta(days=400)

    def add(n: int, first: int) -> None:
        ProgressReport.objects.bulk_create(
            ProgressReport(
                assignment=chengguan,
                value=1,
                text=f"第{i}次填报",
                reported_by=lead,
                reported_at=start + timedelta(hours=i),
            )
            for i in range(first, first + n)
        )
        AuditEvent.objects.bulk_create(
            AuditEvent(
                at=start + timedelta(hours=i),
                actor=lead,
                verb="assignment.reported",
                content_type=ContentType.objects.get_for_model(Assignment),
                object_id=chengguan.pk,
                object_repr=str(chengguan),
                changes={"value": "1", "text": f"记录{i}"},
            )
            for i in range(first, first + n)
        )

    client, url = login(lead), f"/assignments/{chengguan.pk}/"
    add(HISTORY_SHOWN, 0)
    page = client.get(url)
    assert len(page.context["reports"]) == HISTORY_SHOWN and not page.context["reports_hidden"]
    assert "较早的" not in text(page)  # exactly as many as shown: nothing left out, nothing counted
    add(3, HISTORY_SHOWN)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    body = text(page)
    shown = [r.text for r in page.context["reports"]]
    assert shown[0] == f"第{HISTORY_SHOWN + 2}次填报" and shown[-1] == "第3次填报" and len(shown) == HISTORY_SHOWN
    assert "另有3条较早的填报未显示" in body and "另有3条较早的记录未显示" in body
    assert f'href="/assignments/{chengguan.pk}/?history=all#reports"' in body
    assert f'href="/assignments/{chengguan.pk}/?history=all#timeline"' in body
    events = page.context["events"]
    assert len(events) == HISTORY_SHOWN and "第0次填报" not in body and "第3次填报" in body
    whole = client.get(url, {"history": "all"})
    assert len(whole.context["reports"]) == HISTORY_SHOWN + 3 and len(whole.context["events"]) == HISTORY_SHOWN + 3
    assert "第0次填报" in text(whole) and "较早的" not in text(whole)
    add(200, HISTORY_SHOWN + 3)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "另有203条较早的填报未显示" in text(page)


def test_report_with_evidence_then_submit_then_accept(city, chengguan):
    lead = login(city["station_lead"])
    page = lead.get(f"/assignments/{chengguan.pk}/")
    assert "填报进度" in text(page)
    response = lead.post(
        f"/assignments/{chengguan.pk}/report/",
        {
            "value": "120",
            "text": "清查 120 家次",
            "version": chengguan.version,
            "files": [SimpleUploadedFile("现场.png", PNG)],
        },
    )
    assert response.status_code == 302, text(response)
    chengguan.refresh_from_db()
    assert chengguan.progress == 120 and chengguan.status == AssignmentStatus.IN_PROGRESS
    evidence = Evidence.objects.get(assignment=chengguan)
    page = text(lead.get(f"/assignments/{chengguan.pk}/"))
    assert "进度已填报" in page and evidence.name in page and f"/api/v1/evidence/{evidence.pk}/download/" in page
    assert "120 / 300" in page.replace("已完成 ", "")
    assert lead.get(f"/api/v1/evidence/{evidence.pk}/download/").status_code == 200
    # submit, then HQ accepts from its review list
    lead.post(
        f"/assignments/{chengguan.pk}/transition/",
        {"name": "submit", "version": chengguan.version, "confirm_shortfall": True},
    )
    chengguan.refresh_from_db()
    assert chengguan.status == AssignmentStatus.SUBMITTED
    hq = login(city["hq"])
    assert f"/assignments/{chengguan.pk}/" in text(hq.get("/review/"))
    assert 'data-transition="accept"' in text(hq.get(f"/assignments/{chengguan.pk}/"))
    hq.post(f"/assignments/{chengguan.pk}/transition/", {"name": "accept", "version": chengguan.version})
    chengguan.refresh_from_db()
    assert chengguan.status == AssignmentStatus.ACCEPTED
    history = text(hq.get(f"/assignments/{chengguan.pk}/"))
    for word in ("填报进度", "提交验收", "验收通过", "赵关", "王晓燕"):
        assert word in history


def test_refusals_keep_what_was_typed_and_write_nothing(city, chengguan):
    lead = login(city["station_lead"])
    bad_file = SimpleUploadedFile("报告.pdf", b"<html><script>alert(1)</script></html>")
    response = lead.post(
        f"/assignments/{chengguan.pk}/report/", {"value": "5", "text": "保留这段文字", "files": [bad_file]}
    )
    assert response.status_code == 400
    assert "保留这段文字" in text(response) and "报告.pdf" in text(response)
    negative = lead.post(f"/assignments/{chengguan.pk}/report/", {"value": "-3"})
    assert negative.status_code == 400
    assert not ProgressReport.objects.filter(assignment=chengguan).exists() and not Evidence.objects.exists()
    # an invalid transition: a message listing what is possible, not a 500
    wrong = lead.post(f"/assignments/{chengguan.pk}/transition/", {"name": "accept"})
    assert wrong.status_code == 403  # accepting is HQ's
    stale = lead.post(f"/assignments/{chengguan.pk}/transition/", {"name": "start", "version": chengguan.version + 5})
    assert stale.status_code == 409 and "已被他人修改" in text(stale)
    hq = login(city["hq"])
    lead.post(f"/assignments/{chengguan.pk}/transition/", {"name": "submit", "confirm_shortfall": True})
    no_reason = hq.post(f"/assignments/{chengguan.pk}/transition/", {"name": "return", "note": " "})
    assert no_reason.status_code == 400 and "须写明理由" in text(no_reason)
    chengguan.refresh_from_db()
    assert chengguan.status == AssignmentStatus.SUBMITTED


def test_comment_and_extension_through_the_page(city, chengguan):
    lead, hq = login(city["station_lead"]), login(city["hq"])
    assert lead.post(f"/assignments/{chengguan.pk}/comment/", {"text": "已部署警力"}).status_code == 302
    response = lead.post(
        f"/assignments/{chengguan.pk}/extension/", {"requested_due": "2026-09-15", "reason": "汛期警力抽调"}
    )
    assert response.status_code == 302
    ext = ExtensionRequest.objects.get(assignment=chengguan)
    assert f"/assignments/{chengguan.pk}/" in text(hq.get("/review/"))
    assert lead.post(f"/extensions/{ext.pk}/decide/", {"approve": "1"}).status_code == 403  # not a reviewer
    assert hq.post(f"/extensions/{ext.pk}/decide/", {"approve": "1"}).status_code == 302
    chengguan.refresh_from_db()
    assert chengguan.due_date == date(2026, 9, 15) and chengguan.extensions == 1
    page = text(lead.get(f"/assignments/{chengguan.pk}/"))
    assert "已部署警力" in page and "已延期 1 次" in page and "汛期警力抽调" in page


def test_review_queue_leaves_out_the_reviewers_own_units_work(city, published, chengguan):
    """城关's lead who is also HQ over 城东分局: its queue and the assignment page offer no acceptance of
    城关's own work or extension, and the page refuses it; 东湖's work it reviews as HQ."""
    from accounts.models import Role
    from tests.conftest import make_user

    both = make_user(
        "guan_hq", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]), (Role.HQ, city.units["330310"])
    )
    page = login(both)
    donghu = Assignment.objects.get(item__code="1.1", unit__code="33031002")
    assert (
        page.post(f"/assignments/{chengguan.pk}/transition/", {"name": "submit", "confirm_shortfall": True}).status_code
        == 302
    )
    page.post(f"/assignments/{chengguan.pk}/extension/", {"requested_due": "2026-09-15", "reason": "汛期"})
    login(city["east_lead"]).post(
        f"/assignments/{donghu.pk}/transition/", {"name": "submit", "confirm_shortfall": True}
    )
    queue = text(page.get("/review/"))
    assert f"/assignments/{chengguan.pk}/" not in queue and f"/assignments/{donghu.pk}/" in queue
    own = text(page.get(f"/assignments/{chengguan.pk}/"))
    assert 'data-transition="accept"' not in own
    assert page.post(f"/assignments/{chengguan.pk}/transition/", {"name": "accept"}).status_code == 403
    ext = ExtensionRequest.objects.get(assignment=chengguan)
    assert page.post(f"/extensions/{ext.pk}/decide/", {"approve": "1"}).status_code == 403
    assert 'data-transition="accept"' in text(page.get(f"/assignments/{donghu.pk}/"))


def test_cadence_item_reports_a_chosen_period(city, published):
    weekly = Assignment.objects.get(item__code="2.1", unit__code="330310")
    lead = login(city["east_lead"])
    with time_machine.travel(date(2026, 7, 14), tick=False):
        page = lead.get(f"/assignments/{weekly.pk}/")
        choices = [value for value, _ in page.context["report_form"].fields["period"].choices]
        assert choices[0] == "2026-07-17" and "2026-07-03" in choices and "2026-07-24" not in choices
        lead.post(f"/assignments/{weekly.pk}/report/", {"text": "补报", "period": "2026-07-03"})
        page = text(lead.get(f"/assignments/{weekly.pk}/"))
    assert ProgressReport.objects.get(assignment=weekly).period == date(2026, 7, 3)
    assert "迟报" in page and "未报" in page


def test_item_page_across_units_and_passed_down_shares(city, chengguan):
    east = Assignment.objects.get(item__code="1.2", unit__code="330310")
    pass_down(assignment=east, by=city["east_lead"], shares=[Share(city.units["33031001"], 5)], keep_remainder=True)
    hq = login(city["hq"])
    listing = hq.get("/items/")
    assert "重点场所清查" in text(listing)
    page = hq.get(f"/items/{chengguan.item_id}/")
    units = {a.unit.code for a in page.context["page"]}
    assert units == set(Assignment.objects.filter(item=chengguan.item).values_list("unit__code", flat=True))
    station = login(city["station_lead"]).get(f"/items/{chengguan.item_id}/")
    assert {a.unit.code for a in station.context["page"]} == {"33031001"}
    overdue = hq.get(f"/items/{chengguan.item_id}/", {"overdue": "1"})
    assert overdue.status_code == 200
    parent = text(login(city["east_lead"]).get(f"/assignments/{east.pk}/"))
    assert "已分解给" in parent and "城关派出所" in parent
