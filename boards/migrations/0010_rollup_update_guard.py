"""The board rollup's update trigger returns at once when no counted column changed (PostgreSQL; issue 19,
the capacity mix).

A progress report updates its assignment's progress, version and time, and — after the first — not its
status: the rollup and its ledger come out the same (the row leaves and re-enters the same counts on the
same day), yet ``boards_rollup_updated`` grouped, upserted and pruned both tables for it, ≈ 1.1 ms of
PostgreSQL per report (``EXPLAIN ANALYZE`` of the report's UPDATE on the capacity seed). Now it first
compares, row by row, what the counts read — campaign, unit, item (its line of action), due date, status,
the day submitted, acknowledged or not, active, a share or not — and does nothing when none of them
changed. Everything else is 0006's function as it was, with 0008's settings (a replaced function loses
them). ``tests/boards/test_rollup.py`` checks the rollup and the ledger against the rows after random
workflows; ``tests/boards/test_rollup_guard.py`` that a report leaves both untouched and a status change
still counts.
"""
# ruff: noqa: S608 (only the migrations' constants are interpolated into its SQL)

import importlib

from django.db import migrations

ledger = importlib.import_module("boards.migrations.0006_board_ledger")

COUNTED = (
    "campaign_id",
    "unit_id",
    "item_id",
    "due_date",
    "status",
    "submitted_on",
    "acknowledged_at IS NULL",
    "is_active",
    "parent_id IS NULL",
)
GUARD = (
    "    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
    f"({', '.join(f'o.{c}' for c in COUNTED)}) IS DISTINCT FROM ({', '.join(f'n.{c}' for c in COUNTED)})) THEN\n"
    "        RETURN NULL;  -- nothing counted changed: the rollup and its ledger stay as they are\n"
    "    END IF;\n"
)
SETTINGS = "ALTER FUNCTION boards_rollup_updated() SET jit = off;\nALTER FUNCTION boards_rollup_updated() SET work_mem = '32MB';\n"
HEAD = "CREATE OR REPLACE FUNCTION boards_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
UPDATED = HEAD + ledger.POSTGRESQL.split(HEAD, 1)[1].split("END $$;", 1)[0] + "END $$;\n"

POSTGRESQL = UPDATED.replace(HEAD, HEAD + GUARD, 1) + SETTINGS
POSTGRESQL_BACKWARD = UPDATED + SETTINGS


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("boards", "0009_rollup_insert_hashed")]

    operations = [migrations.RunPython(install, uninstall)]
