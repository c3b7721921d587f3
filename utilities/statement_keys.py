"""Foreign keys checked once per statement, not once per row (PostgreSQL), as tasks/0018 checks an
assignment's item, campaign and unit: the generic form, for a table whose rows are written thousands
at a time (the sweep's reminders and messages: notifications/0016; ``docs/architecture.md``, "Set-based").

PostgreSQL's own key queues one check per row and key, NULL ones too (a deferred one runs them at COMMIT, a
lookup each but for the NULLs). Here, for a table and its keys (column → referenced table, by its ``id``):

- after each INSERT statement, over its transition table, each key's distinct values are looked up
  once, locked ``FOR KEY SHARE`` in id order as a key locks them (the keys in the order of their
  referenced tables' names: two writers never deadlock here), and counted; only when one is missing is
  it looked for, to name it (SQLSTATE 23503, ``foreign_key_violation``, the constraint named ``name``);
- an UPDATE that changes a key is checked row by row, only such rows (a row trigger's ``WHEN`` is
  evaluated without calling it), as PostgreSQL's own keys skip the others;
- on each referenced table, a deferred row trigger (a constraint trigger: checked at COMMIT) refuses
  to take away a row that rows of the table still name, deleted or given another ``id`` (``WHEN
  OLD.id <> NEW.id``: never called otherwise — a user's row is updated at every sign-in, a reminder's
  by the digest). Not per statement as tasks/0018's: Django's collector orders its deletes by the
  non-null keys only, and these deletes are rare (``_kept``).

The inserts and key changes are checked at the end of each statement, not at COMMIT: a writer must
insert what is named before the rows naming it (the sweep does: reminders, then their messages).

The migrations call it: what it writes is what they installed, so change it only by adding to it.
SQLite (the embedded demo, one writer) keeps its row keys; Django's state says ``db_constraint=False``.
"""

# ruff: noqa: S608 (only table and column names given by migrations are interpolated into the SQL)

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatementKeys:
    """The keys of ``table`` checked per statement: ``keys`` maps a column to the table it names by
    ``id``; ``name`` names the constraint in errors, the triggers and (prefixed) the functions."""

    table: str
    keys: dict[str, str]
    name: str

    @property
    def ordered(self) -> list[tuple[str, str]]:
        """(column, referenced table) in the order the checks lock: by the referenced table's name."""
        return sorted(self.keys.items(), key=lambda kv: (kv[1], kv[0]))

    @property
    def referenced(self) -> list[str]:
        return sorted(set(self.keys.values()))

    def _fn(self, suffix: str) -> str:
        return f"{self.name}_{suffix}"

    def _ref_trigger(self, ref: str, suffix: str) -> str:
        """The name of a trigger on the referenced table ``ref``: ``{name}_{suffix}``, or, when the
        table names its own rows (an assignment's parent), ``{name}_referenced_{suffix}``, not to take
        the name of the table's own trigger."""
        return f"{self.name}_referenced_{suffix}" if ref == self.table else f"{self.name}_{suffix}"

    def _inserted(self) -> str:
        checks = []
        for column, ref in self.ordered:
            checks.append(f"""
    SELECT array_agg(DISTINCT r.{column}) FILTER (WHERE r.{column} IS NOT NULL) INTO ids FROM new_rows r;
    IF ids IS NOT NULL THEN
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM {ref} t WHERE t.id = ANY(ids) ORDER BY t.id FOR KEY SHARE
        ) l;
        IF found <> cardinality(ids) THEN
            SELECT m.id INTO found FROM unnest(ids) m (id)
            WHERE NOT EXISTS (SELECT 1 FROM {ref} t WHERE t.id = m.id) ORDER BY m.id LIMIT 1;
            RAISE foreign_key_violation USING
                CONSTRAINT = '{self.name}',
                MESSAGE = format('{self.table}.{column} names what does not exist: {ref} %s', found);
        END IF;
    END IF;""")
        return f"""
CREATE FUNCTION {self._fn("inserted")}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    found bigint;
BEGIN{"".join(checks)}
    RETURN NULL;
END $$;"""

    def _rekeyed(self) -> str:
        checks = []
        for column, ref in self.ordered:
            checks.append(f"""
    IF NEW.{column} IS NOT NULL AND NEW.{column} IS DISTINCT FROM OLD.{column} THEN
        PERFORM 1 FROM {ref} t WHERE t.id = NEW.{column} FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                CONSTRAINT = '{self.name}',
                MESSAGE = format('{self.table}.{column} names what does not exist: {ref} %s', NEW.{column});
        END IF;
    END IF;""")
        return f"""
CREATE FUNCTION {self._fn("rekeyed")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{"".join(checks)}
    RETURN NULL;
END $$;"""

    def _kept(self, ref: str) -> str:
        """The referenced table's side: a row gone (deleted, or given another id) that rows of ``table``
        still name. Row by row and deferred to COMMIT, unlike the inserts' check: Django's collector
        orders its deletes by the non-null keys only (a message's reminder, digest, event and unit
        may be NULL: it may delete an event before its messages), and these deletes are rare (users
        are deactivated, units kept, reminders and messages are the history) — each costs what
        PostgreSQL's own key cost, one probe of the naming table's index."""
        columns = [column for column, r in self.ordered if r == ref]
        checks = "".join(
            f"""
    SELECT a.id INTO bad FROM {self.table} a WHERE a.{column} = OLD.id LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            CONSTRAINT = '{self.name}',
            MESSAGE = format('{ref} %s is still named by {self.table} %s ({column})', OLD.id, bad.id);
    END IF;"""
            for column in columns
        )
        return f"""
CREATE FUNCTION {ref}_{self._fn("kept")}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF EXISTS (SELECT 1 FROM {ref} t WHERE t.id = OLD.id) THEN
        RETURN NULL;  -- another row took the id
    END IF;{checks}
    RETURN NULL;
END $$;"""

    def forward(self) -> str:
        """The SQL installing the functions and triggers (run after dropping the row keys)."""
        columns = ", ".join(column for column, _ref in self.ordered)
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column, _ref in self.ordered)
        sql = [self._inserted(), self._rekeyed()]
        sql += [self._kept(ref) for ref in self.referenced]
        sql.append(f"""
CREATE TRIGGER {self.name}_inserted AFTER INSERT ON {self.table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {self._fn("inserted")}();
CREATE TRIGGER {self.name}_updated AFTER UPDATE OF {columns} ON {self.table}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {self._fn("rekeyed")}();""")
        for ref in self.referenced:
            sql.append(f"""
CREATE CONSTRAINT TRIGGER {self._ref_trigger(ref, "deleted")} AFTER DELETE ON {ref} DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {ref}_{self._fn("kept")}();
CREATE CONSTRAINT TRIGGER {self._ref_trigger(ref, "updated")} AFTER UPDATE OF id ON {ref} DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION {ref}_{self._fn("kept")}();""")
        return "\n".join(sql)

    def backward(self) -> str:
        """The SQL taking them away (before adding the row keys back)."""
        sql = [
            f"DROP TRIGGER IF EXISTS {self.name}_inserted ON {self.table};",
            f"DROP TRIGGER IF EXISTS {self.name}_updated ON {self.table};",
        ]
        for ref in self.referenced:
            sql += [
                f"DROP TRIGGER IF EXISTS {self._ref_trigger(ref, 'deleted')} ON {ref};",
                f"DROP TRIGGER IF EXISTS {self._ref_trigger(ref, 'updated')} ON {ref};",
                f"DROP FUNCTION IF EXISTS {ref}_{self._fn('kept')}();",
            ]
        sql += [
            f"DROP FUNCTION IF EXISTS {self._fn('rekeyed')}();",
            f"DROP FUNCTION IF EXISTS {self._fn('inserted')}();",
        ]
        return "\n".join(sql)
