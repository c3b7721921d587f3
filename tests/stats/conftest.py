"""Fixtures of the statistics tests: the boards' (a campaign part-way done on TODAY, its catalogue of
indicators and rounds, statistics reported), which the boards' own tests share."""

import pytest

from stats.models import Indicator, Kind
from tests.boards.conftest import catalogue, mid_campaign, reported  # noqa: F401 (fixtures)


@pytest.fixture
def kinds(catalogue):  # noqa: F811 (the fixture imported above)
    c = catalogue["campaign"]
    made = {
        "filed": Indicator.objects.create(campaign=c, code="filed", name="刑事立案", measure="起", seq=3),
        "solved": Indicator.objects.create(campaign=c, code="solved", name="破获刑事案件", measure="起", seq=4),
        "drugs": Indicator.objects.create(
            campaign=c, code="drugs", name="缴获毒品", measure="克", kind=Kind.QUANTITY, seq=5
        ),
        "funds": Indicator.objects.create(
            campaign=c, code="funds", name="涉案资金", measure="万元", kind=Kind.MONEY, seq=6
        ),
        "alerts": Indicator.objects.create(
            campaign=c, code="alerts", name="治安警情", measure="起", up_is_good=False, seq=7
        ),
        "dissuaded": Indicator.objects.create(
            campaign=c, code="dissuaded", name="见面劝阻率", measure="%", kind=Kind.RATE, seq=8
        ),
    }
    made["rate"] = Indicator.objects.create(
        campaign=c,
        code="rate",
        name="破案率",
        measure="%",
        kind=Kind.RATE,
        numerator=made["solved"],
        denominator=made["filed"],
        seq=9,
    )
    return {**catalogue, **made}
