"""The risk letter pages through Django's test client: issuing one (from analysis, from a finding), the
lead's /my/ page and its receipt and answer with a photo, HQ's desk and the close or return, the list's
filters, the print page and the PDF; scope (404) and refusals shown on the page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from inspections import letters
from inspections import services as svc
from inspections.models import LetterFile, LetterSource, LetterStatus, RiskLetter
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
STATION = "33031001"
LS = LetterStatus


@pytest.fixture(autouse=True)
def _in_the_campaign():
    with time_machine.travel(TODAY, tick=False):
        yield


def issue(city, unit=STATION, **kw) -> RiskLetter:
    values = {
        "title": "夜市消防风险",
        "risk": "通道堵塞",
        "requirements": "落实巡查",
        "reply_by": TODAY + timedelta(days=5),
    }
    return letters.issue_letter(by=city["inspector"], unit=city.units[unit], **(values | kw))


def form(**kw):
    return {
        "unit": STATION,
        "title": "关于夜市消防安全风险的提示",
        "risk": "夜市摊点密集\n消防通道堵塞",
        "requirements": "立即排查\n落实专人巡查",
        "reply_by": (TODAY + timedelta(days=7)).isoformat(),
        "campaign": "",
    } | kw


@pytest.mark.smoke
def test_issue_acknowledge_answer_close_through_the_pages(city, published):
    inspector = login(city["inspector"])
    page = inspector.get("/risk-letters/new/")
    assert page.status_code == 200 and f'value="{(TODAY + timedelta(days=7)).isoformat()}"' in text(page)
    response = inspector.post("/risk-letters/new/", form(campaign=published.pk))
    letter = RiskLetter.objects.get()
    assert response.status_code == 302 and response.url == f"/risk-letters/{letter.pk}/"
    assert letter.number == "江城市风险提示〔2026〕1号" and letter.source == LetterSource.ANALYSIS
    assert letter.campaign == published
    detail = text(inspector.get(response.url))
    assert letter.number in detail and f"/risk-letters/{letter.pk}/pdf/" in detail and 'id="acknowledge"' not in detail

    lead = login(city["station_lead"])
    mine = text(lead.get("/my/"))
    assert f'data-letter="{letter.pk}"' in mine
    page = text(lead.get(f"/risk-letters/{letter.pk}/"))
    assert 'id="acknowledge"' in page and 'id="answer"' in page and 'id="judge"' not in page
    response = lead.post(f"/risk-letters/{letter.pk}/acknowledge/")
    assert response.status_code == 302
    assert RiskLetter.objects.get(pk=letter.pk).status == LS.ACKNOWLEDGED
    lead.post(f"/risk-letters/{letter.pk}/acknowledge/")  # again: said by whom and when, nothing changes
    assert AuditEvent.objects.filter(verb="letter.acknowledged", object_id=letter.pk).count() == 1
    response = lead.post(f"/risk-letters/{letter.pk}/answer/", {"text": " "})
    assert response.status_code == 400
    response = lead.post(
        f"/risk-letters/{letter.pk}/answer/", {"text": "已清理通道", "files": [SimpleUploadedFile("现场.png", PNG)]}
    )
    assert response.status_code == 302 and RiskLetter.objects.get(pk=letter.pk).status == LS.ANSWERED
    attachment = LetterFile.objects.get(letter=letter)
    assert f"/api/v1/risk-letter-files/{attachment.pk}/download/" in text(lead.get(f"/risk-letters/{letter.pk}/"))
    assert f'data-letter="{letter.pk}"' not in text(lead.get("/my/"))  # answered: off the lead's list
    assert lead.post(f"/risk-letters/{letter.pk}/close/").status_code == 403  # not its own answer

    hq = login(city["hq"])
    desk = text(hq.get("/review/"))
    assert f'data-letter="{letter.pk}"' in desk
    page = text(hq.get(f"/risk-letters/{letter.pk}/"))
    assert 'id="judge"' in page
    response = hq.post(f"/risk-letters/{letter.pk}/return/", {"reason": ""})
    assert response.status_code == 400
    response = hq.post(f"/risk-letters/{letter.pk}/return/", {"reason": "措施不具体"})
    assert response.status_code == 302 and RiskLetter.objects.get(pk=letter.pk).status == LS.ACKNOWLEDGED
    assert "措施不具体" in text(lead.get(f"/risk-letters/{letter.pk}/"))
    lead.post(f"/risk-letters/{letter.pk}/answer/", {"text": "已逐项落实"})
    response = hq.post(f"/risk-letters/{letter.pk}/close/", {"note": "到位"})
    assert response.status_code == 302 and RiskLetter.objects.get(pk=letter.pk).status == LS.CLOSED
    timeline = text(hq.get(f"/risk-letters/{letter.pk}/"))
    for words in ("已逐项落实", "措施不具体", "到位"):
        assert words in timeline


def test_issue_from_a_finding_offers_its_unit_only(city, published):
    visit = svc.plan_inspection(by=city["inspector"], campaign=published, units=[city.units[STATION]], planned_on=TODAY)
    finding = svc.log_finding(
        by=city["inspector"], inspection=visit, unit=city.units[STATION], place="夜宵摊", description="通道堵塞"
    )
    inspector = login(city["inspector"])
    assert f"/risk-letters/new/?finding={finding.pk}" in text(inspector.get(f"/findings/{finding.pk}/"))
    page = inspector.get(f"/risk-letters/new/?finding={finding.pk}")
    assert [u.code for u in page.context["form"].fields["unit"].queryset] == [STATION]
    assert "夜宵摊：通道堵塞" in text(page)
    response = inspector.post(f"/risk-letters/new/?finding={finding.pk}", form(unit="330320"))
    assert response.status_code == 400 and not RiskLetter.objects.exists()  # not offered
    response = inspector.post(f"/risk-letters/new/?finding={finding.pk}", form())
    letter = RiskLetter.objects.get()
    assert (letter.finding, letter.inspection, letter.campaign) == (finding, visit, published)
    printed = text(inspector.get(f"/risk-letters/{letter.pk}/print/"))
    assert "风险提示函" in printed and letter.number in printed and "防范要求：" in printed
    assert "发现存在以下风险" in printed


def test_refused_reply_by_is_shown_with_what_was_typed(city):
    inspector = login(city["inspector"])
    response = inspector.post("/risk-letters/new/", form(reply_by=(TODAY - timedelta(days=1)).isoformat()))
    assert response.status_code == 400 and "早于今天" in text(response) and "夜市摊点密集" in text(response)


def test_list_filters_and_scope(city, published):
    late = issue(city, reply_by=TODAY)
    west = issue(city, unit="330320")
    answered = issue(city)
    letters.answer_letter(letter=answered, by=city["station_lead"], text="已落实")
    hq = login(city["hq"])

    def listed(query="", client=hq):
        return {n.pk for n in client.get(f"/risk-letters/{query}").context["page"]}

    assert listed() == {late.pk, west.pk, answered.pk}
    assert listed("?status=answered") == {answered.pk}
    assert listed("?unit=330320") == {west.pk}
    assert listed("?unit=330310") == {late.pk, answered.pk}
    assert listed("?unit=nope") == set()
    assert listed("?status=bogus&unit=%00") == {late.pk, west.pk, answered.pk}  # malformed: as if not sent
    with time_machine.travel(TODAY + timedelta(days=1), tick=False):
        assert listed("?overdue=1", login(city["hq"])) == {late.pk}  # signed in again: a day later
    lead = login(city["station_lead"])
    assert {n.pk for n in lead.get("/risk-letters/").context["page"]} == {late.pk, answered.pk}
    assert 'id="issue-letter"' not in text(lead.get("/risk-letters/"))
    west_lead = login(city["west_lead"])
    for path in ("", "print/", "pdf/"):
        assert west_lead.get(f"/risk-letters/{late.pk}/{path}").status_code == 404
    assert west_lead.post(f"/risk-letters/{late.pk}/acknowledge/").status_code == 404
    assert lead.get("/risk-letters/new/").status_code == 403  # a lead does not issue


def test_pdf_download(city):
    letter = issue(city)
    response = login(city["station_lead"]).get(f"/risk-letters/{letter.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"] and response.content.startswith(b"%PDF")


def test_issue_from_an_inspection_offers_its_units(city, published):
    visit = svc.plan_inspection(
        by=city["inspector"],
        campaign=published,
        units=[city.units[STATION], city.units["33031002"]],
        planned_on=TODAY,
    )
    inspector = login(city["inspector"])
    page = inspector.get(f"/risk-letters/new/?inspection={visit.pk}")
    assert {u.code for u in page.context["form"].fields["unit"].queryset} == {STATION, "33031002"}
    assert inspector.get("/risk-letters/new/?inspection=2000000007").status_code == 404
    response = inspector.post(f"/risk-letters/new/?inspection={visit.pk}", form(unit="33031002"))
    letter = RiskLetter.objects.get()
    assert response.status_code == 302 and (letter.source, letter.inspection, letter.unit.code) == (
        LetterSource.INSPECTION,
        visit,
        "33031002",
    )
