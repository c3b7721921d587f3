"""The board rollup (``boards.BoardCount``) and the triggers that keep it exact (docs/boards.md, "The rollup").

Every write of an assignment (insert, update, delete; COPY too) and every change of an item's line of
action adds the rows' new keys and subtracts their old ones in the same statement, whoever writes:
the services, imports, COPY, the benchmarks' and demos' raw UPDATEs, the tests. PostgreSQL: one
statement-level trigger per operation reading the transition tables, one upsert in key order (so two
writers lock counts in the same order), then the counts that fell to 0 are deleted; a negative count
for a key the rollup does not hold is dropped (its campaign is being deleted: Django deletes the
rollup's rows and the assignments in either order). SQLite: row-level triggers doing the same per row
(one writer at a time). The rollup is filled from the rows at the end.
"""

import django.db.models.deletion
from django.db import migrations, models


KEY = "campaign_id, unit_id, action_id, status, due_date, on_time, acknowledged"
ON_TIME = "({a}.submitted_on IS NOT NULL AND {a}.submitted_on <= {a}.due_date)"
ACK = "({a}.acknowledged_at IS NOT NULL)"


def _rows(
    table: str, sign: str, action: str = "i.action_id", join: str = "JOIN tasks_item i ON i.id = a.item_id"
) -> str:
    return (
        f"SELECT a.campaign_id, a.unit_id, {action} AS action_id, a.status, a.due_date, "
        f"{ON_TIME.format(a='a')} AS on_time, {ACK.format(a='a')} AS acknowledged, {sign} AS n "
        f"FROM {table} a {join} WHERE a.is_active AND a.parent_id IS NULL"
    )


def _apply(rows: str) -> str:
    same = " AND ".join(f"x.{c} = d.{c}" for c in KEY.split(", "))
    return f"""
    INSERT INTO boards_boardcount AS r ({KEY}, n)
    SELECT d.campaign_id, d.unit_id, d.action_id, d.status, d.due_date, d.on_time, d.acknowledged, SUM(d.n)
    FROM ({rows}) d
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING SUM(d.n) > 0 OR (SUM(d.n) < 0 AND EXISTS (SELECT 1 FROM boards_boardcount x WHERE {same}))
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ({KEY}) DO UPDATE SET n = r.n + EXCLUDED.n;"""


PRUNE = """
    DELETE FROM boards_boardcount r USING (SELECT DISTINCT campaign_id, unit_id FROM old_rows) k
    WHERE r.campaign_id = k.campaign_id AND r.unit_id = k.unit_id AND r.n <= 0;"""

MOVED = "JOIN old_items o ON o.id = a.item_id JOIN new_items i ON i.id = o.id AND i.action_id <> o.action_id"

FILL = f"""
INSERT INTO boards_boardcount ({KEY}, n)
SELECT a.campaign_id, a.unit_id, i.action_id, a.status, a.due_date, {ON_TIME.format(a="a")}, {ACK.format(a="a")}, COUNT(*)
FROM tasks_assignment a JOIN tasks_item i ON i.id = a.item_id
WHERE a.is_active AND a.parent_id IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;
"""

POSTGRESQL = f"""
CREATE FUNCTION boards_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("new_rows", "1"))}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("new_rows", "1") + " UNION ALL " + _rows("old_rows", "-1"))}
{PRUNE}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("old_rows", "-1"))}
{PRUNE}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM boards_boardcount;
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_items_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.action_id <> o.action_id) THEN
{_apply(_rows("tasks_assignment", "1", "i.action_id", MOVED) + " UNION ALL " + _rows("tasks_assignment", "-1", "o.action_id", MOVED))}
        DELETE FROM boards_boardcount r USING old_items o JOIN new_items n ON n.id = o.id AND n.action_id <> o.action_id
        WHERE r.campaign_id = o.campaign_id AND r.action_id = o.action_id AND r.n <= 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER boards_rollup_inserted AFTER INSERT ON tasks_assignment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION boards_rollup_inserted();
CREATE TRIGGER boards_rollup_updated AFTER UPDATE ON tasks_assignment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION boards_rollup_updated();
CREATE TRIGGER boards_rollup_deleted AFTER DELETE ON tasks_assignment
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION boards_rollup_deleted();
CREATE TRIGGER boards_rollup_truncated AFTER TRUNCATE ON tasks_assignment
    FOR EACH STATEMENT EXECUTE FUNCTION boards_rollup_truncated();
CREATE TRIGGER boards_rollup_items_moved AFTER UPDATE ON tasks_item
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION boards_rollup_items_moved();
{FILL}
ANALYZE boards_boardcount;
"""

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS boards_rollup_items_moved ON tasks_item;
DROP TRIGGER IF EXISTS boards_rollup_truncated ON tasks_assignment;
DROP TRIGGER IF EXISTS boards_rollup_deleted ON tasks_assignment;
DROP TRIGGER IF EXISTS boards_rollup_updated ON tasks_assignment;
DROP TRIGGER IF EXISTS boards_rollup_inserted ON tasks_assignment;
DROP FUNCTION IF EXISTS boards_rollup_items_moved();
DROP FUNCTION IF EXISTS boards_rollup_truncated();
DROP FUNCTION IF EXISTS boards_rollup_deleted();
DROP FUNCTION IF EXISTS boards_rollup_updated();
DROP FUNCTION IF EXISTS boards_rollup_inserted();
"""


def _sqlite_key(a: str, action: str) -> str:
    return (
        f"campaign_id = {a}.campaign_id AND unit_id = {a}.unit_id AND action_id = {action} AND status = {a}.status"
        f" AND due_date = {a}.due_date AND on_time = {ON_TIME.format(a=a)} AND acknowledged = {ACK.format(a=a)}"
    )


def _sqlite_add(a: str) -> str:
    return f"""
    INSERT INTO boards_boardcount ({KEY}, n)
    SELECT {a}.campaign_id, {a}.unit_id, i.action_id, {a}.status, {a}.due_date, {ON_TIME.format(a=a)}, {ACK.format(a=a)}, 1
    FROM tasks_item i WHERE i.id = {a}.item_id
    ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;"""


def _sqlite_take(a: str) -> str:
    key = _sqlite_key(a, f"(SELECT action_id FROM tasks_item WHERE id = {a}.item_id)")
    return f"""
    UPDATE boards_boardcount SET n = n - 1 WHERE {key};
    DELETE FROM boards_boardcount WHERE {key} AND n <= 0;"""


COUNTED = "AND a.campaign_id = {r}.campaign_id AND a.unit_id = {r}.unit_id AND a.status = {r}.status AND a.due_date = {r}.due_date"
SQLITE_KEYED = (
    "UPDATE OF campaign_id, item_id, unit_id, status, due_date, submitted_on, acknowledged_at, is_active, parent_id"
)
SQLITE = [
    f"""CREATE TRIGGER boards_rollup_inserted AFTER INSERT ON tasks_assignment
    WHEN NEW.is_active AND NEW.parent_id IS NULL BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER boards_rollup_deleted AFTER DELETE ON tasks_assignment
    WHEN OLD.is_active AND OLD.parent_id IS NULL BEGIN {_sqlite_take("OLD")} END""",
    f"""CREATE TRIGGER boards_rollup_updated_old AFTER {SQLITE_KEYED} ON tasks_assignment
    WHEN OLD.is_active AND OLD.parent_id IS NULL BEGIN {_sqlite_take("OLD")} END""",
    f"""CREATE TRIGGER boards_rollup_updated_new AFTER {SQLITE_KEYED} ON tasks_assignment
    WHEN NEW.is_active AND NEW.parent_id IS NULL BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER boards_rollup_items_moved AFTER UPDATE OF action_id ON tasks_item
    WHEN OLD.action_id <> NEW.action_id BEGIN
    INSERT INTO boards_boardcount ({KEY}, n)
    SELECT a.campaign_id, a.unit_id, NEW.action_id, a.status, a.due_date, {ON_TIME.format(a="a")}, {ACK.format(a="a")}, COUNT(*)
    FROM tasks_assignment a WHERE a.item_id = NEW.id AND a.is_active AND a.parent_id IS NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;
    UPDATE boards_boardcount SET n = n - (
        SELECT COUNT(*) FROM tasks_assignment a WHERE a.item_id = NEW.id AND a.is_active AND a.parent_id IS NULL
        {COUNTED.format(r="boards_boardcount")} AND {ON_TIME.format(a="a")} = boards_boardcount.on_time
        AND {ACK.format(a="a")} = boards_boardcount.acknowledged)
    WHERE campaign_id = OLD.campaign_id AND action_id = OLD.action_id;
    DELETE FROM boards_boardcount WHERE campaign_id = OLD.campaign_id AND action_id = OLD.action_id AND n <= 0;
    END""",
    FILL,
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "boards_rollup_inserted",
        "boards_rollup_deleted",
        "boards_rollup_updated_old",
        "boards_rollup_updated_new",
        "boards_rollup_items_moved",
    )
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRESQL] if vendor == "postgresql" else SQLITE if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRESQL_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_unit_doc_prefix"),
        ("boards", "0003_export_expiry"),
        ("tasks", "0013_assignment_receipt"),
    ]

    operations = [
        migrations.CreateModel(
            name="BoardCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("in_progress", "In progress"),
                            ("submitted", "Submitted for acceptance"),
                            ("accepted", "Accepted"),
                            ("returned", "Returned"),
                        ],
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("due_date", models.DateField(verbose_name="due date")),
                ("on_time", models.BooleanField(verbose_name="submitted by the due date")),
                ("acknowledged", models.BooleanField(verbose_name="acknowledged")),
                ("n", models.IntegerField(verbose_name="assignments")),
                (
                    "action",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tasks.lineofaction",
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tasks.campaign",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "board count",
                "verbose_name_plural": "board counts",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "unit", "action", "status", "due_date", "on_time", "acknowledged"),
                        name="boardcount_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
