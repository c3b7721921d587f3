"""Django's PostgreSQL backend, its SELECT statements kept by shape (``utilities.backends.kept``) and, with
``PREPARED_SQL`` on, run as prepared statements (``utilities.backends.postgresql.prepared``)."""

from django.conf import settings
from django.db.backends.postgresql import base, operations, schema

from utilities.backends.postgresql.prepared import PreparingConnection, PreparingCursor


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "utilities.backends.postgresql.compiler"

    def last_executed_query(self, cursor, sql, params):
        # a prepared statement's run is "EXECUTE kept_n(…)": show the statement as written, as for the others
        sent = getattr(cursor, "sent", None)
        if sent is not None:
            return cursor.mogrify(*sent).decode()
        return super().last_executed_query(cursor, sql, params)


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def __enter__(self):
        # a table's columns may change: the statements prepared over them go
        raw = self.connection.connection
        if isinstance(raw, PreparingConnection):
            raw.forget()
        return super().__enter__()


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    SchemaEditorClass = DatabaseSchemaEditor

    def get_connection_params(self):
        params = super().get_connection_params()
        if settings.PREPARED_SQL:
            params["connection_factory"] = PreparingConnection
            params["cursor_factory"] = PreparingCursor
        return params
