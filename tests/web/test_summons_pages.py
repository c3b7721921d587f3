"""The 约谈 pages: from an issued bulletin's page the laggards it named are summoned (HQ only), the summons
page with its 约谈通知, the record and its commitments (directives), the cancel; the list and what others
see (the unit's own, out of sight 404)."""

# ruff: noqa: F811 (the fixtures imported below are the tests' arguments)
from __future__ import annotations

import pytest

from directives.models import Directive, Source
from documents.models import Summons, SummonsState
from tests.boards.conftest import mid_campaign, published, worked  # noqa: F401
from tests.documents.conftest import city_leader  # noqa: F401
from tests.documents.test_summons import bulletin, laggard  # noqa: F401
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


def test_summoning_from_the_bulletin_page_to_held(city, bulletin, laggard):
    hq = login(city["hq"])
    url = f"/documents/{bulletin.pk}/"
    page = text(hq.get(url))
    assert 'id="summon-form"' in page and "治安支队（完成率" in page
    assert 'id="summon-form"' not in text(login(city["inspector"]).get(url))  # sees it, may not summon
    form = {
        "units": [laggard.code],
        "day": "2026-09-04",
        "at": "09:30",
        "place": "市局三楼会议室",
        "attendance": "主要负责人",
    }
    assert hq.post(f"/summons/new/{bulletin.pk}/", form | {"place": ""}).status_code == 400
    assert login(city["inspector"]).post(f"/summons/new/{bulletin.pk}/", form).status_code == 403
    assert login(city["station_lead"]).post(f"/summons/new/{bulletin.pk}/", form).status_code == 404  # unseen
    assert login(city["east_lead"]).post(f"/summons/new/{bulletin.pk}/", form).status_code == 403  # sent to it
    response = hq.post(f"/summons/new/{bulletin.pk}/", form)
    assert response.status_code == 302
    s = Summons.objects.get()
    assert response["Location"] == f"/summons/{s.pk}/"
    assert s.scheduled_at.hour == 1 and s.scheduled_at.minute == 30  # 9:30 in Beijing, stored in UTC
    page = text(hq.get(url))
    assert 'id="summon-form"' not in page and f"/summons/{s.pk}/" in page  # summoned: listed, not offered again
    page = text(hq.get(f"/summons/{s.pk}/"))
    assert 'id="hold-form"' in page and 'id="cancel-form"' in page and s.reasons in page
    assert f"/documents/{s.notice_id}/" in page
    notice = text(hq.get(f"/documents/{s.notice_id}/"))
    assert "关于约谈治安支队主要负责人的通知" in notice and "2026年9月4日9时30分" in notice
    hold = {
        "held_on": "2026-09-01",
        "attendees": "支队长张三",
        "chaired_by": "王副局长",
        "minutes": "指出问题，要求整改",
        "text_1": "逾期任务清零",
        "deadline_1": "2026-09-10",
        "text_2": "建立台账",
    }
    refused = hq.post(f"/summons/{s.pk}/hold/", hold)  # a commitment without its deadline: the form again
    assert refused.status_code == 400 and "逾期任务清零" in text(refused)
    assert login(city["inspector"]).post(f"/summons/{s.pk}/hold/", hold | {"text_2": ""}).status_code == 403
    assert hq.post(f"/summons/{s.pk}/hold/", hold | {"deadline_2": "2026-09-20"}).status_code == 302
    s.refresh_from_db()
    assert s.state == SummonsState.HELD and s.commitments.count() == 2
    d = Directive.objects.get(commitment__summons=s, commitment__seq=1)
    assert d.source == Source.MEETING and d.item.title == "逾期任务清零"
    page = text(hq.get(f"/summons/{s.pk}/"))
    assert 'id="commitments"' in page and f"/directives/{d.pk}/" in page and 'id="hold-form"' not in page
    assert "已约谈" in page and "· 发起约谈" in page and "· 登记约谈<" in page  # the state, the history in words
    # the list, HQ's, filtered; the branch sees none of the city's detachment
    listing = text(hq.get("/summons/?state=held"))
    assert f"/summons/{s.pk}/" in listing and "治安支队" in listing
    assert f"/summons/{s.pk}/" not in text(hq.get("/summons/?state=planned"))
    assert f"/summons/{s.pk}/" in text(hq.get(f"/summons/?unit={laggard.code}"))
    assert f"/summons/{s.pk}/" not in text(hq.get("/summons/?unit=330310"))
    assert f"/summons/{s.pk}/" not in text(login(city["east_lead"]).get("/summons/"))
    assert login(city["east_lead"]).get(f"/summons/{s.pk}/").status_code == 404


def test_cancelling_on_the_page(city, bulletin, laggard):
    hq = login(city["hq"])
    form = {"units": [laggard.code], "day": "2026-09-04", "at": "09:00", "place": "会议室", "attendance": "主要负责人"}
    hq.post(f"/summons/new/{bulletin.pk}/", form)
    s = Summons.objects.get()
    assert hq.post(f"/summons/{s.pk}/cancel/", {"note": ""}).status_code == 400
    assert hq.post(f"/summons/{s.pk}/cancel/", {"note": "改期"}).status_code == 302
    s.refresh_from_db()
    assert s.state == SummonsState.CANCELLED
    assert 'id="summon-form"' in text(hq.get(f"/documents/{bulletin.pk}/"))  # may be summoned again


def test_the_unit_and_the_leader_see_the_summons_on_their_record(city, bulletin, laggard, city_leader):
    from accounts.models import Role
    from documents import summons as sm
    from tests.conftest import make_user

    (s,) = sm.summon_units(
        by=city["hq"], bulletin=bulletin, units=[laggard], scheduled_at=bulletin.issued_at, place="市局三楼会议室"
    )
    sm.hold_summons(
        summons=s, by=city["hq"], held_on=s.as_of.replace(day=1, month=9), attendees="张三", chaired_by="王",
        minutes="谈话", commitments=[sm.Commitment("逾期任务清零", s.as_of.replace(day=10, month=9))],
    )  # fmt: skip
    head = make_user("zhi_lead", laggard, (Role.UNIT_LEAD, laggard), name="张支")
    mine = text(login(head).get("/my/"))
    assert 'id="summons-record"' in mine and f"/summons/{s.pk}/" in mine and "承诺1项，已办结0项" in mine
    assert 'id="summons-record"' not in text(login(city["east_lead"]).get("/my/"))  # not its unit
    desk = text(login(city_leader).get(f"/leader/?campaign={s.campaign_id}"))
    assert 'id="summons-record"' in desk and f"/summons/{s.pk}/" in desk and s.reasons in desk
    assert f"/summons/{s.pk}/" in text(login(head).get(f"/summons/{s.pk}/"))  # the unit opens its own
