"""``manage.py bench_cpu``: see ``bench.cpu``."""

from bench.cpu import Command

__all__ = ["Command"]
