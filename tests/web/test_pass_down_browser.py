"""Issue 18 item 5 in a real headless Chromium: 城东分局's lead splits its work between two stations on the
assignment page (分解下发), 城关派出所 sees its share, reports and submits it, and the lead accepts it from
its "my tasks" page.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from tasks.models import Assignment, AssignmentStatus
from tasks.services.cascade import adds_up
from tests.web.test_browser import PHONE, browser, demo, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK = {"width": 1366, "height": 900}
STATIONS = ("33031101", "33031102")  # 城关派出所, 东湖派出所 under 城东分局 (330311)


def splittable() -> Assignment:
    """城东分局's open work with an amount to reach that neither station holds already."""
    held = Assignment.objects.filter(unit__code__in=STATIONS).values("item_id")
    rows = (
        Assignment.objects.filter(unit__code="330311", is_active=True, parent=None, children=None)
        .filter(status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS], item__target_value__gte=2)
        .exclude(item_id__in=held)
        .select_related("item", "campaign", "unit")
        .order_by("item__seq")
    )
    return next(a for a in rows if adds_up(a) and a.campaign.status == "published")


def test_the_lead_splits_the_station_reports_the_lead_accepts(live_server, browser, demo):  # noqa: F811
    base = live_server.url
    work = splittable()
    first = (work.target / 2).quantize(Decimal(1), rounding=ROUND_DOWN)
    second = work.target - first

    # --- the sub-bureau's lead at its desk: 分解下发 into two shares that make the whole target ---
    desk = browser.new_context(viewport=DESK, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "lead_chengdong")
    page.goto(f"{base}/assignments/{work.pk}/")
    page.click("#pass-down summary")
    rows = page.locator("#share-rows tr.share-row")
    assert rows.count() == 4
    page.click("#add-share-row")  # progressive enhancement: one more empty row
    assert rows.count() == 5 and page.locator("input[name=share-TOTAL_FORMS]").input_value() == "5"
    page.fill("input[name=share-0-unit]", STATIONS[0])
    page.fill("input[name=share-0-target]", str(first))
    page.fill("input[name=share-0-note]", "城关片区重点清查")
    page.fill("input[name=share-4-unit]", STATIONS[1])  # the added row counts
    page.fill("input[name=share-4-target]", str(second))
    page.click("#pass-down-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已分解下发至2个单位" in page.locator(".messages").inner_text()
    shares = page.locator("#children tbody tr")
    assert shares.count() == 2 and "城关派出所" in shares.first.inner_text()
    share = Assignment.objects.get(parent=work, unit__code=STATIONS[0])
    desk.close()

    # --- the station lead, on a phone: its share, the note, a report of the whole share, submit ---
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, base, "lead_chengguan")
    assert page.locator(f'#task-list a[href="/assignments/{share.pk}/"]').count() == 1
    page.goto(f"{base}/assignments/{share.pk}/")
    assert "城东分局" in page.locator("#parent").inner_text()
    assert "城关片区重点清查" in page.locator("#comments").inner_text()
    page.fill("#id_value", str(first))
    page.fill("#id_text", "已完成分解指标")
    page.click("#report button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.locator("#shortfall input").count():  # a cadence item asks nothing; else the share is whole
        page.check("#shortfall input")
    page.click("#actions button[data-transition=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "已提交验收"
    phone.close()

    # --- the lead: the share awaits its acceptance on "my tasks"; it accepts it ---
    desk = browser.new_context(viewport=DESK, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "lead_chengdong")
    waiting = page.locator("#to-accept tbody tr")
    assert waiting.count() == 1 and "城关派出所" in waiting.inner_text()
    waiting.locator("a").click()
    page.wait_for_load_state("networkidle")
    page.click("#actions button[data-transition=accept]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "已验收"
    desk.close()
    share.refresh_from_db()
    assert share.status == AssignmentStatus.ACCEPTED
