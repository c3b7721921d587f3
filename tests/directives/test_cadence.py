"""每周反馈: a directive registered with a weekly feedback day asks its units for a check-in each week,
counted from the day it was handed down (not the campaign's start), reminded by the reminder sweep and
shown on the directive."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from directives.services import DirectiveError, hand_down, register_directive
from notifications import sweep
from notifications.models import Reminder, Subject
from tasks.models import Assignment, DeadlineKind
from tasks.services import checkins

from .conftest import DAY, TZ

pytestmark = pytest.mark.django_db


@pytest.fixture
def weekly(city, published):
    """Published on 30 June (the yearly ledger), the directive registered and handed down on Monday 3 August."""
    published.published_at = datetime(2026, 6, 30, 9, tzinfo=TZ)
    published.save(update_fields=["published_at"])
    made = register_directive(**{**_args(city, published), "feedback_weekday": 5})
    return hand_down(directive=made, by=city["hq"])


def _args(city, published) -> dict:
    u = city.units
    return {
        "campaign": published,
        "by": city["hq"],
        "title": "落实局长批示：整治城关夜市噪音",
        "source": "instruction",
        "lead_units": [u["33031001"]],
        "cooperating_units": [u["33031003"]],
        "due_date": date(2026, 9, 30),
    }


def test_the_weekly_feedback_runs_from_the_hand_down(city, weekly):
    item = weekly.item
    assert (item.deadline_kind, item.cadence_weekday) == (DeadlineKind.WEEKLY, 5)
    assert item.deadline_text == "每周五前反馈，9月30日前办结"
    lead = Assignment.objects.select_related("item", "campaign").get(item=item, role="lead")
    assert checkins.work_began(lead) == DAY.date()
    with time_machine.travel(datetime(2026, 8, 12, 10, tzinfo=TZ), tick=False):
        rows = checkins.checkins(lead)
    # nothing missed before the hand down: the first week is the one of 7 August
    assert [(c.due, c.status) for c in rows[:2]] == [(date(2026, 8, 7), "missed"), (date(2026, 8, 14), "due")]


def test_a_weekday_out_of_range_is_refused(city, published):
    with pytest.raises(DirectiveError, match="星期"):
        register_directive(**{**_args(city, published), "feedback_weekday": 8})


def test_the_sweep_reminds_the_weekly_feedback_and_the_page_shows_it(city, weekly):
    lead = Assignment.objects.get(item=weekly.item, role="lead")
    with time_machine.travel(datetime(2026, 8, 7, 9, tzinfo=TZ), tick=False):
        sweep.run()
    reminded = Reminder.objects.filter(subject_type=Subject.CHECKIN, subject_id=lead.pk, kind="due_today")
    assert {r.due_date for r in reminded} == {date(2026, 8, 7)}
    assert {r.recipient_id for r in reminded} >= {city["station_lead"].pk}
    with time_machine.travel(datetime(2026, 8, 12, 10, tzinfo=TZ), tick=False):
        client = Client()
        client.force_login(city["hq"])
        page = client.get(f"/directives/{weekly.pk}/").content.decode()
    assert "星期五" in page.split('id="cadence"')[1][:20]
    assert "1 missed" in page or "漏报 1 次" in page


def test_the_api_takes_and_gives_the_feedback_day(city, published):
    client = APIClient()
    client.force_authenticate(city["hq"])
    body = {
        "campaign": published.pk,
        "title": "督办：夜市噪音",
        "source": "instruction",
        "lead_units": ["33031001"],
        "due_date": "2026-09-30",
        "feedback_weekday": 3,
    }
    made = client.post("/api/v1/directives/", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["feedback_weekday"] == 3
    plain = client.post("/api/v1/directives/", {**body, "feedback_weekday": None}, format="json")
    assert plain.json()["feedback_weekday"] is None
    assert client.post("/api/v1/directives/", {**body, "feedback_weekday": 8}, format="json").status_code == 400
