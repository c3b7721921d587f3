"""The supervision benchmark runs on a tiny province, and the records it seeds in bulk (bypassing
the services) are shaped as the services would have left them."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from inspections.models import UNFIXED, Answer, Finding, FindingStatus, Notice, NoticeSequence
from inspections.services import notice_number


@pytest.mark.django_db(transaction=True)  # the benchmark VACUUMs, which cannot run in a transaction
def test_the_benchmark_runs_on_a_tiny_province():
    out = StringIO()
    call_command(
        "bench_supervision",
        "--cities=1",
        "--subbureaus=2",
        "--stations=4",
        "--items=8",
        "--findings=300",
        "--notices=40",
        "--requests=3",
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())
    assert [t["status"] for t in report["targets"]] == [200] * len(report["targets"])
    assert all(len(t["queries_seen"]) == 1 for t in report["targets"])
    assert report["queries_by_page"], "no list had a second page"
    assert all(len(set(p["queries"])) == 1 for p in report["queries_by_page"])
    assert all(len(set(q)) == 1 for q in report["queries_by_user"].values())
    assert report["findings"] == 300 and report["overdue"] > 0
    assert sum(report["notices"].values()) == 40

    # numbered in each office's sequence, without gaps, and the sequence knows the last number
    for sequence in NoticeSequence.objects.select_related("unit"):
        issued = Notice.objects.filter(issuing_unit=sequence.unit, year=sequence.year)
        assert issued.aggregate(n=Count("id"), last=Max("seq")) == {"n": sequence.last, "last": sequence.last}
        notice = issued.get(seq=1)
        assert notice.number == notice_number(sequence.unit, sequence.year, 1)

    # a notice lists findings of its own unit; only ordered findings wait for an answer of their round
    for f in Finding.objects.select_related("notice").prefetch_related("answers"):
        answered = len(f.answers.all())
        if f.status == FindingStatus.OPEN:
            assert f.notice is None and f.deadline is None and answered == 0
            continue
        assert f.notice.unit_id == f.unit_id and f.deadline >= f.notice.deadline
        assert answered == (f.rounds - 1 if f.status == FindingStatus.ORDERED else f.rounds)
        assert (f.closed_at is not None) == (f.status == FindingStatus.CLOSED)
    assert not Answer.objects.filter(accepted=False, finding__rounds=1).exists()
    # a notice is closed when all its findings are, issued while one still waits for the unit
    for notice in Notice.objects.prefetch_related("findings"):
        states = {f.status for f in notice.findings.all()}
        expected = (
            "closed"
            if states == {FindingStatus.CLOSED}
            else "issued"
            if FindingStatus.ORDERED in states
            else "answered"
        )
        assert notice.status == expected, (notice.number, states)
    assert Finding.objects.filter(status__in=UNFIXED).exists()
