"""Issue 18 in a real headless Chromium: HQ opens a cell of the battle board with overdue work, takes its overdue work
and sends a 催办; the station lead, on a phone, finds it in the inbox, acknowledges the work (签收) and
reports on it.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import Unit, User
from audit.models import AuditEvent
from notifications import delivery
from notifications.models import Channel, Message
from tasks.models import Assignment, AssignmentStatus
from tests.web.test_browser import PHONE, browser, demo, sign_in, sign_out  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK = {"width": 1366, "height": 900}


def test_hq_chases_a_late_cell_and_the_lead_acknowledges_and_reports(live_server, browser, demo):  # noqa: F811
    base = live_server.url
    lead = User.objects.get(username="lead_chengguan")
    work = (
        Assignment.objects.filter(unit=lead.unit, item__target_value__isnull=False, parent=None)
        .filter(status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS])
        .select_related("item__action", "unit")
        .order_by("item__seq")
        .first()
    )
    # the work is late, and (as far as the page shows) nobody at the station has acknowledged it
    Assignment.objects.filter(pk=work.pk).update(
        due_date=timezone.localdate() - timedelta(days=3), acknowledged_at=None
    )
    parent = Unit.objects.get(code=work.unit.code[:-2])  # the sub-bureau: codes add two digits a level

    # --- HQ at its desk: the sub-bureau's board, the station's cell, its overdue work, 催办 ---
    desk = browser.new_context(viewport=DESK, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "hq_wang")
    page.goto(f"{base}/board/?campaign={work.campaign_id}&unit={parent.code}")
    cell = page.locator(f'td.cell[data-unit="{work.unit.code}"][data-action="{work.item.action_id}"]')
    assert "green" not in (cell.get_attribute("class") or "")  # yellow or red: something is late
    cell.locator("a.overdue").click()
    page.wait_for_load_state("networkidle")
    listed = page.locator("#work tbody tr")
    assert page.locator("#count").inner_text() == str(listed.count())
    assert f"{work.item.code} " in page.locator("#work").inner_text()
    page.check("#chase-form input[name=all]")
    page.fill("#id_note", "请于本周内完成并报送进展")
    page.click("#chase-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "催办" in page.locator(".messages").inner_text()
    desk.close()
    assert AuditEvent.objects.filter(verb="assignment.chased", object_id=work.pk).count() == 1
    delivery.drain()  # what the worker does after the commit (this test runs none)

    # --- the station lead, on a phone: the inbox, then the work: 签收, then a report ---
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, base, "lead_chengguan")
    page.goto(f"{base}/inbox/")
    chased = page.locator("#messages li", has_text="【催办】")
    assert chased.count() == 1 and "请于本周内完成并报送进展" in chased.inner_text()
    page.goto(f"{base}/assignments/{work.pk}/")
    page.click("#acknowledge button")
    page.wait_for_load_state("networkidle")
    assert page.locator("#acknowledge").count() == 0
    page.fill("#id_value", "12")
    page.fill("#id_text", "已组织清查12家次")
    page.click("#report button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "进度已填报" in page.locator(".messages").inner_text()
    phone.close()

    work.refresh_from_db()
    assert work.acknowledged_by == lead and work.status == AssignmentStatus.IN_PROGRESS
    assert Message.objects.filter(recipient=lead, channel=Channel.INBOX, event__kind="chased").count() == 1
    connections.close_all()
