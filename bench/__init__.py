"""Benchmarks and synthetic data: tools that measure the application, not part of it (docs/architecture.md).

``province.py`` builds the synthetic province every benchmark measures and guards the scratch
databases they run on (``claim_scratch``); ``timing.py`` times calls and requests and holds what the
commands share (``BenchCommand``); one module per area holds what is its own, with its command
(``plan_import``, ``lists``, ``supervision``, ``reminders`` with ``worker``, ``boards`` with
``aggregates``, ``load`` for ``seed_load``), and the files in ``management/commands/`` only name them.
Nothing in the apps imports this package.
"""
