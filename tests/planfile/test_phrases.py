"""The checklist phrase parsers: pure Python, so these tests need neither Django nor a database."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.planfile.phrases import (
    Deadline,
    PhraseError,
    Target,
    _cn_int,
    parse_deadline,
    parse_target,
    section_heading,
    split_units,
)

START, END = date(2026, 7, 1), date(2026, 10, 8)  # the summer “百日行动”
WINTER_START, WINTER_END = date(2026, 11, 15), date(2027, 2, 20)  # across a year boundary

EXPECTED_FORMS = ("7月15日前", "8月底前", "2026年2月10日前", "每周五前", "每月5日前", "行动期间", "长期坚持")


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# --- Chinese numerals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("二十五", 25),
        ("三十一", 31),
        ("九十九", 99),
        ("三百", 300),
        ("三百零五", 305),
        ("一千二百", 1200),
        ("二〇二六", 2026),
        ("〇", 0),
    ],
)
def test_chinese_numerals(text, value):
    assert _cn_int(text) == value


# --- Deadlines: single dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("7月15日前", d(7, 15)),
        ("7月15日", d(7, 15)),
        ("7月15号", d(7, 15)),
        ("7月15日之前", d(7, 15)),
        ("7月15日以前", d(7, 15)),
        ("7月15日止", d(7, 15)),
        ("7月15日完成", d(7, 15)),
        ("7月15前", d(7, 15)),
        ("7.15前", d(7, 15)),
        ("9.30", d(9, 30)),
        ("2026年8月10日前", d(8, 10)),
        ("2026-08-10", d(8, 10)),
        ("2026-8-10", d(8, 10)),
        ("2026/8/10", d(8, 10)),
        ("2026.8.10", d(8, 10)),
        ("2026年8月底前", d(8, 31)),
        ("8月底前", d(8, 31)),
        ("8月底", d(8, 31)),
        ("8月末", d(8, 31)),
        ("8月份底前", d(8, 31)),
        ("9月底前", d(9, 30)),
        ("8月上旬", d(8, 10)),
        ("8月中旬前", d(8, 20)),
        ("8月下旬", d(8, 31)),
        ("9月下旬前", d(9, 30)),
        ("9月30日24时前", d(9, 30)),
        ("9月30日17:00前", d(9, 30)),
        ("7月15日前完成排查", d(7, 15)),
        ("于7月15日前报送市局治安支队", d(7, 15)),
        ("  7月15日前  ", d(7, 15)),
        # Chinese numerals and full-width digits
        ("七月十五日前", d(7, 15)),
        ("八月底前", d(8, 31)),
        ("九月三十日前", d(9, 30)),
        ("十月八日前", d(10, 8)),
        ("二〇二六年八月十日前", d(8, 10)),
        ("７月１５日", d(7, 15)),
        ("２０２６－０８－１０", d(8, 10)),
        ("７．１５前", d(7, 15)),
        # the period's own edges are inside it
        ("7月1日", d(7, 1)),
        ("10月8日前", d(10, 8)),
    ],
)
def test_single_date(text, due):
    deadline = parse_deadline(text, START, END)
    assert deadline == Deadline(text.strip(), "date", due, None, None, (due,))


@pytest.mark.parametrize(
    ("text", "milestones"),
    [
        ("7月20日前完成排查，8月底前完成整改", (d(7, 20), d(8, 31))),
        ("7月15日前完成排查，8月底前完成整改", (d(7, 15), d(8, 31))),
        ("第一轮7月7日至9日", (d(7, 7), d(7, 9))),
        ("7月7日-9日", (d(7, 7), d(7, 9))),
        ("7月7日～9日", (d(7, 7), d(7, 9))),
        ("7月7日至8月9日", (d(7, 7), d(8, 9))),
        ("7月10日、15日、20日前分别报送", (d(7, 10), d(7, 15), d(7, 20))),
        ("第一轮7月7日至9日，第二轮8月1日至3日", (d(7, 7), d(7, 9), d(8, 1), d(8, 3))),
        ("7月中旬前摸排，8月下旬前整改，9月30日前验收", (d(7, 20), d(8, 31), d(9, 30))),
        ("2026年7月20日前、2026年9月1日前", (d(7, 20), d(9, 1))),
        ("7月15日前", (d(7, 15),)),
        # equal milestones are allowed (non-decreasing)
        ("7月15日前排查，7月15日前上报", (d(7, 15), d(7, 15))),
        # the hour does not start another date
        ("7月15日18时前初报，8月底前终报", (d(7, 15), d(8, 31))),
    ],
)
def test_milestones(text, milestones):
    deadline = parse_deadline(text, START, END)
    assert deadline.kind == "date"
    assert deadline.milestones == milestones
    assert deadline.due == milestones[-1]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("1月31日前", d(1, 31, 2027)),
        ("12月20日前", d(12, 20, 2026)),
        ("11月15日", d(11, 15, 2026)),
        ("2月20日前", d(2, 20, 2027)),
        ("11月底前", d(11, 30, 2026)),
        ("1月下旬", d(1, 31, 2027)),
        ("2027年1月10日前", d(1, 10, 2027)),
        ("年底前", d(12, 31, 2026)),
        ("2026年底前", d(12, 31, 2026)),
    ],
)
def test_year_is_chosen_by_the_campaign_period(text, due):
    assert parse_deadline(text, WINTER_START, WINTER_END).due == due


def test_milestones_across_a_year_boundary():
    deadline = parse_deadline("12月20日前完成排查，1月31日前完成整改", WINTER_START, WINTER_END)
    assert deadline.milestones == (d(12, 20, 2026), d(1, 31, 2027))


def test_february_end_depends_on_the_year():
    assert parse_deadline("2月底前", date(2027, 12, 1), date(2028, 3, 31)).due == date(2028, 2, 29)
    assert parse_deadline("2月底前", WINTER_START, date(2027, 3, 31)).due == date(2027, 2, 28)
    assert parse_deadline("2月29日前", date(2027, 12, 1), date(2028, 3, 31)).due == date(2028, 2, 29)


def test_a_campaign_longer_than_a_year_places_milestones_in_order():
    start, end = date(2026, 3, 1), date(2027, 12, 31)
    assert parse_deadline("5月1日前", start, end).due == date(2026, 5, 1)
    deadline = parse_deadline("10月1日前建档，5月1日前验收", start, end)
    assert deadline.milestones == (date(2026, 10, 1), date(2027, 5, 1))


@pytest.mark.parametrize("value", [date(2026, 8, 31), datetime(2026, 8, 31, 0, 0), datetime(2026, 8, 31, 17, 30)])
def test_excel_date_cell(value):
    deadline = parse_deadline(value, START, END)
    assert deadline == Deadline("2026-08-31", "date", date(2026, 8, 31), None, None, (date(2026, 8, 31),))


# --- Deadlines: cadences and the whole campaign -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weekday"),
    [
        ("每周五前", 5),
        ("每周五", 5),
        ("每周一报送", 1),
        ("每周二", 2),
        ("每周三12时前", 3),
        ("每周四", 4),
        ("每周六", 6),
        ("每周日", 7),
        ("每周日报送", 7),
        ("每周天", 7),
        ("每星期五", 5),
        ("每星期一前", 1),
        ("每礼拜五", 5),
        ("每周5前", 5),
        ("行动期间每周五前报送进展", 5),
        ("每周", 5),  # alone: by Friday
        ("每周报送", 5),
        ("每周一次", 5),  # 一 counts the times, it is not Monday
        ("每周两次", 5),
    ],
)
def test_weekly(text, weekday):
    assert parse_deadline(text, START, END) == Deadline(text, "weekly", None, weekday, None, ())


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("每月5日前", 5),
        ("每月5号", 5),
        ("每月5日", 5),
        ("每月25日前报送", 25),
        ("每月15日报送", 15),
        ("每个月10日前", 10),
        ("每月五日前", 5),
        ("每月二十五日前", 25),
        ("每月31日", 31),
        ("每月底", 0),
        ("每月末", 0),
        ("每月底前", 0),
        ("每月月底前", 0),
        ("每月上旬", 10),
        ("每月中旬", 20),
        ("每月下旬", 0),
    ],
)
def test_monthly(text, day):
    assert parse_deadline(text, START, END) == Deadline(text, "monthly", None, None, day, ())


@pytest.mark.parametrize(
    "text", ["每日", "每天", "日报", "每日17时前", "每天下班前报送", "每个工作日", "实行日报制度", "每日报送"]
)
def test_daily(text):
    assert parse_deadline(text, START, END) == Deadline(text, "daily", None, None, None, ())


@pytest.mark.parametrize(
    "text",
    [
        "行动期间",
        "长期坚持",
        "持续开展",
        "常态化",
        "常态化开展",
        "行动结束前",
        "全程",
        "贯穿始终",
        "贯穿行动全过程",
        "整个行动期间",
    ],
)
def test_ongoing(text):
    assert parse_deadline(text, START, END) == Deadline(text, "ongoing", END, None, None, ())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("7月15日前完成，此后长期坚持", "date"),  # a firm date outranks the rest
        ("每月5日前报送，9月底前完成", "monthly"),  # a cadence and a final date: both (the due is kept)
        ("每日报送，每周五汇总", "daily"),  # the most frequent cadence binds
        ("行动期间每月5日前", "monthly"),
        ("一月一次，行动期间", "ongoing"),  # 一月一次 is a frequency, not 1月1日
    ],
)
def test_precedence(text, kind):
    assert parse_deadline(text, START, END).kind == kind


# --- Deadlines: errors ----------------------------------------------------------------------------


def _error(text, start=START, end=END) -> str:
    with pytest.raises(PhraseError) as info:
        parse_deadline(text, start, end)
    return str(info.value)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_deadline(text):
    message = _error(text)
    assert message.startswith("完成时限为空")
    assert all(form in message for form in EXPECTED_FORMS)


@pytest.mark.parametrize(
    "text", ["下周", "尽快", "及时", "立即", "每季度", "15日前", "2026年8月前", "8月完成", "第一轮", "ASAP"]
)
def test_unrecognised_deadline(text):
    message = _error(text)
    assert message.startswith(f"无法识别的完成时限“{text}”")
    assert all(form in message for form in EXPECTED_FORMS)


def test_unrecognised_part_of_a_deadline_is_not_dropped():
    message = _error("7月15日前完成排查，8月完成整改")
    assert "无法识别" in message and "7月15日前" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("12月20日前", "“12月20日”"),
        ("6月30日前", "“6月30日”"),
        ("10月底前", "“10月底”"),
        ("10月9日", "“10月9日”"),
        ("2027年8月10日前", "“2027年8月10日”"),
        ("2026-06-30", "“2026年6月30日”"),
        ("7月15日前排查，11月底前整改", "“11月底”"),
    ],
)
def test_date_outside_the_campaign(text, where):
    message = _error(text)
    assert where in message
    assert "不在行动期间（2026年7月1日至2026年10月8日）内" in message
    assert "应写行动期间内的日期" in message


def test_excel_date_outside_the_campaign():
    assert "不在行动期间（2026年7月1日至2026年10月8日）内" in _error(date(2026, 12, 1))
    assert "不在行动期间" in _error(datetime(2026, 6, 30, 9, 0))


def test_year_less_date_that_fits_no_year_of_a_winter_campaign():
    message = _error("3月1日前", WINTER_START, WINTER_END)
    assert "“3月1日”不在行动期间（2026年11月15日至2027年2月20日）内" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("2月30日前", "“2月30日”"),
        ("9月31日", "“9月31日”"),
        ("13月1日", "“13月1日”"),
        ("2026年2月29日", "“2026年2月29日”"),
        ("0月5日", "“0月5日”"),
        ("7月0日", "“7月0日”"),
        ("7月15日至32日", "“2026年7月32日”"),
    ],
)
def test_invalid_date(text, where):
    message = _error(text, date(2026, 1, 1), date(2026, 12, 31))
    assert where in message and "不存在" in message and "应写实际存在的日期" in message


def test_february_29_without_a_leap_year_in_the_period():
    assert "不存在" in _error("2月29日前", date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize("text", ["8月底前完成整改，7月20日前完成排查", "7月9日至7日", "2026-09-01、2026-08-01"])
def test_milestones_out_of_order(text):
    message = _error(text)
    assert "早于前一节点" in message and "应按先后顺序书写" in message


@pytest.mark.parametrize("text", ["每月32日", "每月0日前", "每月99号"])
def test_invalid_day_of_month(text):
    message = _error(text)
    assert "不存在" in message and "每月1日至31日" in message and "每月底" in message


def test_reversed_campaign_period():
    assert "开始日期2026年10月8日晚于结束日期2026年7月1日" in _error("7月15日前", END, START)


def test_long_text_is_shortened_in_messages():
    message = _error("请" * 100)
    assert "…" in message and len(message) < 200


def test_phrase_error_is_a_value_error():
    assert issubclass(PhraseError, ValueError)


def test_deadline_is_frozen():
    deadline = parse_deadline("7月15日前", START, END)
    with pytest.raises(FrozenInstanceError):
        deadline.due = None


# --- Targets --------------------------------------------------------------------------------------

T = Target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # at least
        ("不少于300家次", T("不少于300家次", "", "ge", Decimal(300), "家次")),
        ("≥20起", T("≥20起", "", "ge", Decimal(20), "起")),
        (">=20起", T(">=20起", "", "ge", Decimal(20), "起")),
        ("＞＝20起", T("＞＝20起", "", "ge", Decimal(20), "起")),
        ("20起以上", T("20起以上", "", "ge", Decimal(20), "起")),
        ("20起及以上", T("20起及以上", "", "ge", Decimal(20), "起")),
        ("不低于95%", T("不低于95%", "", "ge", Decimal(95), "%")),
        ("不低于95％", T("不低于95％", "", "ge", Decimal(95), "%")),
        ("至少3次", T("至少3次", "", "ge", Decimal(3), "次")),
        ("至少三次", T("至少三次", "", "ge", Decimal(3), "次")),
        ("达到100%", T("达到100%", "", "ge", Decimal(100), "%")),
        ("整改率达到100%", T("整改率达到100%", "整改率", "ge", Decimal(100), "%")),
        ("覆盖率100%", T("覆盖率100%", "覆盖率", "ge", Decimal(100), "%")),
        ("覆盖率达100%", T("覆盖率达100%", "覆盖率", "ge", Decimal(100), "%")),
        ("100%覆盖", T("100%覆盖", "覆盖率", "ge", Decimal(100), "%")),
        ("重点场所100%覆盖", T("重点场所100%覆盖", "重点场所覆盖率", "ge", Decimal(100), "%")),
        ("全覆盖", T("全覆盖", "覆盖", "ge", Decimal(100), "%")),
        ("实现全覆盖", T("实现全覆盖", "覆盖", "ge", Decimal(100), "%")),
        ("重点场所全覆盖", T("重点场所全覆盖", "重点场所覆盖", "ge", Decimal(100), "%")),
        ("百分之百", T("百分之百", "", "ge", Decimal(100), "%")),
        ("破案率不低于百分之九十五", T("破案率不低于百分之九十五", "破案率", "ge", Decimal(95), "%")),
        # more than / at most / less than / equal
        ("超过5起", T("超过5起", "", "gt", Decimal(5), "起")),
        ("多于5起", T("多于5起", "", "gt", Decimal(5), "起")),
        ("大于5起", T("大于5起", "", "gt", Decimal(5), "起")),
        (">5", T(">5", "", "gt", Decimal(5), "")),
        ("不超过5起", T("不超过5起", "", "le", Decimal(5), "起")),
        ("不高于3%", T("不高于3%", "", "le", Decimal(3), "%")),
        ("≤3起", T("≤3起", "", "le", Decimal(3), "起")),
        ("<=3起", T("<=3起", "", "le", Decimal(3), "起")),
        ("5起以内", T("5起以内", "", "le", Decimal(5), "起")),
        ("5起以下", T("5起以下", "", "le", Decimal(5), "起")),
        ("控制在5起以内", T("控制在5起以内", "", "le", Decimal(5), "起")),
        ("24小时内办结", T("24小时内办结", "", "le", Decimal(24), "小时")),
        ("少于2起", T("少于2起", "", "lt", Decimal(2), "起")),
        ("低于1%", T("低于1%", "", "lt", Decimal(1), "%")),
        ("小于1%", T("小于1%", "", "lt", Decimal(1), "%")),
        ("<1%", T("<1%", "", "lt", Decimal(1), "%")),
        ("=100%", T("=100%", "", "eq", Decimal(100), "%")),
        ("等于100%", T("等于100%", "", "eq", Decimal(100), "%")),
        ("500人左右", T("500人左右", "", "eq", Decimal(500), "人")),
        # zero
        ("零发生", T("零发生", "", "le", Decimal(0))),
        ("“零”发生", T("“零”发生", "", "le", Decimal(0))),
        ("零事故", T("零事故", "事故", "le", Decimal(0))),
        ("实现重大事故零发生", T("实现重大事故零发生", "重大事故", "le", Decimal(0))),
        # change against last year / last month
        ("同比下降20%", T("同比下降20%", "", "ge", Decimal(20), "%", "yoy", "down")),
        ("同比上升10%", T("同比上升10%", "", "ge", Decimal(10), "%", "yoy", "up")),
        ("同比增长10%", T("同比增长10%", "", "ge", Decimal(10), "%", "yoy", "up")),
        ("同比提升10%", T("同比提升10%", "", "ge", Decimal(10), "%", "yoy", "up")),
        ("同比减少15%", T("同比减少15%", "", "ge", Decimal(15), "%", "yoy", "down")),
        ("环比下降5%", T("环比下降5%", "", "ge", Decimal(5), "%", "mom", "down")),
        ("刑事警情同比下降20%", T("刑事警情同比下降20%", "刑事警情", "ge", Decimal(20), "%", "yoy", "down")),
        ("同比下降20%以上", T("同比下降20%以上", "", "ge", Decimal(20), "%", "yoy", "down")),
        ("同比下降不少于20%", T("同比下降不少于20%", "", "ge", Decimal(20), "%", "yoy", "down")),
        ("同比上升不超过5%", T("同比上升不超过5%", "", "le", Decimal(5), "%", "yoy", "up")),
        ("较去年同期下降10%", T("较去年同期下降10%", "", "ge", Decimal(10), "%", "yoy", "down")),
        ("下降20%", T("下降20%", "", "ge", Decimal(20), "%", "", "down")),
        ("下降5个百分点", T("下降5个百分点", "", "ge", Decimal(5), "个百分点", "", "down")),
        ("发案下降至50起以下", T("发案下降至50起以下", "发案", "le", Decimal(50), "起")),
        ("破案率提升至90%", T("破案率提升至90%", "破案率", "ge", Decimal(90), "%")),
        # metric, multipliers, separators
        ("检查场所不少于800家", T("检查场所不少于800家", "检查场所", "ge", Decimal(800), "家")),
        ("检查场所：800家", T("检查场所：800家", "检查场所", "ge", Decimal(800), "家")),
        ("确保检查场所不少于800家", T("确保检查场所不少于800家", "检查场所", "ge", Decimal(800), "家")),
        ("发放宣传资料不少于5万份", T("发放宣传资料不少于5万份", "发放宣传资料", "ge", Decimal(50000), "份")),
        ("1.5万人次", T("1.5万人次", "", "ge", Decimal(15000), "人次")),
        ("罚款50万元", T("罚款50万元", "罚款", "ge", Decimal(500000), "元")),
        ("5千份", T("5千份", "", "ge", Decimal(5000), "份")),
        ("2亿元", T("2亿元", "", "ge", Decimal(200000000), "元")),
        ("收缴5万余份", T("收缴5万余份", "收缴", "ge", Decimal(50000), "份")),
        ("800余家", T("800余家", "", "ge", Decimal(800), "家")),
        ("5千克", T("5千克", "", "ge", Decimal(5), "千克")),
        ("800家", T("800家", "", "ge", Decimal(800), "家")),
        ("800", T("800", "", "ge", Decimal(800), "")),
        ("1,200家", T("1,200家", "", "ge", Decimal(1200), "家")),
        ("１２００家", T("１２００家", "", "ge", Decimal(1200), "家")),
        ("0.5%", T("0.5%", "", "ge", Decimal("0.5"), "%")),
        ("三百家", T("三百家", "", "ge", Decimal(300), "家")),
        ("二十起以上", T("二十起以上", "", "ge", Decimal(20), "起")),
        ("抓获20艘", T("抓获20艘", "抓获", "ge", Decimal(20), "艘")),  # an unlisted measure word
        ("破获案件20起并移送起诉", T("破获案件20起并移送起诉", "破获案件", "ge", Decimal(20), "起")),
        # the first quantified clause wins; the text keeps the rest
        (
            "检查场所不少于800家、整改隐患200处",
            T("检查场所不少于800家、整改隐患200处", "检查场所", "ge", Decimal(800), "家"),
        ),
        (
            "检查场所不少于800家，整改隐患200处",
            T("检查场所不少于800家，整改隐患200处", "检查场所", "ge", Decimal(800), "家"),
        ),
        ("整改隐患200处，重大事故零发生", T("整改隐患200处，重大事故零发生", "整改隐患", "ge", Decimal(200), "处")),
        ("重大事故零发生，整改隐患200处", T("重大事故零发生，整改隐患200处", "重大事故", "le", Decimal(0))),
        (
            "重点场所全覆盖，检查不少于800家",
            T("重点场所全覆盖，检查不少于800家", "重点场所覆盖", "ge", Decimal(100), "%"),
        ),
        # words with numerals that are not numbers; dates and ordinals that are not targets
        ("统一检查不少于800家", T("统一检查不少于800家", "统一检查", "ge", Decimal(800), "家")),
        ("第二轮检查不少于100家", T("第二轮检查不少于100家", "第二轮检查", "ge", Decimal(100), "家")),
        ("第3轮检查不少于100家", T("第3轮检查不少于100家", "第3轮检查", "ge", Decimal(100), "家")),
        ("8月底前检查800家", T("8月底前检查800家", "检查", "ge", Decimal(800), "家")),
        ("七月底前检查800家", T("七月底前检查800家", "检查", "ge", Decimal(800), "家")),
        ("2026年7月15日前检查不少于800家", T("2026年7月15日前检查不少于800家", "检查", "ge", Decimal(800), "家")),
        ("2026年检查800家", T("2026年检查800家", "检查", "ge", Decimal(800), "家")),
        ("1，200家", T("1，200家", "", "ge", Decimal(1200), "家")),  # a full-width comma typed in a number
        ("1,234,567人次", T("1,234,567人次", "", "ge", Decimal(1234567), "人次")),
        ("三年以上", T("三年以上", "", "ge", Decimal(3), "年")),
        ("  不少于300家次  ", T("不少于300家次", "", "ge", Decimal(300), "家次")),
    ],
)
def test_target(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    ("text", "basis", "direction"),
    [
        ("建立长效机制", "", ""),
        ("清查台账完整", "", ""),
        ("统一部署，一律从严", "", ""),
        ("十分重视", "", ""),
        ("确保零容忍", "", ""),
        ("发案同比下降", "yoy", "down"),
        ("环比下降", "mom", "down"),
        ("群众满意度明显提升", "", "up"),
        ("", "", ""),
        ("   ", "", ""),
    ],
)
def test_qualitative_target(text, basis, direction):
    assert parse_target(text) == Target(text.strip(), "", "", None, "", basis, direction)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Target("")),
        (300, Target("300", "", "ge", Decimal(300))),
        (300.0, Target("300", "", "ge", Decimal(300))),
        (2.5, Target("2.5", "", "ge", Decimal("2.5"))),
        (0, Target("0", "", "ge", Decimal(0))),
        (float("nan"), Target("nan")),
        (float("inf"), Target("inf")),
    ],
)
def test_target_from_a_number_cell(value, expected):
    assert parse_target(value) == expected


def test_target_value_is_integral_after_a_multiplier():
    assert str(parse_target("1.5万人次").value) == "15000"


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("检查车辆不少于5000台次", "台次"),
        ("起降不少于20架次", "架次"),
        ("盘查车辆1.2万辆次", "辆次"),
        ("检查船舶不少于80艘次", "艘次"),
        ("检查场所不少于300家次", "家次"),
        ("开展宣讲不少于10场次", "场次"),
        ("走访不少于500户次", "户次"),
        ("夜查不少于2次", "次"),
        ("查处20起以上", "起"),
    ],
)
def test_a_measure_word_followed_by_ci_is_one_compound_unit(text, unit):
    """台次, 架次, 辆次: a measure word and 次 count times (visits of vehicles, flights), not the things."""
    assert parse_target(text).unit == unit


@pytest.mark.parametrize(
    ("text", "per", "value", "unit"),
    [
        ("每日巡逻不少于2次", "daily", Decimal(2), "次"),
        ("每天开展巡查1次", "daily", Decimal(1), "次"),
        ("每处乱点每周督导不少于1次", "weekly", Decimal(1), "次"),
        ("研判报告每周1期", "weekly", Decimal(1), "期"),
        ("每月通报不少于1次", "monthly", Decimal(1), "次"),
        ("检查场所不少于300家次", "", Decimal(300), "家次"),
        ("每处乱点明确1名责任人", "", Decimal(1), "名"),  # 每处 counts places, not periods
        ("每轮出动警力不少于3000人次", "", Decimal(3000), "人次"),  # a round is no check-in period
    ],
)
def test_a_target_written_per_day_week_or_month_is_per_period(text, per, value, unit):
    target = parse_target(text)
    assert (target.per, target.value, target.unit) == (per, value, unit)


def test_target_is_frozen():
    with pytest.raises(FrozenInstanceError):
        parse_target("800家").value = Decimal(1)


# --- Unit lists -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("治安支队", ["治安支队"]),
        ("治安支队、刑侦支队", ["治安支队", "刑侦支队"]),
        ("治安支队，刑侦支队,巡特警支队", ["治安支队", "刑侦支队", "巡特警支队"]),
        ("治安支队；刑侦支队;网安支队", ["治安支队", "刑侦支队", "网安支队"]),
        ("治安支队/刑侦支队／网安支队", ["治安支队", "刑侦支队", "网安支队"]),
        ("治安支队\n刑侦支队\r\n网安支队", ["治安支队", "刑侦支队", "网安支队"]),
        ("  治安支队 、 刑侦支队  ", ["治安支队", "刑侦支队"]),
        ("各分局、各派出所等", ["各分局", "各派出所"]),
        ("治安支队等单位", ["治安支队"]),
        ("治安支队等部门", ["治安支队"]),
        ("“治安支队”、“刑侦支队”", ["治安支队", "刑侦支队"]),
        ("（治安支队、刑侦支队）", ["治安支队", "刑侦支队"]),
        ("【治安支队】", ["治安支队"]),
        ("「治安支队」", ["治安支队"]),
        ("“各分局”等", ["各分局"]),
        ("治安支队（一大队）", ["治安支队（一大队）"]),
        ("治安支队(一大队)、刑侦支队", ["治安支队(一大队)", "刑侦支队"]),
        ("治安支队。", ["治安支队"]),
        ("网安和技侦大队、国保及反恐支队", ["网安和技侦大队", "国保及反恐支队"]),  # never split on 和/及
        ("治安支队、、，刑侦支队", ["治安支队", "刑侦支队"]),
        ("治安支队、刑侦支队、治安支队", ["治安支队", "刑侦支队"]),
        ("刑侦支队、治安支队、刑侦支队", ["刑侦支队", "治安支队"]),
        ("3303、330310", ["3303", "330310"]),
        ("", []),
        ("  ", []),
        ("、，；", []),
        ("等", []),
        (None, []),
    ],
)
def test_split_units(text, units):
    assert split_units(text) == units


def test_split_units_of_a_number_cell():
    assert split_units(3303) == ["3303"]


# --- Section rows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("一、“清患”行动（分管领导：王建国）", ("1", "“清患”行动", "王建国")),
        ("一、“清患”行动(分管领导:王建国)", ("1", "“清患”行动", "王建国")),
        ("一、“清患”行动（分管领导: 王建国 ）", ("1", "“清患”行动", "王建国")),
        ("二、拔钉行动", ("2", "拔钉行动", "")),
        ("二．拔钉行动", ("2", "拔钉行动", "")),
        ("三、“融冰”行动（牵头领导：李明）", ("3", "“融冰”行动", "李明")),
        ("四、铁拳行动（责任领导：张三）", ("4", "铁拳行动", "张三")),
        ("五、除险行动（负责领导：赵六）", ("5", "除险行动", "赵六")),
        ("六、护航行动（分管局领导：钱七）", ("6", "护航行动", "钱七")),
        ("六、护航行动 分管领导：钱七", ("6", "护航行动", "钱七")),
        ("十、收官行动", ("10", "收官行动", "")),
        ("十二、收官行动", ("12", "收官行动", "")),
        ("  一、“清患”行动  ", ("1", "“清患”行动", "")),
        ("一、组织领导", ("1", "组织领导", "")),  # 一、 numbers only sections
        ("(三) 融冰行动", ("3", "融冰行动", "")),
        ("（三）融冰行动", ("3", "融冰行动", "")),
        ("（3）融冰行动（分管领导：李明）", ("3", "融冰行动", "李明")),
        ("（二）网络谣言专项整治", ("2", "网络谣言专项整治", "")),
        ("第四部分 铁拳行动", ("4", "铁拳行动", "")),
        ("第四部分：铁拳行动（分管领导：张三）", ("4", "铁拳行动", "张三")),
        ("第4部分 铁拳行动", ("4", "铁拳行动", "")),
        ("4. 除险行动", ("4", "除险行动", "")),
        ("4、除险行动", ("4", "除险行动", "")),
        ("４．除险行动", ("4", "除险行动", "")),
        ("5.电诈打击专项工作", ("5", "电诈打击专项工作", "")),
        ("一、“清患”行动\n（分管领导：王建国）", ("1", "“清患”行动", "王建国")),
    ],
)
def test_section_heading(text, heading):
    assert section_heading(text) == heading


@pytest.mark.parametrize(
    "text",
    [
        "",
        "一",
        "一、",
        "1",
        "1.1",
        "3.12",
        "4.12 除险行动",
        "1. 组织领导",
        "2、开展重点场所清查",
        "（一）组织保障",
        "(1) 建立台账",
        "“清患”行动",
        "开展重点场所拉网式清查",
        "第一轮7月7日至9日",
        "一、（分管领导：王建国）",
        "序号",
        "7月15日前",
    ],
)
def test_not_a_section_heading(text):
    assert section_heading(text) is None


# --- Properties -----------------------------------------------------------------------------------

# The characters the parsers look at, so that generated text often comes close to a real phrase.
PHRASE_ALPHABET = (
    "0123456789０１２３４５６７８９一二两三四五六七八九十〇零百千万年月日号周星期每底末上中下旬前后至到"
    "-~/.,，、；。:：时点分%≥≤<>=不少于超过以上以下内同比环下降增长行动期间长期全覆盖零发生家次起名份第轮（）()“” "
)
phrases = st.text(alphabet=PHRASE_ALPHABET, max_size=30) | st.text(max_size=30)
periods = st.tuples(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 800)).map(
    lambda p: (p[0], p[0] + timedelta(days=p[1]))
)
fast = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(phrases, periods)
def test_parse_deadline_raises_only_phrase_error(text, period):
    try:
        parse_deadline(text, *period)
    except PhraseError as exc:
        assert str(exc)


@fast
@given(phrases, periods)
def test_dates_lie_within_the_campaign(text, period):
    start, end = period
    try:
        deadline = parse_deadline(text, start, end)
    except PhraseError:
        return
    assert deadline.text == text.strip()
    assert deadline.kind in {"date", "weekly", "monthly", "daily", "ongoing"}
    if deadline.kind == "date":
        assert deadline.milestones and deadline.due == deadline.milestones[-1]
        assert all(start <= m <= end for m in deadline.milestones)
        assert list(deadline.milestones) == sorted(deadline.milestones)
    elif deadline.kind == "ongoing":
        assert deadline.due == end
    if deadline.kind == "weekly":
        assert 1 <= deadline.weekday <= 7
    if deadline.kind == "monthly":
        assert 0 <= deadline.day <= 31


@fast
@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), periods)
def test_every_date_cell_is_accepted_inside_and_refused_outside(day, period):
    start, end = period
    if start <= day <= end:
        assert parse_deadline(day, start, end).due == day
    else:
        with pytest.raises(PhraseError):
            parse_deadline(day, start, end)


@fast
@given(st.dates(date(2026, 7, 1), date(2026, 10, 8)))
def test_every_written_day_of_the_campaign_reads_back(day):
    m, dd = day.month, day.day
    for text in (f"{m}月{dd}日前", f"{day.year}年{m}月{dd}日", day.isoformat(), f"{m}.{dd}前", f"{m}月{dd}号"):
        assert parse_deadline(text, START, END).due == day


@fast
@given(st.one_of(phrases, st.none(), st.integers(), st.floats()))
def test_parse_target_never_raises(value):
    target = parse_target(value)
    assert target.comparator in {"ge", "gt", "le", "lt", "eq", ""}
    assert (target.value is None) == (target.comparator == "")
    assert target.basis in {"", "yoy", "mom"} and target.direction in {"", "up", "down"}
    if isinstance(value, str):
        assert target.text == value.strip()


@fast
@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from(["家", "起", "%", "人次", "份"]))
def test_written_numbers_read_back(number, unit):
    target = parse_target(f"不少于{number}{unit}")
    assert (target.comparator, target.value, target.unit) == ("ge", number, unit)


@fast
@given(st.one_of(phrases, st.none()))
def test_split_units_never_raises(text):
    units = split_units(text)
    assert len(units) == len(set(units))
    assert all(u and u == u.strip() for u in units)


@fast
@given(phrases)
def test_section_heading_never_raises(text):
    heading = section_heading(text)
    assert heading is None or (heading[0].isdigit() and heading[1])
