"""Small things a clerk sees: the words of a button, the error pages in the layout and in Chinese, the
favicon, the sign-in locks named in Chinese in the admin, quotes inside quotes in reminders."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from notifications import delivery, sweep
from notifications.models import Message
from ops.outage import server_error
from tasks.models import Item
from tests.web.pages import login, text
from utilities.cn import nest_quotes

pytestmark = pytest.mark.django_db


def test_the_button_that_opens_a_day_reads_open_not_pending(city, published):
    page = text(login(city["station_lead"]).get("/stats/report/"))
    assert '<button type="submit">打开</button>' in page
    assert "待处理" not in page


def in_the_layout(html: str) -> bool:
    return '<html lang="zh-hans">' in html and '<header class="top">' in html and "专项行动任务跟踪" in html


def test_a_refusal_is_a_chinese_page_in_the_layout(city, published):
    response = login(city["inspector"]).get("/stats/report/")  # an inspector reports no unit's figures
    html = text(response)
    assert response.status_code == 403 and in_the_layout(html)
    assert "无权访问" in html and "Forbidden" not in html


def test_a_missing_page_is_a_chinese_page_in_the_layout_the_same_for_every_id(city, published):
    client = login(city["station_lead"])
    first, second = client.get("/assignments/2000000007/"), client.get("/assignments/2000000008/")
    assert first.status_code == second.status_code == 404
    assert in_the_layout(text(first)) and "页面不存在" in text(first) and "Not Found" not in text(first)
    assert first.content == second.content  # the path is not in the page: out of scope reads as missing
    assert "城关派出所" not in text(first)  # no unit at all, not even the user's own


def test_a_server_error_is_a_chinese_page_in_the_layout_without_the_database(city, django_assert_num_queries):
    """Django draws the 500 page without the request's context (no context processor, no session): the
    layout must need none of it, and no query either (the database may be what failed)."""
    request = RequestFactory().get("/my/")
    request.user = city["station_lead"]
    try:
        raise ValueError("a bug")
    except ValueError:
        with django_assert_num_queries(0):
            response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500 and in_the_layout(html) and "服务器出错" in html


def test_the_favicon_is_served_at_the_root():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")


def test_the_layout_names_the_icon(city):
    html = text(login(city["hq"]).get("/items/"))
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in html


def test_the_sign_in_locks_are_named_in_chinese_in_the_admin(city):
    AccessAttempt.objects.create(
        username="station_lead",
        ip_address="10.0.0.9",
        failures_since_start=5,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
    )
    html = text(login(city["hq"]).get("/admin/"))
    assert "登录锁定" in html and "登录尝试" in html
    assert "Axes" not in html and "Access attempts" not in html
    listing = text(login(city["hq"]).get("/admin/axes/accessattempt/"))
    assert "尝试时间" in listing and "失败次数" in listing and "Attempt Time" not in listing


@pytest.mark.parametrize(
    ("written", "nested"),
    [
        ("第1项“建立风险隐患“见底清零”台账”，请落实", "第1项“建立风险隐患‘见底清零’台账”，请落实"),
        ("“一”与“二”", "“一”与“二”"),  # side by side, not nested
        ("“甲“乙“丙”乙”甲”", "“甲‘乙“丙”乙’甲”"),  # three levels: alternating
        ("没有引号", "没有引号"),
        ("只开不合“见底", "只开不合“见底"),
    ],
)
def test_quotes_inside_quotes_become_single_quotes(written, nested):
    assert nest_quotes(written) == nested


def test_a_reminder_about_an_item_with_quotes_in_its_title_nests_them(city, published):
    Item.objects.filter(code="1.1").update(title="建立风险隐患“见底清零”台账")
    with time_machine.travel(datetime.combine(date(2026, 9, 3), time(9), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        sweep.run()
        delivery.drain()
    bodies = [m.body for m in Message.objects.filter(reminder__subject_type="assignment", channel="inbox")]
    about = [b for b in bodies if "见底清零" in b]
    assert about and all("第1.1项“建立风险隐患‘见底清零’台账”" in b for b in about)
