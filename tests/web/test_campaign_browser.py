"""Issue 17 in a real headless Chromium, on a clerk's desktop screen: from an empty database (only the
units imported) HQ's office runs a campaign without the terminal or the admin. It uploads the plan with
a mistake and sees it located beside the cell's text, uploads the corrected file and publishes, sets up
the statistics catalogue and its rounds, enters the first figures on a station's behalf, exports the
checklist, and copies the campaign to next year as a draft.

Needs /usr/bin/chromium (``apt-get install chromium``; scripts/test installs it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from openpyxl import load_workbook

from accounts.models import Role, Unit, UnitKind
from audit.models import AuditEvent
from stats.models import Figure, Indicator, Round
from tasks.models import Campaign, CampaignStatus, PlanUpload
from tests.conftest import make_user
from tests.web.test_browser import CHROMIUM, browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DESK = {"width": 1366, "height": 900}


@pytest.fixture
def empty_city(settings):
    """The units of the seed city and one HQ clerk: nothing else."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("import_units", str(SEEDS / "units.csv"))
    city = Unit.objects.get(code="3303")
    return make_user("clerk", Unit.objects.get(code="330301"), (Role.HQ, city), name="王晓燕")


def broken_plan(tmp_path: Path) -> Path:
    """The seed plan with one lead unit mistyped (治安大队 for 治安支队) in 1.1's row."""
    book = load_workbook(SEEDS / "plan.xlsx")
    sheet = book.active
    row = next(r for r in sheet.iter_rows(min_row=1) if r[0].value == "1.1")
    row[4].value = "治安大队"
    path = tmp_path / "百日行动责任清单.xlsx"
    book.save(path)
    return path


def go(page, selector: str) -> None:
    page.click(selector)
    page.wait_for_load_state("networkidle")


def test_hq_runs_a_campaign_from_an_empty_database(live_server, browser, empty_city, tmp_path):  # noqa: F811
    base = live_server.url
    outside: list[str] = []
    context = browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
    context.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", "pw-clerk")
    go(page, "main button[type=submit]")

    # --- the plan, with a mistake: located beside the cell's text, nothing written ---
    page.goto(f"{base}/plans/")
    page.set_input_files("#id_file", str(broken_plan(tmp_path)))
    page.fill("#id_name", "江城市公安机关夏季治安打击整治“百日行动”")
    page.fill("#id_code", "BR2026")
    page.fill("#id_start", "2026-07-01")
    page.fill("#id_end", "2026-10-08")
    page.select_option("#id_owner", "3303")
    go(page, "#upload button[type=submit]")
    problems = page.locator("#problems").inner_text()
    assert "责任清单" in problems and "第4行" in problems and "治安大队" in problems and "治安支队" in problems
    assert page.locator("#confirm").count() == 0
    page.screenshot(path=str(tmp_path / "problems.png"), full_page=True)
    assert not Campaign.objects.exists()

    # --- the corrected file: the preview's numbers, then import and publish in one step ---
    page.goto(f"{base}/plans/")
    page.set_input_files("#id_file", str(SEEDS / "plan.xlsx"))
    page.fill("#id_name", "江城市公安机关夏季治安打击整治“百日行动”")
    page.fill("#id_code", "BR2026")
    page.fill("#id_start", "2026-07-01")
    page.fill("#id_end", "2026-10-08")
    page.select_option("#id_owner", "3303")
    go(page, "#upload button[type=submit]")
    assert "77" in page.locator("#totals").inner_text()
    page.check("#id_publish")
    go(page, "#confirm button[type=submit]")
    campaign = Campaign.objects.get(code="BR2026")
    assert campaign.status == CampaignStatus.PUBLISHED and campaign.items.count() == 77
    assert PlanUpload.objects.filter(campaign=campaign).count() == 1
    assert campaign.assignments.count() > 300

    # --- the checklist, as the office files it ---
    page.goto(f"{base}/items/?campaign={campaign.pk}")
    with page.expect_download() as download:
        page.click("form[action='/items/export/'] button")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.endswith("责任清单.xlsx")
    assert load_workbook(saved).active.cell(2, 1).value == "序号"

    # --- the statistics catalogue: indicators in one table, a round every weekend in one step ---
    page.goto(f"{base}/stats/?campaign={campaign.pk}")
    go(page, "#catalogue-link")
    page.fill("#id_ind-0-name", "检查重点场所")
    page.fill("#id_ind-0-measure", "家次")
    page.fill("#id_ind-1-name", "收缴管制刀具")
    page.fill("#id_ind-1-measure", "把")
    go(page, "#indicators button[type=submit]")
    indicators = list(Indicator.objects.filter(campaign=campaign).order_by("seq", "pk"))
    assert [(i.name, i.measure) for i in indicators] == [("检查重点场所", "家次"), ("收缴管制刀具", "把")]
    page.screenshot(path=str(tmp_path / "catalogue.png"), full_page=True)
    page.select_option("#recurring select[name=rule]", "weekends")
    go(page, "#recurring button[type=submit]")
    weekends = list(Round.objects.filter(campaign=campaign).order_by("start"))
    # 7月1日 is a Wednesday: Saturday 4 July to Sunday 4 October, fourteen weekends
    assert len(weekends) == 14 and all((r.end - r.start).days == 1 and r.start.weekday() == 5 for r in weekends)
    assert (weekends[0].start, weekends[-1].end) == (date(2026, 7, 4), date(2026, 10, 4))

    # --- the first figures, entered on a station's behalf (代填) ---
    station = Unit.objects.filter(code__startswith="3303", kind=UnitKind.STATION).order_by("path").first()
    page.goto(f"{base}/stats/report/?campaign={campaign.pk}")
    page.fill("input[list=unit-options]", station.code)
    go(page, "#pick-day button[type=submit]")
    assert station.name in page.locator("#unit-name").inner_text()
    page.fill(f"#v{indicators[0].pk}", "36")
    page.fill(f"#v{indicators[1].pk}", "4")
    go(page, "#figures button[type=submit]")
    figures = Figure.objects.filter(unit=station, indicator__campaign=campaign)
    assert sorted(figures.values_list("value", "on_behalf", "reported_by")) == [
        (4, True, empty_city.pk),
        (36, True, empty_city.pk),
    ]

    # --- next year's campaign, copied as a draft compared with this one ---
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    page.fill("#copy input[name=name]", "2027年夏季治安打击整治“百日行动”")
    page.fill("#copy input[name=code]", "BR2027")
    page.fill("#copy input[name=start]", "2027-07-01")
    page.fill("#copy input[name=end]", "2027-10-08")
    go(page, "#copy button[type=submit]")
    copied = Campaign.objects.get(code="BR2027")
    assert page.url.endswith(f"/campaigns/{copied.pk}/")
    assert page.locator("#status").inner_text() == "草稿" and campaign.name in page.locator("#compare-to").inner_text()
    assert (copied.status, copied.compare_to, copied.items.count()) == (CampaignStatus.DRAFT, campaign, 77)
    assert copied.items.get(code="1.1").due_date.year == 2027
    page.screenshot(path=str(tmp_path / "copied.png"), full_page=True)
    assert set(Indicator.objects.filter(campaign=copied).values_list("code", flat=True)) == {i.code for i in indicators}

    context.close()
    assert AuditEvent.objects.filter(actor=empty_city, verb="plan.imported").count() == 1
    assert outside == []
    connections.close_all()
