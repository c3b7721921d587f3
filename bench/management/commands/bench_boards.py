"""``manage.py bench_boards``: see ``bench.boards``."""

from bench.boards import Command

__all__ = ["Command"]
