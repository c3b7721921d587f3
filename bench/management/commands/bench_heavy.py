"""``manage.py bench_heavy``: see ``bench.heavy``."""

from bench.heavy import Command

__all__ = ["Command"]
