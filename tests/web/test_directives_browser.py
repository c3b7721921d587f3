"""Issue 21 in a real headless Chromium: HQ registers a listed major case and hands it down; the station
lead, on a phone, finds it on /my/, acknowledges it (签收), reports progress (反馈) and sends the completion
report (办结报告); HQ returns it once with a reason, the lead sends it again, HQ accepts it (销号) with
the case's outcome, and the bulletin counts it solved. Registered with 每周反馈: the phone's report answers
the week's check-in, and no week before the hand-down is missed.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from directives.models import Directive, Status
from tasks.models import Assignment, AssignmentStatus, Campaign
from tests.web.test_browser import PHONE, browser, demo, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK = {"width": 1366, "height": 900}
TITLE = "“8·01”东门网吧盗窃电动车系列案"


def send_completion(page, base: str, directive: Directive, report: str) -> None:
    page.goto(f"{base}/directives/{directive.pk}/")
    page.fill("#complete-33031101 textarea", report)
    page.click("#complete-33031101 button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "办结报告已报送审核" in page.locator(".messages").inner_text()


def review(page, base: str, directive: Directive, decision: str, reason: str = "") -> None:
    page.goto(f"{base}/directives/{directive.pk}/")
    page.select_option("#review select[name=decision]", decision)
    if reason:
        page.fill("#review textarea[name=reason]", reason)
    if decision == "accept":
        page.select_option("#review select[name=outcome]", "solved")
    page.click("#review button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_a_major_case_from_registration_to_closing(live_server, browser, demo):  # noqa: F811
    base = live_server.url
    campaign = Campaign.objects.filter(status="published").order_by("-start").first()

    # --- HQ registers the case and hands it down at once ---
    desk = browser.new_context(viewport=DESK, locale="zh-CN")
    hq = desk.new_page()
    sign_in(hq, base, "hq_wang")
    hq.click("#nav-directives")
    hq.click("#register")
    if hq.locator("#id_campaign").get_attribute("type") != "hidden":
        hq.select_option("#id_campaign", str(campaign.pk))
    hq.fill("#id_title", TITLE)
    hq.select_option("#id_source", "case")
    hq.fill("#id_lead_units", "33031101")
    hq.fill("#id_due_date", str(min(campaign.end, timezone.localdate() + timedelta(days=14))))
    hq.select_option("#id_level", "city")
    hq.check("#id_is_case")
    hq.fill("#id_case_no", "A3303002026080100031")
    hq.select_option("#id_feedback_weekday", "5")  # 每周五前反馈
    hq.click("#directive-form button[type=submit]")
    hq.wait_for_load_state("networkidle")
    directive = Directive.objects.get(item__title=TITLE)
    assert hq.url.endswith(f"/directives/{directive.pk}/")
    assert "已交办" in hq.locator("#status").inner_text()
    assert "未签收" in hq.locator("#work").inner_text()
    assert "星期五" in hq.locator("#cadence").inner_text()
    assert "无漏报" in hq.locator("#work").inner_text()  # nothing missed before the hand-down
    work = Assignment.objects.get(item=directive.item)

    # --- the station lead, on a phone: /my/, 签收, 反馈, 办结报告 ---
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    lead = phone.new_page()
    sign_in(lead, base, "lead_chengguan")
    section = lead.locator('section[data-group="directives"]')
    assert TITLE in section.inner_text()
    section.locator(f'a[href="/assignments/{work.pk}/"]').click()
    lead.wait_for_url(f"**/assignments/{work.pk}/")
    lead.click("#acknowledge button")
    lead.wait_for_load_state("networkidle")
    lead.fill("#id_text", "已调取网吧及周边监控，锁定两名嫌疑人")
    lead.click("#report button[type=submit]")
    lead.wait_for_load_state("networkidle")
    assert "进度已填报" in lead.locator(".messages").inner_text()
    assert work.reports.get().period is not None  # the week's check-in answered
    send_completion(lead, base, directive, "已抓获嫌疑人2名，追回电动车6辆")

    # --- HQ returns it once, with the reason ---
    review(hq, base, directive, "return", "缺少追赃清单和受害人笔录")
    work.refresh_from_db()
    assert work.status == AssignmentStatus.RETURNED

    # --- the lead resumes and sends it again; HQ accepts it with the outcome ---
    lead.goto(f"{base}/assignments/{work.pk}/")
    lead.click('button[data-transition="resume"]')
    lead.wait_for_load_state("networkidle")
    send_completion(lead, base, directive, "补充追赃清单及笔录")
    phone.close()
    review(hq, base, directive, "accept")
    assert "已销号" in hq.locator("#status").inner_text()
    timeline = hq.locator("#timeline").inner_text()
    assert "督办立项" in timeline and "缺少追赃清单和受害人笔录" in timeline and "督办销号" in timeline
    desk.close()

    directive.refresh_from_db()
    assert directive.status == Status.CLOSED and directive.outcome == "solved"

    # --- the bulletin of the campaign so far counts it solved ---
    bulletin = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    sign_in(bulletin, base, "hq_wang")
    as_of = min(campaign.end, timezone.localdate())
    shown = bulletin.goto(f"{base}/board/bulletin/?campaign={campaign.pk}&unit={campaign.owner.code}&period=c{as_of}")
    text = bulletin.locator("body").inner_text()
    assert shown.status == 200, text[:500]
    assert "挂牌督办案件方面" in text and "破案1起" in text
