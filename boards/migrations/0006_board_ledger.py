"""The board rollup's history (``boards.BoardDelta``, docs/boards.md "As of a day"): the same triggers
as 0005, replaced (PostgreSQL) or joined by row-level ones (SQLite), now also add each change's −old and
+new counts to the ledger under the local day of the change: the row's new ``updated_at`` when its writer
set it, else the transaction's clock (a deletion: the clock). An item moved to another line of action
moves its assignments' counts on that day. Back-filled from the recorded history: the audit events'
statuses and due dates with their time, the submit events' days, ``acknowledged_at``; the present state
is reached at the row's ``updated_at`` (writers without an audit event).
"""
# ruff: noqa: S608 (only this module's constants and the settings' time zone are interpolated into its SQL)

import importlib
import re
from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

rollup = importlib.import_module("boards.migrations.0005_board_rollup")
COUNTS, NAMES, COUNTED = rollup.COUNTS, rollup.NAMES, rollup.COUNTED
LKEY = "campaign_id, unit_id, action_id, due_date, day"
TZ = settings.TIME_ZONE
if not re.fullmatch(r"[A-Za-z0-9_/+-]+", TZ):
    raise ValueError(f"TIME_ZONE {TZ!r} is not a time zone name")
ZERO = " AND ".join(f"r.{c} = 0" for c in COUNTS)


def _local(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE '{TZ}')::date"


def _changed(new: str, old: str) -> str:
    """The day of a change from ``old`` to ``new``: the new ``updated_at`` if the writer set it, else now."""
    return _local(f"CASE WHEN {new}.updated_at IS DISTINCT FROM {old}.updated_at THEN {new}.updated_at ELSE now() END")


def _ledger_rows(table: str, sign: str, day: str, join: str = "") -> str:
    return (
        f"SELECT a.campaign_id, a.unit_id, i.action_id, a.due_date, {day} AS day, {rollup._counts('a', sign)} "
        f"FROM {table} a {join} JOIN tasks_item i ON i.id = a.item_id WHERE {COUNTED.format(a='a')}"
    )


def _ledger_apply(rows: str, touched: str | None = None, guard: str = "") -> str:
    changed = " OR ".join(f"SUM(d.{c}) <> 0" for c in COUNTS)
    sql = f"""
    INSERT INTO boards_boarddelta AS r ({LKEY}, {NAMES})
    SELECT d.campaign_id, d.unit_id, d.action_id, d.due_date, d.day, {", ".join(f"SUM(d.{c})" for c in COUNTS)}
    FROM ({rows}) d
    GROUP BY 1, 2, 3, 4, 5
    HAVING ({changed}){guard}
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ({LKEY}) DO UPDATE SET {", ".join(f"{c} = r.{c} + EXCLUDED.{c}" for c in COUNTS)};"""
    if touched:  # a −1 and a +1 on the same day and key leave a row of zeros: gone
        sql += f"""
    DELETE FROM boards_boarddelta r USING (SELECT DISTINCT campaign_id, unit_id FROM {touched}) k
    WHERE r.campaign_id = k.campaign_id AND r.unit_id = k.unit_id AND {ZERO};"""
    return sql


UPDATED_ROWS = (
    _ledger_rows("new_rows", "", _changed("a", "o"), "JOIN old_rows o ON o.id = a.id")
    + " UNION ALL "
    + _ledger_rows("old_rows", "-", _changed("n", "a"), "JOIN new_rows n ON n.id = a.id")
)
# a deletion is counted only while the campaign's ledger is there: Django deletes a campaign's ledger
# and its assignments in either order
DELETED_GUARD = " AND EXISTS (SELECT 1 FROM boards_boarddelta x WHERE x.campaign_id = d.campaign_id)"
MOVED_ITEMS = f"""SELECT o.id, o.action_id AS old_action, n.action_id AS new_action, {_changed("n", "o")} AS day
    FROM old_items o JOIN new_items n ON n.id = o.id AND n.action_id <> o.action_id"""


def _moved_rows() -> str:
    def side(action: str, sign: str) -> str:
        return (
            f"SELECT a.campaign_id, a.unit_id, m.{action} AS action_id, a.due_date, m.day, {rollup._counts('a', sign)} "
            f"FROM tasks_assignment a JOIN ({MOVED_ITEMS}) m ON m.id = a.item_id WHERE {COUNTED.format(a='a')}"
        )

    return side("old_action", "-") + " UNION ALL " + side("new_action", "")


POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION boards_rollup_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{rollup._apply(rollup._rows("new_rows", ""))}
{_ledger_apply(_ledger_rows("new_rows", "", _local("a.updated_at")))}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION boards_rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{rollup._apply(rollup._rows("new_rows", "") + " UNION ALL " + rollup._rows("old_rows", "-"))}
{rollup.PRUNE}
{_ledger_apply(UPDATED_ROWS, "(SELECT campaign_id, unit_id FROM old_rows UNION SELECT campaign_id, unit_id FROM new_rows) t")}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION boards_rollup_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{rollup._apply(rollup._rows("old_rows", "-"))}
{rollup.PRUNE}
{_ledger_apply(_ledger_rows("old_rows", "-", _local("now()")), "old_rows", DELETED_GUARD)}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION boards_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM boards_boardcount;
    DELETE FROM boards_boarddelta;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION boards_rollup_items_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.action_id <> o.action_id) THEN
        DELETE FROM boards_boardcount r USING ({rollup.MOVED}) m WHERE r.campaign_id = m.campaign_id AND r.action_id = m.action_id;
{rollup._recompute(f"(a.campaign_id, i.action_id) IN ({rollup.MOVED})", rollup.ADD_CONFLICT)}
{_ledger_apply(_moved_rows())}
    END IF;
    RETURN NULL;
END $$;
"""
# 0005's functions, as they were
POSTGRESQL_BACKWARD = rollup.POSTGRESQL.split("CREATE TRIGGER", 1)[0].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)

# SQLite keeps its datetimes as UTC text and has no time zone database: the zone's offset now
OFFSET = int(datetime.now(ZoneInfo(TZ)).utcoffset().total_seconds() // 60)


def _sqlite_day(ts: str) -> str:
    return f"date({ts}, '{OFFSET:+d} minutes')"


SQLITE_CHANGED = _sqlite_day(
    "CASE WHEN NEW.updated_at IS NOT OLD.updated_at THEN NEW.updated_at ELSE datetime('now') END"
)


def _sqlite_ledger(a: str, sign: str, day: str, action: str = "i.action_id", where: str = "") -> str:
    values = ", ".join(
        f"{sign}1" if e == "1" else f"{sign}(CASE WHEN {e.format(a=a)} THEN 1 ELSE 0 END)" for e in COUNTS.values()
    )
    zero = " AND ".join(f"{c} = 0" for c in COUNTS)
    return f"""
    INSERT INTO boards_boarddelta ({LKEY}, {NAMES})
    SELECT {a}.campaign_id, {a}.unit_id, {action}, {a}.due_date, {day}, {values}
    FROM tasks_item i WHERE i.id = {a}.item_id {where}
    ON CONFLICT ({LKEY}) DO UPDATE SET {", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTS)};
    DELETE FROM boards_boarddelta WHERE campaign_id = {a}.campaign_id AND unit_id = {a}.unit_id
        AND due_date = {a}.due_date AND day = {day} AND {zero};"""


def _sqlite_moved(side: str, sign: str) -> str:
    """An item's assignments' counts taken from its old line (``side`` "OLD", −) or given to its new one."""
    values = ", ".join(
        f"{sign}COUNT(*)" if e == "1" else f"{sign}SUM(CASE WHEN {e.format(a='a')} THEN 1 ELSE 0 END)"
        for e in COUNTS.values()
    )
    return f"""CREATE TRIGGER boards_ledger_item_moved_{side.lower()} AFTER UPDATE OF action_id ON tasks_item
    WHEN OLD.action_id <> NEW.action_id BEGIN
    INSERT INTO boards_boarddelta ({LKEY}, {NAMES})
    SELECT a.campaign_id, a.unit_id, {side}.action_id, a.due_date, {SQLITE_CHANGED}, {values}
    FROM tasks_assignment a WHERE a.item_id = NEW.id AND {COUNTED.format(a="a")}
    GROUP BY a.campaign_id, a.unit_id, a.due_date
    ON CONFLICT ({LKEY}) DO UPDATE SET {", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTS)};
    END"""


SQLITE_MOVED = [_sqlite_moved("OLD", "-"), _sqlite_moved("NEW", "")]
SQLITE = [
    f"""CREATE TRIGGER boards_ledger_inserted AFTER INSERT ON tasks_assignment
    WHEN {COUNTED.format(a="NEW")} BEGIN {_sqlite_ledger("NEW", "", _sqlite_day("NEW.updated_at"))} END""",
    f"""CREATE TRIGGER boards_ledger_deleted AFTER DELETE ON tasks_assignment
    WHEN {COUNTED.format(a="OLD")} AND EXISTS (SELECT 1 FROM boards_boarddelta x WHERE x.campaign_id = OLD.campaign_id)
    BEGIN {_sqlite_ledger("OLD", "-", _sqlite_day("datetime('now')"))} END""",
    f"""CREATE TRIGGER boards_ledger_updated_old AFTER {rollup.SQLITE_KEYED} ON tasks_assignment
    WHEN {COUNTED.format(a="OLD")} BEGIN {_sqlite_ledger("OLD", "-", SQLITE_CHANGED)} END""",
    f"""CREATE TRIGGER boards_ledger_updated_new AFTER {rollup.SQLITE_KEYED} ON tasks_assignment
    WHEN {COUNTED.format(a="NEW")} BEGIN {_sqlite_ledger("NEW", "", SQLITE_CHANGED)} END""",
    *SQLITE_MOVED,
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS boards_ledger_{name}"
    for name in ("inserted", "deleted", "updated_old", "updated_new", "item_moved_old", "item_moved_new")
]


# --- back-fill from the recorded history -----------------------------------------------------------


def _counts(status: str, due: date, submitted_on: date | None, acked: bool) -> dict[str, int]:
    on_time = submitted_on is not None and submitted_on <= due
    return {
        "total": 1,
        "pending": status == "pending",
        "in_progress": status == "in_progress",
        "submitted": status == "submitted",
        "returned": status == "returned",
        "accepted": status == "accepted",
        "submitted_on_time": status == "submitted" and on_time,
        "accepted_on_time": status == "accepted" and on_time,
        "unacknowledged": not acked,
    }


def _date(value) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def backfill(apps, schema_editor):
    """Each counted assignment's states walked through its audited changes, each change a −old/+new on
    its local day, ending in the row's present state (so the ledger sums to the rollup)."""
    Assignment = apps.get_model("tasks", "Assignment")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    BoardDelta = apps.get_model("boards", "BoardDelta")
    zone = ZoneInfo(TZ)

    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    events = defaultdict(list)
    kind = ContentType.objects.filter(app_label="tasks", model="assignment").first()
    if kind is not None:
        for pk, at, changes in (
            AuditEvent.objects.filter(content_type=kind).order_by("at", "id").values_list("object_id", "at", "changes")
        ):
            if isinstance(changes, dict) and ("status" in changes or "due_date" in changes):
                events[pk].append((at, changes))
    ledger: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))

    def add(key: tuple, when: date, counts: dict[str, int], sign: int) -> None:
        row = ledger[(*key, when)]
        for name, n in counts.items():
            row[name] += sign * int(n)

    rows = Assignment.objects.filter(is_active=True, parent__isnull=True).values_list(
        "id",
        "campaign_id",
        "unit_id",
        "item__action_id",
        "due_date",
        "status",
        "submitted_on",
        "acknowledged_at",
        "created_at",
        "updated_at",
    )
    for pk, campaign, unit, action, due, status, submitted_on, acked_at, created, updated in rows.iterator(5000):
        key = (campaign, unit, action)
        history = events.get(pk, [])
        first_status = next((c["status"][0] for _, c in history if "status" in c), status)
        first_due = next((_date(c["due_date"][0]) for _, c in history if "due_date" in c), None) or due
        submits = any("status" in c and c["status"][1] == "submitted" for _, c in history)
        state = [
            first_status,
            first_due,
            None if submits else submitted_on,
            acked_at is not None and acked_at <= created,
        ]
        add((*key, state[1]), day(created), _counts(*state), 1)
        points = [(at, c) for at, c in history if at >= created]
        if acked_at is not None and acked_at > created:
            points.append((acked_at, {"acknowledged": True}))
        points.sort(key=lambda p: p[0])
        for at, changes in points:
            before = list(state)
            if "status" in changes:
                state[0] = changes["status"][1]
                if state[0] == "submitted":
                    state[2] = day(at)
            if "due_date" in changes:
                state[1] = _date(changes["due_date"][1]) or state[1]
            if "acknowledged" in changes:
                state[3] = True
            if before != state:
                add((*key, before[1]), day(at), _counts(*before), -1)
                add((*key, state[1]), day(at), _counts(*state), 1)
        present = [status, due, submitted_on, acked_at is not None]
        if present != state:  # changed without an audit event (a raw writer): at its last write
            when = day(max(updated, points[-1][0])) if points else day(updated)
            add((*key, state[1]), when, _counts(*state), -1)
            add((*key, present[1]), when, _counts(*present), 1)
    BoardDelta.objects.bulk_create(
        (
            BoardDelta(campaign_id=c, unit_id=u, action_id=a, due_date=d, day=w, **counts)
            for (c, u, a, d, w), counts in ledger.items()
            if any(counts.values())
        ),
        batch_size=5000,
    )


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRESQL] if vendor == "postgresql" else SQLITE if vendor == "sqlite" else []
    backfill(apps, schema_editor)
    for sql in statements:
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        schema_editor.execute("ANALYZE boards_boarddelta", params=None)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRESQL_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_security_events"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0002_unit_doc_prefix"),
        ("boards", "0005_board_rollup"),
        ("tasks", "0016_assignment_updated_order"),
    ]

    operations = [
        migrations.CreateModel(
            name="BoardDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("due_date", models.DateField(verbose_name="due date")),
                ("day", models.DateField(verbose_name="day of the change")),
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
                "verbose_name": "board change",
                "verbose_name_plural": "board changes",
                "indexes": [models.Index(fields=["campaign", "day"], name="boarddelta_since")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "unit", "action", "due_date", "day"), name="boarddelta_key"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
