"""Fixtures of the page tests."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications import delivery, sweep
from notifications.models import Message
from tests.boards.conftest import catalogue, mid_campaign  # noqa: F401 (fixtures: the statistics catalogue pages)

NINE = datetime.combine(date(2026, 9, 3), time(9), tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def delivered(city, published):
    """The test plan's reminders of 3 September, 09:00 (items a few days overdue), swept and drained."""
    with time_machine.travel(NINE, tick=False):
        sweep.run()
        delivery.drain()
    return Message.objects.all()
