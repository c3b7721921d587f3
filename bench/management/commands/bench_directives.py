"""``manage.py bench_directives``: see ``bench.directives``."""

from bench.directives import Command

__all__ = ["Command"]
