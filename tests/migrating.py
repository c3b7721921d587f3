"""Moving the test database's schema to a migration and back, for the tests of a migration both ways."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]] | None) -> None:
    """To ``target`` ((app, migration) pairs), or with None forward to every app's latest."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes() if target is None else target)
