"""The sweep's behind-pace step (序时进度) judges every target of an item (issue 20): it reads
``tasks_target`` too, which a statement writing it must now mark as changed (``notifications_sweepchange``,
the function of migration 0013). Its other new tables are watched already: ``tasks_progressreport`` and
``stats_figure`` (whose triggers also write ``stats_rollup``; a rebuild follows a change of
``accounts_unit``, watched)."""

from django.db import migrations


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: every sweep runs in full
    schema_editor.execute(
        "CREATE TRIGGER sweep_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tasks_target "
        "FOR EACH STATEMENT EXECUTE FUNCTION notifications_sweep_changed()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS sweep_changed ON tasks_target")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0020_document_receipt_reminders"),
        ("tasks", "0019_targets"),  # the table exists
    ]

    operations = [migrations.RunPython(add_trigger, drop_trigger)]
