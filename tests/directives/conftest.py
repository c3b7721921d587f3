"""A directive of the test city: registered in the published test campaign (XJ, owner 江城市公安局) by HQ,
城关派出所 leading, 城东交警大队 cooperating, due 2026-09-30; handed down unless a test says otherwise."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from directives.models import Directive, Source
from directives.services import Case, hand_down, register_directive

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 8, 3, 10, 0, tzinfo=TZ)  # inside the campaign (2026-07-01 … 10-08)
DUE = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(DAY, tick=False):
        yield


def register(city, published, *, secret: bool = False, case: bool = False, lead=("33031001",), coop=("33031003",)):
    u = city.units
    return register_directive(
        campaign=published,
        by=city["hq"],
        title="督办城关菜场盗窃系列案" if case else "落实局长批示：整治城关夜市噪音",
        source=Source.CASE if case else Source.INSTRUCTION,
        lead_units=[u[c] for c in lead],
        cooperating_units=[u[c] for c in coop],
        due_date=DUE,
        text="限期办结，每周反馈进展",
        instruction="请城关所牵头抓好落实。",
        instructed_by="张局长",
        instructed_on=date(2026, 8, 1),
        level="city",
        leader=city["east_leader"],
        secret=secret,
        case=Case(case_no="A3303002026080001", case_type="盗窃", crime_date=date(2026, 7, 28)) if case else None,
    )


@pytest.fixture
def registered(city, published) -> Directive:
    return register(city, published)


@pytest.fixture
def directive(city, registered) -> Directive:
    return hand_down(directive=registered, by=city["hq"])


@pytest.fixture
def secret(city, published) -> Directive:
    return hand_down(directive=register(city, published, secret=True), by=city["hq"])


@pytest.fixture
def case(city, published) -> Directive:
    return hand_down(directive=register(city, published, case=True), by=city["hq"])
