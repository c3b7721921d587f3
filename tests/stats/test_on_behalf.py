"""Figures on units' behalf (代填, issue 17 item 5): HQ enters the totals an office compiles from phone
calls and paper for any unit it manages, through the same services, pages and API as the unit's lead;
such a figure is flagged, audited as HQ's and marked on the unit's report page. A lead's own figures
are unchanged; a lead still cannot report for a sibling, an inspector still cannot report."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from stats.models import Figure
from stats.services import import_sheet
from tests.web.pages import login, text

from .test_stats import report, sheet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]

DAY = date(2026, 7, 2)


def test_hq_enters_a_figure_for_a_station_flagged_audited_and_marked(city, catalogue):
    c = catalogue["campaign"]
    police = c.indicators.get(code="police")
    hq = login(city["hq"])
    saved = hq.post(
        "/stats/report/", {"campaign": c.pk, "unit": "33031001", "day": DAY.isoformat(), f"v{police.pk}": "40"}
    )
    assert saved.status_code == 302
    f = Figure.objects.get(unit__code="33031001", indicator=police, day=DAY)
    assert (f.value, f.reported_by, f.on_behalf) == (40, city["hq"], True)
    (event,) = AuditEvent.objects.filter(verb="figure.report", object_id=f.pk)
    assert event.actor == city["hq"] and event.changes["on_behalf"] is True
    page = hq.get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={DAY}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200 and 'class="badge blue on-behalf"' in html
    assert "代填" in text(page) and f'title="{city["hq"].get_full_name()}"' in html
    # the station's lead sees the mark too; once it corrects the figure it is its own again
    lead = login(city["station_lead"])
    assert "on-behalf" in lead.get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={DAY}").content.decode()
    report(city, "station_lead", "33031001", DAY, police=41)
    f.refresh_from_db()
    assert (f.value, f.reported_by, f.on_behalf) == (41, city["station_lead"], False)
    assert "on-behalf" not in lead.get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={DAY}").content.decode()


def test_an_older_day_opened_from_the_summary_is_the_one_selected(city, catalogue):
    """Two months in, the picker lists the latest 40 days; a day before them, opened by its link, is
    listed and selected too — else the browser would select the first and save the figures on today."""
    c = catalogue["campaign"]
    html = login(city["hq"]).get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={DAY}").content.decode()
    picker = html[html.index('id="id_day"') : html.index("</select>", html.index('id="id_day"'))]
    assert picker.count("<option") == 41 and picker.count(" selected") == 1
    assert f'<option value="{DAY}" selected>' in picker


def test_hq_enters_through_the_api_the_client_cannot_set_the_flag(city, catalogue):
    c = catalogue["campaign"]
    hq = login(city["hq"])
    ok = hq.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33032001", "day": "2026-07-02", "values": {"police": 5}, "on_behalf": False},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json() == {"changed": 1}
    assert Figure.objects.get(unit__code="33032001").on_behalf is True


def test_a_leads_own_figure_is_not_flagged(city, catalogue):
    assert report(city, "station_lead", "33031001", DAY, police=3) == 1
    assert report(city, "east_lead", "33031001", DAY, places=4) == 1  # its subtree: still a lead's own
    assert not Figure.objects.filter(on_behalf=True).exists()
    assert not AuditEvent.objects.filter(verb="figure.report", changes__has_key="on_behalf").exists()
    c = catalogue["campaign"]
    page = login(city["station_lead"]).get(f"/stats/report/?campaign={c.pk}&unit=33031001&day={DAY}")
    assert "on-behalf" not in page.content.decode()


def test_a_lead_cannot_enter_for_a_sibling_nor_an_inspector_for_anyone(city, catalogue):
    for who, unit in (("station_lead", "33031002"), ("west_lead", "33031001"), ("inspector", "33031001")):
        with pytest.raises(PermissionDenied):
            report(city, who, unit, DAY, police=1)
    c = catalogue["campaign"]
    lead = login(city["station_lead"])
    sibling = lead.get(f"/stats/report/?campaign={c.pk}&unit=33032001")
    assert sibling.status_code == 400 and 'id="figures"' not in text(sibling)
    sibling = lead.post(
        "/api/v1/stats/figures/",
        {"campaign": c.pk, "unit": "33032001", "day": "2026-07-02", "values": {"police": 5}},
        content_type="application/json",
    )
    assert sibling.status_code == 400
    assert login(city["inspector"]).get(f"/stats/report/?campaign={c.pk}").status_code == 403
    assert not Figure.objects.exists()


def test_a_sheet_hq_uploads_for_a_unit_is_flagged(city, catalogue, tmp_path):
    c = catalogue["campaign"]
    path = sheet(tmp_path, [("2026-07-01", 10, 2), ("7月2日", 11, None)])
    assert import_sheet(path=path, campaign=c, unit=city.units["33031001"], by=city["hq"]) == 3
    assert set(Figure.objects.values_list("on_behalf", flat=True)) == {True}
    events = AuditEvent.objects.filter(verb="figure.report")
    assert events.count() == 3 and all(e.changes["on_behalf"] is True for e in events)
    # the page's upload: the same, for another station
    hq = login(city["hq"])
    with path.open("rb") as fh:
        loaded = hq.post("/stats/upload/", {"campaign": c.pk, "unit": "33032001", "file": fh})
    assert loaded.status_code == 302
    assert Figure.objects.filter(unit__code="33032001", on_behalf=True).count() == 3
