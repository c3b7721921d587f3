"""The directives pages: HQ's desk with its filters and the ledger, 立项 (and 交办), a directive's page with
each unit's work, review (return, then accept) and rating; the units' section on /my/; the leader's 包案;
who gets 403/404, a secret one included."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from directives.models import Directive, Status
from tasks.models import Assignment
from tasks.services.workflow import transition_assignment
from tests.directives.conftest import (  # noqa: F401 (fixtures: the directives' own, their day included)
    _in_the_campaign,
    case,
    directive,
    register,
    registered,
    secret,
)
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db


def test_hq_registers_and_hands_down_through_the_form(city, published):
    hq = login(city["hq"])
    page = text(hq.get("/directives/new/"))
    assert 'id="directive-form"' in page
    body = {
        "campaign": published.pk,
        "title": "落实市局会议决定：整治东湖夜市",
        "source": "meeting",
        "lead_units": "33031002",
        "cooperating_units": "33031003 330302",
        "due_date": "2026-09-15",
        "level": "branch",
        "leader_name": "钱局",
        "hand_down": "on",
    }
    response = hq.post("/directives/new/", body)
    made = Directive.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/directives/{made.pk}/"
    assert made.status == Status.HANDED_DOWN and made.leader == city["east_leader"]
    assert Assignment.objects.filter(item=made.item).count() == 3
    page = text(hq.get(f"/directives/{made.pk}/"))
    assert "东湖派出所" in page and "城东交警大队" in page and "未签收" in page
    # a code out of reach is refused with the form kept; a unit lead may not open the form
    again = hq.post("/directives/new/", {**body, "lead_units": "999"})
    assert again.status_code == 400 and "999" in text(again)
    assert login(city["station_lead"]).get("/directives/new/").status_code == 403


def test_the_desk_filters_and_the_ledger(city, directive, secret, case):  # noqa: F811
    hq = login(city["hq"])
    page = text(hq.get("/directives/"))
    assert all(f'data-directive="{d.pk}"' in page for d in (directive, secret, case))
    assert 'id="nav-directives"' in page
    only = text(hq.get("/directives/?source=case"))
    assert case.item.title in only and directive.item.title not in only
    assert directive.item.title not in text(hq.get("/directives/?unit=330320"))
    assert directive.item.title in text(hq.get("/directives/?unit=330310&status=handed_down&level=city&q=噪音"))
    assert directive.item.title not in text(hq.get("/directives/?overdue=on"))
    assert directive.item.title not in text(hq.get("/directives/?unit=nope"))
    ledger = hq.get("/directives/export/?source=case")
    assert ledger.status_code == 200 and ledger["Content-Disposition"].startswith("attachment;")
    rows = list(load_workbook(BytesIO(ledger.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and [r[0] for r in rows[1:]] == [case.item.code]
    # the sub-bureau's lead sees the open ones under it, not the secret one
    east = text(login(city["east_lead"]).get("/directives/"))
    assert f'data-directive="{directive.pk}"' in east and f'data-directive="{secret.pk}"' not in east
    assert login(city["nobody"]).get("/directives/").status_code == 403
    assert login(city["nobody"]).get("/directives/export/").status_code == 403


def test_review_return_then_accept_and_rate(city, case):  # noqa: F811
    hq, lead = login(city["hq"]), login(city["station_lead"])
    a = Assignment.objects.get(item=case.item, unit__code="33031001")
    assert "directive-link" in text(lead.get(f"/assignments/{a.pk}/"))
    page = text(lead.get(f"/directives/{case.pk}/"))
    assert 'id="complete-33031001"' in page and 'id="review"' not in page
    assert lead.post(f"/directives/{case.pk}/complete/", {"report": " ", "unit": "33031001"}).status_code == 400
    assert lead.post(f"/directives/{case.pk}/complete/", {"report": "x", "unit": "nope"}).status_code == 400
    sent = lead.post(f"/directives/{case.pk}/complete/", {"report": "已破案", "unit": "33031001"})
    assert sent.status_code == 302
    page = text(hq.get(f"/directives/{case.pk}/"))
    assert 'id="review"' in page
    refused = hq.post(f"/directives/{case.pk}/review/", {"decision": "return", "unit": "33031001"})
    assert refused.status_code == 400
    back = hq.post(f"/directives/{case.pk}/review/", {"decision": "return", "reason": "补充笔录", "unit": "33031001"})
    assert back.status_code == 302
    a.refresh_from_db()
    assert a.status == "returned"
    transition_assignment(assignment=a, name="resume", by=city["station_lead"])
    transition_assignment(assignment=a, name="submit", by=city["station_lead"], note="补齐", confirm_shortfall=True)
    bad = hq.post(f"/directives/{case.pk}/review/", {"decision": "accept", "unit": "nope"})
    assert bad.status_code == 400
    done = hq.post(f"/directives/{case.pk}/review/", {"decision": "accept", "unit": "33031001", "outcome": "solved"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.outcome == "solved"
    assert hq.post(f"/directives/{case.pk}/rate/", {"rating": "satisfied", "note": "快"}).status_code == 302
    page = text(hq.get(f"/directives/{case.pk}/"))
    assert 'id="rating"' in page and 'id="outcome"' in page
    assert lead.post(f"/directives/{case.pk}/rate/", {"rating": "satisfied"}).status_code == 403


def test_hand_down_from_the_page(city, published):
    d = register(city, published)
    hq = login(city["hq"])
    assert 'id="hand-down"' in text(hq.get(f"/directives/{d.pk}/"))
    assert hq.post(f"/directives/{d.pk}/hand-down/").status_code == 302
    assert hq.post(f"/directives/{d.pk}/hand-down/").status_code == 400  # once
    d.refresh_from_db()
    assert d.status == Status.HANDED_DOWN


def test_the_units_section_on_my_tasks_and_the_leaders_page(city, directive, case):  # noqa: F811
    page = text(login(city["station_lead"]).get("/my/"))
    assert 'data-group="directives"' in page and directive.item.title in page
    leader = text(login(city["east_leader"]).get("/leader/"))
    assert 'id="led"' in leader and case.item.title in leader


def test_a_secret_directive_is_404_outside(city, secret):  # noqa: F811
    for name in ("east_lead", "east_leader", "west_lead", "inspector"):
        assert login(city[name]).get(f"/directives/{secret.pk}/").status_code == 404, name
    assert login(city["station_lead"]).get(f"/directives/{secret.pk}/").status_code == 200
    assert login(city["station_lead"]).post(f"/directives/{secret.pk}/hand-down/").status_code == 403
    work = Assignment.objects.get(item=secret.item, unit__code="33031001")
    assert login(city["east_lead"]).get(f"/assignments/{work.pk}/").status_code == 404
    # a directive's item is not a checklist item
    assert login(city["hq"]).get(f"/items/{secret.item_id}/").status_code == 404
