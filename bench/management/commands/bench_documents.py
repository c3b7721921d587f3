"""``manage.py bench_documents``: see ``bench.documents``."""

from bench.documents import Command

__all__ = ["Command"]
