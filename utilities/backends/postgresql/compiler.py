"""Django's PostgreSQL compilers, the SELECT one keeping its statements by shape."""

from django.db.backends.postgresql import compiler
from django.db.backends.postgresql.compiler import (  # noqa: F401 (the backend's other compilers)
    SQLAggregateCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)

from utilities.backends.kept import kept_compiler

SQLCompiler = kept_compiler(compiler.SQLCompiler)
