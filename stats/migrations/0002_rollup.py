"""PostgreSQL: ``stats_rollup``, each unit's subtree totals per indicator and day, kept exact by triggers.

A row holds, for one campaign, indicator and day, the sum (and the number) of the figures of every
unit strictly below ``ancestor_id``; a row exists while there is such a figure, zeros included, so
that a column whose figures are all 0 shows 0 as the portable queries do. The totals of the units under a chosen one then read one rollup row per child (its
subtree below it) plus the own figures of the chosen unit and its children, instead of every figure
of the subtree: the province's whole campaign is ≈12,000 rows instead of ≈1.6 million (docs/boards.md).

It is maintained in the writing transaction by statement-level triggers on ``stats_figure`` (insert,
update, delete: the changed rows' values, set-based, through the transition tables; truncate: empty),
so a figure just reported is in the totals at once, whoever wrote it (the services, the sheet upload,
bulk loads, COPY). The writers of one campaign take the same advisory lock before touching its rollup
rows (the insert and update triggers of one upsert would otherwise lock rows in two passes, and two
such statements could deadlock). A transaction that changes units' paths (a unit moved in the tree,
e.g. by a units file) has the rollup rebuilt once, when it commits (a deferred constraint trigger;
≈5 s for 3.3 million figures). No foreign keys: Django's flush truncates the tables it knows without
this one (the truncate trigger empties it). SQLite has none of this; ``stats.queries`` reads the
figures there (and wherever ``utilities.db.fast_paths()`` is off).
"""

from django.db import migrations

LOCK = 7301  # first key of pg_advisory_xact_lock(LOCK, campaign id): the rollup's writers of a campaign
STEP = 4  # accounts.Unit.steplen: the path of the ancestor at depth k is SUBSTR(path, 1, STEP * k)

APPLY = """
    PERFORM pg_advisory_xact_lock({lock}, c.campaign_id::integer)
        FROM (SELECT DISTINCT campaign_id FROM ({rows}) d ORDER BY 1) c;
    INSERT INTO stats_rollup AS r (campaign_id, ancestor_id, indicator_id, day, total, figures)
    SELECT d.campaign_id, a.id, d.indicator_id, d.day, SUM(d.value), SUM(d.n)
    FROM ({rows}) d
    JOIN accounts_unit u ON u.id = d.unit_id
    CROSS JOIN LATERAL generate_series(1, u.depth - 1) AS k(level)
    JOIN accounts_unit a ON a.path = SUBSTR(u.path, 1, {step} * k.level)
    GROUP BY d.campaign_id, a.id, d.indicator_id, d.day
    HAVING SUM(d.value) <> 0 OR SUM(d.n) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (campaign_id, ancestor_id, indicator_id, day)
        DO UPDATE SET total = r.total + EXCLUDED.total, figures = r.figures + EXCLUDED.figures;
"""
NEW = "SELECT campaign_id, unit_id, indicator_id, day, value::bigint AS value, 1 AS n FROM new_rows"
OLD = "SELECT campaign_id, unit_id, indicator_id, day, -value::bigint AS value, -1 AS n FROM old_rows"


def _apply(rows: str) -> str:
    return APPLY.format(lock=LOCK, rows=rows, step=STEP)


FORWARD = f"""
CREATE TABLE stats_rollup (
    campaign_id bigint NOT NULL,
    ancestor_id bigint NOT NULL,
    indicator_id bigint NOT NULL,
    day date NOT NULL,
    total bigint NOT NULL,
    figures integer NOT NULL,
    PRIMARY KEY (campaign_id, ancestor_id, indicator_id, day)
);
COMMENT ON TABLE stats_rollup IS 'Per campaign, unit, indicator and day: the sum (total) and number (figures) of the figures of the units strictly below the unit. Kept by triggers on stats_figure (stats migration 0002).';

CREATE FUNCTION stats_rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK}, c.id::integer) FROM (SELECT id FROM tasks_campaign ORDER BY 1) c;
    DELETE FROM stats_rollup;
    INSERT INTO stats_rollup (campaign_id, ancestor_id, indicator_id, day, total, figures)
    SELECT f.campaign_id, a.id, f.indicator_id, f.day, SUM(f.value), COUNT(*)
    FROM stats_figure f
    JOIN accounts_unit u ON u.id = f.unit_id
    CROSS JOIN LATERAL generate_series(1, u.depth - 1) AS k(level)
    JOIN accounts_unit a ON a.path = SUBSTR(u.path, 1, {STEP} * k.level)
    GROUP BY f.campaign_id, a.id, f.indicator_id, f.day;
END $$;

CREATE FUNCTION stats_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(NEW)}
    RETURN NULL;
END $$;

CREATE FUNCTION stats_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(NEW + " UNION ALL " + OLD)}
    RETURN NULL;
END $$;

CREATE FUNCTION stats_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_apply(OLD)}
    DELETE FROM stats_rollup WHERE figures = 0 AND campaign_id IN (SELECT DISTINCT campaign_id FROM old_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION stats_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM stats_rollup;
    RETURN NULL;
END $$;

CREATE TABLE stats_rollup_stale (txid bigint PRIMARY KEY);
COMMENT ON TABLE stats_rollup_stale IS 'A transaction that moved units: stats_rollup is rebuilt when it commits (stats migration 0002).';

CREATE FUNCTION stats_rollup_units_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_units o JOIN new_units n ON n.id = o.id WHERE n.path <> o.path) THEN
        INSERT INTO stats_rollup_stale VALUES (txid_current()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION stats_rollup_stale_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM stats_rollup_stale WHERE txid = NEW.txid;
    PERFORM stats_rollup_rebuild();
    RETURN NULL;
END $$;

CREATE TRIGGER stats_rollup_inserted AFTER INSERT ON stats_figure
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_inserted();
CREATE TRIGGER stats_rollup_updated AFTER UPDATE ON stats_figure
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_updated();
CREATE TRIGGER stats_rollup_deleted AFTER DELETE ON stats_figure
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_deleted();
CREATE TRIGGER stats_rollup_truncated AFTER TRUNCATE ON stats_figure
    FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated();
CREATE TRIGGER stats_rollup_units_moved AFTER UPDATE ON accounts_unit
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_units_moved();
CREATE CONSTRAINT TRIGGER stats_rollup_stale_rebuild AFTER INSERT ON stats_rollup_stale
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stats_rollup_stale_rebuild();

SELECT stats_rollup_rebuild();
ANALYZE stats_rollup;
"""  # noqa: S608 (only constants of this module are interpolated)

BACKWARD = """
DROP TRIGGER IF EXISTS stats_rollup_units_moved ON accounts_unit;
DROP TABLE IF EXISTS stats_rollup_stale;
DROP TRIGGER IF EXISTS stats_rollup_truncated ON stats_figure;
DROP TRIGGER IF EXISTS stats_rollup_deleted ON stats_figure;
DROP TRIGGER IF EXISTS stats_rollup_updated ON stats_figure;
DROP TRIGGER IF EXISTS stats_rollup_inserted ON stats_figure;
DROP FUNCTION IF EXISTS stats_rollup_stale_rebuild();
DROP FUNCTION IF EXISTS stats_rollup_units_moved();
DROP FUNCTION IF EXISTS stats_rollup_truncated();
DROP FUNCTION IF EXISTS stats_rollup_deleted();
DROP FUNCTION IF EXISTS stats_rollup_updated();
DROP FUNCTION IF EXISTS stats_rollup_inserted();
DROP FUNCTION IF EXISTS stats_rollup_rebuild();
DROP TABLE IF EXISTS stats_rollup;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_unit_doc_prefix"),
        ("tasks", "0007_assignment_submitted_on_campaign_compare_to"),
        ("stats", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
