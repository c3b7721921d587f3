"""HQ's plan upload (issue 17): the API's dry run and import, and the kept upload's preview → confirm."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tasks.models import Assignment, Campaign, CampaignStatus, Item, PlanUpload, PlanUploadStatus
from tasks.services.plan_uploads import confirm_plan, preview_plan
from tasks.services.plans import import_plan
from utilities.errors import Forbidden, Refused
from utilities.uploads import UploadRejected

from .planfiles import CAMPAIGN, PLAN, with_row, write_docx, write_xlsx, write_yaml

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
START, END = date.fromisoformat(CAMPAIGN["start"]), date.fromisoformat(CAMPAIGN["end"])
NEW = {"name": CAMPAIGN["name"], "code": "XJ", "start": CAMPAIGN["start"], "end": CAMPAIGN["end"], "owner": "3303"}
CSV_PLAN = "行动,序号,工作任务,牵头单位,完成时限\n清患行动,1,重点场所清查,各派出所,8月底前\n清患行动,2,涉危企业检查,治安支队,7月15日前\n"


def as_upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def command_json(path: Path, **options) -> dict:
    out = StringIO()
    args = [f"--{k}={v}" for k, v in options.items()]
    with contextlib.suppress(CommandError):  # a refused file still prints its JSON
        call_command("import_plan", str(path), "--dry-run", "--format=json", *args, stdout=out)
    return json.loads(out.getvalue())


def counts() -> tuple:
    return (
        Campaign.objects.count(),
        Item.objects.count(),
        Assignment.objects.count(),
        AuditEvent.objects.count(),
        PlanUpload.objects.count(),
    )


@pytest.mark.parametrize("writer", [write_xlsx, write_docx, write_yaml])
def test_api_dry_run_answers_what_the_command_prints(city, tmp_path, writer):
    path = writer(tmp_path / f"plan.{writer.__name__.removeprefix('write_')}")
    before = counts()
    response = api(city["hq"]).post("/api/v1/plans/", {"file": as_upload(path), **NEW}, format="multipart")
    assert response.status_code == 200, response.content
    got = response.json()
    assert counts() == before  # a dry run writes nothing
    want = command_json(
        path, **{"campaign": NEW["name"], "code": "XJ", "start": NEW["start"], "end": NEW["end"]}, owner="3303"
    )
    assert got == want
    assert (got["actions"], got["items"], got["errors"]) == (2, 4, [])


def test_api_dry_run_of_the_seed_plans_matches_the_command(city, tmp_path):
    """The seed plans name the demo city's units: against the test city they are refused, with the
    same located errors the command prints (and nothing written)."""
    for name in ("plan.xlsx", "plan.yaml"):
        before = counts()
        response = api(city["hq"]).post(
            "/api/v1/plans/", {"file": as_upload(SEEDS / name), **NEW, "code": "SEED"}, format="multipart"
        )
        want = command_json(
            SEEDS / name, campaign=NEW["name"], code="SEED", start=NEW["start"], end=NEW["end"], owner="3303"
        )
        assert response.status_code == (400 if want["errors"] else 200)
        assert response.json() == want
        assert counts() == before


def test_api_re_import_of_a_published_campaign_shows_what_would_change(city, published, tmp_path):
    shorter = [(h, rows[:1]) for h, rows in PLAN]
    path = write_xlsx(tmp_path / "v2.xlsx", shorter)
    before = counts()
    response = api(city["hq"]).post(
        "/api/v1/plans/", {"file": as_upload(path), "campaign": published.pk}, format="multipart"
    )
    assert response.status_code == 200, response.content
    got = response.json()
    assert got["withdrawn"]["items"] == 2 and got["items"] == 2 and got["dry_run"] is True
    assert counts() == before


def test_api_broken_file_is_a_400_with_located_errors_and_writes_nothing(city, tmp_path):
    broken = with_row(PLAN, 0, 1, lead="治安大队", deadline="明年")
    path = write_xlsx(tmp_path / "broken.xlsx", broken)
    before = counts()
    response = api(city["hq"]).post(
        "/api/v1/plans/", {"file": as_upload(path), **NEW, "dry_run": "false"}, format="multipart"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {(e["sheet"], e["row"], e["field"]) for e in errors} == {
        ("责任清单", 5, "牵头单位"),
        ("责任清单", 5, "完成时限"),
    }
    lead = next(e for e in errors if e["field"] == "牵头单位")
    assert lead["text"] == "治安大队" and "是否为：" in lead["message"] and "治安支队" in lead["message"]
    assert counts() == before


def test_api_refuses_a_file_that_is_no_plan_type(city):
    before = counts()
    fake = SimpleUploadedFile("plan.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    response = api(city["hq"]).post("/api/v1/plans/", {"file": fake, **NEW}, format="multipart")
    assert response.status_code == 400 and "plan.xlsx" in response.json()["detail"]
    assert counts() == before


def test_api_csv_decided_from_its_bytes_imports_and_publishes(city):
    upload = SimpleUploadedFile("清单.txt", CSV_PLAN.encode("gb18030"))
    response = api(city["hq"]).post(
        "/api/v1/plans/", {"file": upload, **NEW, "dry_run": "false", "publish": "true"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    campaign = Campaign.objects.get(code="XJ")
    assert campaign.status == CampaignStatus.PUBLISHED and campaign.items.count() == 2
    assert AuditEvent.objects.filter(verb="campaign.created", actor=city["hq"]).exists()
    # the same code again as a new campaign is refused, not written over
    again = api(city["hq"]).post(
        "/api/v1/plans/", {"file": SimpleUploadedFile("p.csv", CSV_PLAN.encode()), **NEW}, format="multipart"
    )
    assert again.status_code == 400 and "已被使用" in again.json()["detail"]


@pytest.mark.parametrize("who", ["east_lead", "inspector", "east_leader"])
def test_api_refuses_who_does_not_manage(city, published, tmp_path, who):
    path = write_xlsx(tmp_path / "plan.xlsx")
    before = counts()
    client = api(city[who])
    assert (
        client.post(
            "/api/v1/plans/", {"file": as_upload(path), "campaign": published.pk}, format="multipart"
        ).status_code
        == 403
    )
    assert (
        client.post("/api/v1/plans/", {"file": as_upload(path), **NEW, "code": "N"}, format="multipart").status_code
        == 403
    )
    assert api(city["west_lead"]).post(
        "/api/v1/plans/", {"file": as_upload(path), "campaign": published.pk}, format="multipart"
    ).status_code in (403, 404)
    assert counts() == before


# --- the kept upload: preview, confirm ----------------------------------------------------------------


def test_preview_keeps_the_file_and_confirm_imports_once(city, tmp_path):
    path = write_xlsx(tmp_path / "plan.xlsx")
    upload = preview_plan(
        upload=as_upload(path),
        by=city["hq"],
        name=NEW["name"],
        code="XJ",
        start=START,
        end=END,
        owner=city["3303"],
    )
    assert upload.status == PlanUploadStatus.PREVIEWED and upload.sha256 and upload.file.name.endswith(".xlsx")
    assert upload.result["items"] == 4 and upload.result["assignments"] == 12  # counted as if published
    assert not Campaign.objects.exists()
    result = confirm_plan(upload=upload, by=city["hq"], publish=True)
    assert result.published and Campaign.objects.get(code="XJ").assignments.count() == 12
    upload.refresh_from_db()
    assert upload.status == PlanUploadStatus.IMPORTED and upload.campaign.code == "XJ"
    before = counts()
    with pytest.raises(Refused, match="不能重复导入"):
        confirm_plan(upload=upload, by=city["hq"], publish=True)
    assert counts() == before


def test_preview_with_problems_is_kept_failed_and_cannot_be_confirmed(city, tmp_path):
    broken = with_row(PLAN, 1, 0, lead="城东分局局")
    upload = preview_plan(
        upload=as_upload(write_xlsx(tmp_path / "b.xlsx", broken)),
        by=city["hq"],
        name="N",
        start=START,
        end=END,
        owner=city["3303"],
    )
    assert upload.status == PlanUploadStatus.FAILED
    (error,) = upload.result["errors"]
    assert error["text"] == "城东分局局" and "城东分局" in error["message"]
    with pytest.raises(Refused, match="预览有错误"):
        confirm_plan(upload=upload, by=city["hq"], publish=False)
    assert not Campaign.objects.exists()


def test_confirm_of_a_tampered_file_is_refused(city, tmp_path):
    upload = preview_plan(
        upload=as_upload(write_xlsx(tmp_path / "p.xlsx")),
        by=city["hq"],
        name="N",
        start=START,
        end=END,
        owner=city["3303"],
    )
    Path(upload.file.path).write_bytes(write_yaml(tmp_path / "other.yaml").read_bytes())
    with pytest.raises(Refused, match="已损坏"):
        confirm_plan(upload=upload, by=city["hq"], publish=False)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("who", ["east_lead", "inspector"])
def test_preview_and_confirm_refuse_who_does_not_manage(city, published, tmp_path, who):
    path = write_xlsx(tmp_path / "plan.xlsx")
    with pytest.raises(Forbidden):
        preview_plan(upload=as_upload(path), by=city[who], campaign=published)
    upload = preview_plan(upload=as_upload(path), by=city["hq"], campaign=published)
    with pytest.raises(Forbidden):
        confirm_plan(upload=upload, by=city[who], publish=False)


def test_preview_refuses_a_closed_campaign_and_an_odd_file(city, published, tmp_path):
    with pytest.raises(UploadRejected):
        preview_plan(upload=SimpleUploadedFile("p.csv", b"a\x00b"), by=city["hq"], campaign=published)
    Campaign.objects.filter(pk=published.pk).update(status=CampaignStatus.CLOSED)
    published.refresh_from_db()
    with pytest.raises(Refused, match="已结束"):
        preview_plan(upload=as_upload(write_xlsx(tmp_path / "p.xlsx")), by=city["hq"], campaign=published)
    assert not PlanUpload.objects.exists()


def test_a_plan_file_cannot_redirect_the_import_to_another_campaign(city, published, tmp_path):
    """A YAML file's own campaign block names another owner and code: the form's campaign decides."""
    path = write_yaml(tmp_path / "p.yaml", campaign={**CAMPAIGN, "code": "OTHER", "owner": "330320"})
    upload = preview_plan(upload=as_upload(path), by=city["hq"], campaign=published)
    confirm_plan(upload=upload, by=city["hq"], publish=False)
    assert not Campaign.objects.filter(code="OTHER").exists()
    assert Campaign.objects.get(pk=published.pk).owner.code == "3303"


def test_import_plan_checks_the_users_right(city, tmp_path):
    with pytest.raises(Forbidden):
        import_plan(path=write_xlsx(tmp_path / "p.xlsx"), by=city["east_lead"], **{**NEW, "owner": "3303"})
