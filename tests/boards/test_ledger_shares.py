"""The ledger export (任务台账) names what a share is given of every target of its item (分解指标:
检查场所30家次；整改隐患5处), not the first target's alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ops.celery import app as celery_app
from tasks.services.cascade import Share, pass_down
from tests.boards.test_exports import ledger_rows, made, opened
from tests.tasks.test_target_rollup import boss, plan, work  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def test_the_ledger_names_every_targets_share(city, plan, boss, django_capture_on_commit_callbacks):  # noqa: F811
    top = work("3303")
    pass_down(
        assignment=top,
        by=boss,
        shares=[
            Share(city.units["330310"], Decimal(30), targets={2: Decimal(5), 3: Decimal("12.5")}),
            Share(city.units["330320"], None, targets={3: Decimal(40)}),
            Share(city.units["330302"], None),
        ],
        keep_remainder=True,
    )
    export = made(django_capture_on_commit_callbacks, city["hq"], "ledger", campaign=top.campaign_id)
    assert [c.value for c in opened(export).active[3]][-1] == "分解指标"
    words = {r[3]: r[9] for r in ledger_rows(export)}
    assert words == {
        "江城市公安局": None,  # given by the plan, not a share
        "城东分局": "检查场所30家次；整改隐患5处；发放宣传资料12.5份",
        "城西分局": "发放宣传资料40份",
        "治安支队": None,  # a share naming no amount: the item's whole targets
    }
