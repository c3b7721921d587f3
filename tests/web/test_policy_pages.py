"""HQ's page of a campaign's reminder rules (issue 18): ``/campaigns/<id>/reminders/``."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Policy
from tasks.models import CampaignStatus
from tests.web.pages import login, text

from ..conftest import make_user

pytestmark = pytest.mark.django_db

FORM = {
    "before_days": "3，1",
    "on_the_day": "on",
    "day_0": "1",
    "audience_0": "lead",
    "day_1": "4",
    "audience_1": "superior",
    "behind_weekday": "5",
    "receipt_hours": "14",
    "quiet_start": "21:30",
    "quiet_end": "08:00",
}


def test_hq_sees_the_default_saves_its_own_and_goes_back(city, published):
    hq = login(city["hq"])
    url = f"/campaigns/{published.pk}/reminders/"
    assert f'href="{url}"' in text(hq.get(f"/campaigns/{published.pk}/"))  # linked from the campaign page
    page = text(hq.get(url))
    assert 'id="edit"' in page and 'id="reset"' not in page and 'id="whose"' in page
    assert 'value="3,1"' in page  # the default's days in the form
    assert "默认规则（本行动未单独设置）" in page and "逾期第3天起：上级单位" in page and "3天、1天" in page
    response = hq.post(url, FORM)
    assert response.status_code == 302 and response["Location"] == url
    own = Policy.objects.get(campaign=published)
    assert own.before_days == [3, 1] and own.behind_weekday == 5 and own.receipt_hours == 14
    assert own.ladder == [{"day": 1, "audience": "lead"}, {"day": 4, "audience": "superior"}]
    page = text(hq.get(url))
    assert 'id="reset"' in page and 'value="21:30"' in page
    assert hq.post(f"{url}reset/").status_code == 302
    assert not Policy.objects.filter(campaign=published).exists()
    assert AuditEvent.objects.filter(verb__startswith="campaign.reminder_policy").count() == 2
    assert hq.post(f"{url}reset/").status_code == 302  # nothing to delete: said so, nothing recorded
    assert AuditEvent.objects.filter(verb__startswith="campaign.reminder_policy").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"before_days": "3;1"}, "before_days"),
        ({"before_days": "0"}, "before_days"),
        ({"before_days": "²"}, "before_days"),
        ({"day_0": "1", "audience_0": ""}, "audience_0"),
        ({"day_2": "9", "audience_2": ""}, "audience_2"),
        ({"day_2": "", "audience_2": "hq"}, "day_2"),
        ({"day_1": "1", "audience_1": "lead"}, "day_1"),
        ({"day_0": "²"}, "day_0"),
        ({"audience_0": "inspector"}, "audience_0"),
        ({"receipt_hours": "99999999999999999999"}, "receipt_hours"),
        ({"behind_weekday": "9"}, "behind_weekday"),
        ({"quiet_start": "25:00"}, "quiet_start"),
        ({"quiet_end": "21:30"}, "quiet_end"),
    ],
)
def test_a_wrong_rule_is_shown_on_its_field(city, published, change, field):
    hq = login(city["hq"])
    response = hq.post(f"/campaigns/{published.pk}/reminders/", {**FORM, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Policy.objects.filter(campaign=published).exists()


def test_only_hq_over_the_owner_and_a_closed_campaign_is_read_only(city, published):
    url = f"/campaigns/{published.pk}/reminders/"
    assert login(city["station_lead"]).get(url).status_code == 403
    below = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    assert login(below).get(url).status_code == 404 and login(below).post(url, FORM).status_code == 404
    published.status = CampaignStatus.CLOSED
    published.save(update_fields=["status"])
    hq = login(city["hq"])
    page = text(hq.get(url))
    assert 'id="closed"' in page and 'id="edit"' not in page
    refused = hq.post(url, FORM)
    assert refused.status_code == 400 and not Policy.objects.filter(campaign=published).exists()
    assert hq.post(f"{url}reset/").status_code == 400


def test_no_reminder_before_the_due_date_and_no_ladder(city, published):
    hq = login(city["hq"])
    empty = {**FORM, "before_days": " ", "day_0": "", "audience_0": "", "day_1": "", "audience_1": ""}
    assert hq.post(f"/campaigns/{published.pk}/reminders/", empty).status_code == 302
    own = Policy.objects.get(campaign=published)
    assert (own.before_days, own.ladder) == ([], [])
    page = text(hq.get(f"/campaigns/{published.pk}/reminders/"))
    assert 'id="rule-before">无<' in page and 'id="rule-ladder">无<' in page
