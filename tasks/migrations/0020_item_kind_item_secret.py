# Item.kind (plan / directive) and Item.secret: directives (督办事项) are items outside the plan
# (docs/directives.md).
#
# On SQLite, Django adds a NOT NULL column by rebuilding the table (create, copy, drop, rename), and the
# board rollup's triggers on the assignments (boards 0005), which read tasks_item, break on the drop:
# "no such table: main.tasks_item". SQLite adds a column with a constant default in place, so there it
# is ALTER TABLE … ADD COLUMN; PostgreSQL goes through the schema editor as usual.

from django.db import migrations, models

KIND = models.CharField(
    choices=[("plan", "Checklist item"), ("directive", "Directive")],
    db_default="plan",
    default="plan",
    max_length=10,
    verbose_name="kind",
)
SECRET = models.BooleanField(db_default=False, default=False, verbose_name="secret")


def forward(apps, schema_editor):
    Item = apps.get_model("tasks", "Item")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ALTER TABLE tasks_item ADD COLUMN kind varchar(10) NOT NULL DEFAULT 'plan'")
        schema_editor.execute("ALTER TABLE tasks_item ADD COLUMN secret bool NOT NULL DEFAULT 0")
        return
    for name, field in (("kind", KIND), ("secret", SECRET)):
        field = field.clone()
        field.set_attributes_from_name(name)
        field.model = Item
        schema_editor.add_field(Item, field)


def backward(apps, schema_editor):
    # ``apps`` is the state before this migration: the item has no such fields there, so they are built
    # as forward builds them; SQLite drops the columns in place (a rebuild would break the triggers)
    Item = apps.get_model("tasks", "Item")
    for name, field in (("secret", SECRET), ("kind", KIND)):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"ALTER TABLE tasks_item DROP COLUMN {name}")
            continue
        field = field.clone()
        field.set_attributes_from_name(name)
        field.model = Item
        schema_editor.remove_field(Item, field)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0019_targets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="item", name="kind", field=KIND),
                migrations.AddField(model_name="item", name="secret", field=SECRET),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        )
    ]
