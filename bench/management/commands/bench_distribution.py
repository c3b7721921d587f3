"""``manage.py bench_distribution``: see ``bench.distribution``."""

from bench.distribution import Command

__all__ = ["Command"]
