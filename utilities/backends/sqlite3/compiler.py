"""Django's compilers as SQLite uses them, the SELECT one keeping its statements by shape."""

from django.db.models.sql import compiler
from django.db.models.sql.compiler import (  # noqa: F401 (the backend's other compilers)
    SQLAggregateCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)

from utilities.backends.kept import kept_compiler

SQLCompiler = kept_compiler(compiler.SQLCompiler)
