"""One foreign key where there were two: an assignment's (item, campaign) must be an item of that campaign.

Publishing writes ≈114,000 assignments in one COPY, and PostgreSQL checks every deferred foreign key
row by row at COMMIT: the campaign, the item and the unit (and the empty parent and acknowledged-by),
the largest share of the publish (docs/boards.md, "Publishing"). The campaign's key is no check of its
own worth: the item's row names its campaign. So ``(item_id, campaign_id)`` references
``tasks_item (id, campaign_id)``: one lookup per row instead of two, and a stronger rule than both (an
assignment can no longer name another campaign than its item's). The unit's key stays: it is the one
row the publish reads but neither writes nor locks.

PostgreSQL only, in SQL: Django has no composite foreign key, so its state says ``db_constraint=False``
for both fields. SQLite (the embedded demo, one writer) keeps its two single keys: altering them would
rebuild ``tasks_assignment`` and ``tasks_item`` and lose their rollup triggers (boards 0005).
"""

from django.db import migrations, models

FORWARD = [
    "ALTER TABLE tasks_item ADD CONSTRAINT item_in_campaign UNIQUE (id, campaign_id)",
    "ALTER TABLE tasks_assignment ADD CONSTRAINT assignment_item_in_campaign FOREIGN KEY (item_id, campaign_id) "
    "REFERENCES tasks_item (id, campaign_id) DEFERRABLE INITIALLY DEFERRED NOT VALID",
    "ALTER TABLE tasks_assignment VALIDATE CONSTRAINT assignment_item_in_campaign",
]
BACKWARD = [
    "ALTER TABLE tasks_assignment DROP CONSTRAINT IF EXISTS assignment_item_in_campaign",
    "ALTER TABLE tasks_item DROP CONSTRAINT IF EXISTS item_in_campaign",
]
SINGLE = {"campaign_id": "tasks_campaign", "item_id": "tasks_item"}


def _single_keys(schema_editor) -> list[str]:
    """The names of Django's one-column keys on the campaign and the item (hashed names: looked up)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, "tasks_assignment")
    return [
        name
        for name, c in found.items()
        if c["foreign_key"] and len(c["columns"]) == 1 and SINGLE.get(c["columns"][0]) == c["foreign_key"][0]
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)
    for name in _single_keys(schema_editor):
        schema_editor.execute(f"ALTER TABLE tasks_assignment DROP CONSTRAINT {schema_editor.quote_name(name)}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, table in SINGLE.items():
        schema_editor.execute(
            f"ALTER TABLE tasks_assignment ADD CONSTRAINT tasks_assignment_{column}_fk_{table}_id "
            f"FOREIGN KEY ({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0016_assignment_updated_order"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="assignment",
                    name="campaign",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="assignments",
                        to="tasks.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="item",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="assignments",
                        to="tasks.item",
                        verbose_name="item",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
