"""Issue 18 item 6 in a real headless Chromium: the bureau chief signs in and lands on his page, finds a
request for his instruction waiting, opens the assignment and instructs; the request leaves his page.
A line's figure opens the work behind it.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

import pytest

from tasks.models import Comment, CommentKind
from tests.web.test_browser import browser, demo, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK = {"width": 1366, "height": 900}


def test_the_bureau_chief_instructs_from_his_page(live_server, browser, demo, tmp_path):  # noqa: F811
    base = live_server.url
    waiting = Comment.objects.filter(kind=CommentKind.REQUEST, answer=None, addressed_to__username="leader_chen")
    before = waiting.count()
    assert before
    oldest = waiting.order_by("created_at", "id").first()

    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    sign_in(page, base, "leader_chen")
    assert page.url == f"{base}/leader/"
    assert "待批示事项" in page.inner_text("#requests")
    page.screenshot(path=str(tmp_path / "leader.png"), full_page=True)
    page.locator("#requests a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/assignments/{oldest.assignment_id}/")
    page.fill("#comment-form textarea[name=text]", "同意，请治安支队抽调警力支援，本周内完成。")
    page.check("#comment-form input[value=instruction]")
    page.click("#comment-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "批示已发出" in page.locator(".messages").inner_text()
    assert waiting.count() == before - 1

    page.goto(f"{base}/leader/")
    assert f"/assignments/{oldest.assignment_id}/" not in page.inner_html("#requests")
    total = page.locator("#lines a.total").first
    shown = total.inner_text()
    total.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#count").inner_text() == shown
