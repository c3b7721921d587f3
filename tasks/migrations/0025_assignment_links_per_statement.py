"""An assignment's parent and acknowledged-by checked per statement, not per row (PostgreSQL).

Both are empty on every row a publish writes, yet PostgreSQL queued a check of each for COMMIT, row by
row (228,006 trigger calls for a province's 114,003 assignments, each fetching its row to find the
NULLs: 0.1 s of a COMMIT at load 5, 0.27–0.36 s at load 7–11; README, "What the publish checks"). Now, as
notifications/0016 does for the sweep's rows (``utilities.statement_keys``): after each INSERT the
distinct non-empty parents and acknowledging users are looked up once over the statement's transition
table, locked FOR KEY SHARE in id order and counted (for a publish: none, a scan of the new rows per column); an
UPDATE setting one (a receipt's acknowledging user, a pass-down's parent) is checked row by row, only
those rows; deleting or re-keying an assignment that passed-down shares name as their parent, or a user an
assignment names as its acknowledger, is refused at COMMIT, row by row as PostgreSQL's key did.

PostgreSQL only: Django's state says ``db_constraint=False`` for the two; SQLite (the embedded demo, one
writer) keeps its row keys (altering them would rebuild ``tasks_assignment`` and lose its triggers).
"""

from django.conf import settings
from django.db import migrations, models

from utilities.statement_keys import StatementKeys

CHECKED = StatementKeys(
    "tasks_assignment",
    {"parent_id": "tasks_assignment", "acknowledged_by_id": "accounts_user"},
    "assignment_links",
)


def _row_keys(schema_editor) -> list[str]:
    """The names of Django's one-column keys that ``CHECKED`` replaces (hashed: looked up)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, CHECKED.table)
    return [
        name
        for name, c in found.items()
        if c["foreign_key"] and len(c["columns"]) == 1 and CHECKED.keys.get(c["columns"][0]) == c["foreign_key"][0]
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _row_keys(schema_editor):
        schema_editor.execute(f"ALTER TABLE {CHECKED.table} DROP CONSTRAINT {schema_editor.quote_name(name)}")
    schema_editor.execute(CHECKED.forward(), params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CHECKED.backward(), params=None)
    for column, table in CHECKED.keys.items():
        schema_editor.execute(
            f"ALTER TABLE {CHECKED.table} ADD CONSTRAINT {CHECKED.table}_{column}_fk_{table}_id "
            f"FOREIGN KEY ({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0024_ordering_without_joins"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="assignment",
                    name="parent",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The superior unit's assignment this share was split from (逐级分解)",
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="children",
                        to="tasks.assignment",
                        verbose_name="passed down from",
                    ),
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="acknowledged_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="acknowledged by",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
