"""Django's SQLite backend, its SELECT statements kept by shape (``utilities.backends.kept``)."""

from django.db.backends.sqlite3 import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "utilities.backends.sqlite3.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
