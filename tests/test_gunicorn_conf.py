"""The production gunicorn settings' hooks (``ops/gunicorn.conf.py``): the worker's heap frozen once the app
is loaded and once more after its first requests, so the collector's full passes skip it."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

CONF = Path(__file__).resolve().parent.parent / "ops" / "gunicorn.conf.py"


@pytest.fixture
def conf(monkeypatch):
    monkeypatch.setenv("GUNICORN_GC_FREEZE_AFTER", "3")
    settings = runpy.run_path(str(CONF))
    yield settings
    gc.unfreeze()


def test_the_worker_freezes_its_heap_once_the_app_is_loaded(conf):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    conf["post_worker_init"](SimpleNamespace())
    assert gc.get_freeze_count() > 1000  # Django, the URLconf and every view module


def test_and_again_after_its_first_requests_only(conf):
    worker = SimpleNamespace()
    gc.unfreeze()
    conf["post_request"](worker, None, {}, None)
    conf["post_request"](worker, None, {}, None)
    assert gc.get_freeze_count() == 0  # not yet: 2 of 3
    conf["post_request"](worker, None, {}, None)
    frozen = gc.get_freeze_count()
    assert frozen > 1000
    gc.unfreeze()
    for _ in range(5):
        conf["post_request"](worker, None, {}, None)
    assert gc.get_freeze_count() == 0  # once
    assert worker.served == 8


def test_the_settings_still_read_as_gunicorn_reads_them(conf):
    assert conf["FREEZE_AFTER_REQUESTS"] == 3
    assert conf["worker_class"] == "gthread"
    assert callable(conf["post_worker_init"]) and callable(conf["post_request"])
