"""boards/0008 (the rollup's insert trigger in one pass, its functions without JIT) goes back to 0006's
function and forward again, boards/0009 (its groups hashed, not sorted) back to 0008's settings and
forward again, and a publish leaves the rollup and its ledger exact every way (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from boards import rollup
from tasks.models import Campaign
from tasks.services.plans import import_plan
from tests.migrating import migrate
from tests.tasks.planfiles import CAMPAIGN, write_xlsx

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's row triggers are unchanged")
OPTS = {k: CAMPAIGN[k] for k in ("name", "start", "end", "owner")}


def _functions() -> dict[str, tuple[list[str] | None, bool]]:
    """Each rollup function's own settings, and whether it groups the rows once (``WITH g``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proconfig, position('WITH g AS' in prosrc) > 0 FROM pg_proc "
            "WHERE proname LIKE 'boards_rollup_%%'"
        )
        return {name: (config, once) for name, config, once in cursor.fetchall()}


def _publish_is_counted(path, code: str) -> None:
    import_plan(path=path, publish=True, code=code, **OPTS)
    campaign = Campaign.objects.get(code=code)
    assert campaign.assignments.count() == 12
    assert rollup.differences(campaign) == []
    assert rollup.ledger_differences(campaign) == []


@pytest.mark.django_db(transaction=True)
def test_the_one_pass_trigger_goes_back_and_forward(city, tmp_path):
    plan = write_xlsx(tmp_path / "plan.xlsx")
    tuned = (["jit=off", "work_mem=32MB"], False)
    hashed = (["jit=off", "work_mem=32MB", "enable_sort=off"], True)
    assert _functions() == {
        "boards_rollup_inserted": hashed,
        "boards_rollup_updated": tuned,
        "boards_rollup_deleted": tuned,
        "boards_rollup_items_moved": tuned,
        "boards_rollup_truncated": (None, False),
    }
    _publish_is_counted(plan, "XA")
    try:
        migrate([("boards", "0008_rollup_insert_one_pass")])
        assert _functions()["boards_rollup_inserted"] == (["jit=off", "work_mem=32MB"], True)
        _publish_is_counted(plan, "XD")
        migrate([("boards", "0007_ranking_directives")])
        assert set(_functions().values()) == {(None, False)}
        _publish_is_counted(plan, "XB")
    finally:
        migrate(None)
    assert _functions()["boards_rollup_inserted"] == hashed
    _publish_is_counted(plan, "XC")
    assert rollup.differences() == [] and rollup.ledger_differences() == []
