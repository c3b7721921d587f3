"""In a real headless Chromium on the demo: HQ opens the battle board, drills from the city down to a
sub-bureau and into one cell, then reads the statistics with their charts (ECharts served by the app,
drawn into a canvas), the ranking, and the bulletin's print page. No request leaves the machine.

Needs /usr/bin/chromium (scripts/test installs it).
"""

from __future__ import annotations

import pytest

from .test_browser import browser, demo, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1400, "height": 900}


def test_hq_drills_down_the_board_and_reads_the_statistics(live_server, browser, demo):  # noqa: F811
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    sign_in(page, live_server.url, "hq_wang")

    page.goto(f"{live_server.url}/board/")
    assert page.locator("#trail b").inner_text() == "江城市公安局"
    columns = page.locator("#board thead th a")
    assert columns.count() > 5
    page.locator("#board thead th a", has_text="城东分局").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#trail").inner_text().replace(" ", "") == "江城市公安局›城东分局"
    stations = [t.strip() for t in page.locator("#board thead th a").all_inner_texts()]
    assert stations and all(name.endswith(("派出所", "大队", "中队")) for name in stations), stations

    cell = page.locator("#board td.cell a").first
    action = cell.evaluate("a => a.closest('td').dataset.action")
    unit = cell.evaluate("a => a.closest('td').dataset.unit")
    cell.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#board tbody tr").count() == 1  # the cell's line of action only
    assert f"unit={unit}" in page.url and f"action={action}" in page.url
    page.locator("#trail a", has_text="江城市公安局").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#trail b").inner_text() == "江城市公安局"

    page.goto(f"{live_server.url}/stats/")
    page.locator(".chart canvas").nth(1).wait_for()
    assert "同比" in page.locator("#totals").inner_text()
    assert page.locator("#non-reporters .badge").count() >= 1  # the demo's late units
    page.locator("#totals thead th a", has_text="城东分局").click()
    page.wait_for_load_state("networkidle")
    assert "城东分局" in page.locator("#trail b").inner_text()

    page.goto(f"{live_server.url}/board/ranking/")
    assert page.locator("#ranking tbody tr").count() > 5 and page.locator("#laggards li").count() >= 1

    page.goto(f"{live_server.url}/board/bulletin/")
    page.locator(".chart canvas").first.wait_for()
    assert "专项行动工作通报" in page.locator(".masthead").inner_text()
    assert not outside, f"requests left the machine: {outside[:5]}"
