"""Database paths where PostgreSQL does better, behind one switch.

``fast_paths()`` is True on PostgreSQL unless ``DB_FAST_PATHS=0``; every caller keeps a portable
path that SQLite (the embedded default) uses, and the tests run both on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, models


def fast_paths() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "DB_FAST_PATHS", True)


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


COPY_READ = 1 << 16  # bytes handed to COPY per read


class _Reader:
    """COPY's input as a file that formats its rows as they are read: the whole text is never held (as a
    ``StringIO`` it took 4 bytes a character: ≈45 MB for a province's 114,000 assignments)."""

    def __init__(self, parts: Iterator[str]) -> None:
        self._parts = parts
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        chunks, have = [self._pending], len(self._pending)
        while size < 0 or have < size:
            part = next(self._parts, None)
            if part is None:
                break
            data = part.encode()
            chunks.append(data)
            have += len(data)
        data = b"".join(chunks)
        if size < 0:
            self._pending = b""
            return data
        self._pending = data[size:]
        return data[:size]


def bulk_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    batch_size: int = 2000,
    constants: Mapping[str, object] | None = None,
) -> int:
    """Insert many rows given as tuples in ``fields`` order; COPY on PostgreSQL, bulk_create elsewhere.
    ``constants`` (field → value) are the columns every row has the same value in, given once."""
    rows = list(rows)
    if not rows:
        return 0
    constants = dict(constants or {})
    if fast_paths():
        columns = [model._meta.get_field(f).column for f in (*fields, *constants)]
        # the same in every row: formatted once, the row's end
        end = "".join(f"\t{_copy_value(v)}" for v in constants.values()) + "\n"
        # Rows repeat the same few values (a campaign id, a date, a timestamp): format each once.
        seen: dict[tuple[type, object], str] = {}

        def text(value) -> str:
            key = (type(value), value)
            if (found := seen.get(key)) is None:
                found = seen[key] = _copy_value(value)
            return found

        def lines() -> Iterator[str]:
            for start in range(0, len(rows), batch_size):
                yield "".join("\t".join(map(text, row)) + end for row in rows[start : start + batch_size])

        quote = connection.ops.quote_name
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, _Reader(lines()), size=COPY_READ)
        return len(rows)
    # Elsewhere (SQLite): one prepared INSERT run per row, the values made ready by their fields as a
    # model save does, without building model instances (bulk_create's cost on 100,000 rows).
    model_fields = [model._meta.get_field(f) for f in (*fields, *constants)]
    same = tuple(constants.values())
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in model_fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(model_fields))})"
    )
    preps = [field.get_db_prep_save for field in model_fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(
                sql,
                [
                    tuple(prep(value, connection) for prep, value in zip(preps, (*row, *same), strict=True))
                    for row in rows[start : start + batch_size]
                ],
            )
    return len(rows)
