"""A later target's progress rolls up the chain of shares, as the first target's does (``Assignment.progress``):
``TargetProgress`` holds each assignment's running total of each later target — its own reports on it and
its shares' at every level below. Backfilled here from the reports over the parent chain (the statement of
``tasks.services.cascade.RECOUNT``, copied so that this migration does not move with the code); going back
drops the table."""

import django.db.models.deletion
from django.db import migrations, models


# Each report's value counted on its assignment and every assignment above it, PostgreSQL and SQLite alike.
BACKFILL = """
    WITH RECURSIVE chain(origin, ancestor) AS (
        SELECT DISTINCT p.assignment_id, p.assignment_id FROM tasks_progressreport p
            WHERE p.target_id IS NOT NULL AND p.value IS NOT NULL
        UNION ALL
        SELECT c.origin, a.parent_id FROM chain c JOIN tasks_assignment a ON a.id = c.ancestor
            WHERE a.parent_id IS NOT NULL
    )
    INSERT INTO tasks_targetprogress (assignment_id, target_id, progress)
    SELECT c.ancestor, p.target_id, SUM(p.value) FROM chain c JOIN tasks_progressreport p ON p.assignment_id = c.origin
        WHERE p.target_id IS NOT NULL AND p.value IS NOT NULL
        GROUP BY c.ancestor, p.target_id"""


def backfill(apps, schema_editor):
    schema_editor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ('tasks', '0021_target_share'),
    ]

    operations = [
        migrations.CreateModel(
            name='TargetProgress',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('progress', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='progress')),
                ('assignment', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='target_progress', to='tasks.assignment', verbose_name='assignment')),
                ('target', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tasks.target', verbose_name='target')),
            ],
            options={
                'verbose_name': 'progress of a target',
                'verbose_name_plural': 'progress of targets',
                'constraints': [models.UniqueConstraint(fields=('assignment', 'target'), name='uniq_target_progress')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
