"""Faults, scripted and repeatable (docs/faults.md). Each test injects its fault on servers of its own
(a throwaway PostgreSQL cluster, a throwaway Redis, its own tmpfs) and then checks what was written.

``FAULTS_LONG=1`` runs the longer variants (``scripts/faults``); ``FAULTS_RESULTS=<file>`` appends one
JSON line per test — outcome and the figures it measured — from which the driver prints its table.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.notifications.conftest import webhook  # noqa: F401 (a webhook receiver on loopback)
from tests.processes import start_worker  # noqa: F401 (Celery workers on the test database)

LONG = os.environ.get("FAULTS_LONG", "") == "1"
FIGURES = pytest.StashKey[dict]()


@pytest.fixture
def figures(request) -> dict:
    """What the fault showed (requests failed / recovered, rows checked …), for the driver's table."""
    found: dict = {}
    request.node.stash[FIGURES] = found
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    path = os.environ.get("FAULTS_RESULTS")
    if path and (report.when == "call" or (report.when == "setup" and not report.passed)):
        line = {
            "test": item.nodeid,
            "outcome": report.outcome,
            "seconds": round(report.duration, 1),
            "figures": item.stash.get(FIGURES, {}),
            "reason": str(report.longrepr[-1]) if report.skipped and isinstance(report.longrepr, tuple) else "",
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    return report
