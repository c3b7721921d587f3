"""HQ's statistics catalogue page (``/stats/catalogue/``): the indicators and rounds each in one table
(a formset: every row editable, blank rows added, every problem in its cell, nothing saved then), the
XLSX list, recurring rounds and the copy, for HQ over the campaign's owner only."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import Role
from audit.models import AuditEvent
from stats.models import Indicator, Round
from tasks.models import Campaign, CampaignStatus
from tests.conftest import make_user
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]

URL = "/stats/catalogue/"


def table(page, prefix: str) -> dict[str, str]:
    """The posted form of a table as the page shows it: every input's name and value (checkboxes ticked),
    every select's chosen option (else its first)."""
    body = text(page)
    form = re.search(rf'<form[^>]*id="{prefix}".*?</form>', body, re.S).group(0)
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for select in re.findall(r"<select[^>]*>.*?</select>", form, re.S):  # as a browser posts it
        name = re.search(r'name="([^"]+)"', select).group(1)
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select)
        data[name] = chosen.group(1) if chosen else (re.search(r'<option value="([^"]*)"', select) or [""])[1]
    return data


def test_hq_edits_every_indicator_in_one_table_and_adds_rows(city, catalogue):
    c = catalogue["campaign"]
    client = login(city["hq"])
    page = client.get(URL, {"campaign": c.pk})
    assert page.status_code == 200
    data = table(page, "indicators")
    assert data["ind-TOTAL_FORMS"] == "5"  # the two indicators and three blank rows
    data["ind-0-measure"] = "人"  # 出动警力
    data["ind-1-is_active"] = ""  # 检查场所 no longer reported
    del data["ind-1-is_active"]
    data.update({"ind-2-name": "查处违法行为", "ind-2-measure": "起", "ind-3-name": "收缴刀具", "ind-3-measure": "把"})
    saved = client.post(f"{URL}?campaign={c.pk}", data)
    assert saved.status_code == 302 and saved["Location"] == f"{URL}?campaign={c.pk}"
    got = {i.name: (i.measure, i.is_active) for i in Indicator.objects.filter(campaign=c)}
    assert got == {
        "出动警力": ("人", True),
        "检查场所": ("家次", False),
        "查处违法行为": ("起", True),
        "收缴刀具": ("把", True),
    }
    assert AuditEvent.objects.filter(verb="indicator.created").count() == 2
    assert AuditEvent.objects.filter(verb="indicator.changed").count() == 2
    more = client.get(URL, {"campaign": c.pk, "rows": 10})
    assert table(more, "indicators")["ind-TOTAL_FORMS"] == "14"


def test_errors_are_shown_in_their_cells_and_nothing_is_saved(city, catalogue):
    c = catalogue["campaign"]
    client = login(city["hq"])
    data = table(client.get(URL, {"campaign": c.pk}), "indicators")
    data.update(
        {
            "ind-0-name": "检查场所",  # the name of line 2, unchanged
            "ind-2-name": "查处违法行为",
            "ind-2-measure": "",  # a new row without its unit of measure
            "ind-3-name": "查处违法行为",  # the name of line 3
            "ind-3-measure": "次",
            "ind-3-seq": "²",  # refused by the form itself
        }
    )
    refused = client.post(f"{URL}?campaign={c.pk}", data)
    assert refused.status_code == 400
    assert "ind-3-seq" in text(refused) and Indicator.objects.filter(campaign=c).count() == 2
    data["ind-3-seq"] = "4"
    refused = client.post(f"{URL}?campaign={c.pk}", data)
    assert refused.status_code == 400
    forms = refused.context["indicators"].forms
    assert forms[0].errors == {"name": ["该行动已有同名指标"]}
    assert forms[2].errors == {"measure": ["请填写计量单位（人次、家次、起 …）"]}
    assert forms[3].errors == {"name": ["与第3行重名"]}
    assert not forms[1].errors
    body = text(refused)
    assert body.count('class="invalid"') + body.count(" invalid") >= 3 and "与第3行重名" in body
    assert sorted(Indicator.objects.filter(campaign=c).values_list("name", flat=True)) == ["出动警力", "检查场所"]
    assert not AuditEvent.objects.filter(verb__startswith="indicator.").exists()


def test_rounds_table_moves_removes_and_adds(city, catalogue):
    c, first, second = catalogue["campaign"], catalogue["first"], catalogue["second"]
    client = login(city["hq"])
    data = table(client.get(URL, {"campaign": c.pk}), "rounds")
    assert data["rnd-0-id"] == str(first.pk)
    data.update({"rnd-0-end": "2026-07-10", "rnd-1-delete": "on", "rnd-2-name": "第三轮", "rnd-2-start": "2026-09-01"})
    data["rnd-2-end"] = "2026-10-09"  # after the campaign
    refused = client.post(f"{URL}?campaign={c.pk}", data)
    assert refused.status_code == 400
    assert refused.context["rounds"].forms[2].errors["end"] == ["2026年10月9日不在行动期间（7月1日至10月8日）"]
    assert Round.objects.filter(campaign=c).count() == 2
    data["rnd-2-end"] = "2026-09-03"
    assert client.post(f"{URL}?campaign={c.pk}", data).status_code == 302
    got = list(Round.objects.filter(campaign=c).order_by("start").values_list("name", "start", "end"))
    assert got == [("第一轮", date(2026, 7, 7), date(2026, 7, 10)), ("第三轮", date(2026, 9, 1), date(2026, 9, 3))]
    assert not Round.objects.filter(pk=second.pk).exists()


def test_recurring_rounds_the_list_and_the_copy(city, catalogue):
    c = catalogue["campaign"]
    client = login(city["hq"])
    made = client.post(
        f"{URL}?campaign={c.pk}", {"form": "recurring", "rule": "month_start", "days": "2", "name_pattern": "月初{n}"}
    )
    assert made.status_code == 302
    assert Round.objects.filter(campaign=c, name__startswith="月初").count() == 4  # July to October
    no_days = client.post(
        f"{URL}?campaign={c.pk}", {"form": "recurring", "rule": "month_start", "name_pattern": "x{n}"}
    )
    assert no_days.status_code == 400

    book = Workbook()
    book.active.title = "指标"
    book.active.append(["指标名称", "计量单位", "顺序"])
    book.active.append(["夜巡", "", 3])
    out = BytesIO()
    book.save(out)
    broken = client.post(
        f"{URL}?campaign={c.pk}", {"form": "upload", "file": SimpleUploadedFile("清单.xlsx", out.getvalue())}
    )
    assert broken.status_code == 400
    assert "清单.xlsx 工作表“指标” 第2行 B列（计量单位）：请填写计量单位" in text(broken)
    assert not Indicator.objects.filter(name="夜巡").exists()

    target = Campaign.objects.create(
        code="XJ27", name="明年行动", owner=c.owner, start=date(2027, 7, 1), end=date(2027, 10, 8), compare_to=c
    )
    page = client.get(URL, {"campaign": target.pk})
    assert re.search(rf'<option value="{c.pk}" selected>', text(page))  # the campaign compared with, offered first
    copied = client.post(f"{URL}?campaign={target.pk}", {"form": "copy", "source": c.pk})
    assert copied.status_code == 302
    assert set(target.indicators.values_list("code", flat=True)) == {"police", "places"}
    assert target.rounds.count() == 6


def test_only_hq_over_the_owner_opens_it(city, catalogue):
    c = catalogue["campaign"]
    for who in ("station_lead", "inspector", "east_leader"):
        assert login(city[who]).get(URL, {"campaign": c.pk}).status_code == 403
        assert login(city[who]).post(f"{URL}?campaign={c.pk}", {"form": "recurring"}).status_code == 403
    east_hq = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    assert login(east_hq).get(URL, {"campaign": c.pk}).status_code == 403  # seen from below, not managed
    assert login(east_hq).get(URL).status_code == 200  # nothing to keep: says so
    west = Campaign.objects.create(
        code="XW", name="西区行动", owner=city.units["330320"], start=c.start, end=c.end, status=CampaignStatus.DRAFT
    )
    hidden = login(east_hq).get(URL, {"campaign": west.pk})
    ghost = login(east_hq).get(URL, {"campaign": 2_000_000_007})
    assert hidden.status_code == ghost.status_code == 404 and hidden.content == ghost.content
    hq = login(city["hq"])
    assert hq.post(URL, {"form": "recurring", "rule": "weekends", "name_pattern": "周末{n}"}).status_code == 404
    stats = hq.get("/stats/", {"campaign": c.pk})
    assert f'href="{URL}?campaign={c.pk}"' in text(stats)
    lead_stats = login(city["station_lead"]).get("/stats/", {"campaign": c.pk})
    assert URL not in text(lead_stats)
