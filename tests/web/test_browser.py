"""In a real headless Chromium (Debian's package, driven by Playwright) on a 375-px phone screen:
a demo station lead reports progress with a photo and submits; HQ accepts it. An inspector logs a
finding with a camera photo and orders it fixed; the lead answers; the inspector rejects once, then
verifies.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import expect

from accounts.models import User
from audit.models import AuditEvent
from tasks.models import Assignment, AssignmentStatus, Evidence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As the machine's own probe starts it: no sandbox (root), no GPU, and no background calls out.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 812}


def png(path: Path) -> Path:
    """A real 8×8 PNG (the upload check reads the bytes)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        # Every page of every context is watched: anything the Content-Security-Policy blocked (an
        # inline script or style, an outside address) is reported on the console and fails the test.
        blocked: list[str] = []
        new_context = browser.new_context

        def watched_context(**options):
            context = new_context(**options)
            context.on(
                "console",
                lambda m: (
                    blocked.append(f"{m.page.url if m.page else ''}: {m.text}")
                    if "Content Security Policy" in m.text
                    else None
                ),
            )
            return context

        browser.new_context = watched_context
        yield browser
        browser.close()
        assert blocked == [], "blocked by the Content-Security-Policy"


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", quiet=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_station_lead_reports_and_submits_then_hq_accepts(live_server, browser, demo, tmp_path):
    base = live_server.url
    lead = User.objects.get(username="lead_chengguan")
    work = (
        Assignment.objects.filter(unit=lead.unit, item__target_value__isnull=False, item__deadline_kind="date")
        .filter(status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS])  # the demo moved some along
        .select_related("item")
        .order_by("item__seq")
        .first()
    )
    before = work.progress  # the demo has reported some of it already
    outside: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page = context.new_page()

    # --- the station lead, on a phone ---
    sign_in(page, base, "lead_chengguan")
    assert page.url.endswith("/my/")
    assert page.locator("h1").inner_text() == "我的任务"
    assert fits_the_phone(page)
    everything = page.locator("#task-list a.title").count()
    assert everything == Assignment.objects.filter(unit=lead.unit, is_active=True).count()
    page.fill("#id_q", work.item.title[:6])  # htmx narrows the list as the lead types
    # (waited for from Python: a JavaScript predicate polled in the page would be an eval the CSP refuses)
    expect(page.locator("#task-list a.title")).not_to_have_count(everything)
    assert "q=" in page.url  # the search is in the address, so back and reload keep it
    page.locator(f'#task-list a[href="/assignments/{work.pk}/"]').click()
    page.wait_for_url(f"**/assignments/{work.pk}/")
    assert fits_the_phone(page)
    page.fill("#id_value", "120")
    page.fill("#id_text", "本周清查重点场所 120 家次")
    page.set_input_files("#id_files", str(png(tmp_path / "现场照片.png")))
    page.click("#report button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "进度已填报" in page.locator(".messages").inner_text()
    assert "现场照片.png" in page.locator("#reports").inner_text()
    assert f"{work.progress + 120:f}".removesuffix(".00") in page.locator("#progress").inner_text()
    page.click('button[data-transition="submit"]')
    page.wait_for_load_state("networkidle")
    work.refresh_from_db()
    if work.shortfall():  # below its target: the page says how far it got and asks to confirm
        assert "确认提交验收？" in page.locator(".messages").inner_text()
        page.check('#shortfall input[name="confirm_shortfall"]')
        page.click('button[data-transition="submit"]')
        page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "已提交验收"
    page.screenshot(path=str(tmp_path / "lead.png"), full_page=True)
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/")

    # --- headquarters ---
    sign_in(page, base, "hq_wang")
    assert page.url.endswith("/review/")
    # the desk narrowed to the station, newest first: "select all on this page", then one bulk accept
    page.goto(f"{base}/review/?unit={work.unit.code}&order=newest")
    row = page.locator(f'tr[data-assignment="{work.pk}"]')
    assert work.unit.name in row.inner_text()
    page.check("#select-page")
    expect(row.locator('input[name="rows"]')).to_be_checked()
    page.click('button[data-bulk="accept"]')
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/review/?unit={work.unit.code}&order=newest")  # the filters kept
    assert "验收通过" in page.locator(".messages").inner_text()
    page.goto(f"{base}/assignments/{work.pk}/")
    assert "现场照片.png" in page.locator("#reports").inner_text()
    assert page.locator("#status").inner_text() == "已验收"
    timeline = page.locator("#timeline").inner_text()
    assert "填报进度" in timeline and "已提交验收" in timeline and "已验收 王晓燕" in timeline
    context.close()

    work.refresh_from_db()
    assert work.status == AssignmentStatus.ACCEPTED and work.progress == before + 120
    assert Evidence.objects.get(assignment=work).name == "现场照片.png"
    verbs = list(
        AuditEvent.objects.filter(object_id=work.pk, verb__startswith="assignment.").values_list(
            "verb", "actor__username"
        )
    )
    assert ("assignment.reported", "lead_chengguan") in verbs
    assert ("assignment.submit", "lead_chengguan") in verbs
    assert ("assignment.accept", "hq_wang") in verbs
    assert outside == []  # offline: nothing but the app itself was asked for
    # Queries made while Playwright's loop runs get a connection of their own context (asgiref's
    # Local); close it here, or it outlives the test and blocks dropping the test database.
    connections.close_all()


def sign_out(page) -> None:
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/")


def submit(page, selector: str) -> None:
    page.click(selector)
    page.wait_for_load_state("networkidle")


def test_inspector_logs_and_orders_lead_answers_inspector_rejects_once_then_verifies(
    live_server, browser, demo, tmp_path
):
    from django.utils import timezone

    from inspections.models import Finding, FindingStatus, Inspection, InspectionStatus, Notice, NoticeStatus

    base = live_server.url
    night = Inspection.objects.get(status=InspectionStatus.IN_PROGRESS)
    outside: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page = context.new_page()
    photo = str(png(tmp_path / "现场.png"))

    # --- the inspector, on the spot: log a finding with a camera photo, then order it fixed ---
    sign_in(page, base, "insp_huang")
    assert page.url.endswith("/inspections/")
    page.locator(f'a[href="/inspections/{night.pk}/"]').first.click()
    page.wait_for_url(f"**/inspections/{night.pk}/")
    submit(page, f'a[href="/findings/new/?inspection={night.pk}"]')
    assert page.locator("#id_inspection").input_value() == str(night.pk)
    assert page.locator("#id_camera").get_attribute("capture") == "environment"
    assert fits_the_phone(page)
    page.select_option("#id_unit", "33031101")
    page.fill("#id_place", "解放路夜市8号大排档")
    page.fill("#id_description", "液化气罐放置在人员密集通道")
    page.set_input_files("#id_camera", photo)
    submit(page, "#finding-form button[type=submit]")
    finding = Finding.objects.get(place="解放路夜市8号大排档")
    assert page.url.endswith(f"/findings/{finding.pk}/")
    assert "问题已登记" in page.locator(".messages").inner_text()
    assert page.locator(".photos img").count() == 1
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") == 8  # the photo is served back
    submit(page, "#order a.button")
    assert page.locator("input[name=findings]:checked").count() == 1  # just this finding
    assert fits_the_phone(page)
    submit(page, "#notice-form button[type=submit]")
    notice = Notice.objects.get(findings=finding)
    issued = Notice.objects.filter(issuing_unit=notice.issuing_unit, year=notice.year).count()  # the demo's, then this
    assert page.locator("#number").inner_text() == notice.number == f"江公督〔{notice.year}〕{issued}号"
    pdf = page.request.get(f"{base}/notices/{notice.pk}/pdf/")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
    sign_out(page)

    # --- the station lead answers with evidence ---
    sign_in(page, base, "lead_chengguan")
    page.click("header a:has-text('整改')")
    page.wait_for_url("**/rectification/")
    assert fits_the_phone(page)
    submit(page, f'section[data-group="ordered"] a[href="/findings/{finding.pk}/"]')

    def answer(text: str) -> None:
        page.fill("#answer textarea[name=text]", text)
        page.set_input_files("#answer input[name=camera]", photo)
        submit(page, "#answer button[type=submit]")
        assert page.locator("#status").inner_text() == "已报整改"

    answer("已将液化气罐移至室外专用存放点")
    sign_out(page)

    # --- the inspector rejects it once, with a reason and a new deadline ---
    sign_in(page, base, "insp_huang")
    page.goto(f"{base}/findings/{finding.pk}/")
    page.click("#verify summary")
    page.fill("#verify textarea[name=note]", "存放点未设防护围栏")
    new_deadline = timezone.localdate() + timezone.timedelta(days=3)
    page.fill("#verify input[name=new_deadline]", new_deadline.isoformat())
    submit(page, 'button[data-verdict="reject"]')
    assert page.locator("#status").inner_text() == "已责令整改"
    assert page.locator("#rounds").inner_text() == "2"
    sign_out(page)

    sign_in(page, base, "lead_chengguan")
    page.goto(f"{base}/findings/{finding.pk}/")
    answer("已加装防护围栏")
    sign_out(page)

    # --- and verifies the second answer ---
    sign_in(page, base, "insp_huang")
    page.goto(f"{base}/findings/{finding.pk}/")
    submit(page, 'button[data-verdict="accept"]')
    assert page.locator("#status").inner_text() == "已验证销号"
    timeline = page.locator("#timeline").inner_text()
    assert timeline.count("答复整改情况") == 2 and "整改不到位，退回" in timeline and "存放点未设防护围栏" in timeline
    page.screenshot(path=str(tmp_path / "finding.png"), full_page=True)
    page.goto(f"{base}/findings/")
    page.wait_for_selector("#counts")  # the figures arrive after the list (htmx)
    assert "发现问题" in page.locator("#counts").inner_text()
    assert fits_the_phone(page)
    context.close()

    finding.refresh_from_db()
    assert (finding.status, finding.rounds, finding.deadline) == (FindingStatus.CLOSED, 2, new_deadline)
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.CLOSED
    assert finding.photos.count() == 3  # at discovery, and one with each answer
    verbs = list(
        AuditEvent.objects.filter(object_id=finding.pk, verb__startswith="finding.")
        .order_by("at", "id")
        .values_list("verb", "actor__username")
    )
    assert verbs == [
        ("finding.logged", "insp_huang"),
        ("finding.ordered", "insp_huang"),
        ("finding.answered", "lead_chengguan"),
        ("finding.rejected", "insp_huang"),
        ("finding.answered", "lead_chengguan"),
        ("finding.verified", "insp_huang"),
    ]
    assert outside == []
    connections.close_all()
