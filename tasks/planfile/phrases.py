"""Parsers for the phrases offices write in a campaign plan's responsibility checklist (量化责任清单).

Deliberately free of Django: the importer, the API and the tests share these functions, and every
message of ``PhraseError`` is shown to the office as is, so it says what was expected.
"""

from __future__ import annotations

import calendar
import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from utilities.cn import cn_date

__all__ = [
    "Deadline",
    "PhraseError",
    "Target",
    "parse_deadline",
    "parse_target",
    "parse_targets",
    "section_heading",
    "split_units",
]


class PhraseError(ValueError):
    """A checklist phrase that cannot be understood; the message is one Chinese sentence for the office."""


def _norm(text: str) -> str:
    # NFKC folds full-width digits, letters and punctuation (７月１５日, ＞＝, ％) onto ASCII.
    return unicodedata.normalize("NFKC", text)


def _quote(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


# --- Chinese numerals ----------------------------------------------------------------------------

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _cn_int(text: str) -> int:
    """二十五 → 25, 三百零五 → 305; without 十/百/千 the characters are digits (二〇二六 → 2026)."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = current = 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]  # a bare 十 means 一十
            current = 0
    return total + current


# --- Deadlines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    text: str
    kind: str  # "date" | "weekly" | "monthly" | "daily" | "ongoing"
    # date: the last milestone; ongoing: the campaign end; a cadence: its final date when the cell
    # writes one too (每周五前报送整改进度，9月30日前全部整改销号), else None (the campaign's end)
    due: date | None
    weekday: int | None  # weekly: 1 = Monday … 7 = Sunday
    day: int | None  # monthly: 1..31, or 0 for the last day of the month
    milestones: tuple[date, ...] = ()


_EXPECTED_DEADLINE = "应写作“7月15日前”“8月底前”“2026年2月10日前”“每周五前”“每月5日前”“每日”“行动期间”或“长期坚持”"

# Only numerals directly before a date word are dates: 统一、第一轮 must stay words.
_CN_DATE_NUMBER = re.compile(r"[〇零一二两三四五六七八九十]{1,4}(?=\s*[年月日号时点])")
_TIME = r"(?:\s*\d{1,2}\s*(?:[时点]|:\d{2})(?:\s*\d{1,2}\s*分)?)?"  # 9月30日24时: still that day
_PART = "底|末|上旬|中旬|下旬"
_DATE_TOKEN = re.compile(
    rf"(?<!\d)(?P<y>\d{{4}})\s*(?:年|[-/.])\s*(?P<ym>\d{{1,2}})\s*(?:月|[-/.])\s*(?P<yd>\d{{1,2}})(?!\d)\s*[日号]?{_TIME}"
    rf"|(?<!\d)(?P<py>\d{{4}})\s*年\s*(?P<pm>\d{{1,2}})\s*月份?\s*(?P<pp>{_PART})"
    rf"|(?<!每)(?:(?P<ey>\d{{4}})\s*)?年\s*(?:底|末)"
    # 7月15 without 日 only right before 前/止: 一月一次 is a frequency, not 1月1日.
    rf"|(?<![\d.])(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})(?!\d)\s*(?:[日号]|(?=前|之前|以前|止|$)){_TIME}"
    rf"|(?<![\d.])(?P<mm>\d{{1,2}})\s*月份?\s*(?P<mp>{_PART})"
    rf"|(?<![\d.])(?P<dm>\d{{1,2}})\.(?P<dd>\d{{1,2}})(?![\d.])"
    # The end of a range inside one month: 7月7日至9日, 7月10日、15日.
    rf"|[至到~\-—–、]\s*(?P<od>\d{{1,2}})\s*[日号](?!内)",
    re.ASCII,
)
_STRAY_MONTH = re.compile(r"\d\s*[年月]", re.ASCII)  # a month left over would be a milestone silently lost
_DAILY = re.compile(r"每\s*(?:个\s*)?(?:工作\s*)?[日天]|(?<![\d周期拜一二三四五六七日天号])日报|逐日")
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}
_WEEKLY = re.compile(r"每\s*(?:个\s*)?(?:周|星期|礼拜)\s*(?:(?P<wd>[一二三四五六日天七1-7])(?![次遍轮个天日]))?")
_MONTHLY = re.compile(r"每\s*(?:个\s*)?月\s*(?:(?P<md>\d{1,3})\s*[日号]|月?(?P<mp>底|末|上旬|中旬|下旬))", re.ASCII)
_ONGOING = re.compile(r"期间|长期|持续|常态|结束前|全程|贯穿|始终")


def _day_of(year: int, month: int, day: int | str) -> int:
    if isinstance(day, int):
        return day
    return {"上旬": 10, "中旬": 20}.get(day) or calendar.monthrange(year, month)[1]  # 底/末/下旬: last day


def _place(raw: str, year: int | None, month: int, day: int | str, prev: date | None, start: date, end: date) -> date:
    """The date a written month/day means inside the campaign; without a year the period decides it."""
    label = (f"{year}年" if year is not None else "") + f"{month}月" + (f"{day}日" if isinstance(day, int) else day)
    years = [year] if year is not None else range(start.year, end.year + 1)
    valid = []
    for candidate in years:
        with contextlib.suppress(ValueError):  # also calendar's IllegalMonthError
            valid.append(date(candidate, month, _day_of(candidate, month, day)))
    if not valid:
        raise PhraseError(f"完成时限“{_quote(raw)}”中的日期“{label}”不存在：应写实际存在的日期，如“7月15日前”")
    inside = [d for d in valid if start <= d <= end]
    if not inside:
        raise PhraseError(
            f"完成时限“{_quote(raw)}”中的日期“{label}”不在行动期间（{cn_date(start)}至{cn_date(end)}）内："
            "应写行动期间内的日期"
        )
    # A campaign longer than a year may fit a date twice: take the first one after the previous milestone.
    return next((d for d in inside if prev is None or d >= prev), inside[0])


def _milestones(raw: str, text: str, start: date, end: date) -> list[date]:
    found: list[date] = []
    for match in _DATE_TOKEN.finditer(text):
        g = match.groupdict()
        prev = found[-1] if found else None
        if g["y"]:
            year, month, day = int(g["y"]), int(g["ym"]), int(g["yd"])
        elif g["py"]:
            year, month, day = int(g["py"]), int(g["pm"]), g["pp"]
        elif g["m"] or g["dm"]:
            year, month, day = None, int(g["m"] or g["dm"]), int(g["d"] or g["dd"])
        elif g["mm"]:
            year, month, day = None, int(g["mm"]), g["mp"]
        elif g["od"]:
            if prev is None:
                continue  # 至15日 with no month before it is not a date
            year, month, day = prev.year, prev.month, int(g["od"])
        else:  # 年底 / 2026年底
            year, month, day = (int(g["ey"]) if g["ey"] else None), 12, 31
        placed = _place(raw, year, month, day, prev, start, end)
        if prev is not None and placed < prev:
            raise PhraseError(
                f"完成时限“{_quote(raw)}”中的时间节点{cn_date(placed)}早于前一节点{cn_date(prev)}：应按先后顺序书写"
            )
        found.append(placed)
    if found and _STRAY_MONTH.search(_DATE_TOKEN.sub("，", text)):
        raise PhraseError(f"无法识别完成时限“{_quote(raw)}”中的全部日期：{_EXPECTED_DEADLINE}")
    return found


def parse_deadline(text: str | date | datetime, start: date, end: date) -> Deadline:
    """Read a 完成时限 cell; dates are checked against the campaign period [start, end]."""
    if start > end:
        raise PhraseError(f"行动期间有误：开始日期{cn_date(start)}晚于结束日期{cn_date(end)}")
    if isinstance(text, datetime):
        text = text.date()
    if isinstance(text, date):  # an Excel date cell
        _place(text.isoformat(), text.year, text.month, text.day, None, start, end)
        return Deadline(text.isoformat(), "date", text, None, None, (text,))
    raw = "" if text is None else str(text).strip()
    if not raw:
        raise PhraseError(f"完成时限为空：{_EXPECTED_DEADLINE}")
    s = _CN_DATE_NUMBER.sub(lambda m: str(_cn_int(m.group())), _norm(raw))
    # A cadence written beside firm dates (每周五前报送整改进度，9月30日前全部整改销号) is both: the
    # check-ins on the cadence until the last date, which is the deadline. Without a cadence the dates
    # are milestones; among cadences the most frequent one binds.
    found = _milestones(raw, s, start, end)
    due, milestones = (found[-1], tuple(found)) if found else (None, ())
    rest = _DATE_TOKEN.sub("，", s) if found else s
    if _DAILY.search(rest):
        return Deadline(raw, "daily", due, None, None, milestones)
    if match := _WEEKLY.search(rest):
        wd = match["wd"]
        # 每周 alone: offices mean a weekly report, due by the end of the working week (Friday).
        weekday = 5 if wd is None else int(wd) if wd.isdigit() else _WEEKDAYS[wd]
        return Deadline(raw, "weekly", due, weekday, None, milestones)
    if found and not _MONTHLY.search(rest):
        return Deadline(raw, "date", due, None, None, milestones)
    if match := _MONTHLY.search(rest):
        if match["mp"]:
            day = {"上旬": 10, "中旬": 20}.get(match["mp"], 0)
        else:
            day = int(match["md"])
            if not 1 <= day <= 31:
                raise PhraseError(
                    f"完成时限“{_quote(raw)}”中的“每月{day}日”不存在：应写每月1日至31日，月末写作“每月底”"
                )
        return Deadline(raw, "monthly", due, None, day, milestones)
    if _ONGOING.search(s):
        return Deadline(raw, "ongoing", end, None, None)
    raise PhraseError(f"无法识别的完成时限“{_quote(raw)}”：{_EXPECTED_DEADLINE}")


# --- Targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    text: str
    metric: str = ""
    comparator: str = ""  # "ge" | "gt" | "le" | "lt" | "eq" | "" (qualitative)
    value: Decimal | None = None
    unit: str = ""
    basis: str = ""  # "" absolute | "yoy" 同比 | "mom" 环比
    direction: str = ""  # "" | "down" | "up"
    # "daily" | "weekly" | "monthly": written per period (每日巡逻不少于2次), the value is each period's;
    # "" the value is the whole campaign's
    per: str = ""


_COMPARATORS = {
    "ge": "不少于 不低于 不小于 不下于 大于等于 大于或等于 至少 最少 达到 达 >= ≥ ≧",
    "le": "不超过 不高于 不多于 不大于 未超过 小于等于 小于或等于 最多 至多 控制在 <= ≤ ≦",
    "gt": "超过 多于 大于 高于 >",
    "lt": "少于 低于 小于 不足 不到 <",
    "eq": "等于 =",
}
_COMPARATOR_OF = {word: cmp for cmp, words in _COMPARATORS.items() for word in words.split()}
_AFTER = {
    "及以上": "ge",
    "以上": "ge",
    "之上": "ge",
    "及以下": "le",
    "以下": "le",
    "以内": "le",
    "之内": "le",
    "内": "le",
    "左右": "eq",
}
_DOWN = ["下降", "降低", "减少", "压降", "压减", "下滑"]
_UP = ["上升", "增长", "提升", "提高", "增加", "上涨"]
_UNITS = [
    "个百分点",
    "百分点",
    "家次",
    "人次",
    "户次",
    "车次",
    "架次",
    "批次",
    "场次",
    "班次",
    "千克",
    "公斤",
    "公里",
    "平方米",
    "小时",
    "个月",
    "工作日",
    "%",
    "‰",
    "元",
    "家",
    "起",
    "名",
    "人",
    "处",
    "份",
    "次",
    "个",
    "条",
    "件",
    "所",
    "场",
    "辆",
    "户",
    "宗",
    "项",
    "台",
    "套",
    "张",
    "篇",
    "期",
    "批",
    "轮",
    "支",
    "部",
    "吨",
    "米",
    "天",
    "日",
    "周",
    "月",
    "年",
]
_CN_NUMBER = "零〇一二两三四五六七八九十百千"
_MEASURE_WORD = rf"(?![以之及内左和与并或的等不次{_CN_NUMBER}万])[\u4e00-\u9fff]"
# 每日巡逻不少于2次: the number is each day's (week's, month's); 每处, 每轮 count places and rounds, not periods.
_PER = re.compile(r"每\s*(?:个\s*)?(?:(?P<daily>(?:工作\s*)?[日天])|(?P<weekly>周|星期|礼拜)|(?P<monthly>月))")


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # longest first: 不超过 before 超过


_QUANTITY = re.compile(
    rf"(?P<dir>{_alternation(_DOWN + _UP)})?(?P<to>[至到])?了?\s*(?P<cmp>{_alternation(_COMPARATOR_OF)})?\s*"
    rf"(?:(?<![\d.])(?P<num>\d+(?:,\d{{3}}(?!\d))*(?:\.\d+)?)|(?P<cn>[{_CN_NUMBER}]{{1,12}}))\s*"
    rf"(?P<mult>[万千亿](?![克米瓦]))?[余多]?\s*"
    # A measure word with 次 counts times (台次, 架次, 辆次: vehicles checked, flights), one unit, known or not.
    # An unknown measure word is one character, so 20起并移送 does not swallow the words after it.
    rf"(?P<unit>{_MEASURE_WORD}次|{_alternation(_UNITS)}|{_MEASURE_WORD})?\s*"
    rf"(?P<after>{_alternation(_AFTER)})?",
    re.ASCII,
)
_ZERO = re.compile(  # 零发生, 重大事故零发生; not 零星 or 零容忍, which count nothing
    rf"(?<![\d{_CN_NUMBER}])零(?P<what>发生|事故|发案|伤亡|死亡|漏报|迟报|瞒报|差错|投诉|失控|脱管|遗漏|反弹|新增|命案|案件|火灾)"
)
_FULL_COVER = re.compile("全覆盖")
_TARGET_DATE = re.compile(
    rf"(?:\d{{4}}\s*年\s*)?\d{{1,2}}\s*月\s*(?:\d{{1,2}}\s*[日号]|份?\s*(?:{_PART}))(?:之?前|以前)?"
    r"|\d{4}\s*年(?:\s*\d{1,2}\s*月)?",
    re.ASCII,
)
_BASIS = re.compile(r"同比|环比|(?:比|较)(?:去年|上年)同期|(?:比|较)上月")
_CLAUSE_END = re.compile(r"[、,;。\n]")  # after NFKC: ，； are , ;
_MULTIPLIER = {"万": 10**4, "千": 10**3, "亿": 10**8}


def _basis(text: str) -> str:
    match = _BASIS.search(text)
    return "" if not match else "mom" if match.group() in ("环比",) or "上月" in match.group() else "yoy"


def _metric(text: str) -> str:
    """The words naming what is counted, without the framing verbs offices put around them."""
    text = _BASIS.sub("", text).strip(" :\"'“”‘’")
    text = re.sub(r"^(?:其中|确保|力争|实现|做到|要求|累计|共计)", "", text)
    return re.sub(r"(?:(?<!行)为|是|共计|共|累计|总计)$", "", text).strip(" :")


def _quantified(text: str) -> bool:
    """The text states a number of its own (a quantity, 零发生, 全覆盖): a target, not a noun of a list."""
    return bool(_quantity(text) or _ZERO.search(text) or _FULL_COVER.search(text))


def _clause_before(text: str, pos: int) -> str:
    """The words before ``pos`` in its clause: back to the last ，；。, and back over a list of nouns
    joined by 、 (查处农村面包车超员、违法载人不少于300起: the metric is 查处…, not 违法载人), but not
    over a 、 that closes a target of its own (检查场所800家、整改隐患200处)."""
    starts = [m.end() for m in _CLAUSE_END.finditer(text, 0, pos) if m.group() != "、"]
    begin = starts[-1] if starts else 0
    for pause in reversed([m.end() for m in re.finditer("、", text[begin:pos])]):
        if _quantified(text[begin : begin + pause - 1]):
            return text[begin + pause : pos]
    return text[begin:pos]


# A verb whose object follows the number (明确1名责任人, 制定1套整治方案): the object is part of the metric.
_VERB_BEFORE_NUMBER = re.compile(r"(?:明确|制定|建立|配备|设立|落实|召开|举办|组织|开展|抽调|确定|形成)$")


def _quantity(s: str) -> tuple[int, re.Match] | None:
    pos = 0
    while match := _QUANTITY.search(s, pos):
        cn, num_start = match["cn"], match.start("num") if match["num"] else match.start("cn")
        # Chinese numerals are words too (统一, 一律, 十分): count them only after a comparator or as 三百, 二十.
        plain_word = cn and not match["cmp"] and not (len(cn) >= 2 and any(c in "十百千" for c in cn))
        if plain_word or (num_start and s[num_start - 1] == "第"):
            pos = num_start + 1
            continue
        return match.start(), match
    return None


def _from_quantity(raw: str, s: str, match: re.Match) -> Target:
    number = Decimal(match["num"].replace(",", "")) if match["num"] else Decimal(_cn_int(match["cn"]))
    if match["mult"]:
        number *= _MULTIPLIER[match["mult"]]
    if number == number.to_integral_value():
        number = number.to_integral_value()  # 1.5万 → 15000, not 15000.0
    unit = match["unit"] or ""
    clause = _clause_before(s, match.start())
    per = ""
    if found := _PER.search(clause):
        per = found.lastgroup
        clause = clause[: found.start()] + clause[found.end() :]
    metric, basis = _metric(clause), _basis(clause)
    if _VERB_BEFORE_NUMBER.search(metric) and not match["after"]:
        tail = re.split(r"[、,;。\n]|并|且|及", s[match.end() :], maxsplit=1)[0].strip()
        metric += tail
    direction = "down" if match["dir"] in _DOWN else "up" if match["dir"] in _UP else ""
    comparator = _COMPARATOR_OF.get(match["cmp"] or "") or _AFTER.get(match["after"] or "")
    # plain = minimum; but a plain nought is a ceiling: 拥挤踩踏事故0起 means none at all
    comparator = comparator or ("le" if number == 0 and not direction else "ge")
    if direction and match["to"]:  # 下降至50起: a level to reach, not a change
        comparator = _COMPARATOR_OF.get(match["cmp"] or "") or ("le" if direction == "down" else "ge")
        direction = ""
    if unit == "%" and s[match.end() :].startswith("覆盖") and not metric.endswith("覆盖率"):
        metric += "覆盖率"  # 100%覆盖
    return Target(raw, metric, comparator, number, unit, basis, direction, per)


def parse_target(text: str | int | float | None) -> Target:
    """Read a 量化指标 cell; never raises: what cannot be read stays qualitative, the text is always kept."""
    if text is None:
        return Target("")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = Decimal(str(text))
        if not value.is_finite():
            return Target(str(text))
        if value == value.to_integral_value():
            value = value.to_integral_value()
        return Target(str(value), "", "ge", value)
    raw = str(text).strip()
    s = re.sub(r"[“”\"'‘’]", "", _norm(raw))  # “零”发生
    # A date is no quantity: 8月底前检查800家 counts 家, not 月.
    s = _TARGET_DATE.sub(";", _CN_DATE_NUMBER.sub(lambda m: str(_cn_int(m.group())), s))
    s = re.sub(rf"百分之(?:([\d.]+)|([{_CN_NUMBER}]{{1,12}}))", lambda m: f"{m[1] or _cn_int(m[2])}%", s)
    candidates: list[tuple[int, Target]] = []
    if found := _quantity(s):
        candidates.append((found[0], _from_quantity(raw, s, found[1])))
    if zero := _ZERO.search(s):
        what = "" if zero["what"] == "发生" else zero["what"]
        metric = _metric(_clause_before(s, zero.start())) + what
        candidates.append((zero.start(), Target(raw, metric, "le", Decimal(0))))
    if cover := _FULL_COVER.search(s):
        metric = _metric(_clause_before(s, cover.start())) + "覆盖"
        candidates.append((cover.start(), Target(raw, metric, "ge", Decimal(100), "%")))
    if candidates:
        return min(candidates, key=lambda c: c[0])[1]  # the first quantified clause
    direction = "down" if any(w in s for w in _DOWN) else "up" if any(w in s for w in _UP) else ""
    return Target(raw, basis=_basis(s), direction=direction)


# A target ends at ，；。 or a new line, or at a 、 when what stands before it states a number of its own
# (每处乱点明确1名责任人、制定1套整治方案); a 、 inside a list of nouns (查处农村面包车超员、违法载人不少于
# 300起) is no end. A comma between digits is a thousands separator (1，200家).
_TARGET_END = re.compile(
    r"(?<![0-9０-９])[，,；;。\n]+|(?<=[0-9０-９])[，,](?![0-9０-９]{3}(?![0-9０-９]))|[；;。\n]+|、"
)


def parse_targets(text: str | int | float | None) -> tuple[Target, ...]:
    """Every target of a 量化指标 cell, in order, each with its own words as written
    (盗窃警情同比下降15%，拥挤踩踏事故0起: two). Pieces that state no number of their own (a date, a
    framing clause, a noun of a list) stay with the quantified piece after them (or the last one before);
    a cell with no number at all is one qualitative target holding the whole text. Never raises."""
    if not isinstance(text, str):
        return (parse_target(text),)
    raw = text.strip()
    pieces: list[list[str]] = []  # [text, the separator after it]
    pos = 0
    for match in _TARGET_END.finditer(raw):
        pieces.append([raw[pos : match.start()], match.group()])
        pos = match.end()
    pieces.append([raw[pos:], ""])
    targets: list[str] = []
    pending, after_last = "", ""
    for piece, separator in pieces:
        pending += piece
        if piece.strip() and parse_target(pending).comparator:
            targets.append(pending.strip())
            pending, after_last = "", separator
        elif pending:
            pending += separator
    if not targets:
        return (parse_target(raw),)
    if pending.strip(" ，,；;。、\n"):  # words after the last number belong to it
        targets[-1] = (targets[-1] + after_last + pending).strip()
    return tuple(parse_target(t) for t in targets)


# --- Unit lists ----------------------------------------------------------------------------------

_UNIT_SEPARATORS = re.compile(r"[、，,；;/／\n\r]+")
_OPENING, _CLOSING = "“‘\"'「『《(（[【", "”’\"'」』》)）]】"


def _unwrap(name: str) -> str:
    while True:
        name = name.strip()
        before = name
        if name and name[0] in _OPENING:
            closing = _CLOSING[_OPENING.index(name[0])]
            if len(name) >= 2 and name[-1] == closing and closing not in name[1:-1]:
                name = name[1:-1]  # “治安支队”
            elif closing not in name[1:]:
                name = name[1:]  # （治安支队 — the other half went to another piece
        if name and name[-1] in _CLOSING and _OPENING[_CLOSING.index(name[-1])] not in name[:-1]:
            name = name[:-1]  # 刑侦支队） but not 治安支队（一大队）
        name = re.sub(r"(?:等(?:单位|部门)?|。)$", "", name)
        if name == before:
            return name


def split_units(text: str | None) -> list[str]:
    """The units named in a 牵头单位/配合单位 cell, in order, once each.

    和/及 are not separators: they occur inside unit names (网安和技侦大队) as often as between them.
    """
    if text is None:
        return []
    names: list[str] = []
    for piece in _UNIT_SEPARATORS.split(str(text)):
        name = _unwrap(piece)
        if name and name not in names:
            names.append(name)
    return names


# --- Section rows --------------------------------------------------------------------------------

_CN_ORDINAL = "[一二三四五六七八九十]{1,3}"
_ARABIC = "[0-9０-９]{1,2}"
_SECTION_FORMS = (  # (pattern, whether the name must say 行动/专项/工作)
    # 一、 and 第四部分 only ever number top-level sections.
    (re.compile(rf"(?P<n>{_CN_ORDINAL})\s*[、.．]\s*(?P<rest>.+)", re.S), False),
    (re.compile(rf"第\s*(?P<n>{_CN_ORDINAL}|{_ARABIC})\s*(?:部分|篇|章)\s*[、.．:：]?\s*(?P<rest>.+)", re.S), False),
    # （三） and 4. also number items, so they need a name that reads like a line of action.
    (re.compile(rf"[(（]\s*(?P<n>{_CN_ORDINAL}|{_ARABIC})\s*[)）]\s*[、.．]?\s*(?P<rest>.+)", re.S), True),
    (re.compile(rf"(?P<n>{_ARABIC})\s*(?:、|[.．](?![0-9０-９]))\s*(?P<rest>.+)", re.S), True),
)
_LEADER = re.compile(
    r"\s*[(（]?\s*(?:分管局领导|分管领导|牵头领导|责任领导|负责领导)\s*[:：]\s*(?P<leader>[^)）]*?)\s*(?:[)）]|$)"
)
_SECTION_KEYWORD = re.compile("行动|专项|工作")


def section_heading(text: str) -> tuple[str, str, str] | None:
    """(number as Arabic digits, name, leader or "") for a section row such as
    一、“清患”行动（分管领导：王建国）; None when the text is not a section heading."""
    text = str(text or "").strip()
    for pattern, needs_keyword in _SECTION_FORMS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        number = _norm(match["n"])
        number = number if number.isdigit() else str(_cn_int(number))
        rest, leader = match["rest"], ""
        if found := _LEADER.search(rest):
            leader = found["leader"].strip()
            rest = rest[: found.start()] + rest[found.end() :]
        name = rest.strip().rstrip("，,；;：:、")
        if name and (not needs_keyword or _SECTION_KEYWORD.search(name)):
            return str(int(number)), name, leader
        return None
    return None
