"""PostgreSQL: ``stats_rollup`` sums exact decimals (issue 20: quantities, money in 元, entered rates).

``stats_figure.value`` became ``numeric(20,4)`` (0005); the rollup's ``total`` becomes ``numeric`` and
the trigger functions of 0002 are replaced to add the values as they are (they cast to ``bigint``,
which would round 27.3 克 to 27). The rows are kept: a whole number is the same in either type. The
reads skip rates (``stats.queries``): a computed rate has no figures, an entered one is never summed.
"""

from importlib import import_module

from django.db import migrations

rollup = import_module("stats.migrations.0002_rollup")

NEW = "SELECT campaign_id, unit_id, indicator_id, day, value, 1 AS n FROM new_rows"
OLD = "SELECT campaign_id, unit_id, indicator_id, day, -value AS value, -1 AS n FROM old_rows"


def functions(new: str, old: str) -> str:
    apply = rollup._apply
    return f"""
CREATE OR REPLACE FUNCTION stats_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{apply(new)}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION stats_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{apply(new + " UNION ALL " + old)}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION stats_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{apply(old)}
    DELETE FROM stats_rollup WHERE figures = 0 AND campaign_id IN (SELECT DISTINCT campaign_id FROM old_rows);
    RETURN NULL;
END $$;
"""


FORWARD = "ALTER TABLE stats_rollup ALTER COLUMN total TYPE numeric USING total::numeric;" + functions(NEW, OLD)
BACKWARD = "ALTER TABLE stats_rollup ALTER COLUMN total TYPE bigint USING round(total)::bigint;" + functions(
    rollup.NEW, rollup.OLD
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("stats", "0005_kinds")]

    operations = [migrations.RunPython(forward, backward)]
