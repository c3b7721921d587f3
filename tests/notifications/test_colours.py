"""The three-colour slip (三色督办单) of an assignment, on its page and in the lead's list."""

from datetime import date

import pytest
import time_machine
from django.test import Client

from notifications.colours import slip
from tasks.models import Assignment, AssignmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(published) -> Assignment:
    return Assignment.objects.select_related("item", "campaign").get(item__code="1.1", unit__code="33031001")


def test_the_colours(work):
    assert slip(work, date(2026, 7, 1)) is None  # the first day: nothing is expected yet
    assert slip(work, date(2026, 7, 10)) == "yellow"  # nothing reported by day 9: behind the planned pace
    assert slip(work, date(2026, 8, 29)) == "yellow"  # nothing done two days before: behind the pace
    work.progress = work.target
    assert slip(work, date(2026, 8, 29)) == "blue"  # on pace, due in two days
    assert slip(work, date(2026, 9, 1)) == "red"
    work.status = AssignmentStatus.RETURNED
    assert slip(work, date(2026, 8, 1)) == "yellow"
    work.status = AssignmentStatus.SUBMITTED
    assert slip(work, date(2026, 9, 1)) is None  # waiting for HQ, not for the unit


def test_the_slip_shows_on_the_page_and_the_list(city, work):
    client = Client()
    client.force_login(city["station_lead"])
    with time_machine.travel(date(2026, 9, 2), tick=False):
        page = client.get(f"/assignments/{work.pk}/").content.decode()
        mine = client.get("/my/").content.decode()
    assert 'data-slip="red"' in page and "红色督办" in page
    assert 'class="slip red" data-slip="red"' in mine


def test_a_slip_without_the_callers_judgement_reads_every_target(work, django_assert_num_queries):
    """Behind on a later target only (nothing reported of 整改隐患不少于20处): yellow, as the lists and the
    sweep's reminder say — one statement for the row."""
    from tasks.models import Target

    work.progress = work.target  # the first target reached
    Target.objects.create(item_id=work.item_id, seq=2, text="整改隐患不少于20处", comparator="ge", value=20)
    with django_assert_num_queries(1):
        assert slip(work, date(2026, 8, 3)) == "yellow"
    assert slip(work, date(2026, 8, 3), behind=False) is None
