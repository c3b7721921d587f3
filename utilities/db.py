"""Database paths where PostgreSQL does better, behind one switch.

``fast_paths()`` is True on PostgreSQL unless ``DB_FAST_PATHS=0``; every caller keeps a portable
path that SQLite (the embedded default) uses, and the tests run both on PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
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


def bulk_insert(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], batch_size: int = 2000
) -> int:
    """Insert many rows given as tuples in ``fields`` order; COPY on PostgreSQL, bulk_create elsewhere."""
    rows = list(rows)
    if not rows:
        return 0
    if fast_paths():
        columns = [model._meta.get_field(f).column for f in fields]
        buffer = io.StringIO()
        # Rows repeat the same few values (a campaign id, a date, a timestamp): format each once.
        seen: dict[tuple[type, object], str] = {}

        def text(value) -> str:
            key = (type(value), value)
            if (found := seen.get(key)) is None:
                found = seen[key] = _copy_value(value)
            return found

        for row in rows:
            buffer.write("\t".join(map(text, row)))
            buffer.write("\n")
        buffer.seek(0)
        quote = connection.ops.quote_name
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)
        return len(rows)
    attnames = [model._meta.get_field(f).attname for f in fields]
    model.objects.bulk_create((model(**dict(zip(attnames, row, strict=False))) for row in rows), batch_size=batch_size)
    return len(rows)
