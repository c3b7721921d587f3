"""What the benchmarks' tests share: the scale curve's databases."""

from __future__ import annotations

import pytest


def _drop_scale_databases():
    from django.db import connection

    from bench.timing import SCALES, scale_suffix

    with connection.cursor() as cursor:
        for scale in SCALES:
            if suffix := scale_suffix(scale):
                name = connection.ops.quote_name(connection.settings_dict["NAME"] + suffix)
                cursor.execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def scale_databases():
    """The sizes' own databases the curve creates beside the test database, dropped afterwards."""
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("each size is its own PostgreSQL database")
    _drop_scale_databases()
    yield
    _drop_scale_databases()
