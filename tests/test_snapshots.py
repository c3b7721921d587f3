"""The ``city`` and ``published`` fixtures put back (tests/snapshots.py) are what a build writes."""

from collections import Counter

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from boards.models import BoardCount
from tasks.models import Assignment, Campaign

from . import conftest, snapshots

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="kept on PostgreSQL only")


def added(make) -> dict[str, Counter]:
    """The rows ``make()`` adds, by table (none changed or removed), rolled back afterwards."""
    with transaction.atomic():
        before = snapshots._read()
        make()
        after = snapshots._read()
        transaction.set_rollback(True)
    assert all(not (before[t] - after[t]) for t in before), "rows changed or removed"
    return {t: after[t] - before[t] for t in after if after[t] - before[t]}


def kept(tmp_path, at_the_build: bool = False):
    """Both fixtures as a test gets them (at the moment each was built: its rows as noted)."""
    for key, build, load in (
        ("city", conftest.build_city, conftest.load_city),
        ("published", lambda: conftest.publish_plan(tmp_path), str),
    ):
        noted = snapshots._KEPT.get(key)
        with time_machine.travel(noted.at if at_the_build else timezone.now(), tick=False):
            snapshots.kept(key, build, load)


def test_the_rows_put_back_are_the_rows_a_build_writes(db, tmp_path):
    snapshots._learn()
    built = added(lambda: (conftest.build_city(), conftest.publish_plan(tmp_path)))
    added(lambda: kept(tmp_path))  # noted now, unless an earlier test of this process did
    put_back = added(lambda: kept(tmp_path, at_the_build=True))
    assert snapshots._KEPT["city"] and snapshots._KEPT["published"], "both kept"
    # exactly the rows noted, and no more: the triggers were held off while they went back
    noted = Counter()
    for key in ("city", "published"):
        for table, rows in snapshots._KEPT[key].added.items():
            noted.update((table, row) for row in rows)
    assert Counter((t, row) for t, rows in put_back.items() for row in rows.elements()) == noted
    # as many rows in each table as a build through the services writes (the ids and times differ)
    assert {t: sum(rows.values()) for t, rows in put_back.items()} == {t: sum(r.values()) for t, r in built.items()}
    assert BoardCount._meta.db_table in put_back and Assignment._meta.db_table in put_back


def test_a_test_gets_fresh_objects_and_new_ids_after_the_kept_rows(city, published):
    assert city.people["hq"].unit == city.units["3303"] and published.assignments.count() == 12
    assert "_scope_cache" not in city.people["hq"].__dict__
    newest = max(User.objects.values_list("id", flat=True))
    assert User.objects.create_user("newcomer", unit=city.units["330302"]).pk > newest


def test_a_test_on_another_day_gets_the_rows_made_on_that_day(tmp_path, db):
    added(lambda: kept(tmp_path))  # both noted now, unless an earlier test of this process did
    with time_machine.travel("2026-08-03 09:00 +0800", tick=False):
        snapshots.kept("city", conftest.build_city, conftest.load_city)
        campaign = snapshots.kept("published", None, lambda code: Campaign.objects.get(code=code))
        assert campaign.published_at == timezone.now()
