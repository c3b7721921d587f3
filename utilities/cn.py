"""Dates and numbers the way Chinese offices write them (2026年7月7日, 7月7日至9日, 同比上升24.8%)."""

from __future__ import annotations

from datetime import date


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def cn_range(start: date, end: date) -> str:
    """7月7日至9日, 7月28日至8月3日, 12月30日至2027年1月2日; one day alone is just that day."""
    if start == end:
        return cn_day(start)
    if start.year != end.year:
        return f"{cn_day(start)}至{cn_date(end)}"
    if start.month != end.month:
        return f"{cn_day(start)}至{cn_day(end)}"
    return f"{cn_day(start)}至{end.day}日"


def cn_percent(value: float | None) -> str:
    """24.8%, 30%, —; one decimal at most, no trailing zero."""
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


OPEN, CLOSE = "“‘", "”’"  # double quotes outside, single inside, alternating further in (GB/T 15834)


def nest_quotes(text: str) -> str:
    """Quotes inside quotes as offices write them: 第1项“建立风险隐患‘见底清零’台账”, not “…“见底清零”…”.

    A text that quotes a title which has quotes of its own gets the inner pair as ‘ ’. Only “ ” are
    counted (’ is also an apostrophe); a text with a quote opened and never closed is left as written."""
    out, depth = [], 0
    for ch in text:
        if ch == "“":
            out.append(OPEN[depth % 2])
            depth += 1
        elif ch == "”" and depth:
            depth -= 1
            out.append(CLOSE[depth % 2])
        else:
            out.append(ch)
    return text if depth else "".join(out)
