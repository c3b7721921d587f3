"""``manage.py bench_lists``: see ``bench.lists``."""

from bench.lists import Command

__all__ = ["Command"]
