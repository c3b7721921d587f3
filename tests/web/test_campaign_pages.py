"""HQ's campaign pages (issue 17): the list, a campaign's summary, and its forms — copy into next year's
draft, publish it, close with the final figures shown, reopen with a reason — through the test client."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from accounts.models import Role
from audit.models import AuditEvent
from tasks.models import Campaign, CampaignStatus, Item
from tests.web.pages import login, text

from ..conftest import make_user

pytestmark = pytest.mark.django_db

COPY = {"name": "2027年夏季行动", "code": "XJ27", "start": "2027-06-20", "end": "2027-09-28"}


def test_hq_copies_publishes_closes_and_reopens(city, published):
    hq = login(city["hq"])
    listing = text(hq.get("/campaigns/"))
    assert f'href="/campaigns/{published.pk}/"' in listing and published.name in listing
    assert 'href="/campaigns/"' in listing  # the nav link
    page = text(hq.get(f"/campaigns/{published.pk}/"))
    assert 'id="copy"' in page and 'id="close"' in page and 'id="reopen"' not in page and 'id="publish"' not in page

    response = hq.post(f"/campaigns/{published.pk}/copy/", COPY)
    assert response.status_code == 302, text(response)[:800]
    new = Campaign.objects.get(code="XJ27")
    assert response["Location"] == f"/campaigns/{new.pk}/"
    assert (new.status, new.compare_to_id) == (CampaignStatus.DRAFT, published.pk)
    assert Item.objects.get(campaign=new, code="1.1").due_date == date(2027, 8, 31)
    draft = text(hq.get(response["Location"]))
    assert 'id="publish"' in draft and 'id="compare-to"' in draft and published.name in draft

    assert hq.post(f"/campaigns/{new.pk}/publish/").status_code == 302
    assert Campaign.objects.get(pk=new.pk).assignments.count() == 12

    with time_machine.travel(date(2026, 10, 9), tick=False):
        closed = hq.post(f"/campaigns/{published.pk}/close/", {"note": "行动结束"})
    assert closed.status_code == 302
    page = text(hq.get(f"/campaigns/{published.pk}/"))
    assert 'id="final"' in page and 'id="reopen"' in page and 'id="close"' not in page
    assert Campaign.objects.get(pk=published.pk).final_summary["items"]["total"] == 4

    refused = hq.post(f"/campaigns/{published.pk}/reopen/", {"reason": ""})
    assert refused.status_code == 400 and Campaign.objects.get(pk=published.pk).status == CampaignStatus.CLOSED
    assert hq.post(f"/campaigns/{published.pk}/reopen/", {"reason": "补录"}).status_code == 302
    assert Campaign.objects.get(pk=published.pk).status == CampaignStatus.PUBLISHED
    assert AuditEvent.objects.filter(verb="campaign.reopened", actor=city["hq"]).count() == 1


def test_a_refused_copy_shows_the_form_as_typed(city, published):
    hq = login(city["hq"])
    response = hq.post(f"/campaigns/{published.pk}/copy/", {**COPY, "code": "XJ"})
    assert response.status_code == 400 and "已被使用" in text(response) and 'value="2027年夏季行动"' in text(response)
    bad = hq.post(f"/campaigns/{published.pk}/copy/", {**COPY, "end": "9999-01-01"})
    assert bad.status_code == 400
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize("who", ["east_lead", "station_lead", "inspector", "east_leader", "nobody"])
def test_only_hq_reaches_the_campaign_pages(city, published, who):
    client = login(city[who])
    assert client.get("/campaigns/").status_code == 403
    assert client.get(f"/campaigns/{published.pk}/").status_code == 403
    for action in ("copy", "publish", "close"):
        assert client.post(f"/campaigns/{published.pk}/{action}/", COPY).status_code == 403
    assert Campaign.objects.count() == 1 and Campaign.objects.get().status == CampaignStatus.PUBLISHED


def test_hq_of_a_sub_bureau_does_not_find_the_city_campaign(city, published):
    east_hq = login(make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"])))
    assert f"/campaigns/{published.pk}/" not in text(east_hq.get("/campaigns/"))
    assert east_hq.get(f"/campaigns/{published.pk}/").status_code == 404
    assert east_hq.post(f"/campaigns/{published.pk}/close/").status_code == 404
    assert Campaign.objects.get().status == CampaignStatus.PUBLISHED


def test_a_closed_campaign_refuses_a_report_on_the_page(city, published):
    login(city["hq"]).post(f"/campaigns/{published.pk}/close/", {})
    lead = login(city["station_lead"])
    work = published.assignments.get(item__code="1.1", unit__code="33031001")
    response = lead.post(f"/assignments/{work.pk}/report/", {"value": "1", "text": "x", "version": work.version})
    assert response.status_code == 400 and published.name in text(response)
    assert lead.get(f"/assignments/{work.pk}/").status_code == 200  # still readable
