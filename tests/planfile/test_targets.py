"""A 量化指标 cell read into its targets (issue 20 item 7): every target kept, each with its own words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tasks.planfile.phrases import Deadline, Target, parse_deadline, parse_target, parse_targets

START, END = date(2026, 7, 1), date(2026, 10, 8)
SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "plan.yaml"
T = Target


def _demo_cells() -> list[tuple[str, str]]:
    plan = yaml.safe_load(SEEDS.read_text(encoding="utf-8"))
    return [(item["code"], item.get("target") or "") for action in plan["actions"] for item in action["items"]]


def test_the_demo_plan_keeps_both_targets_of_every_two_target_cell():
    cells = _demo_cells()
    assert len(cells) == 77
    with_comma = [(code, text) for code, text in cells if "，" in text]
    assert len(with_comma) == 34
    for code, text in with_comma:
        targets = parse_targets(text)
        assert len(targets) == 2, code
        assert "，".join(t.text for t in targets) == text, code  # the words as written, nothing lost
        assert all(t.comparator for t in targets), code
    # 2.2 writes its two with 、: two targets as well; no other cell splits
    counts = {code: len(parse_targets(text)) for code, text in cells}
    assert sum(1 for n in counts.values() if n == 2) == 35
    assert counts["2.2"] == 2
    assert max(counts.values()) == 2


def test_the_first_target_is_what_parse_target_reads():
    for _, text in _demo_cells():
        first = parse_targets(text)[0]
        whole = parse_target(text)
        assert (first.metric, first.comparator, first.value, first.unit, first.basis) == (
            whole.metric,
            whole.comparator,
            whole.value,
            whole.unit,
            whole.basis,
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "盗窃警情同比下降15%，拥挤踩踏事故0起",
            (
                T("盗窃警情同比下降15%", "盗窃警情", "ge", Decimal(15), "%", "yoy", "down"),
                T("拥挤踩踏事故0起", "拥挤踩踏事故", "le", Decimal(0), "起"),
            ),
        ),
        # the metric is the verb and its whole object: 查处…起, not the last noun of the list
        (
            "查处农村面包车超员、违法载人不少于300起",
            (T("查处农村面包车超员、违法载人不少于300起", "查处农村面包车超员、违法载人", "ge", Decimal(300), "起"),),
        ),
        (
            "查处非法改装、飙车炸街违法行为不少于200起",
            (
                T(
                    "查处非法改装、飙车炸街违法行为不少于200起",
                    "查处非法改装、飙车炸街违法行为",
                    "ge",
                    Decimal(200),
                    "起",
                ),
            ),
        ),
        # a 、 between two targets
        (
            "每处乱点明确1名责任人、制定1套整治方案",
            (
                T("每处乱点明确1名责任人", "每处乱点明确责任人", "ge", Decimal(1), "名"),
                T("制定1套整治方案", "制定整治方案", "ge", Decimal(1), "套"),
            ),
        ),
        # a second target within the first (其中)
        (
            "抓获逃犯不少于150名，其中历年逃犯不少于30名",
            (
                T("抓获逃犯不少于150名", "抓获逃犯", "ge", Decimal(150), "名"),
                T("其中历年逃犯不少于30名", "历年逃犯", "ge", Decimal(30), "名"),
            ),
        ),
        # from the sources: reports write several in one sentence
        (
            "抓获网上逃犯504人、其中历年逃犯97人",
            (
                T("抓获网上逃犯504人", "抓获网上逃犯", "ge", Decimal(504), "人"),
                T("其中历年逃犯97人", "历年逃犯", "ge", Decimal(97), "人"),
            ),
        ),
        (
            "累计预警劝阻28.2万人次，止付冻结涉案资金14.5亿元",
            (
                T("累计预警劝阻28.2万人次", "预警劝阻", "ge", Decimal(282000), "人次"),
                T("止付冻结涉案资金14.5亿元", "止付冻结涉案资金", "ge", Decimal(1450000000), "元"),
            ),
        ),
        (
            "一般道路交通事故起数同比下降10%，较大道路交通事故保持“零发生”",
            (
                T("一般道路交通事故起数同比下降10%", "一般道路交通事故起数", "ge", Decimal(10), "%", "yoy", "down"),
                T("较大道路交通事故保持“零发生”", "较大道路交通事故保持", "le", Decimal(0)),
            ),
        ),
        # a piece without a number of its own stays with the next quantified one, or the last one
        (
            "8月底前，检查场所不少于800家",
            (T("8月底前，检查场所不少于800家", "检查场所", "ge", Decimal(800), "家"),),
        ),
        (
            "检查场所不少于800家，并建立台账",
            (T("检查场所不少于800家，并建立台账", "检查场所", "ge", Decimal(800), "家"),),
        ),
        # a thousands comma is no separator
        (
            "检查1，200家；整改20处",
            (T("检查1，200家", "检查", "ge", Decimal(1200), "家"), T("整改20处", "整改", "ge", Decimal(20), "处")),
        ),
        # nothing quantified: one qualitative target, the whole text
        ("涉稳网络舆情早发现、早预警、早处置", (T("涉稳网络舆情早发现、早预警、早处置"),)),
        ("", (T(""),)),
    ],
)
def test_targets(text, expected):
    assert parse_targets(text) == expected


@pytest.mark.parametrize("value", [None, 800, 2.5])
def test_a_cell_that_is_no_text_is_one_target(value):
    assert parse_targets(value) == (parse_target(value),)


@given(st.text(max_size=60))
def test_parse_targets_never_raises_and_keeps_every_number(text):
    targets = parse_targets(text)
    assert targets
    if len(targets) > 1:
        assert all(t.comparator for t in targets)


# --- a cadence and a final date in one deadline cell ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "每周五前报送整改进度，9月30日前全部整改销号",
            Deadline(
                "每周五前报送整改进度，9月30日前全部整改销号",
                "weekly",
                date(2026, 9, 30),
                5,
                None,
                (date(2026, 9, 30),),
            ),
        ),
        (
            "每月5日前报送，9月底前完成",
            Deadline("每月5日前报送，9月底前完成", "monthly", date(2026, 9, 30), None, 5, (date(2026, 9, 30),)),
        ),
        (
            "每日报送，9月20日前结束",
            Deadline("每日报送，9月20日前结束", "daily", date(2026, 9, 20), None, None, (date(2026, 9, 20),)),
        ),
        # no cadence: milestones, the last the deadline
        (
            "7月31日前完成排查，8月31日前完成整改",
            Deadline(
                "7月31日前完成排查，8月31日前完成整改",
                "date",
                date(2026, 8, 31),
                None,
                None,
                (date(2026, 7, 31), date(2026, 8, 31)),
            ),
        ),
        ("7月15日报送", Deadline("7月15日报送", "date", date(2026, 7, 15), None, None, (date(2026, 7, 15),))),
    ],
)
def test_a_cadence_with_a_final_date_is_both(text, expected):
    assert parse_deadline(text, START, END) == expected
