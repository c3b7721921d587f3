"""``manage.py bench_supervision``: see ``bench.supervision``."""

from bench.supervision import Command

__all__ = ["Command"]
