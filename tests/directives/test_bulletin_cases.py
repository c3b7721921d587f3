"""The bulletin's 挂牌督办案件 paragraph (issue 21): the major cases as of the period's end — listed by then,
closed by then with their outcome, open ones past their 限期 named — on the print page, the PDF's content and the
documents' content."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from boards.bulletin import bulletin_context, cases_as_of, so_far_period
from directives.services import complete_directive, hand_down, review_directive
from documents.render.content import bulletin_part
from tasks.services.receipts import acknowledge_assignment

from .conftest import DUE, TZ, register

pytestmark = [pytest.mark.django_db]


def test_counted_as_of_the_day_closed_and_late(city, published, case):
    hq, owner = city["hq"], city.units["3303"]
    other = register(city, published, case=True, lead=("33031003",), coop=())  # registered, not handed down
    text, named = cases_as_of(hq, published, owner, date(2026, 8, 3))
    assert text == "挂牌督办案件方面，截至2026年8月3日共挂牌督办案件1起，已办结0起，尚未办结1起。" and named == []
    hand_down(directive=other, by=hq)  # handed down: its lead unit's work is under the city
    assert "共挂牌督办案件2起，已办结0起，尚未办结2起。" in cases_as_of(hq, published, owner, date(2026, 8, 3))[0]
    assert cases_as_of(hq, published, owner, date(2026, 8, 2)) == ("", [])  # registered on 8月3日
    # the day after the 限期 both are late and named, the one handed down with its lead unit
    text, named = cases_as_of(hq, published, owner, DUE + timedelta(days=1))
    assert "尚未办结2起，其中超过办案期限1起。" in text or "其中超过办案期限2起" in text
    # closed with an outcome (破案) on 8月20日: counted from that day on, not before
    lead = case.item.assignments.get(unit=city.units["33031001"])
    with time_machine.travel(datetime(2026, 8, 20, 9, tzinfo=TZ), tick=False):
        acknowledge_assignment(assignment=lead, by=city["station_lead"])
        complete_directive(directive=case, by=city["station_lead"], report="已破案，抓获嫌疑人3名")
        review_directive(directive=case, by=hq, accept=True, outcome="solved", outcome_on=date(2026, 8, 20))
    text, _ = cases_as_of(hq, published, owner, date(2026, 8, 20))
    assert "已办结1起（破案1起），尚未办结1起" in text, text
    assert "已办结0起" in cases_as_of(hq, published, owner, date(2026, 8, 19))[0]
    # a sub-bureau's bulletin covers the cases its units lead; another's sees none of them
    assert "共挂牌督办案件2起" in cases_as_of(hq, published, city.units["330310"], date(2026, 8, 20))[0]
    assert "共挂牌督办案件1起" in cases_as_of(hq, published, city.units["33031003"], date(2026, 8, 20))[0]
    assert cases_as_of(hq, published, city.units["330320"], date(2026, 8, 20)) == ("", [])


@time_machine.travel(datetime(2026, 10, 3, 10, tzinfo=TZ), tick=False)
def test_the_bulletin_prints_them(city, published, case):
    ctx = bulletin_context(city["hq"], published, city.units["3303"], so_far_period(published, DUE + timedelta(days=2)))
    assert ctx["cases"].startswith("挂牌督办案件方面，截至") and ctx["late_cases"][0]["code"] == case.item.code
    assert ctx["late_cases"][0]["unit"] == "城关派出所" and ctx["late_cases"][0]["due"] == "2026年9月30日"
    texts = [
        b.get("text", "") for b in bulletin_part(city["hq"], published, city.units["3303"], ctx["period"])["blocks"]
    ]
    assert ctx["cases"] in texts and any(t.startswith("1．督") for t in texts)
