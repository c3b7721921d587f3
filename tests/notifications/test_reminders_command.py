"""``manage.py reminders``: the preview decides and rolls back, a run sweeps and delivers once, the
in-process loop writes the digests at beat's hours."""

from __future__ import annotations

from datetime import date, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from notifications.management.commands import reminders as command
from notifications.models import Message, MessageStatus, Reminder

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
OVERDUE = datetime.combine(date(2026, 9, 3), time(9), tzinfo=TZ)  # item 1.1 (8月底前) three days late


def reminders(*args: str) -> str:
    out = StringIO()
    call_command("reminders", *args, stdout=out)
    return out.getvalue()


def test_preview_says_what_a_sweep_would_send_and_writes_nothing(one_assignment):
    with time_machine.travel(OVERDUE, tick=False):
        text = reminders("--preview")
    assert "此刻扫描将产生提醒 3 条（预览，未发送）" in text
    assert "城关派出所" in text  # the reminders listed name their unit
    assert not Reminder.objects.exists() and not Message.objects.exists()


def test_a_run_sweeps_and_delivers_once(one_assignment):
    with time_machine.travel(OVERDUE, tick=False):
        first, second = reminders(), reminders()
    assert "新提醒 3 条" in first and "已投递 3" in first
    assert second == ""  # nothing new: the second run decides nothing and has nothing to deliver
    assert Reminder.objects.count() == 3
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.parametrize(
    ("moment", "daily", "weekly"),
    [
        (datetime(2026, 9, 7, 8, 0, tzinfo=TZ), False, False),  # a Monday before 8:30
        (datetime(2026, 9, 7, 8, 35, tzinfo=TZ), True, False),  # the daily digest's hour, not yet the weekly's
        (datetime(2026, 9, 7, 8, 45, tzinfo=TZ), True, True),  # Monday after 8:40: both
        (datetime(2026, 9, 8, 9, 0, tzinfo=TZ), True, False),  # Tuesday: no weekly summary
    ],
)
def test_the_loop_writes_digests_at_beats_hours(monkeypatch, moment, daily, weekly):
    called: list[str] = []
    monkeypatch.setattr(command.digest, "daily", lambda: called.append("daily") or 1)
    monkeypatch.setattr(command.digest, "weekly", lambda: called.append("weekly") or 1)
    with time_machine.travel(moment, tick=False):
        written = command.Command()._digests()
    assert called == ["daily"] * daily + ["weekly"] * weekly
    assert written == daily + weekly
