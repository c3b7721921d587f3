"""``manage.py bench_reminders``: see ``bench.reminders``."""

from bench.reminders import Command

__all__ = ["Command"]
