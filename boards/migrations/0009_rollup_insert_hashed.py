"""The board rollup's insert trigger groups the new rows by hashing, not by sorting them (PostgreSQL;
issue 19, publishing within 3× of COPY).

0008's ``boards_rollup_inserted`` groups the statement's new rows once for the rollup and its ledger. The
planner cannot estimate how many of the transition table's rows pass ``is_active AND parent_id IS NULL``
(it guessed 285 of a publish's 114,003, and ≈100 groups), so it sorted all of them on the ledger's five
keys and grouped the sorted rows: a sort of 114,000 rows, for ≈28,000 groups. Hashing them groups them in
half the time (0.065 s against 0.12 s quiet; 0.16 s against 0.36 s loaded, the same rows). The function
runs with ``enable_sort = off``: only the grouping changes. The ledger's and the rollup's writes still
go in key order (their ``ORDER BY`` sorts the ≈28,000 groups: there is no other way to order them), so
two writers still lock the counts in the same order; the counts are the same sums of the same rows.
"""

from django.db import migrations

FUNCTION = "boards_rollup_inserted()"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} SET enable_sort = off", params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} RESET enable_sort", params=None)


class Migration(migrations.Migration):
    dependencies = [("boards", "0008_rollup_insert_one_pass")]

    operations = [migrations.RunPython(install, uninstall)]
