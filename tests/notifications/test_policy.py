"""A campaign's reminder rules kept by HQ (issue 18): ``notifications.policies`` and
``/api/v1/campaigns/{id}/reminder-policy/``."""

from __future__ import annotations

from datetime import time

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Policy
from notifications.policies import PolicyRefused, in_force, reset_policy, save_policy
from tasks.models import CampaignStatus
from tasks.services.errors import CampaignClosed
from tests.conftest import make_user
from utilities.errors import Forbidden

pytestmark = pytest.mark.django_db

LADDER = [{"day": 2, "audience": "lead"}, {"day": 5, "audience": "hq"}]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_hq_saves_the_campaigns_own_rules_from_the_defaults_and_goes_back(city, published):
    Policy.objects.filter(campaign=None).update(before_days=[5], receipt_hours=14)  # the default (the admin)
    rules, own = in_force(published)
    assert (own, rules.before_days, rules.receipt_hours) == (False, [5], 14)
    saved = save_policy(campaign=published, by=city["hq"], before_days=[1, 3], ladder=LADDER, quiet_end=time(8, 0))
    assert saved.campaign_id == published.pk and saved.before_days == [3, 1]  # sorted, the rest from the default
    assert (saved.receipt_hours, saved.ladder, saved.quiet_end) == (14, LADDER, time(8, 0))
    event = AuditEvent.objects.get(verb="campaign.reminder_policy")
    assert event.object_id == published.pk and event.actor == city["hq"] and event.unit.code == "3303"
    assert event.changes["before_days"] == [[5], [3, 1]] and event.changes["own"] == [False, True]
    assert "receipt_hours" not in event.changes and event.changes["quiet_end"] == ["07:30", "08:00"]
    # saved again: the same row, only what changed is recorded; unchanged: nothing recorded
    save_policy(campaign=published, by=city["hq"], receipt_hours=0)
    assert Policy.objects.filter(campaign=published).count() == 1
    assert AuditEvent.objects.filter(verb="campaign.reminder_policy").latest("id").changes == {"receipt_hours": [14, 0]}
    save_policy(campaign=published, by=city["hq"], receipt_hours=0)
    assert AuditEvent.objects.filter(verb="campaign.reminder_policy").count() == 2
    # back to the default: deleted, audited; a second time is nothing
    assert reset_policy(campaign=published, by=city["hq"]) is True
    assert not Policy.objects.filter(campaign=published).exists() and in_force(published)[0].before_days == [5]
    reset = AuditEvent.objects.get(verb="campaign.reminder_policy_reset")
    assert reset.changes["own"] == [True, False] and reset.changes["before_days"] == [[3, 1], [5]]
    assert reset_policy(campaign=published, by=city["hq"]) is False
    assert AuditEvent.objects.filter(verb="campaign.reminder_policy_reset").count() == 1


def test_only_hq_over_the_owner_and_never_on_a_closed_campaign(city, published):
    below = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    for user in (below, city["east_lead"], city["inspector"]):
        with pytest.raises(Forbidden):
            save_policy(campaign=published, by=user, on_the_day=False)
    with pytest.raises(Forbidden):
        reset_policy(campaign=published, by=below)
    published.status = CampaignStatus.CLOSED
    published.save(update_fields=["status"])
    with pytest.raises(CampaignClosed):
        save_policy(campaign=published, by=city["hq"], on_the_day=False)
    with pytest.raises(CampaignClosed):
        reset_policy(campaign=published, by=city["hq"])
    assert (
        not Policy.objects.filter(campaign=published).exists()
        and not AuditEvent.objects.filter(verb__startswith="campaign.reminder").exists()
    )


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"before_days": [0]}, "before_days"),
        ({"before_days": [3, 3]}, "before_days"),
        ({"before_days": "3,1"}, "before_days"),
        ({"on_the_day": "yes"}, "on_the_day"),
        ({"ladder": [{"day": 0, "audience": "lead"}]}, "ladder"),
        ({"ladder": [{"day": 3, "audience": "inspector"}]}, "ladder"),
        ({"ladder": [{"day": 3, "audience": "lead"}, {"day": 3, "audience": "lead"}]}, "ladder"),
        ({"ladder": [{"day": d, "audience": "lead"} for d in range(1, 12)]}, "ladder"),
        ({"ladder": ["lead"]}, "ladder"),
        ({"behind_weekday": 8}, "behind_weekday"),
        ({"behind_weekday": True}, "behind_weekday"),
        ({"receipt_hours": 1000}, "receipt_hours"),
        ({"quiet_start": "22:00"}, "quiet_start"),
        ({"quiet_start": time(22), "quiet_end": time(22)}, "quiet_end"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_wrong_rules_are_refused_by_field(city, published, fields, where):
    with pytest.raises(PolicyRefused) as refused:
        save_policy(campaign=published, by=city["hq"], **fields)
    assert list(refused.value.problems) == [where] and refused.value.payload()["problems"][where]
    assert not Policy.objects.filter(campaign=published).exists()


def test_the_api_reads_puts_and_deletes_the_rules(city, published):
    url = f"/api/v1/campaigns/{published.pk}/reminder-policy/"
    hq = api(city["hq"])
    got = hq.get(url)
    assert got.status_code == 200 and got.json()["own"] is False and got.json()["before_days"] == [3, 1]
    put = hq.put(url, {"before_days": [2], "ladder": LADDER, "quiet_start": "23:00"}, format="json")
    assert put.status_code == 200, put.json()
    assert put.json()["own"] is True and put.json()["before_days"] == [2] and put.json()["quiet_start"] == "23:00"
    assert Policy.objects.get(campaign=published).ladder == LADDER
    bad = hq.put(url, {"ladder": [{"day": 1, "audience": "nobody"}], "receipt_hours": 1000}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"ladder", "receipt_hours"}
    twice = hq.put(url, {"ladder": [{"day": 1, "audience": "lead"}] * 2}, format="json")
    assert twice.status_code == 400 and "ladder" in twice.json()["problems"]
    gone = hq.delete(url)
    assert gone.status_code == 200 and gone.json()["own"] is False
    assert not Policy.objects.filter(campaign=published).exists()
    # seen from below (HQ over a sub-bureau, a lead): 403; out of sight: 404
    below = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    for user in (below, city["station_lead"]):
        assert api(user).get(url).status_code == 403
        assert api(user).put(url, {"on_the_day": False}, format="json").status_code == 403
    assert api(city["hq"]).get("/api/v1/campaigns/999999/reminder-policy/").status_code == 404
