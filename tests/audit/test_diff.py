"""``audit.diff``: what changed, as values — an amount typed as 60 is the stored 60.00."""

from datetime import date
from decimal import Decimal

from audit.services import diff


def test_equal_amounts_written_differently_are_no_change():
    assert diff({"target": Decimal("60.00")}, {"target": Decimal("60")}) == {}
    assert diff({"target": Decimal("60.00")}, {"target": 60}) == {}
    assert diff({"target": Decimal("60.00")}, {"target": Decimal("60.5")}) == {"target": ["60.00", "60.5"]}


def test_other_values_compare_as_written_down():
    assert diff({"due": date(2026, 8, 31)}, {"due": date(2026, 8, 31)}) == {}
    assert diff({"due": date(2026, 8, 31)}, {"due": date(2026, 9, 1)}) == {"due": ["2026-08-31", "2026-09-01"]}
    assert diff({}, {"note": "新"}) == {"note": [None, "新"]}
