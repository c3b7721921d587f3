"""约谈 (issue 22.5): laggards an issued bulletin named are summoned — the summons with the bulletin's reasons
and its 约谈通知 drafted and signed as any document —, the 约谈 recorded with commitments that become
directives handed down to the unit, a cancel; who may; the next bulletin's paragraph as of its period."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from boards.bulletin import bulletin_context, range_period, render_pdf, week_of
from directives.models import Source, Status
from directives.services import complete_directive, review_directive
from documents import services as svc
from documents import summons as sm
from documents.models import Document, DocumentKind, DocumentState, Summons, SummonsState
from documents.render import content as build
from tasks.models import Assignment, AssignmentRole
from tests.web.pages import login
from utilities.errors import Forbidden

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
TODAY = date(2026, 9, 1)


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=hour)))


def walk(doc, hq, leader):
    doc = svc.submit_document(document=doc, by=hq)
    doc = svc.check_document(document=doc, by=hq)
    return svc.sign_document(document=doc, by=leader)


@pytest.fixture
def bulletin(city, worked, city_leader):
    draft = svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))
    return walk(draft, city["hq"], city_leader)


@pytest.fixture
def laggard(city, bulletin):
    named = sm.laggards_of(bulletin)
    assert named, "the bulletin names a laggard"
    return city.units[named[0]["code"]]


@pytest.fixture
def summoned(city, bulletin, laggard):
    (made,) = sm.summon_units(
        by=city["hq"],
        bulletin=bulletin,
        units=[laggard],
        scheduled_at=at(TODAY + timedelta(days=3)),
        place="市局三楼会议室",
    )
    return made


def verbs(s: Summons) -> list[str]:
    rows = AuditEvent.objects.filter(object_id=s.pk, verb__startswith="summons.").order_by("id")
    return list(rows.values_list("verb", flat=True))


def test_the_bulletin_keeps_its_laggards_by_unit_and_their_lines(city, bulletin):
    named = sm.laggards_of(bulletin)
    assert [x["code"] for x in named] == ["330302"]
    assert named[0]["unit"] == "治安支队" and named[0]["reasons"].startswith("完成率")
    lines = [b["text"] for b in bulletin.content["blocks"] if b["t"] == "para"]
    assert f"1．治安支队：{named[0]['reasons']}。" in lines
    # an older bulletin without the kept list: read back from its lines
    old = Document.objects.get(pk=bulletin.pk)
    old.generated = {k: v for k, v in old.generated.items() if k != "laggards"}
    assert sm.laggards_of(old) == named
    assert sm.as_of(bulletin) == date(2026, 8, 30)


def test_summoning_freezes_the_reasons_and_drafts_the_notice(city, bulletin, laggard, summoned):
    s = Summons.objects.select_related("notice").get(pk=summoned.pk)
    assert s.state == SummonsState.PLANNED and s.unit == laggard and s.bulletin == bulletin
    assert s.reasons == sm.laggards_of(bulletin)[0]["reasons"] and s.as_of == date(2026, 8, 30)
    assert s.attendance == "主要负责人" and s.place == "市局三楼会议室"
    notice = s.notice
    assert notice.kind == DocumentKind.SUMMONS and notice.state == DocumentState.DRAFT
    assert notice.issuing_unit == bulletin.issuing_unit and notice.subject_unit == laggard
    assert notice.title == "关于约谈治安支队主要负责人的通知" and notice.recipients == "治安支队"
    text = build.canonical_text(build.compose(notice))
    assert f"《{bulletin.title}》（江城市通〔2026〕1号）通报，截至2026年8月30日，你单位{s.reasons}" in text
    assert "2026年9月4日9时" in text and "市局三楼会议室" in text and "治安支队主要负责人。" in text
    assert "约谈时间" in text and notice.requirements.startswith("请你单位对照通报指出的问题")
    assert verbs(s) == ["summons.created"]
    # refreshing the draft makes the same part again, not an empty one
    again = svc.refresh_draft(document=notice, by=city["hq"])
    assert again.generated["blocks"] == notice.generated["blocks"]


def test_the_notice_goes_through_the_sign_off(city, summoned, city_leader):
    issued = walk(summoned.notice, city["hq"], city_leader)
    assert issued.state == DocumentState.ISSUED and issued.number == "江城市约〔2026〕1号"
    assert "你单位" in build.canonical_text(issued.content)


def test_what_summoning_refuses(city, worked, bulletin, laggard, summoned, city_leader):
    when = at(TODAY + timedelta(days=3))
    with pytest.raises(sm.SummonsError, match="已依据该通报约谈"):
        sm.summon_units(by=city["hq"], bulletin=bulletin, units=[laggard], scheduled_at=when, place="x")
    with pytest.raises(sm.SummonsError, match="未将以下单位列为排名靠后单位：城东分局"):
        sm.summon_units(by=city["hq"], bulletin=bulletin, units=[city.units["330310"]], scheduled_at=when, place="x")
    with pytest.raises(sm.SummonsError, match="地点"):
        sm.summon_units(by=city["hq"], bulletin=bulletin, units=[laggard], scheduled_at=when, place=" ")
    with pytest.raises(sm.SummonsError, match="早于"):
        sm.summon_units(by=city["hq"], bulletin=bulletin, units=[laggard], scheduled_at=at(date(2026, 8, 1)), place="x")
    for who in ("east_lead", "inspector", "nobody"):
        with pytest.raises(Forbidden):
            sm.summon_units(by=city[who], bulletin=bulletin, units=[laggard], scheduled_at=when, place="x")
    with pytest.raises(Forbidden):
        sm.summon_units(by=city_leader, bulletin=bulletin, units=[laggard], scheduled_at=when, place="x")
    draft = svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))
    with pytest.raises(sm.SummonsError, match="已签发的通报"):
        sm.summon_units(by=city["hq"], bulletin=draft, units=[laggard], scheduled_at=when, place="x")
    # cancelled, the unit may be summoned again on that bulletin
    sm.cancel_summons(summons=summoned, by=city["hq"], note="改期")
    (again,) = sm.summon_units(by=city["hq"], bulletin=bulletin, units=[laggard], scheduled_at=when, place="x")
    assert again.pk != summoned.pk and Summons.objects.filter(bulletin=bulletin).count() == 2


def commitments():
    return [sm.Commitment("一周内完成逾期任务清零", date(2026, 9, 8)), sm.Commitment("建立整改台账", date(2026, 9, 20))]


def test_holding_records_the_summons_and_hands_the_commitments_down_as_directives(city, laggard, summoned):
    held = sm.hold_summons(
        summons=summoned,
        by=city["hq"],
        held_on=TODAY,
        attendees="治安支队支队长张三、教导员李四",
        chaired_by="王副局长",
        minutes="指出完成率低、整改超期等问题，要求限期整改。",
        commitments=commitments(),
    )
    assert held.state == SummonsState.HELD and held.held_on == TODAY and held.recorded_by == city["hq"]
    rows = sm.commitments(held)
    assert [(c.seq, c.text, c.deadline) for c in rows] == [
        (1, "一周内完成逾期任务清零", date(2026, 9, 8)),
        (2, "建立整改台账", date(2026, 9, 20)),
    ]
    for c in rows:
        d = c.directive
        assert d.source == Source.MEETING and d.status == Status.HANDED_DOWN and d.instructed_by == "王副局长"
        assert d.item.due_date == c.deadline and d.item.title == c.text and d.instructed_on == TODAY
        work = Assignment.objects.get(item=d.item, is_active=True)
        assert work.unit == laggard and work.role == AssignmentRole.LEAD and work.due_date == c.deadline
    assert verbs(held) == ["summons.created", "summons.held"]
    event = AuditEvent.objects.get(object_id=held.pk, verb="summons.held")
    assert [row[2] for row in event.changes["commitments"]] == [c.directive.item.code for c in rows]
    with pytest.raises(sm.SummonsError, match="不能登记"):
        sm.hold_summons(summons=held, by=city["hq"], held_on=TODAY, attendees="x", chaired_by="", minutes="x")
    with pytest.raises(sm.SummonsError, match="不能取消"):
        sm.cancel_summons(summons=held, by=city["hq"], note="x")


def test_what_holding_refuses_writes_nothing(city, summoned):
    def hold(**kw):
        args = {"held_on": TODAY, "attendees": "张三", "chaired_by": "王", "minutes": "谈话", "commitments": ()}
        return sm.hold_summons(summons=summoned, by=city["hq"], **(args | kw))

    with pytest.raises(sm.SummonsError, match="参加约谈的人员"):
        hold(attendees=" ")
    with pytest.raises(sm.SummonsError, match="约谈内容"):
        hold(minutes="")
    with pytest.raises(sm.SummonsError, match="今天之前"):
        hold(held_on=TODAY + timedelta(days=1))
    with pytest.raises(sm.SummonsError, match="不能早于约谈日期"):
        hold(commitments=[sm.Commitment("x", TODAY - timedelta(days=1))])
    with pytest.raises(sm.SummonsError, match="不能为空"):
        hold(commitments=[sm.Commitment(" ", TODAY)])
    with pytest.raises(Forbidden):
        sm.hold_summons(
            summons=summoned, by=city["east_lead"], held_on=TODAY, attendees="x", chaired_by="", minutes="x"
        )
    # a deadline past what the campaign allows: the directive's refusal, and nothing kept
    with pytest.raises(Exception, match="办结时限"):
        hold(commitments=[sm.Commitment("x", date(2028, 1, 1))])
    summoned.refresh_from_db()
    assert summoned.state == SummonsState.PLANNED and not summoned.commitments.exists()
    assert verbs(summoned) == ["summons.created"]


def test_cancelling(city, summoned):
    with pytest.raises(sm.SummonsError, match="取消原因"):
        sm.cancel_summons(summons=summoned, by=city["hq"], note="")
    with pytest.raises(Forbidden):
        sm.cancel_summons(summons=summoned, by=city["west_lead"], note="x")
    done = sm.cancel_summons(summons=summoned, by=city["hq"], note="该单位已整改到位")
    assert done.state == SummonsState.CANCELLED and done.cancelled_note == "该单位已整改到位"
    assert verbs(done) == ["summons.created", "summons.cancelled"]


def test_the_next_bulletin_tells_the_summons_held_as_of_its_period(city, worked, summoned, laggard, tmp_path):
    zhi = make_zhi(city, laggard)
    sm.hold_summons(
        summons=summoned, by=city["hq"], held_on=TODAY, attendees="张三", chaired_by="王", minutes="谈话",
        commitments=commitments(),
    )  # fmt: skip
    first = sm.commitments(summoned)[0].directive
    complete_directive(directive=first, by=zhi, report="已清零")
    review_directive(directive=first, by=city["hq"], accept=True)
    unit = city.units["3303"]
    week = week_of(worked, TODAY)  # 8月31日至9月6日, running: as of today
    ctx = bulletin_context(city["hq"], worked, unit, week)
    assert ctx["summoned"] == f"{week.label}共约谈1个单位：治安支队；承诺事项2项，已办结1项。"
    # into the documents' bulletin content too
    draft = svc.draft_bulletin(by=city["hq"], campaign=worked, unit=unit, period=week)
    assert ctx["summoned"] in [b.get("text") for b in draft.generated["blocks"]]
    # on the print page and in the PDF
    page = login(city["hq"]).get(f"/board/bulletin/?campaign={worked.pk}&unit=3303&period={week.key}")
    assert 'id="summoned"' in page.content.decode() and ctx["summoned"] in page.content.decode()
    if shutil.which("pdftotext"):
        pdf = tmp_path / "b.pdf"
        pdf.write_bytes(render_pdf(ctx))
        words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "承诺事项2项，已办结1项" in "".join(words.split())
    # the week before: none held in it
    assert bulletin_context(city["hq"], worked, unit, week_of(worked, WEEK))["summoned"] == ""
    # the second commitment closed two days later: a bulletin as of today still says 1, one as of then 2
    second = sm.commitments(summoned)[1].directive
    with time_machine.travel(at(TODAY + timedelta(days=2), 10), tick=False):
        complete_directive(directive=second, by=zhi, report="台账已建立")
        review_directive(directive=second, by=city["hq"], accept=True)
        upto_today = range_period(worked, date(2026, 8, 31), TODAY)
        assert bulletin_context(city["hq"], worked, unit, upto_today)["summoned"].endswith("承诺事项2项，已办结1项。")
        later = range_period(worked, date(2026, 8, 31), TODAY + timedelta(days=2))
        assert bulletin_context(city["hq"], worked, unit, later)["summoned"].endswith("承诺事项2项，已办结2项。")
    # a sub-bureau's bulletin does not cover the city's detachment
    assert bulletin_context(city["hq"], worked, city.units["330310"], week)["summoned"] == ""


def make_zhi(city, unit):
    from accounts.models import Role
    from tests.conftest import make_user

    return make_user("zhi_lead", unit, (Role.UNIT_LEAD, unit), name="张支")
