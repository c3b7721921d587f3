"""``manage.py bench_mix``: see ``bench.mix``."""

from bench.mix import Command

__all__ = ["Command"]
