"""Fixtures of the documents' tests: the boards' campaign part-way done, a leader over the city bureau
(the default signer of its documents), a rectification notice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accounts.models import Role
from inspections import services as supervision
from tests.boards.conftest import TODAY, mid_campaign, published, worked  # noqa: F401
from tests.conftest import make_user


@pytest.fixture
def city_leader(city):
    return make_user("city_leader", city.units["3303"], (Role.LEADER, city.units["3303"]), name="陈局长")


@pytest.fixture
def notice(city, published):  # noqa: F811 (the fixture imported above)
    unit = city.units["33031001"]
    visit = supervision.plan_inspection(by=city["inspector"], campaign=published, units=[unit], planned_on=TODAY)
    finding = supervision.log_finding(
        by=city["inspector"], inspection=visit, unit=unit, place="夜宵摊聚集区", description="消防通道堵塞，灭火器过期"
    )
    return supervision.issue_notice(
        by=city["inspector"],
        unit=unit,
        findings=[finding],
        deadline=TODAY + timedelta(days=7),
        requirements="立即清理消防通道\n更换过期灭火器",
        inspection=visit,
    )


WEEK = date(2026, 8, 25)
