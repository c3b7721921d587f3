"""A directive's life through the services: 立项 → 交办 → 签收 → 反馈 → 办结报告 → 退回 → 销号 → 评价,
each step the tasks services' own (the assignments), every write audited; who may do each; the plan
never touching a directive's item; the reminders and the secret rule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from accounts import scope
from audit.models import AuditEvent
from directives.models import Directive, Status
from directives.services import (
    DirectiveError,
    acknowledge_directive,
    ask_extension,
    complete_directive,
    give_feedback,
    hand_down,
    rate_directive,
    register_directive,
    review_directive,
    unit_assignment,
)
from notifications import sweep
from notifications.models import Event, Reminder
from tasks.models import DIRECTIVE_LINE, Assignment, AssignmentStatus, Item, ItemKind
from tasks.services.cascade import Share, pass_down
from tasks.services.plans import import_plan
from tasks.services.workflow import transition_assignment
from tests.matrix_support import png_upload
from tests.tasks.planfiles import CAMPAIGN, write_xlsx
from utilities.errors import Forbidden

from .conftest import DUE, TZ, register

pytestmark = pytest.mark.django_db


def verbs(d: Directive) -> list[str]:
    rows = AuditEvent.objects.filter(object_id=d.pk, verb__startswith="directive.").order_by("id")
    return list(rows.values_list("verb", flat=True))


def work(d: Directive, unit: str) -> Assignment:
    return Assignment.objects.get(item=d.item, unit__code=unit)


def test_registering_makes_an_item_out_of_force_under_the_line_of_directives(city, published, registered):
    item = registered.item
    assert item.kind == ItemKind.DIRECTIVE and item.code == "督1" and not item.is_active
    assert item.action.code == DIRECTIVE_LINE and item.action.name == "督办事项"
    assert item.lead_text == "城关派出所" and item.cooperating_text == "城东交警大队"
    assert item.due_date == DUE and item.leader == city["east_leader"] and registered.leader_name == "钱局"
    assert registered.status == Status.REGISTERED and not Assignment.objects.filter(item=item).exists()
    assert verbs(registered) == ["directive.registered"]
    again = register(city, published)
    assert again.item.code == "督2" and again.item.action == item.action  # one line, numbered on


def test_who_may_register_and_what_is_refused(city, published):
    u = city.units
    base = {"campaign": published, "title": "事项", "source": "meeting", "due_date": DUE}
    with pytest.raises(Forbidden):
        register_directive(by=city["east_lead"], lead_units=[u["33031001"]], **base)
    with pytest.raises(DirectiveError, match="牵头单位"):
        register_directive(by=city["hq"], lead_units=[], **base)
    with pytest.raises(DirectiveError, match="标题"):
        register_directive(by=city["hq"], lead_units=[u["33031001"]], **{**base, "title": " "})
    with pytest.raises(DirectiveError, match="来源"):
        register_directive(by=city["hq"], lead_units=[u["33031001"]], **{**base, "source": "x"})
    with pytest.raises(DirectiveError, match="级别"):
        register_directive(by=city["hq"], lead_units=[u["33031001"]], level="x", **base)
    with pytest.raises(DirectiveError, match="时限"):
        register_directive(by=city["hq"], lead_units=[u["33031001"]], **{**base, "due_date": date(2028, 1, 1)})
    u["33031002"].is_active = False
    with pytest.raises(DirectiveError, match="东湖派出所"):
        register_directive(by=city["hq"], lead_units=[u["33031002"]], **base)
    assert not Directive.objects.exists()


def test_handing_down_writes_the_assignments_as_publishing_does(city, directive):
    rows = {a.unit.code: a for a in Assignment.objects.filter(item=directive.item).select_related("unit")}
    assert {c: a.role for c, a in rows.items()} == {"33031001": "lead", "33031003": "coop"}
    assert all(a.due_date == DUE and a.is_active and a.status == "pending" for a in rows.values())
    assert directive.status == Status.HANDED_DOWN and directive.item.is_active
    assert verbs(directive) == ["directive.registered", "directive.handed_down"]
    # the units are told as on publishing (notifications.events.assigned)
    assert Event.objects.filter(unit__code__in=["33031001", "33031003"], kind="assigned").count() == 2
    with pytest.raises(DirectiveError, match="已交办"):
        hand_down(directive=directive, by=city["hq"])


def test_handing_down_needs_hq_and_a_published_campaign(city, published, registered):
    with pytest.raises(Forbidden):
        hand_down(directive=registered, by=city["east_lead"])
    published.status = "draft"
    published.save(update_fields=["status"])
    with pytest.raises(DirectiveError, match="尚未发布"):
        hand_down(directive=registered, by=city["hq"])


@pytest.mark.smoke  # SQLite too
def test_the_life_through_to_the_rating(city, directive):
    lead, hq = city["station_lead"], city["hq"]
    acknowledge_directive(directive=directive, by=lead)
    mine = work(directive, "33031001")
    assert mine.acknowledged_by == lead
    report = give_feedback(directive=directive, by=lead, text="已排查摊点12处", files=[png_upload()])
    assert report.evidence.get().name == "现场.png"
    assert report.assignment == mine and work(directive, "33031001").status == AssignmentStatus.IN_PROGRESS
    with pytest.raises(DirectiveError, match="办结报告"):
        complete_directive(directive=directive, by=lead, report=" ")
    complete_directive(directive=directive, by=lead, report="噪音扰民问题已整治完毕")
    assert work(directive, "33031001").status == AssignmentStatus.SUBMITTED
    with pytest.raises(DirectiveError, match="评价"):
        rate_directive(directive=directive, by=hq, rating="satisfied")
    review_directive(directive=directive, by=hq, accept=False, reason="缺少整治前后对比照片")
    assert work(directive, "33031001").status == AssignmentStatus.RETURNED
    transition_assignment(assignment=work(directive, "33031001"), name="resume", by=lead)
    complete_directive(directive=directive, by=lead, report="补充照片")
    done = review_directive(directive=directive, by=hq, accept=True)
    assert done.status == Status.CLOSED and done.closed_at
    rated = rate_directive(directive=directive, by=hq, rating="fair", note="整改及时")
    assert rated.rating == "fair" and rated.rated_by == hq
    assert verbs(directive) == [
        "directive.registered",
        "directive.handed_down",
        "directive.closed",
        "directive.rated",
    ]
    notes = AuditEvent.objects.filter(object_id=mine.pk, verb="assignment.return").values_list("changes", flat=True)
    assert notes[0]["note"] == "缺少整治前后对比照片"
    # a reopen of the lead's work opens the directive again
    transition_assignment(assignment=work(directive, "33031001"), name="reopen", by=hq, note="复查发现反弹")
    directive.refresh_from_db()
    assert directive.status == Status.HANDED_DOWN and directive.closed_at is None
    assert verbs(directive)[-1] == "directive.reopened"


def test_an_accept_anywhere_closes_the_directive_in_step(city, directive):
    """HQ's review desk and the assignment page accept through the workflow: the directive follows."""
    lead = city["station_lead"]
    a = work(directive, "33031001")
    transition_assignment(assignment=a, name="submit", by=lead, confirm_shortfall=True)
    # the cooperating unit's accept does not close it
    coop = work(directive, "33031003")
    transition_assignment(assignment=coop, name="submit", by=city["east_lead"], confirm_shortfall=True)
    transition_assignment(assignment=coop, name="accept", by=city["hq"])
    directive.refresh_from_db()
    assert directive.status == Status.HANDED_DOWN
    transition_assignment(assignment=a, name="accept", by=city["hq"])
    directive.refresh_from_db()
    assert directive.status == Status.CLOSED


def test_two_lead_units_close_it_together(city, published):
    d = hand_down(directive=register(city, published, lead=("33031001", "330320"), coop=()), by=city["hq"])
    for unit, lead in (("33031001", "station_lead"), ("330320", "west_lead")):
        complete_directive(directive=d, by=city[lead], report="完成")
    with pytest.raises(DirectiveError, match="指定"):
        review_directive(directive=d, by=city["hq"], accept=True)
    review_directive(directive=d, by=city["hq"], accept=True, unit=city.units["33031001"])
    d.refresh_from_db()
    assert d.status == Status.HANDED_DOWN
    closed = review_directive(directive=d, by=city["hq"], accept=True)
    assert closed.status == Status.CLOSED


def test_a_case_records_its_outcome_with_the_accept(city, case, registered):
    complete_directive(directive=case, by=city["station_lead"], report="已破案，抓获嫌疑人2名")
    with pytest.raises(DirectiveError, match="案件结果"):
        review_directive(directive=case, by=city["hq"], accept=True, outcome="x")
    done = review_directive(directive=case, by=city["hq"], accept=True, outcome="arrested")
    assert done.is_case and done.outcome == "arrested" and done.outcome_on == date(2026, 8, 3)
    assert done.case_no == "A3303002026080001" and done.status == Status.CLOSED
    # a directive that is not a case has no outcome
    d = hand_down(directive=registered, by=city["hq"])
    complete_directive(directive=d, by=city["station_lead"], report="完成")
    with pytest.raises(DirectiveError, match="挂牌案件"):
        review_directive(directive=d, by=city["hq"], accept=True, outcome="solved")


def test_who_acts_for_which_unit(city, directive):
    # the sub-bureau's lead reports for both named units below it: it must say which
    with pytest.raises(DirectiveError, match="指定单位"):
        acknowledge_directive(directive=directive, by=city["east_lead"])
    a = acknowledge_directive(directive=directive, by=city["east_lead"], unit=city.units["33031003"])
    assert a.unit.code == "33031003"
    # the cooperating unit sends no completion report; HQ, a leader, the other branch act for no unit
    with pytest.raises(DirectiveError, match="牵头单位"):
        complete_directive(directive=directive, by=city["east_lead"], report="完成", unit=city.units["33031003"])
    for name in ("hq", "east_leader", "west_lead", "inspector"):
        with pytest.raises(Forbidden):
            give_feedback(directive=directive, by=city[name], text="x")
    with pytest.raises(Forbidden):
        unit_assignment(directive, city["station_lead"], unit=city.units["33031003"])
    # only HQ reviews and rates
    complete_directive(directive=directive, by=city["station_lead"], report="完成")
    with pytest.raises(Forbidden):
        review_directive(directive=directive, by=city["east_lead"], accept=True)
    review_directive(directive=directive, by=city["hq"], accept=False, reason="x")
    with pytest.raises(DirectiveError, match="等待审核"):
        review_directive(directive=directive, by=city["hq"], accept=True)
    with pytest.raises(DirectiveError):
        rate_directive(directive=directive, by=city["hq"], rating="")
    with pytest.raises(Forbidden):
        rate_directive(directive=directive, by=city["east_lead"], rating="satisfied")


def test_an_extension_goes_through_the_assignments(city, directive):
    from tasks.services.extensions import decide_extension

    asked = ask_extension(directive=directive, by=city["station_lead"], due=date(2026, 10, 15), reason="嫌疑人在逃")
    decide_extension(request=asked, by=city["hq"], approve=True)
    assert work(directive, "33031001").due_date == date(2026, 10, 15)


def test_a_plan_reimport_leaves_the_directive_alone(city, published, directive, tmp_path):
    opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
    result = import_plan(path=write_xlsx(tmp_path / "again.xlsx"), **opts)
    item = Item.objects.get(pk=directive.item_id)
    assert item.is_active and item.kind == ItemKind.DIRECTIVE
    assert Assignment.objects.filter(item=item, is_active=True).count() == 2
    assert result.items == Item.objects.filter(campaign=published, kind="plan", is_active=True).count()
    assert "督1" not in " ".join(result.changes)


def test_the_reminder_sweep_reminds_of_a_directive_s_work(city, directive):
    overdue = datetime(2026, 10, 2, 9, 0, tzinfo=TZ)  # two days after the due date
    Assignment.objects.exclude(item=directive.item).update(is_active=False)
    with time_machine.travel(overdue, tick=False):
        sweep.run()
    lead = work(directive, "33031001")
    kinds = set(
        Reminder.objects.filter(subject_type="assignment", subject_id=lead.pk).values_list(
            "recipient__username", "kind"
        )
    )
    assert ("station_lead", "overdue") in kinds


def test_a_secret_directive_is_seen_from_the_named_units_and_hq_only(city, secret):
    rows = Assignment.objects.filter(item=secret.item)
    assert set(rows.visible_to(city["station_lead"]).values_list("unit__code", flat=True)) == {"33031001"}
    assert rows.visible_to(city["hq"]).count() == 2
    for name in ("east_lead", "east_leader", "inspector", "west_lead", "nobody"):
        assert not rows.visible_to(city[name]).exists(), name
        assert not Directive.objects.visible_to(city[name]).filter(pk=secret.pk).exists(), name
    assert Directive.objects.visible_to(city["station_lead"]).filter(pk=secret.pk).exists()
    assert Directive.objects.visible_to(city["hq"]).filter(pk=secret.pk).exists()
    # HQ under the owner (over 城东分局) is not HQ over the campaign's owner
    from accounts.services import grant_role

    grant_role(user=city["nobody"], role="hq", unit=city.units["330310"])
    scope.forget(city["nobody"])
    assert not Directive.objects.visible_to(city["nobody"]).filter(pk=secret.pk).exists()
    # secret work is not passed down
    from tasks.services.errors import ReportError

    with pytest.raises(ReportError, match="密级"):
        pass_down(
            assignment=work(secret, "33031001"), by=city["station_lead"], shares=[Share(city.units["33031002"], None)]
        )


def test_who_sees_an_open_directive(city, directive, registered):
    seen = Directive.objects.visible_to
    assert seen(city["east_lead"]).filter(pk=directive.pk).exists()  # its units are under it
    assert seen(city["inspector"]).filter(pk=directive.pk).exists()  # over the owner
    assert not seen(city["west_lead"]).filter(pk=directive.pk).exists()
    assert not seen(city["nobody"]).exists()


@pytest.mark.smoke  # SQLite too
def test_a_closed_case_counts_its_outcome_in_the_statistics(city, published, case):
    from stats.models import Figure, Indicator

    arrested = Indicator.objects.create(campaign=published, code="case_arrested", name="抓获（挂牌案件）", measure="名")
    complete_directive(directive=case, by=city["station_lead"], report="抓获2名")
    review_directive(directive=case, by=city["hq"], accept=True, outcome="arrested")
    figure = Figure.objects.get(indicator=arrested, unit__code="33031001", day=date(2026, 8, 3))
    assert figure.value == 1 and figure.on_behalf
    # reopened, the 1 goes back; closed again, it comes back
    lead = work(case, "33031001")
    transition_assignment(assignment=lead, name="reopen", by=city["hq"], note="复核")
    figure.refresh_from_db()
    assert figure.value == 0
    transition_assignment(assignment=lead, name="submit", by=city["station_lead"], confirm_shortfall=True)
    transition_assignment(assignment=lead, name="accept", by=city["hq"])
    figure.refresh_from_db()
    assert figure.value == 1


def test_an_outcome_without_its_indicator_counts_nothing(city, published, case):
    from stats.models import Figure, Indicator

    Indicator.objects.create(campaign=published, code="case_solved", name="破案", measure="起", is_active=False)
    complete_directive(directive=case, by=city["station_lead"], report="破案")
    review_directive(directive=case, by=city["hq"], accept=True, outcome="solved", outcome_on=date(2027, 1, 5))
    assert not Figure.objects.filter(indicator__code__startswith="case_").exists()


@pytest.mark.smoke  # SQLite too
def test_a_secret_directive_s_reminders_climb_no_ladder_past_the_unit(city, secret):
    """Overdue secret work reminds its unit, its leader in charge and HQ over the campaign's owner; never the
    superior unit's leads nor HQ over the sub-bureau, who do not see it."""
    from accounts.services import grant_role

    grant_role(user=city["nobody"], role="hq", unit=city.units["330310"])  # HQ over 城东分局 only
    Assignment.objects.exclude(item=secret.item).update(is_active=False)
    for day in (1, 3, 7):
        with time_machine.travel(datetime.combine(DUE + timedelta(days=day), time(9), tzinfo=TZ), tick=False):
            sweep.run()
    lead = work(secret, "33031001")
    told = set(
        Reminder.objects.filter(subject_type="assignment", subject_id=lead.pk).values_list(
            "recipient__username", flat=True
        )
    )
    assert {"station_lead", "east_leader", "hq"} <= told
    assert not told & {"east_lead", "nobody"}
    # (未签收 reminds a unit's superior of the campaign's unacknowledged work, naming no item)
    assert not Reminder.objects.filter(audience="superior", subject_type="assignment").exists()


def test_open_work_of_a_directive_climbs_the_ladder(city, directive):
    """The same ladder for a directive that is not secret: the superior's leads are reminded too."""
    Assignment.objects.exclude(item=directive.item).update(is_active=False)
    for day in (1, 3):
        with time_machine.travel(datetime.combine(DUE + timedelta(days=day), time(9), tzinfo=TZ), tick=False):
            sweep.run()
    lead = work(directive, "33031001")
    told = Reminder.objects.filter(subject_type="assignment", subject_id=lead.pk).values_list(
        "recipient__username", flat=True
    )
    assert "east_lead" in set(told)
