"""In a real headless Chromium, issue 22's Standard: the clerk drafts the weekly bulletin from the bulletin
page, edits the requirements and names the units it goes to (and the 区委 as an outside body, 双通报), the
office head checks, the leader signs; the units find it on "my tasks" and acknowledge; HQ sees who has
not and chases that one, whose lead then has the chase in the inbox; the 区委's copy is recorded as sent.

Needs /usr/bin/chromium, as tests/web/test_browser.py (whose fixtures this uses).
"""

# ruff: noqa: F811 (the fixtures imported below are the tests' arguments)
from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import expect

from documents.models import Document, DocumentRecipient
from notifications.models import Message
from tasks.models import Campaign

from .test_browser import browser, demo, sign_in, sign_out, submit  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
UNITS = {"330302": "lead_zhian", "330303": "lead_xingzhen", "330304": "lead_xunte"}


def test_bulletin_drafted_checked_signed_received_acknowledged_and_chased(live_server, browser, demo):
    base = live_server.url
    campaign = Campaign.objects.get(code="XJ2026")
    page = browser.new_context(locale="zh-CN").new_page()

    # the clerk drafts the week's bulletin from the bulletin page, edits the requirements, names the units
    sign_in(page, base, "hq_zhou")
    page.goto(f"{base}/board/bulletin/?campaign={campaign.pk}&unit=3303")
    submit(page, "#draft-bulletin button[type=submit]")
    page.wait_for_url("**/documents/*/")
    pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.fill("#id_requirements", "各单位要对照清单逐项销号。\n本周五前报送整改进展。")
    submit(page, "#draft-form button[type=submit]")
    expect(page.locator("#id_requirements")).to_have_value("各单位要对照清单逐项销号。\n本周五前报送整改进展。")
    page.fill("#id_units", "\n".join(UNITS))
    page.fill("#id_copies", "")
    page.fill("#id_bodies", "")
    page.fill("#id_body_copies", "中共江城区委")
    submit(page, "#recipients-form button[type=submit]")
    expect(page.locator("#recipients tbody tr")).to_have_count(4)
    submit(page, "#do-submit")
    expect(page.locator("#state")).to_have_text("待核稿")
    sign_out(page)

    # the office head checks, the leader signs (= issues)
    sign_in(page, base, "hq_wang")
    page.goto(f"{base}/documents/{pk}/")
    submit(page, "#do-check")
    expect(page.locator("#state")).to_have_text("待签发")
    sign_out(page)
    sign_in(page, base, "leader_chen")
    page.goto(f"{base}/documents/{pk}/")
    submit(page, "#do-sign")
    expect(page.locator("#state")).to_have_text("已下发")
    sign_out(page)
    number = Document.objects.get(pk=pk).number

    # two units receive it on "my tasks" and acknowledge; the third does not
    for username in ("lead_zhian", "lead_xingzhen"):
        sign_in(page, base, username)
        page.goto(f"{base}/my/")
        item = page.locator(f'#my-documents li[data-document="{pk}"]')
        expect(item).to_contain_text(number)
        submit(page, f'#my-documents li[data-document="{pk}"] button[type=submit]')
        expect(page.locator("#recipients")).to_contain_text("已签收")
        sign_out(page)

    # HQ sees who has and has not, and chases the one that has not; the 区委's copy recorded as sent
    sign_in(page, base, "hq_zhou")
    page.goto(f"{base}/documents/{pk}/")
    expect(page.locator("#receipt-counts")).to_contain_text("发送单位3个，已签收2个")
    expect(page.locator('#recipients tr[data-recipient="330304"]')).to_contain_text("未签收")
    page.fill("#chase-form input[name=note]", "请今日内签收")
    submit(page, "#do-chase")
    expect(page.locator('#recipients tr[data-recipient="330304"]')).to_contain_text("1")
    expect(page.locator("#do-chase")).to_have_count(1)  # still waiting: the button stays (again tomorrow)
    page.fill(".sent-form input[name=channel]", "机要交换")
    submit(page, ".sent-form button[type=submit]")
    expect(page.locator('#recipients tr[data-recipient="中共江城区委"]')).to_contain_text("机要交换")
    sign_out(page)

    rows = DocumentRecipient.objects.filter(document_id=pk).exclude(unit=None)
    assert sorted(rows.filter(acknowledged_at__isnull=False).values_list("unit__code", flat=True)) == [
        "330302",
        "330303",
    ]
    chased = Message.objects.filter(event__kind="doc_chased", event__subject_id=pk, channel="inbox")
    assert list(chased.values_list("recipient__username", flat=True)) == ["lead_xunte"]
    connections.close_all()
