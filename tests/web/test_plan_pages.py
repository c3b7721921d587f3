"""HQ's plan pages (issue 17): upload → preview with the problems located → confirm, through the test client."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from tasks.models import Campaign, CampaignStatus, Item, PlanUpload, PlanUploadStatus
from tests.tasks.planfiles import CAMPAIGN, PLAN, with_row, write_xlsx
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db


NEW = {"name": "夏季行动", "code": "XJ", "start": CAMPAIGN["start"], "end": CAMPAIGN["end"], "owner": "3303"}


def xlsx(tmp_path, plan=PLAN, name="plan.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, write_xlsx(tmp_path / name, plan).read_bytes())


def test_upload_preview_confirm_once(city, tmp_path):
    hq = login(city["hq"])
    page = hq.get("/plans/")
    assert page.status_code == 200 and 'id="upload"' in text(page)
    assert '<option value="3303"' in text(page) and '<option value="33031001"' not in text(page)  # HQ's units only
    response = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path)})
    assert response.status_code == 302, text(response)[:500]
    upload = PlanUpload.objects.get()
    assert response["Location"] == f"/plans/{upload.pk}/" and upload.status == PlanUploadStatus.PREVIEWED
    assert not Campaign.objects.exists()  # nothing written before the confirmation
    preview = text(hq.get(response["Location"]))
    assert 'id="confirm"' in preview and 'id="problems"' not in preview
    assert re.search(r"2 个行动，4 项清单，12 条任务分配", preview), preview
    done = hq.post(response["Location"], {"publish": "on"})
    assert done.status_code == 302
    campaign = Campaign.objects.get(code="XJ")
    assert campaign.status == CampaignStatus.PUBLISHED and campaign.assignments.count() == 12
    assert AuditEvent.objects.filter(verb="plan.imported", actor=city["hq"]).count() == 1
    # a second confirmation (a double click, a stale tab) imports nothing
    events = AuditEvent.objects.count()
    again = hq.post(response["Location"], {"publish": "on"})
    assert again.status_code == 400 and "不能重复导入" in text(again)
    assert AuditEvent.objects.count() == events and Item.objects.count() == 4
    listing = text(hq.get("/plans/"))
    assert f'href="/plans/{upload.pk}/"' in listing and "已导入" in listing


def test_problems_located_with_the_cells_text_and_the_closest_names(city, tmp_path):
    hq = login(city["hq"])
    broken = with_row(PLAN, 0, 1, lead="治安大队", deadline="明年")
    response = hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, broken, "broken.xlsx")})
    assert response.status_code == 302
    page = text(hq.get(response["Location"]))
    assert 'id="problems"' in page and 'id="confirm"' not in page
    assert "责任清单 第5行" in page and "治安大队" in page and "是否为：治安支队" in page
    assert "明年" in page
    assert not Campaign.objects.exists()
    assert hq.post(response["Location"], {}).status_code == 400  # failed: no import
    assert not Campaign.objects.exists()


def test_re_import_of_a_published_campaign_shows_what_it_withdraws(city, published, tmp_path):
    hq = login(city["hq"])
    shorter = [(heading, rows[:1]) for heading, rows in PLAN]
    response = hq.post("/plans/", {"campaign": published.pk, "file": xlsx(tmp_path, shorter, "v2.xlsx")})
    assert response.status_code == 302, text(response)[:500]
    page = text(hq.get(response["Location"]))
    row = re.search(r"<tr><td>清单项</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    assert row and row.group(3) == "2", page  # withdrawn (the other one moved up: its order changed)
    assert published.items.filter(is_active=True).count() == 4  # still nothing written
    assert hq.post(response["Location"], {}).status_code == 302
    assert published.items.filter(is_active=True).count() == 2


def test_a_new_campaign_needs_its_fields_and_a_file_of_a_plan_type(city, tmp_path):
    hq = login(city["hq"])
    missing = hq.post("/plans/", {"file": xlsx(tmp_path)})
    assert missing.status_code == 400 and "新建行动须填写此项" in text(missing)
    png = SimpleUploadedFile("plan.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    refused = hq.post("/plans/", {**NEW, "file": png})
    assert refused.status_code == 400 and "文件内容不是可接受的类型" in text(refused)
    assert text(refused).count("plan.xlsx：") == 1  # the file named once
    assert not PlanUpload.objects.exists()


@pytest.mark.parametrize("who", ["east_lead", "inspector", "station_lead"])
def test_unit_leads_and_inspectors_are_refused(city, tmp_path, who):
    upload = PlanUpload.objects.none()
    client = login(city[who])
    assert client.get("/plans/").status_code == 403
    assert client.post("/plans/", {**NEW, "file": xlsx(tmp_path)}).status_code == 403
    hq = login(city["hq"])
    hq.post("/plans/", {**NEW, "file": xlsx(tmp_path, name="p2.xlsx")})
    upload = PlanUpload.objects.get()
    assert client.get(f"/plans/{upload.pk}/").status_code == 403
    assert client.post(f"/plans/{upload.pk}/", {"publish": "on"}).status_code == 403
    assert not Campaign.objects.exists()


def test_hq_of_one_branch_sees_neither_the_citys_uploads_nor_its_campaigns(city, published, tmp_path):
    from accounts.models import Role
    from tests.conftest import make_user

    east_hq = make_user("east_hq", city["330310"], (Role.HQ, city["330310"]))
    hq = login(city["hq"])
    hq.post("/plans/", {"campaign": published.pk, "file": xlsx(tmp_path)})
    upload = PlanUpload.objects.get()
    east = login(east_hq)
    page = text(east.get("/plans/"))
    assert f"/plans/{upload.pk}/" not in page and f'<option value="{published.pk}"' not in page
    assert east.get(f"/plans/{upload.pk}/").status_code == 404
    assert east.post("/plans/", {"campaign": published.pk, "file": xlsx(tmp_path, name="x.xlsx")}).status_code == 400
