"""Figures as the reports write them (docs/figures.md), and figures as units type them: one module for
the pages, the bulletin, the XLSX export and the API's ``text`` fields. Decimal throughout, no floats.

- ``entered``: what a unit typed (or a sheet's cell) → the stored value of an indicator of its kind, or
  what is wrong with it (every kind: not negative; a count whole; money in the indicator's measure,
  converted to 元 exactly; a rate in percent).
- ``text``: a stored value as a report writes it: 702人次, 1.1万人次, 6.55万人次, 14.5亿元, 27.3克, 35.0%.
- ``parse``: such a text back to the stored value (within its shown precision).
- ``change``/``words``: 同比增长24.8%, 同比上升 (what should not rise), 同比持平, a rate's 个百分点.
- ``raw``: the value in the API: a count an integer (as before), the other kinds an exact decimal string.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from .models import MONEY_UNITS, Indicator, Kind

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
# the stored column (max_digits 20, decimal_places 4) holds 16 whole digits; a day's figure is far below
MAX_STORED = Decimal(10) ** 15
PLACES = {Kind.COUNT: 0, Kind.QUANTITY: 3, Kind.MONEY: 2, Kind.RATE: 2}  # decimals stored, in its unit
EXAMPLES = {Kind.COUNT: "12", Kind.QUANTITY: "27.3", Kind.MONEY: "950.5", Kind.RATE: "72.11"}

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def expected(indicator: Indicator) -> str:
    """What a figure of ``indicator`` should be, in a refusal's words."""
    kind = indicator.kind
    if kind == Kind.COUNT:
        return "应为不小于0的整数"
    if kind == Kind.QUANTITY:
        return f"应为不小于0的数（单位{indicator.measure}，最多{PLACES[kind]}位小数，如{EXAMPLES[kind]}）"
    if kind == Kind.MONEY:
        places = _money_places(indicator)
        return f"应为不小于0的金额（单位{indicator.measure}，最多{places}位小数，如{EXAMPLES[kind]}）"
    return f"应为0至100之间的百分数（最多{PLACES[kind]}位小数，如{EXAMPLES[kind]}，不带%）"


def _money_places(indicator: Indicator) -> int:
    """Decimals a money figure may have in its measure: 元 to the 分 (万元: 6, 亿元: 10)."""
    return PLACES[Kind.MONEY] + len(str(int(indicator.scale))) - 1


def to_decimal(value) -> Decimal | None:
    """A number typed, posted or read from a cell, exactly: an int, a Decimal, a string ("1,234.5",
    full-width commas), a float from a spreadsheet cell (its shortest repr: 27.3, not 27.299999…)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the cell's number as shown, never its binary expansion
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
        if len(text) > 10_000 or not _NUMBER.fullmatch(text):  # Decimal reads any length, unlike int()
            return None
        number = Decimal(text)
    else:
        return None
    return number if number.is_finite() else None


def entered(value, indicator: Indicator) -> tuple[Decimal | None, str | None]:
    """The stored value of what was entered for ``indicator``, or what is wrong with it (its words name
    what is expected; the caller names the field)."""
    if indicator.computed:
        return None, f"由{indicator.numerator.name}÷{indicator.denominator.name}计算，不需填报"
    typed = value
    if indicator.kind == Kind.RATE and isinstance(value, str) and value.strip().endswith(("%", "％")):
        typed = value.strip()[:-1]  # 95% as written
    number = to_decimal(typed)
    shown = str(value)[:20] + ("…" if len(str(value)) > 20 else "")
    if number is None:
        return None, f"“{shown}”不是数字：{expected(indicator)}"
    places = _money_places(indicator) if indicator.kind == Kind.MONEY else PLACES[indicator.kind]
    if number < 0 or _places(number) > places:
        return None, f"“{shown}”{expected(indicator)}"
    if indicator.kind == Kind.RATE and number > 100:
        return None, f"“{shown}”{expected(indicator)}"
    stored = number * indicator.scale
    limit = Decimal(2_000_000_000) if indicator.kind == Kind.COUNT else MAX_STORED
    if stored > limit:
        return None, f"{shown}超出合理范围"
    return stored, None


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- as reports write them ------------------------------------------------------------------------


def _strip(number: Decimal) -> str:
    """A decimal without trailing zeros, never in exponent form: 27.300 → 27.3, 1E+3 → 1000."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _in(number: Decimal, unit: Decimal, places: int = 2) -> str:
    return _strip((number / unit).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def scaled(number: Decimal) -> str:
    """A magnitude as an office writes it: exact below 万 (702, 27.3), then in 万 or 亿 with at most two
    decimals, the trailing zeros dropped (1.1万, 6.55万, 14.5亿)."""
    if number >= YI:
        return _in(number, YI) + "亿"
    if number >= WAN:
        return _in(number, WAN) + "万"
    return _strip(number.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def percent(number: Decimal | None) -> str:
    """A percentage to one decimal as written: 35.0%, 72.1%; — for none."""
    if number is None:
        return "—"
    return f"{Decimal(number).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def text(indicator: Indicator, value: Decimal | int | None) -> str:
    """A stored value of ``indicator`` as a report writes it, with its unit: 1.1万人次, 950.5万元,
    14.5亿元, 27.3克, 95.0%; — for none."""
    if value is None:
        return "—"
    value = Decimal(value)
    if indicator.kind == Kind.RATE:
        return percent(value)
    if indicator.kind == Kind.MONEY:
        measure = indicator.measure if indicator.measure in MONEY_UNITS else "元"
        if value >= YI and measure != "亿元":
            return _in(value, YI) + "亿元"
        if measure == "元":
            return scaled(value) + "元"
        return _in(value, MONEY_UNITS[measure], 2 if measure == "万元" else 4) + measure
    return scaled(value) + indicator.measure


def bare(indicator: Indicator, value: Decimal | int | None) -> str:
    """``text`` without the measure, for a table whose header names it (1.1万, 950.5); a money figure in
    another unit than its measure keeps it (14.5亿元 in a 万元 column)."""
    written = text(indicator, value)
    if indicator.kind != Kind.RATE and indicator.measure and written.endswith(indicator.measure):
        return written[: -len(indicator.measure)]
    return written


_SCALES = {"亿": YI, "万": WAN}


def parse(written: str, indicator: Indicator) -> Decimal:
    """The stored value a ``text`` stands for (within its shown precision). Raises ValueError."""
    rest = written.strip()
    for suffix in ("%", *sorted(MONEY_UNITS, key=len, reverse=True), indicator.measure):
        if suffix and rest.endswith(suffix):
            unit = MONEY_UNITS.get(suffix, Decimal(1)) if indicator.kind == Kind.MONEY else Decimal(1)
            rest = rest[: -len(suffix)]
            break
    else:
        unit = Decimal(1)
    if rest and rest[-1] in _SCALES:
        unit *= _SCALES[rest[-1]]
        rest = rest[:-1]
    number = to_decimal(rest)
    if number is None:
        raise ValueError(f"not a figure: {written!r}")
    return number * unit


def shown(indicator: Indicator, value: Decimal | int | None) -> Decimal | None:
    """A stored value in the indicator's own unit (money in its measure): for a form's field or a cell."""
    if value is None:
        return None
    value = Decimal(value) / indicator.scale
    return value.quantize(Decimal(1)) if indicator.kind == Kind.COUNT else Decimal(_strip(value))  # 1000, not 1E+3


def raw(indicator: Indicator, value: Decimal | int | None) -> int | str | None:
    """The value in the API: a count an integer (as before issue 20), the other kinds an exact decimal
    string in the stored unit (元, the measure, percent); None stays None."""
    if value is None:
        return None
    if indicator.kind == Kind.COUNT:
        return int(value)
    return _strip(Decimal(value)) if indicator.kind != Kind.MONEY else f"{Decimal(value).quantize(Decimal('0.01'))}"


# --- 同比 and 环比 -----------------------------------------------------------------------------------


def change(indicator: Indicator | None, now, before) -> tuple[str, Decimal | None]:
    """("up"|"down"|"flat"|"none", amount): a rate's change in percentage points, else in percent of
    ``before`` (none when there is nothing to compare), one decimal."""
    if now is None or before is None:
        return "none", None
    now, before = Decimal(now), Decimal(before)
    if indicator is not None and indicator.kind == Kind.RATE:
        amount = now - before
    elif not before:
        return "none", None
    else:
        amount = (now - before) * 100 / before
    amount = amount.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return ("up" if amount > 0 else "down" if amount < 0 else "flat"), abs(amount)


def words(label: str, indicator: Indicator | None, now, before) -> str:
    """同比增长24.8% (what should rise), 同比上升24.8% (what should not: 警情, 发案), 同比下降3%,
    同比上升2.1个百分点 (a rate), 同比持平; "" when there is nothing to compare."""
    direction, amount = change(indicator, now, before)
    if direction == "none":
        return ""
    if direction == "flat":
        return f"{label}持平"
    rate = indicator is not None and indicator.kind == Kind.RATE
    good = indicator is None or indicator.up_is_good
    rise = "上升" if rate or not good else "增长"
    amount_text = f"{_strip(amount)}个百分点" if rate else f"{_strip(amount)}%"
    return f"{label}{rise if direction == 'up' else '下降'}{amount_text}"


def tone(indicator: Indicator | None, now, before) -> str:
    """ "good", "bad" or "" (flat or nothing to compare): the colour of a change, by the indicator's
    direction (警情 up is bad)."""
    direction, _amount = change(indicator, now, before)
    if direction not in ("up", "down"):
        return ""
    good = indicator is None or indicator.up_is_good
    return "good" if (direction == "up") == good else "bad"
