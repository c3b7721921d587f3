"""The documents pages: from the bulletin page to an issued bulletin (draft, edit, check, sign) by the
right people, the wrong ones refused; a notice's document from the notice page; the list per campaign;
the stored files."""

# ruff: noqa: F811 (the fixtures imported below are the tests' arguments)
from __future__ import annotations

import pytest

from documents.models import Document
from tests.boards.conftest import mid_campaign, published, worked  # noqa: F401
from tests.documents.conftest import WEEK, city_leader, notice  # noqa: F401
from tests.web.pages import login, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]


def bulletin_query(campaign) -> str:
    return f"?campaign={campaign.pk}&unit=3303&period=w{WEEK.isoformat()}"


@pytest.mark.smoke
def test_a_bulletin_from_the_board_to_issued(city, worked, city_leader):
    hq = login(city["hq"])
    page = text(hq.get("/board/bulletin/" + bulletin_query(worked)))
    assert 'id="draft-bulletin"' in page
    assert 'id="draft-bulletin"' not in text(login(city["inspector"]).get("/board/bulletin/" + bulletin_query(worked)))
    response = hq.post(
        "/documents/new/bulletin/", {"campaign": worked.pk, "unit": "3303", "period": f"w{WEEK.isoformat()}"}
    )
    assert response.status_code == 302
    doc = Document.objects.get()
    url = f"/documents/{doc.pk}/"
    assert response["Location"] == url
    page = text(hq.get(url))
    assert 'id="draft-form"' in page and "一、总体进展" in page and 'id="do-submit"' in page
    # the clerk writes a paragraph; a stale version is refused with the form kept
    form = {
        "version": doc.version,
        "title": doc.title,
        "recipients": "各分局",
        "opening": "按照部署，现通报如下：",
        "requirements": doc.requirements,
        "next_steps": "",
        "attachments": "",
        "cc": "",
    }
    assert hq.post(url, form).status_code == 302
    stale = hq.post(url, form | {"opening": "又改"})
    assert stale.status_code == 409 and "又改" in text(stale)
    assert "按照部署，现通报如下：" in text(hq.get(url))
    assert login(city["inspector"]).post(url, form | {"version": 2}).status_code == 403
    assert login(city["east_leader"]).get(url).status_code == 404
    step = f"/documents/{doc.pk}/step/"
    assert hq.post(step, {"step": "refresh"}).status_code == 302
    assert hq.post(step, {"step": "submit"}).status_code == 302
    leader = login(city_leader)
    assert leader.post(step, {"step": "check"}).status_code == 403
    assert 'id="do-check"' in text(hq.get(url)) and 'id="do-check"' not in text(leader.get(url))
    assert hq.post(step, {"step": "check"}).status_code == 302
    assert hq.post(step, {"step": "sign"}).status_code == 403
    assert leader.post(step, {"step": "return", "note": ""}).status_code == 400
    assert leader.post(step, {"step": "bogus"}).status_code == 400
    assert leader.post(step, {"step": "return", "note": "请补充"}).status_code == 302
    assert "请补充" in text(hq.get(url))
    for who, what in (("hq", "submit"), ("hq", "check")):
        assert login(city[who]).post(step, {"step": what}).status_code == 302
    assert hq.get(f"/documents/{doc.pk}/pdf/").status_code == 404  # not issued yet
    assert leader.post(step, {"step": "sign"}).status_code == 302
    doc.refresh_from_db()
    page = text(hq.get(url))
    assert doc.number in page and "签发人：陈局长" in page and 'id="draft-form"' not in page
    pdf = hq.get(f"/documents/{doc.pk}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == doc.pdf.read()
    assert hq.get(f"/documents/{doc.pk}/docx/").status_code == 200
    listing = text(hq.get(f"/documents/?campaign={worked.pk}&state=issued"))
    assert doc.number in listing and "陈局长" in listing
    assert doc.number not in text(hq.get(f"/documents/?campaign={worked.pk}&state=draft"))
    assert doc.number in text(login(city["east_lead"]).get("/documents/"))  # sent to 城东分局
    assert doc.number not in text(login(city["station_lead"]).get("/documents/"))
    assert login(city["nobody"]).get("/documents/").status_code == 403


def test_drafting_refused(city, worked):
    body = {"campaign": worked.pk, "unit": "330310", "period": f"w{WEEK.isoformat()}"}
    assert login(city["east_lead"]).post("/documents/new/bulletin/", body).status_code == 403
    assert login(city["east_lead"]).post("/documents/new/bulletin/", body | {"unit": "3303"}).status_code == 404
    assert login(city["hq"]).post("/documents/new/bulletin/", body | {"period": "x"}).status_code == 400
    assert not Document.objects.exists()


def test_a_notice_document_from_the_notice_page(city, notice):
    inspector = login(city["inspector"])
    assert 'id="draft-document"' in text(inspector.get(f"/notices/{notice.pk}/"))
    assert 'id="draft-document"' not in text(login(city["station_lead"]).get(f"/notices/{notice.pk}/"))
    assert login(city["station_lead"]).post(f"/documents/new/notice/{notice.pk}/").status_code == 403
    assert login(city["west_lead"]).post(f"/documents/new/notice/{notice.pk}/").status_code == 404
    assert inspector.post(f"/documents/new/notice/{notice.pk}/").status_code == 302
    assert inspector.post(f"/documents/new/notice/{notice.pk}/").status_code == 400  # one per notice
    doc = Document.objects.get()
    assert 'id="document-link"' in text(inspector.get(f"/notices/{notice.pk}/"))
    assert "1．夜宵摊聚集区：消防通道堵塞，灭火器过期。" in text(inspector.get(f"/documents/{doc.pk}/"))


def test_distribution_on_the_pages(city, worked, city_leader):
    """The clerk names the recipients; at issue the units see it in /my/ and acknowledge it; HQ sees who has
    not and chases them; an outside body is recorded as sent."""
    from django.utils import timezone

    from tests.documents.test_distribution import issue

    hq = login(city["hq"])
    hq.post("/documents/new/bulletin/", {"campaign": worked.pk, "unit": "3303", "period": f"w{WEEK.isoformat()}"})
    doc = Document.objects.get()
    url = f"/documents/{doc.pk}/"
    page = text(hq.get(url))
    assert 'id="recipients-form"' in page and 'data-recipient="330302"' in page
    form = {
        "version": doc.version,
        "units": "330310\n330320",
        "copies": "",
        "bodies": "",
        "body_copies": "江城市人民政府",
    }
    assert hq.post(f"{url}recipients/", form | {"units": "999"}).status_code == 400
    assert login(city["east_lead"]).post(f"{url}recipients/", form).status_code == 404  # a draft: out of its sight
    assert hq.post(f"{url}recipients/", form).status_code == 302
    doc.refresh_from_db()
    assert (doc.recipients, doc.cc) == ("城东分局，城西分局", "江城市人民政府")
    doc = issue(doc, city["hq"], city_leader)
    east, west = login(city["east_lead"]), login(city["west_lead"])
    assert f'data-document="{doc.pk}"' in text(west.get("/my/"))
    assert 'id="do-acknowledge"' in text(east.get(url)) and 'id="do-chase"' not in text(east.get(url))
    assert login(city["station_lead"]).post(f"{url}acknowledge/").status_code == 404
    assert east.post(f"{url}acknowledge/").status_code == 302
    assert 'id="do-acknowledge"' not in text(east.get(url))
    page = text(hq.get(url))
    assert 'id="receipt-counts"' in page and 'id="do-chase"' in page
    assert east.post(f"{url}chase/", {"note": ""}).status_code == 403
    assert hq.post(f"{url}chase/", {"note": "请今日签收"}).status_code == 302
    assert hq.post(f"{url}chase/", {"note": ""}).status_code == 409
    body = doc.distribution.get(unit=None)
    sent = {"recipient": body.pk, "channel": "机要交换", "sent_on": timezone.localdate(doc.issued_at).isoformat()}
    assert east.post(f"{url}sent/", sent).status_code == 403
    assert hq.post(f"{url}sent/", sent).status_code == 302
    assert "机要交换" in text(hq.get(url))
    assert west.post(f"{url}acknowledge/", {"unit": "330320"}).status_code == 302
    assert f'data-document="{doc.pk}"' not in text(west.get("/my/"))
