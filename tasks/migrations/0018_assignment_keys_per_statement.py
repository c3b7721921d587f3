"""An assignment's item, campaign and unit checked per statement, not per row (PostgreSQL).

Publishing writes ≈114,000 assignments in one COPY, and PostgreSQL checked every deferred foreign key
of every row at COMMIT, one lookup each: the campaign, the item and the unit (and the empty parent and
acknowledged-by), the largest share of the publish (docs/architecture.md, "Set-based"). What is worth
checking, and how:

- the item and the campaign as ONE rule: the assignment's (item, campaign) is an item of that campaign
  (stronger than the two keys it replaces: the campaign's key alone let an assignment name another
  campaign than its item's);
- the unit: the one referenced row the publish reads but neither writes nor locks;
- both once per statement over its transition table (the distinct keys looked up, locked FOR KEY
  SHARE in id order as a foreign key locks them, so a concurrent delete waits for the commit), and on
  the referenced side a statement trigger refusing to delete (or re-key) an item or a unit that
  assignments name (an UPDATE changing an assignment's key, which the application never does, is
  checked row by row, only those rows). The publish's check: the distinct keys once, instead of 342,000
  lookups;
- the parent and acknowledged-by keys stay PostgreSQL's own: they are empty on every row the publish
  writes (PostgreSQL still queues their checks; that cost is measured, not removed).

Checked at the end of each statement (a foreign key of Django's is deferred to COMMIT): the writers
insert items before their assignments and delete assignments before their items (Django's collector),
so nothing here relies on the deferral.

PostgreSQL only: Django has no composite key, so its state says ``db_constraint=False`` for the item,
the campaign and the unit. SQLite (the embedded demo, one writer) keeps its three keys: altering them
would rebuild ``tasks_assignment`` and lose its rollup triggers (boards 0005).
"""
# ruff: noqa: S608 (only this module's constants are interpolated into its SQL)

from django.db import migrations, models

KEYS = {"campaign_id": "tasks_campaign", "item_id": "tasks_item", "unit_id": "accounts_unit"}


def _keys(name: str, rows: str) -> str:
    """A function refusing any of ``rows`` (assignments: id, item, campaign, unit) whose item is not an
    item of its campaign or whose unit does not exist: the distinct keys looked up and locked as a
    foreign key locks them (FOR KEY SHARE, in id order: two writers never deadlock here), counted; only
    when one is missing is the offending row looked for, to name it."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    units bigint[];
    pairs bigint;
    found bigint;
    bad record;
BEGIN
    -- the distinct keys (77 items, 1,623 units for a province's publish), each looked up once
    SELECT array_agg(DISTINCT r.unit_id) INTO units FROM ({rows}) r;
    WITH p AS (SELECT DISTINCT r.item_id, r.campaign_id FROM ({rows}) r ORDER BY r.item_id)
    SELECT count(*), count(i.id) INTO pairs, found FROM p LEFT JOIN LATERAL (
        SELECT i.id FROM tasks_item i WHERE i.id = p.item_id AND i.campaign_id = p.campaign_id FOR KEY SHARE
    ) i ON true;
    IF found = pairs THEN
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM accounts_unit u WHERE u.id = ANY(units) ORDER BY u.id FOR KEY SHARE
        ) l;
        IF found = coalesce(cardinality(units), 0) THEN
            RETURN NULL;
        END IF;
    END IF;
    -- one is missing: name it (the distinct keys again, never a row-by-row search of the statement's rows)
    SELECT * INTO bad FROM (
        SELECT p.item_id, p.campaign_id, NULL::bigint AS unit_id
        FROM (SELECT DISTINCT r.item_id, r.campaign_id FROM ({rows}) r) p
        WHERE NOT EXISTS (SELECT 1 FROM tasks_item i WHERE i.id = p.item_id AND i.campaign_id = p.campaign_id)
        UNION ALL
        SELECT NULL, NULL, m.unit_id FROM unnest(units) m (unit_id)
        WHERE NOT EXISTS (SELECT 1 FROM accounts_unit u WHERE u.id = m.unit_id)
    ) x LIMIT 1;
    RAISE foreign_key_violation USING
        CONSTRAINT = 'assignment_keys',
        MESSAGE = format('assignments name what does not exist: item %s of campaign %s, unit %s',
                         bad.item_id, bad.campaign_id, bad.unit_id);
END $$;"""


INSERTED = "SELECT id, item_id, campaign_id, unit_id FROM new_rows"
# An UPDATE that changes a key (the application never does): row by row, and only such rows (the
# trigger's WHEN is evaluated without calling it), as PostgreSQL's own keys skip the others.
REKEYED = """
CREATE FUNCTION tasks_assignment_keys_rekeyed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tasks_item i WHERE i.id = NEW.item_id AND i.campaign_id = NEW.campaign_id FOR KEY SHARE;
    IF FOUND THEN
        PERFORM 1 FROM accounts_unit u WHERE u.id = NEW.unit_id FOR KEY SHARE;
    END IF;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            CONSTRAINT = 'assignment_keys',
            MESSAGE = format('assignments name what does not exist: item %s of campaign %s, unit %s',
                             NEW.item_id, NEW.campaign_id, NEW.unit_id);
    END IF;
    RETURN NULL;
END $$;"""
# the referenced side: an item or a unit gone from its table (deleted, or given another key) that
# assignments still name
GONE = {
    "tasks_item": (
        "SELECT o.id, o.campaign_id FROM old_rows o"
        " WHERE NOT EXISTS (SELECT 1 FROM tasks_item i WHERE i.id = o.id AND i.campaign_id = o.campaign_id)",
        "a.item_id = g.id AND a.campaign_id = g.campaign_id",
    ),
    "accounts_unit": (
        "SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM accounts_unit u WHERE u.id = o.id)",
        "a.unit_id = g.id",
    ),
}


def _kept(table: str) -> str:
    gone, named = GONE[table]
    return f"""
CREATE FUNCTION {table}_assignment_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    WITH g AS MATERIALIZED ({gone})
    SELECT a.id, g.id AS key INTO bad FROM g JOIN tasks_assignment a ON {named} LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            CONSTRAINT = 'assignment_keys',
            MESSAGE = format('%s %s is still named by assignment %s', TG_TABLE_NAME, bad.key, bad.id);
    END IF;
    RETURN NULL;
END $$;"""


FORWARD = f"""
{_keys("tasks_assignment_keys_inserted", INSERTED)}
{REKEYED}
{_kept("tasks_item")}
{_kept("accounts_unit")}
CREATE TRIGGER assignment_keys_inserted AFTER INSERT ON tasks_assignment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_assignment_keys_inserted();
CREATE TRIGGER assignment_keys_updated AFTER UPDATE OF item_id, campaign_id, unit_id ON tasks_assignment
    FOR EACH ROW WHEN (OLD.item_id <> NEW.item_id OR OLD.campaign_id <> NEW.campaign_id OR OLD.unit_id <> NEW.unit_id)
    EXECUTE FUNCTION tasks_assignment_keys_rekeyed();
CREATE TRIGGER assignment_keys_deleted AFTER DELETE ON tasks_item
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_item_assignment_keys();
CREATE TRIGGER assignment_keys_updated AFTER UPDATE ON tasks_item
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_item_assignment_keys();
CREATE TRIGGER assignment_keys_deleted AFTER DELETE ON accounts_unit
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_unit_assignment_keys();
CREATE TRIGGER assignment_keys_updated AFTER UPDATE ON accounts_unit
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_unit_assignment_keys();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS assignment_keys_inserted ON tasks_assignment;
DROP TRIGGER IF EXISTS assignment_keys_updated ON tasks_assignment;
DROP TRIGGER IF EXISTS assignment_keys_deleted ON tasks_item;
DROP TRIGGER IF EXISTS assignment_keys_updated ON tasks_item;
DROP TRIGGER IF EXISTS assignment_keys_deleted ON accounts_unit;
DROP TRIGGER IF EXISTS assignment_keys_updated ON accounts_unit;
DROP FUNCTION IF EXISTS accounts_unit_assignment_keys();
DROP FUNCTION IF EXISTS tasks_item_assignment_keys();
DROP FUNCTION IF EXISTS tasks_assignment_keys_rekeyed();
DROP FUNCTION IF EXISTS tasks_assignment_keys_inserted();
"""


def _row_keys(schema_editor) -> list[str]:
    """The names of Django's one-column keys on the campaign, the item and the unit (hashed: looked up)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, "tasks_assignment")
    return [
        name
        for name, c in found.items()
        if c["foreign_key"] and len(c["columns"]) == 1 and KEYS.get(c["columns"][0]) == c["foreign_key"][0]
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _row_keys(schema_editor):
        schema_editor.execute(f"ALTER TABLE tasks_assignment DROP CONSTRAINT {schema_editor.quote_name(name)}")
    schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BACKWARD, params=None)
    for column, table in KEYS.items():
        schema_editor.execute(
            f"ALTER TABLE tasks_assignment ADD CONSTRAINT tasks_assignment_{column}_fk_{table}_id "
            f"FOREIGN KEY ({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )


def _unconstrained(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(db_constraint=False, db_index=False, **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_unit_doc_prefix"),
        ("tasks", "0017_assignment_open_due"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="assignment",
                    name="campaign",
                    field=_unconstrained(
                        editable=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="assignments",
                        to="tasks.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="item",
                    field=_unconstrained(
                        on_delete=models.deletion.CASCADE,
                        related_name="assignments",
                        to="tasks.item",
                        verbose_name="item",
                    ),
                ),
                migrations.AlterField(
                    model_name="assignment",
                    name="unit",
                    field=_unconstrained(
                        on_delete=models.deletion.PROTECT,
                        related_name="assignments",
                        to="accounts.unit",
                        verbose_name="unit",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
