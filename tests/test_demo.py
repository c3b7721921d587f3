"""The demo, end to end: what `scripts/demo` loads, and the back-office pages HQ staff use.

The demo is built around the day it is loaded (``load_demo --today``): a campaign some weeks in."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import Unit, User
from boards import bulletin
from directives.models import Directive
from inspections.models import Finding, Inspection, Notice, RiskLetter
from inspections.services import inspection_windows
from notifications.inbox import unread
from notifications.models import Message, Reminder
from stats.models import Figure
from tasks import targets
from tasks.demo import write_plan
from tasks.models import DIRECTIVE_LINE, Assignment, Campaign, Item, ProgressReport, Target
from tasks.services.plans import import_plan
from tests.matrix_support import kept_for_the_module

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 8, 12)  # a Wednesday
# HQ's reminders come as one daily digest (and a weekly summary): the week's are read but the last few
HQ_UNREAD_AT_MOST = 10


def load(day: date) -> Campaign:
    """The demo as loaded on ``day`` at half past nine."""
    with time_machine.travel(datetime.combine(day, time(9, 30), tzinfo=TZ), tick=False):
        call_command("load_demo", quiet=True, today=day)
    return Campaign.objects.get(code="XJ2026")


@pytest.fixture(scope="module")
def loaded_once(django_db_blocker, tmp_path_factory):
    """The demo loaded on ``TODAY`` once for the module (a load takes half a minute), rolled back at
    its end; each test runs in a savepoint of it."""
    media = tmp_path_factory.mktemp("demo-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast),
        kept_for_the_module(django_db_blocker, lambda: load(TODAY).pk) as pk,
    ):
        yield pk


@pytest.fixture
def demo(loaded_once, settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=TZ), tick=True):
        yield Campaign.objects.get(pk=loaded_once)


def picture(campaign: Campaign) -> dict:
    """What a visitor sees, in numbers."""
    return {
        "assignments": Assignment.objects.filter(campaign=campaign).count(),
        "by status": sorted(Assignment.objects.filter(campaign=campaign).values_list("status", flat=True)),
        "reports": ProgressReport.objects.filter(assignment__campaign=campaign).count(),
        "findings": sorted(Finding.objects.filter(campaign=campaign).values_list("status", flat=True)),
        "notices": sorted(Notice.objects.filter(campaign=campaign).values_list("number", flat=True)),
        "inspections": Inspection.objects.filter(campaign=campaign).count(),
        "figures": Figure.objects.filter(campaign=campaign).count(),
        "reminders": Reminder.objects.filter(campaign=campaign).count(),
        "users": User.objects.count(),
        "units": Unit.objects.count(),
    }


@pytest.mark.parametrize("today", [date(2026, 8, 12), date(2027, 3, 1)])
def test_the_demo_is_a_campaign_in_progress_on_the_day_it_is_loaded(settings, today):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    campaign = load(today)
    with time_machine.travel(datetime.combine(today, time(10), tzinfo=TZ), tick=False):
        age = (today - campaign.start).days
        assert campaign.start < today < campaign.end and 35 <= age <= 45
        assert (campaign.end - campaign.start).days == 99  # a hundred days
        work = list(
            Assignment.objects.filter(campaign=campaign, is_active=True).select_related("item", "campaign", "unit")
        )
        # most of it in progress, some done; a few overdue, none by more than the campaign's age
        overdue = [a for a in work if a.is_overdue]
        assert 0 < len(overdue) < 0.05 * len(work)
        assert max((today - a.due_date).days for a in overdue) <= age
        assert sum(a.status == "in_progress" for a in work) > len(work) / 2
        assert 0 < sum(a.is_behind_pace(today) for a in work) < 0.05 * len(work)
        # every target judged (the lists, the sweep): the later ones are reported too, so the work behind
        # stays a few units' — not every item with a second target
        judged = targets.judged(work, today)
        behind = sum(judged[a.pk].behind for a in work)
        assert sum(a.is_behind_pace(today) for a in work) < behind < 0.08 * len(work)
        later = ProgressReport.objects.filter(assignment__campaign=campaign, target__seq__gt=1).select_related("target")
        assert later.exists() and all(r.value > 0 and r.target.metric in r.text for r in later)
        assert not later.filter(target__indicator__isnull=False).exists()  # a linked one counts the figures
        # accepted work has reports adding up to its target, and evidence
        accepted = [a for a in work if a.status == "accepted"]
        assert len(accepted) > 0.05 * len(work)
        assert all(a.progress >= (a.target or 0) for a in accepted)
        assert all(a.evidence.exists() for a in accepted[:50])
        # and every target it reports toward, the later ones too (a rate as its level at the submission)
        lines = targets.lines(accepted, today)
        assert not [
            (a.item.code, line.target.seq) for a in accepted for line in lines[a.pk] if line.short and not line.linked
        ]
        # the plan's dates moved with the campaign: inside it, and the texts say the due dates
        for item in Item.objects.filter(campaign=campaign, deadline_kind="date"):
            assert campaign.start <= item.due_date <= campaign.end
            assert f"{item.due_date.month}月{item.due_date.day}日" in item.deadline_text
        # daily check-ins reported for most past days
        daily = [a for a in work if a.item.deadline_kind == "daily"]
        days = (today - campaign.start).days
        answered = ProgressReport.objects.filter(assignment__in=daily, period__lt=today).count()
        assert answered >= 0.9 * len(daily) * days
        # supervision in order: the inspection, its findings, the notice, the answers, their verification
        for f in Finding.objects.filter(campaign=campaign).select_related("inspection", "notice"):
            assert f.found_at.astimezone(TZ).date() < today
            if f.inspection:
                assert f.found_at.astimezone(TZ).date() >= f.inspection.planned_on
            if f.notice:
                assert f.notice.issued_at > f.found_at
            for answer in f.answers.all():
                assert f.notice.issued_at < answer.answered_at and answer.answered_at.astimezone(TZ).date() < today
                assert answer.verified_at is None or answer.verified_at > answer.answered_at
            assert f.closed_at is None or f.closed_at > f.found_at
        # hotspots visited weekly, one missed week each
        for hotspot in campaign.hotspots.all():
            windows = inspection_windows(hotspot, today)
            assert sum(not w.inspected for w in windows[:-1]) == 1, hotspot
        # risk letters: one waiting for the station's receipt, one answered for HQ to judge, one closed
        letters = RiskLetter.objects.filter(campaign=campaign).order_by("issued_at")
        assert [n.status for n in letters] == ["closed", "answered", "issued"]
        assert all(n.issued_at.astimezone(TZ).date() < today for n in letters)
        # statistics: past days and past rounds only, last year's campaign over the same days for 同比
        figures = Figure.objects.filter(campaign=campaign)
        assert figures.exists() and not figures.filter(day__gte=today).exists()
        rounds = list(campaign.rounds.all())
        past, coming = [r for r in rounds if r.end < today], [r for r in rounds if r.start > today]
        assert past and coming and not figures.filter(day__gte=coming[0].start).exists()
        assert all(figures.filter(day=r.end).exists() for r in past)
        last_year = campaign.compare_to
        assert last_year.start.year == campaign.start.year - 1
        assert last_year.end - last_year.start == campaign.end - campaign.start
        assert Figure.objects.filter(campaign=last_year, day=last_year.end).exists()
        # the bulletin of the last complete week reports supervision
        hq = User.objects.get(username="hq_wang")
        week = bulletin.default_period(campaign, today)
        text = bulletin.bulletin_context(hq, campaign, campaign.owner, week, issued=today)["supervision"]
        assert week.end < today and "督导检查0次" not in text and "发现问题0处" not in text, text
        # as of that week's end the plan was out (the ledger dated by the publication, not by the load)
        overview = bulletin.bulletin_context(hq, campaign, campaign.owner, week, issued=today)["overview"]
        planned = Assignment.objects.filter(campaign=campaign, is_active=True, parent=None, item__kind="plan").count()
        assert f"共承担任务{planned}项" in overview or f"共承担任务{planned + 3}项" in overview, overview
        assert "-" not in overview and "0个单位" not in overview, overview
        # the inboxes look like a week: HQ a digest a day, the station lead a few lines; no flood
        assert 0 < unread(hq).count() <= HQ_UNREAD_AT_MOST
        assert Reminder.objects.filter(recipient=hq).count() < 150
        lead = User.objects.get(username="lead_chengguan")
        sent = Message.objects.filter(recipient=lead, channel="inbox", status="sent")
        # the forgotten weekly report (red), a check-in due, a notice's deadline, a letter not yet signed for,
        # the odd behind-pace reminder (every target judged, as on /my/) and the week's events
        assert 1 <= sent.count() <= 10 and sent.filter(reminder__colour="red").exists(), [m.subject for m in sent]
        # on /my/ (every target judged) the station is behind on a few of its open items, not all yellow
        mine = [a for a in work if a.unit == lead.unit and a.status != "accepted"]
        behind = [a for a in mine if judged[a.pk].behind]
        assert 1 <= len(behind) <= 0.2 * len(mine), [a.item.code for a in behind]
    # loading it again gives the same picture (once: a load takes ten seconds)
    if today == TODAY:
        before = picture(campaign)
        assert picture(load(today)) == before


def test_demo_loads_the_city_and_its_77_item_plan(demo):
    assert Unit.objects.count() == 80
    assert Item.objects.in_plan().filter(campaign=demo).count() == 77
    # every target of every cell (34 cells hold two, 2.2 two more with 、); those naming an indicator linked
    assert Target.objects.filter(item__campaign=demo, item__kind="plan").count() == 77 + 35
    linked = Target.objects.filter(item__campaign=demo, indicator__isnull=False)
    assert sorted(linked.values_list("item__code", "seq", "indicator__name")) == [
        ("1.10", 1, "整改隐患"),
        ("1.3", 2, "整改隐患"),
        ("4.7", 1, "抓获逃犯"),
    ]
    assert demo.actions.exclude(code=DIRECTIVE_LINE).count() == 6 and demo.status == "published"
    # and a few directives (督办事项) beside the plan: a major case, a leader's instruction, a secret one
    assert Directive.objects.filter(item__campaign=demo).count() == 3
    assert Directive.objects.filter(item__campaign=demo, is_case=True, item__secret=False).count() == 1
    stations = Unit.objects.filter(kind="station").count()
    assert Assignment.objects.filter(campaign=demo, unit__kind="station").values("unit").distinct().count() == stations
    # supervision: two listed hotspots, weekly inspections with findings, numbered notices, a night inspection coming
    assert demo.hotspots.count() == 2 and demo.inspections.filter(kind="night", status="planned").count() == 1
    assert demo.inspections.filter(status="in_progress", planned_on=TODAY).count() == 1  # under way this morning
    night_market = demo.hotspots.get(name="城关夜市片区")
    windows = inspection_windows(night_market)
    assert [i for i, w in enumerate(windows) if not w.inspected and w.end < windows[-1].start] == [2]
    first = Notice.objects.get(campaign=demo, seq=1)
    assert first.number == f"江公督〔{TODAY.year}〕1号" and first.findings.exists()
    assert Finding.objects.filter(campaign=demo, inspection=None).count() == 1  # the self-inspection
    # 签收: every unit that reported has acknowledged its work; most of the rest too, a few not yet
    work = Assignment.objects.filter(campaign=demo, is_active=True)
    assert not work.exclude(status="pending").filter(acknowledged_at=None).exists()
    waiting = work.filter(status="pending")
    assert 0 < waiting.filter(acknowledged_at=None).count() < waiting.count() / 3
    # documents: last week's bulletin issued (第1期, a number, its files), the week before's a draft
    issued = demo.documents.get(state="issued")
    assert issued.issue_no == 1 and issued.number.endswith(f"〔{issued.year}〕1号") and issued.pdf and issued.docx
    assert demo.documents.filter(state="draft", kind="bulletin").count() <= 1
    # its first laggard summoned (约谈), the notice a draft quoting the bulletin's reasons
    summons = demo.summonses.get()
    assert summons.bulletin == issued and summons.state == "planned" and summons.notice.state == "draft"
    assert summons.reasons in "".join(b.get("text", "") for b in summons.notice.generated["blocks"])


@pytest.mark.parametrize("seed", ["plan.docx", "plan.yaml"])
def test_word_and_yaml_plans_give_the_same_campaign(demo, settings, seed, tmp_path):
    moved = write_plan(settings.BASE_DIR / "seeds", seed, demo.start, tmp_path)  # the seed plan, moved
    result = import_plan(path=moved, code="XJ2026", dry_run=True)
    assert result.changes == []
    assert (result.items, result.assignments) == (77, Assignment.objects.filter(campaign=demo).count())


def test_admin_pages_for_hq_in_chinese(demo, client):
    client.force_login(User.objects.get(username="hq_wang"))
    item = demo.items.get(code="1.1")
    for url in [
        reverse("admin:index"),
        reverse("admin:tasks_campaign_changelist"),
        reverse("admin:tasks_campaign_change", args=[demo.pk]),
        reverse("admin:tasks_item_change", args=[item.pk]),
        reverse("admin:tasks_assignment_changelist") + "?status=pending",
        reverse("admin:accounts_unit_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:audit_auditevent_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("admin:tasks_campaign_changelist")).content.decode()
    assert "专项行动" in page and "XJ2026" in page


def test_station_lead_sees_only_own_assignments_in_admin(demo, client):
    lead = User.objects.get(username="lead_chengguan")
    client.force_login(lead)
    response = client.get(reverse("admin:tasks_assignment_changelist"))
    assert response.status_code == 200
    shown = {a.unit_id for a in response.context["cl"].result_list}
    assert shown == {lead.unit_id}
    other = Assignment.objects.exclude(unit=lead.unit).first()
    assert client.get(reverse("admin:tasks_assignment_change", args=[other.pk])).status_code == 302  # "doesn't exist"


def test_pages_on_the_demo(demo, client):
    """The phone pages with the demo's people: the lead reports and submits, HQ accepts."""
    lead = User.objects.get(username="lead_chengguan")
    client.force_login(lead)
    page = client.get("/my/")
    assert page.status_code == 200 and "我的任务" in page.content.decode()
    work = (  # the demo has moved some work along already: one still open
        Assignment.objects.filter(unit=lead.unit, item__deadline_kind="date", status__in=["pending", "in_progress"])
        .order_by("item__seq")
        .first()
    )
    assert client.get(f"/assignments/{work.pk}/").status_code == 200
    before = work.progress
    assert client.post(f"/assignments/{work.pk}/report/", {"value": "3", "text": "演示填报"}).status_code == 302
    assert (
        client.post(f"/assignments/{work.pk}/transition/", {"name": "submit", "confirm_shortfall": True}).status_code
        == 302
    )
    client.force_login(User.objects.get(username="hq_wang"))
    for url in ["/review/", "/items/", f"/items/{work.item_id}/"]:
        assert client.get(url).status_code == 200, url
    assert client.post(f"/assignments/{work.pk}/transition/", {"name": "accept"}).status_code == 302
    work.refresh_from_db()
    assert work.status == "accepted" and work.progress == before + 3


def test_the_demo_leads_reminders_arrive_in_the_inbox(demo):
    """The week's sweeps left the station lead a few reminders: last week's forgotten weekly report in red."""
    lead = User.objects.get(username="lead_chengguan")
    mine = Message.objects.filter(recipient=lead, channel="inbox", status="sent")
    red = [m for m in mine if m.reminder and m.reminder.colour == "red"]
    assert red, [m.subject for m in mine]
    client = Client()
    client.force_login(lead)
    page = client.get("/inbox/").content.decode()
    assert f'id="unread">{unread(lead).count()}<' in page and red[0].subject in page


@pytest.mark.parametrize("kind", ["xlsx", "docx"])
def test_the_demo_checklist_reads_back_as_it_was_imported(demo, tmp_path, kind):
    """The 77 items of the seed plan, exported with HQ's progress columns, read back through the plan
    reader into the same items; a dry run of the import changes nothing."""
    from tasks.checklist import checklist, docx_bytes, xlsx_bytes
    from tests.tasks.test_checklist import assert_reads_back

    data = checklist(demo, user=User.objects.get(username="hq_wang"), progress=True)
    assert sum(len(s.rows) for s in data.sections) == 77 and len(data.sections) == 6
    assert any(row.progress[1] for s in data.sections for row in s.rows)  # the demo has overdue work
    path = tmp_path / f"checklist.{kind}"
    path.write_bytes(xlsx_bytes(data) if kind == "xlsx" else docx_bytes(data))
    assert_reads_back(path, demo)


def test_the_bureau_chief_lands_on_a_filled_page(demo, client):
    """局长 leader_chen: every line, the units most behind, findings, hotspots, this week's results with
    同比, and the requests for his instruction the units and HQ made."""
    chief = User.objects.get(username="leader_chen")
    client.force_login(chief)
    assert client.get("/")["Location"] == "/leader/"
    response = client.get("/leader/")
    assert response.status_code == 200
    d = response.context["d"]
    assert d.all_lines and len(d.lines) == demo.actions.count() and d.total.overdue > 0
    assert len(d.units) == 5 and d.findings and d.stats.lines and d.stats.lines[0].last_year
    assert d.requests_count == 4 and d.addressed_to_me
    assert d.requests[0].created_at < d.requests[-1].created_at
    body = response.content.decode()
    assert "恳请领导协调治安支队抽调警力支援" in body and "同比" in body
    # the deputy in charge of a line sees that line only
    deputy = demo.actions.exclude(leader=None).order_by("seq").first().leader
    client.force_login(deputy)
    d = client.get("/leader/").context["d"]
    assert not d.all_lines and all(a.leader == deputy for a, _c in d.lines)


def test_the_demo_statistics_rank_and_spread_the_rounds(demo, client):
    """HQ's statistics on the demo (issue 20.5, 20.8): the units ranked by the first indicator with a 第一
    line, and the daily chart's rounds as bars over their days."""
    client.force_login(User.objects.get(username="hq_wang"))
    page = client.get(f"/stats/?campaign={demo.pk}&period=since")
    assert page.status_code == 200
    ranking = page.context["ranking"]
    assert ranking["rows"] and ranking["rows"][0][0].rank == 1 and "第一" in ranking["first"]
    option = page.context["charts"][0][1]
    assert any(s["type"] == "bar" and any(v is not None for v in s["data"]) for s in option["series"])


def test_the_lists_judge_the_linked_targets_by_their_figures(demo, client):
    """Issue 20: 1.10 (整改隐患不少于500处，责令整改通知书回复率100%) and 4.7 (抓获逃犯不少于150名，其中历年逃犯不少于30名)
    take their first target's progress from the results statistics; the lead's list (/my/ and the API's)
    judges their pace by every target as the assignment page does, not by the first target's reports."""
    from accounts.models import Role, RoleGrant
    from tasks import targets

    work = list(
        Assignment.objects.filter(campaign=demo, item__code__in=["1.10", "4.7"], is_active=True).select_related(
            "item", "campaign", "unit"
        )
    )
    pages = targets.lines(work)
    judged = targets.judged(work)
    for a in work:  # the list reads every target as the page does
        assert (judged[a.pk].progress, judged[a.pk].behind) == (
            pages[a.pk][0].progress,
            any(line.behind for line in pages[a.pk]),
        )
    # 1.10's sub-bureaus: their subtrees' figures meet 整改隐患 (the 回复率100% is a level: no pace) — on track
    bureaus = [a for a in work if a.item.code == "1.10" and a.unit.kind == "subbureau"]
    assert bureaus and all(pages[a.pk][0].progress >= 500 and not judged[a.pk].behind for a in bureaus)
    # 4.7's stations: the reports said on track, their own 抓获逃犯 figures do not (历年逃犯, reported, is on
    # track; a sub-bureau's subtree figures may well be)
    stations = [
        a
        for a in work
        if a.item.code == "4.7" and a.unit.kind == "station" and a.status == "in_progress" and not a.is_behind_pace()
    ]
    assert stations and all(judged[a.pk].behind for a in stations)
    leads = dict(RoleGrant.objects.filter(role=Role.UNIT_LEAD).values_list("unit_id", "user_id"))
    for a, behind in (
        (next(a for a in bureaus if a.unit_id in leads), False),
        (next(a for a in stations if a.unit_id in leads), True),
    ):
        client.force_login(User.objects.get(pk=leads[a.unit_id]))
        row = next(r for section in client.get("/my/").context["sections"] for r in section[2] if r.pk == a.pk)
        assert (row.behind, row.done) == (behind, pages[a.pk][0].progress)
        body = client.get("/api/v1/assignments/", {"mine": "true", "item": a.item_id}).json()
        assert next(r for r in body["results"] if r["id"] == a.pk)["behind_pace"] is behind
