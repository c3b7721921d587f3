"""Numbers as the reports write them (``stats.numbers``, issue 20 item 2): the examples of the reports,
and the round trip — a figure's text parsed back is the figure within the precision it shows."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stats import numbers
from stats.models import Indicator, Kind

pytestmark = pytest.mark.smoke


def ind(kind=Kind.COUNT, measure="人次", up=True) -> Indicator:
    return Indicator(name="指标", kind=kind, measure=measure, up_is_good=up)


@pytest.mark.parametrize(
    ("indicator", "value", "written"),
    [
        (ind(), 702, "702人次"),
        (ind(), 9999, "9999人次"),
        (ind(), 11_000, "1.1万人次"),
        (ind(), 65_500, "6.55万人次"),
        (ind(), 10_000, "1万人次"),
        (ind(measure="元", kind=Kind.MONEY), Decimal("1450000000"), "14.5亿元"),
        (ind(measure="万元", kind=Kind.MONEY), Decimal("9500000"), "950万元"),
        (ind(measure="万元", kind=Kind.MONEY), Decimal("1450000000"), "14.5亿元"),
        (ind(measure="元", kind=Kind.MONEY), Decimal("3500.5"), "3500.5元"),
        (ind(measure="克", kind=Kind.QUANTITY), Decimal("27.3"), "27.3克"),
        (ind(measure="%", kind=Kind.RATE), Decimal("35"), "35.0%"),
        (ind(measure="%", kind=Kind.RATE), Decimal("72.11"), "72.1%"),
        (ind(), None, "—"),
    ],
)
def test_figures_read_as_the_reports_write_them(indicator, value, written):
    assert numbers.text(indicator, value) == written


@pytest.mark.parametrize(
    ("indicator", "now", "before", "said"),
    [
        (ind(), 124, 100, "同比增长24%"),
        (ind(up=False, measure="起"), 124, 100, "同比上升24%"),
        (ind(up=False, measure="起"), 752, 1000, "同比下降24.8%"),
        (ind(), 100, 100, "同比持平"),
        (ind(), 5, 0, ""),
        (ind(kind=Kind.RATE, measure="%"), Decimal("95"), Decimal("95"), "同比持平"),
    ],
)
def test_comparisons_as_the_reports_word_them(indicator, now, before, said):
    assert numbers.words("同比", indicator, now, before) == said


KINDS = st.sampled_from(
    [
        ind(),
        ind(measure="起", up=False),
        ind(kind=Kind.QUANTITY, measure="克"),
        ind(kind=Kind.QUANTITY, measure="公里"),
        ind(kind=Kind.MONEY, measure="元"),
        ind(kind=Kind.MONEY, measure="万元"),
        ind(kind=Kind.MONEY, measure="亿元"),
        ind(kind=Kind.RATE, measure="%"),
    ]
)


def _precision(written: str, indicator: Indicator) -> Decimal:
    """Half of the last digit the text shows, in stored units (元 for money): "6.55万人次" → 50."""
    digits = re.search(r"[0-9.]+", written).group()
    places = len(digits.split(".")[1]) if "." in digits else 0
    one = numbers.parse(written.replace(digits, "1", 1), indicator)  # what 1 is in the text's unit (1万: 10,000)
    return one * Decimal(10) ** -places / 2


@given(indicator=KINDS, value=st.decimals(min_value=0, max_value=10**14, places=2, allow_nan=False))
def test_a_text_parses_back_to_its_figure_within_its_shown_precision(indicator, value):
    if indicator.kind == Kind.COUNT:
        value = value.to_integral_value()
    if indicator.kind == Kind.RATE:
        value = min(value, Decimal(100))
    written = numbers.text(indicator, value)
    back = numbers.parse(written, indicator)
    assert abs(back - value) <= _precision(written, indicator), (written, back, value)


@given(indicator=KINDS, typed=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_what_is_entered_is_stored_exactly_and_shown_back_as_entered(indicator, typed):
    if indicator.kind == Kind.COUNT:
        typed = typed.to_integral_value()
    if indicator.kind == Kind.RATE:
        typed = min(typed, Decimal(100))
    stored, problem = numbers.entered(str(typed), indicator)
    assert problem is None
    assert stored == typed * indicator.scale  # money in 元, exactly
    assert numbers.shown(indicator, stored) == typed  # the form's field shows it as typed
    assert "E" not in str(numbers.shown(indicator, stored))  # 1000, never 1E+3


def test_the_api_value_is_exact():
    money = ind(kind=Kind.MONEY, measure="万元")
    assert numbers.raw(money, Decimal("9505000.0000")) == "9505000.00"
    assert numbers.raw(ind(), Decimal("12.0000")) == 12
    assert numbers.raw(ind(kind=Kind.QUANTITY, measure="克"), Decimal("27.3000")) == "27.3"
    assert numbers.raw(ind(), None) is None
