"""The distribution's benchmark (``manage.py bench_distribution``, issue 22.4's figure): a bulletin issued to
many units in a transaction rolled back at the end — every unit told, its query count flat with the units."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Unit
from documents.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


def figures(units: int) -> dict:
    out = StringIO()
    call_command("bench_distribution", units=units, stdout=out)
    return json.loads(out.getvalue())


def test_it_issues_to_every_unit_and_leaves_nothing_behind():
    few, more = figures(3), figures(12)
    assert few["events"] == 3 and more["events"] == 12  # one event per unit told
    assert more["messages"] >= 12 and more["chased_units"] == 11  # all but the one that acknowledged
    assert few["issue_queries"] == more["issue_queries"]  # set-based: not one statement per unit
    # a week on, the sweep reminds each unit not acknowledged once, in the same statements for 3 or 12
    assert few["sweep_reminders"] == 2 and more["sweep_reminders"] == 11
    assert few["sweep_queries"] == more["sweep_queries"]
    assert more["met"] is True and more["issue_s"] < more["goal_s"]
    assert not Document.objects.exists() and not Unit.objects.filter(code__startswith="benchdoc_").exists()
