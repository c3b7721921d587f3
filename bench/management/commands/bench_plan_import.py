"""``manage.py bench_plan_import``: see ``bench.plan_import``."""

from bench.plan_import import Command

__all__ = ["Command"]
