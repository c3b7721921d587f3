"""Django's PostgreSQL compilers, the SELECT one keeping its statements by shape and marking them to be
prepared (``utilities.backends.postgresql.prepared``)."""

from django.db.backends.postgresql import compiler
from django.db.backends.postgresql.compiler import (  # noqa: F401 (the backend's other compilers)
    SQLAggregateCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)

from utilities.backends.kept import kept_compiler
from utilities.backends.postgresql.prepared import mark

SQLCompiler = kept_compiler(compiler.SQLCompiler, marks=mark)
