"""A sweep again on the same day re-runs only the subjects whose tables were written since the last
one (``sweep.READS``, the triggers of migration notifications 0011), and stays exact: for every subject,
a change between two sweeps that makes a reminder due is picked up by the second. PostgreSQL only (on
SQLite every sweep runs in full)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, RoleGrant
from inspections.models import Finding, Hotspot
from notifications import sweep
from notifications.models import Reminder, Subject, SweepChange
from stats.models import Figure
from tasks.models import Assignment, AssignmentStatus, ProgressReport
from tasks.services.progress import report_progress

from . import test_round_reminders, test_subjects
from .test_round_reminders import LAST_DAY, STATION, report
from .test_subjects import at, run

# the subjects' fixtures, shared with their own tests
weekly, ordered, spot = test_subjects.weekly, test_subjects.ordered, test_subjects.spot
first_round = test_round_reminders.first_round

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the change triggers are PostgreSQL's"),
]
EVERY = {s.subject_type for s in sweep.sources()}
# the receipt sources (未签收) re-run when their cutoff has moved with the working hours, even with no write
RECEIPTS = {s.subject_type for s in sweep.sources() if s.received}


def reminded(subject: str, pk: int) -> set[str]:
    return set(Reminder.objects.filter(subject_type=subject, subject_id=pk).values_list("kind", flat=True))


def idle(day: date) -> None:
    """A sweep with nothing written since the last, at the same moment: every subject skipped, a handful of
    queries."""
    with CaptureQueriesContext(connection) as ctx:
        outcome = run(day)
    assert outcome.skipped == EVERY and outcome.total == 0
    assert len(ctx.captured_queries) <= 6, [q["sql"][:80] for q in ctx.captured_queries]


def test_the_receipt_sources_re_run_when_the_working_hours_move_their_cutoff(city, published):
    """No write between the sweeps: the deadline subjects are skipped; the 未签收 ones run again once working
    time has passed (work becomes due for a receipt reminder by the clock alone), not over lunch or at night."""
    day = date(2026, 7, 21)  # a Tuesday
    sweep_at = lambda hour, minute=0: _sweep_at(day, hour, minute)  # noqa: E731
    assert sweep_at(9).skipped == set()  # the first of the day: in full
    assert sweep_at(10).skipped == EVERY - RECEIPTS  # an hour of work later: the receipts' cutoff moved
    assert sweep_at(12, 30).skipped == EVERY - RECEIPTS  # it moved until noon
    assert sweep_at(13, 30).skipped == EVERY  # lunch: where it was at 12:30
    assert sweep_at(22).skipped == EVERY - RECEIPTS  # the afternoon's hours since 13:30
    assert sweep_at(23).skipped == EVERY  # the night


def _sweep_at(day: date, hour: int, minute: int):
    import time_machine

    from .test_receipt_reminders import TZ

    with time_machine.travel(datetime.combine(day, time(hour, minute), tzinfo=TZ), tick=False):
        return sweep.run()


def test_an_assignment_changed_between_two_sweeps_is_reminded(city, published):
    work = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    Assignment.objects.filter(pk=work.pk).update(status=AssignmentStatus.ACCEPTED)
    day = date(2026, 9, 1)  # the day after its due date
    assert run(day).skipped == set()  # the first sweep of the day runs in full
    assert reminded(Subject.ASSIGNMENT, work.pk) == set()
    idle(day)
    Assignment.objects.filter(pk=work.pk).update(status=AssignmentStatus.IN_PROGRESS)  # returned to work
    again = run(day)
    assert again.skipped == {
        Subject.FINDING,
        Subject.HOTSPOT,
        Subject.NOTICE_UNACKED,
        Subject.LETTER_UNACKED,
        Subject.DOC_UNACKED,
    }  # no assignment read
    assert reminded(Subject.ASSIGNMENT, work.pk) == {"overdue"}
    idle(day)


def test_a_new_lead_between_two_sweeps_is_reminded(city, published):
    work = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    day = date(2026, 9, 1)
    run(day)
    idle(day)
    RoleGrant.objects.create(user=city["nobody"], unit=work.unit, role=Role.UNIT_LEAD)
    assert run(day).skipped == set()  # a recipient changed: every subject
    got = Reminder.objects.filter(subject_type=Subject.ASSIGNMENT, subject_id=work.pk, recipient=city["nobody"])
    assert got.exists()


def test_a_check_in_whose_report_was_withdrawn_is_reminded(city, weekly):
    west, friday = weekly["330320"], date(2026, 7, 10)
    report_progress(assignment=west, by=city["west_lead"], text="本周破案2起", period=friday)
    run(friday)
    assert "due_today" not in reminded(Subject.CHECKIN, west.pk)
    idle(friday)
    ProgressReport.objects.filter(assignment=west, period=friday).delete()
    again = run(friday)
    assert Subject.CHECKIN not in again.skipped and Subject.ASSIGNMENT in again.skipped
    assert "due_today" in reminded(Subject.CHECKIN, west.pk)
    idle(friday)


def test_a_finding_ordered_again_between_two_sweeps_is_reminded(city, ordered):
    finding, _notice = ordered
    day = date(2026, 7, 24)  # three days before its deadline
    Finding.objects.filter(pk=finding.pk).update(status="submitted")
    run(day)
    assert reminded(Subject.FINDING, finding.pk) == set()
    idle(day)
    Finding.objects.filter(pk=finding.pk).update(status="ordered")
    again = run(day)
    assert again.skipped == EVERY - {Subject.FINDING}
    assert reminded(Subject.FINDING, finding.pk) == {"due_soon"}


def test_a_hotspot_listed_again_between_two_sweeps_is_reminded(city, spot):
    day = date(2026, 7, 4)  # three days before its first window closes
    Hotspot.objects.filter(pk=spot.pk).update(status="delisted")
    run(day)
    assert reminded(Subject.HOTSPOT, spot.pk) == set()
    idle(day)
    Hotspot.objects.filter(pk=spot.pk).update(status="listed")
    again = run(day)
    assert again.skipped == EVERY - {Subject.HOTSPOT}
    assert reminded(Subject.HOTSPOT, spot.pk) == {"due_soon"}


def test_a_round_whose_figures_were_withdrawn_is_reminded(city, first_round):
    station = city.units[STATION]
    report(city, "station_lead", STATION, first_round, at(LAST_DAY, 8))
    run(LAST_DAY)
    mine = Reminder.objects.filter(subject_type=Subject.ROUND, subject_id=first_round.pk, unit=station)
    assert not mine.exists()
    idle(LAST_DAY)
    Figure.objects.filter(unit=station).delete()
    again = run(LAST_DAY)
    assert again.skipped == EVERY - {Subject.ROUND}
    assert mine.exists()


def test_another_day_runs_in_full_and_the_changes_are_consumed(city, published):
    run(date(2026, 9, 1))
    assert not SweepChange.objects.exists()
    Assignment.objects.filter(unit__code="33031001").update(progress=1)
    assert SweepChange.objects.filter(table="tasks_assignment").exists()  # written with the change
    assert run(date(2026, 9, 2)).skipped == set()
    assert not SweepChange.objects.exists()
    idle(date(2026, 9, 2))


def test_a_document_recipient_not_acknowledged_again_between_two_sweeps_is_reminded(city, published):
    """The documents' tables are watched (notifications 0020): a receipt undone between two sweeps at the
    same moment (the cutoff where it was) is picked up by the second."""
    import time_machine

    from documents.models import DocumentRecipient

    from .test_document_reminders import _issue
    from .test_receipt_reminders import at

    with time_machine.travel(at(20, 10, 5), tick=False):
        document = _issue(city, published, units=["33031001"])
    row = DocumentRecipient.objects.get(document=document, unit__code="33031001")
    DocumentRecipient.objects.filter(pk=row.pk).update(acknowledged_at=at(20, 11))
    moment = at(21, 10, 10)
    with time_machine.travel(moment, tick=False):
        assert sweep.run().skipped == set()  # the first of the day
        assert reminded(Subject.DOC_UNACKED, document.pk) == set()
        assert sweep.run().skipped == EVERY  # nothing written, the cutoff where it was
        DocumentRecipient.objects.filter(pk=row.pk).update(acknowledged_at=None)
        again = sweep.run()
    assert again.skipped == EVERY - {Subject.DOC_UNACKED}
    assert reminded(Subject.DOC_UNACKED, document.pk) == {"unacked"}
