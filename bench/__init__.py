"""Benchmarks and synthetic data: tools that measure the application, not part of it (docs/architecture.md).

``province.py`` builds the synthetic province every benchmark measures and guards the scratch
databases they run on; ``timing.py`` times requests and calls; one module per area holds what is its
own, with its command (``manage.py bench_lists`` …, ``seed_load``), and the files in
``management/commands/`` only name them. Nothing in the apps imports this package.
"""
