"""``manage.py seed_load``: see ``bench.load``."""

from bench.load import Command

__all__ = ["Command"]
