"""The board rollup (``boards.BoardCount``) and the triggers that keep it exact (docs/boards.md, "The rollup").

Every write of assignments (insert, update, delete; COPY too) adds the rows' new counts and subtracts
their old ones in the same statement, whoever writes: the services, imports, COPY, the benchmarks' and
demos' raw UPDATEs, the tests. PostgreSQL: one statement-level trigger per operation reading the
transition tables, one upsert in key order (two writers lock counts in the same order), then the
counts fallen to 0 are deleted; a negative count for a key the rollup does not hold is dropped (its
campaign is being deleted: Django deletes the rollup's rows and the assignments in either order).
SQLite: row-level triggers doing the same per row (one writer at a time). An item moved to another line
of action has the counts of its campaign's two actions recomputed. The rollup is filled from the rows.
"""
# ruff: noqa: S608 (only this module's constants are interpolated into its SQL)

import django.db.models.deletion
from django.db import migrations, models

KEY = "campaign_id, unit_id, action_id, due_date"
# each count over an assignment row ``a`` (active and planned: the WHERE of every statement below)
COUNTS = {
    "total": "1",
    "pending": "{a}.status = 'pending'",
    "in_progress": "{a}.status = 'in_progress'",
    "submitted": "{a}.status = 'submitted'",
    "returned": "{a}.status = 'returned'",
    "accepted": "{a}.status = 'accepted'",
    "submitted_on_time": "{a}.status = 'submitted' AND {a}.submitted_on <= {a}.due_date",
    "accepted_on_time": "{a}.status = 'accepted' AND {a}.submitted_on <= {a}.due_date",
    "unacknowledged": "{a}.acknowledged_at IS NULL",
}
NAMES = ", ".join(COUNTS)
COUNTED = "{a}.is_active AND {a}.parent_id IS NULL"


def _counts(a: str, sign: str = "") -> str:
    return ", ".join(
        f"{sign}1 AS {name}" if expr == "1" else f"{sign}(CASE WHEN {expr.format(a=a)} THEN 1 ELSE 0 END) AS {name}"
        for name, expr in COUNTS.items()
    )


def _rows(table: str, sign: str) -> str:
    return (
        f"SELECT a.campaign_id, a.unit_id, i.action_id, a.due_date, {_counts('a', sign)} "
        f"FROM {table} a JOIN tasks_item i ON i.id = a.item_id WHERE {COUNTED.format(a='a')}"
    )


def _apply(rows: str) -> str:
    same = " AND ".join(f"x.{c} = d.{c}" for c in KEY.split(", "))
    changed = " OR ".join(f"SUM(d.{c}) <> 0" for c in COUNTS)
    return f"""
    INSERT INTO boards_boardcount AS r ({KEY}, {NAMES})
    SELECT d.campaign_id, d.unit_id, d.action_id, d.due_date, {", ".join(f"SUM(d.{c})" for c in COUNTS)}
    FROM ({rows}) d
    GROUP BY 1, 2, 3, 4
    HAVING ({changed}) AND (SUM(d.total) > 0 OR EXISTS (SELECT 1 FROM boards_boardcount x WHERE {same}))
    ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET {", ".join(f"{c} = r.{c} + EXCLUDED.{c}" for c in COUNTS)};"""


PRUNE = """
    DELETE FROM boards_boardcount r USING (SELECT DISTINCT campaign_id, unit_id FROM old_rows) k
    WHERE r.campaign_id = k.campaign_id AND r.unit_id = k.unit_id AND r.total <= 0;"""


def _recompute(where: str, conflict: str = "") -> str:
    """The counts of the assignments matching ``where`` (over ``a`` and ``i``), from the rows."""
    sums = ", ".join(
        "COUNT(*)" if expr == "1" else f"SUM(CASE WHEN {expr.format(a='a')} THEN 1 ELSE 0 END)"
        for expr in COUNTS.values()
    )
    return f"""
    INSERT INTO boards_boardcount{" AS r" if conflict else ""} ({KEY}, {NAMES})
    SELECT a.campaign_id, a.unit_id, i.action_id, a.due_date, {sums}
    FROM tasks_assignment a JOIN tasks_item i ON i.id = a.item_id
    WHERE {COUNTED.format(a="a")} AND {where}
    GROUP BY a.campaign_id, a.unit_id, i.action_id, a.due_date {conflict};"""


MOVED = (
    "SELECT o.campaign_id, o.action_id FROM old_items o JOIN new_items n ON n.id = o.id AND n.action_id <> o.action_id"
    " UNION SELECT n.campaign_id, n.action_id FROM old_items o JOIN new_items n ON n.id = o.id AND n.action_id <> o.action_id"
)
ADD_CONFLICT = f"ON CONFLICT ({KEY}) DO UPDATE SET " + ", ".join(f"{c} = r.{c} + excluded.{c}" for c in COUNTS)

POSTGRESQL = f"""
CREATE FUNCTION boards_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("new_rows", ""))}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("new_rows", "") + " UNION ALL " + _rows("old_rows", "-"))}
{PRUNE}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(_rows("old_rows", "-"))}
{PRUNE}
    RETURN NULL;
END $$;

CREATE FUNCTION boards_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM boards_boardcount;
    RETURN NULL;
END $$;

-- an item moved to another line of action: its campaign's old and new actions recomputed from the rows
-- (added to what a concurrent writer may have inserted meanwhile, which its own upsert counted)
CREATE FUNCTION boards_rollup_items_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.action_id <> o.action_id) THEN
        DELETE FROM boards_boardcount r USING ({MOVED}) m WHERE r.campaign_id = m.campaign_id AND r.action_id = m.action_id;
{_recompute(f"(a.campaign_id, i.action_id) IN ({MOVED})", ADD_CONFLICT)}
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
{_recompute("1 = 1")}
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


def _sqlite_add(a: str) -> str:
    values = ", ".join("1" if e == "1" else f"CASE WHEN {e.format(a=a)} THEN 1 ELSE 0 END" for e in COUNTS.values())
    return f"""
    INSERT INTO boards_boardcount ({KEY}, {NAMES})
    SELECT {a}.campaign_id, {a}.unit_id, i.action_id, {a}.due_date, {values}
    FROM tasks_item i WHERE i.id = {a}.item_id
    ON CONFLICT ({KEY}) DO UPDATE SET {", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTS)};"""


def _sqlite_take(a: str) -> str:
    key = (
        f"campaign_id = {a}.campaign_id AND unit_id = {a}.unit_id AND due_date = {a}.due_date"
        f" AND action_id = (SELECT action_id FROM tasks_item WHERE id = {a}.item_id)"
    )
    minus = ", ".join(
        f"{c} = {c} - 1" if e == "1" else f"{c} = {c} - (CASE WHEN {e.format(a=a)} THEN 1 ELSE 0 END)"
        for c, e in COUNTS.items()
    )
    return f"""
    UPDATE boards_boardcount SET {minus} WHERE {key};
    DELETE FROM boards_boardcount WHERE {key} AND total <= 0;"""


SQLITE_KEYED = (
    "UPDATE OF campaign_id, item_id, unit_id, status, due_date, submitted_on, acknowledged_at, is_active, parent_id"
)
SQLITE = [
    f"""CREATE TRIGGER boards_rollup_inserted AFTER INSERT ON tasks_assignment
    WHEN {COUNTED.format(a="NEW")} BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER boards_rollup_deleted AFTER DELETE ON tasks_assignment
    WHEN {COUNTED.format(a="OLD")} BEGIN {_sqlite_take("OLD")} END""",
    f"""CREATE TRIGGER boards_rollup_updated_old AFTER {SQLITE_KEYED} ON tasks_assignment
    WHEN {COUNTED.format(a="OLD")} BEGIN {_sqlite_take("OLD")} END""",
    f"""CREATE TRIGGER boards_rollup_updated_new AFTER {SQLITE_KEYED} ON tasks_assignment
    WHEN {COUNTED.format(a="NEW")} BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER boards_rollup_items_moved AFTER UPDATE OF action_id ON tasks_item
    WHEN OLD.action_id <> NEW.action_id BEGIN
    DELETE FROM boards_boardcount WHERE campaign_id = NEW.campaign_id AND action_id IN (OLD.action_id, NEW.action_id);
    {_recompute("a.campaign_id = NEW.campaign_id AND i.action_id IN (OLD.action_id, NEW.action_id)")}
    END""",
    _recompute("1 = 1"),
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
        ("boards", "0004_resend_stalled_jobs"),
        ("tasks", "0013_assignment_receipt"),
    ]

    operations = [
        migrations.CreateModel(
            name="BoardCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("due_date", models.DateField(verbose_name="due date")),
                ("total", models.IntegerField(verbose_name="assignments")),
                ("pending", models.IntegerField(verbose_name="Pending")),
                ("in_progress", models.IntegerField(verbose_name="In progress")),
                ("submitted", models.IntegerField(verbose_name="Submitted for acceptance")),
                ("returned", models.IntegerField(verbose_name="Returned")),
                ("accepted", models.IntegerField(verbose_name="Accepted")),
                ("submitted_on_time", models.IntegerField(verbose_name="submitted by the due date, waiting")),
                ("accepted_on_time", models.IntegerField(verbose_name="submitted by the due date, accepted")),
                ("unacknowledged", models.IntegerField(verbose_name="not acknowledged")),
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
                    models.UniqueConstraint(fields=("campaign", "unit", "action", "due_date"), name="boardcount_key")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
