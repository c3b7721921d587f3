"""The board rollup's insert trigger in one pass (PostgreSQL; issue 19, publishing within 3× of COPY).

0006's ``boards_rollup_inserted`` read the statement's new rows twice, joining each to its item and
sorting it: once for the rollup (``boards.BoardCount``), once for the ledger (``boards.BoardDelta``). A
publish inserts ≈114,000 assignments in one statement, and the two passes were the largest share of it
after the COPY itself. Now the rows are grouped once, by the ledger's key (the rollup's key and the
day), and both tables are written from those groups in one statement: the rollup's upsert first, then
the ledger's (a data-modifying ``WITH`` that the main statement does not read runs after it), each in
key order as before, so two writers still lock the counts in the same order. The counts written are
the same sums of the same rows (``tests/boards/test_rollup.py`` checks the rollup and the ledger
against the rows).

The rollup's functions also run without JIT (compiling the plan of a 114,000-row aggregate cost tens
of milliseconds per statement, more than it saved) and with the memory to sort such a statement's rows
without spilling to disk. SQLite's row triggers are unchanged.
"""
# ruff: noqa: S608 (only the migrations' constants are interpolated into its SQL)

import importlib

from django.db import migrations

rollup = importlib.import_module("boards.migrations.0005_board_rollup")
ledger = importlib.import_module("boards.migrations.0006_board_ledger")
COUNTS, NAMES = rollup.COUNTS, rollup.NAMES
LKEY = ledger.LKEY

# the statement's new rows grouped by the ledger's key: the rollup's key and the local day of the change
# (integers, as the columns: the rollup sums them again, and a sum of bigints is a slower numeric)
GROUPED = (
    f"SELECT d.campaign_id, d.unit_id, d.action_id, d.due_date, d.day, "
    f"{', '.join(f'CAST(SUM(d.{c}) AS integer) AS {c}' for c in COUNTS)} "
    f"FROM ({ledger._ledger_rows('new_rows', '', ledger._local('a.updated_at'))}) d GROUP BY 1, 2, 3, 4, 5"
)
LEDGER = f"""INSERT INTO boards_boarddelta AS r ({LKEY}, {NAMES})
        SELECT {LKEY}, {NAMES} FROM g WHERE {" OR ".join(f"{c} <> 0" for c in COUNTS)}
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ({LKEY}) DO UPDATE SET {", ".join(f"{c} = r.{c} + EXCLUDED.{c}" for c in COUNTS)}"""
FUNCTIONS = ("boards_rollup_inserted", "boards_rollup_updated", "boards_rollup_deleted", "boards_rollup_items_moved")

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION boards_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH g AS MATERIALIZED ({GROUPED}),
    ledger AS ({LEDGER})
{rollup._apply(f"SELECT campaign_id, unit_id, action_id, due_date, {NAMES} FROM g")}
    RETURN NULL;
END $$;
""" + "".join(
    f"ALTER FUNCTION {name}() SET jit = off;\nALTER FUNCTION {name}() SET work_mem = '32MB';\n" for name in FUNCTIONS
)

# 0006's function, as it was, and the functions' own settings gone
POSTGRESQL_BACKWARD = (
    "".join(f"ALTER FUNCTION {name}() RESET ALL;\n" for name in FUNCTIONS)
    + ledger.POSTGRESQL.split("CREATE OR REPLACE FUNCTION boards_rollup_updated()", 1)[0]
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("boards", "0007_ranking_directives")]

    operations = [migrations.RunPython(install, uninstall)]
