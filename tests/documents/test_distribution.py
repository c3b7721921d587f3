"""Distribution of an issued document (docs/documents.md, "Distribution"): the recipients a bulletin starts
with and the printed lines written from them, the units told at issue (one event each, their leads'
messages), the recipients seeing the document, 签收 by the unit's own people, 催办 of those who have not
(once a day), an outside body recorded as sent; the same through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from boards.bulletin import week_of
from documents import distribution as dist
from documents import services as svc
from documents.models import DocumentRecipient
from documents.queries import documents_for, get_document
from notifications.models import Event, Message
from tasks.services.chase import AlreadyChased, NothingToChase
from utilities.errors import Forbidden

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
URL = "/api/v1/documents/"


@pytest.fixture
def draft(city, worked):
    return svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))


def issue(doc, hq, leader):
    doc = svc.submit_document(document=doc, by=hq)
    doc = svc.check_document(document=doc, by=hq)
    return svc.sign_document(document=doc, by=leader)


def units_of(doc) -> list[str]:
    return list(doc.distribution.exclude(unit=None).order_by("seq").values_list("unit__code", flat=True))


def test_a_bulletin_starts_with_the_units_under_it_with_work_and_prints_them(city, draft):
    assert units_of(draft) == ["330302", "330310", "330320"]  # every unit directly under the city has work
    assert draft.recipients == "江城市公安局各单位" and draft.cc == ""  # all of them: the collective name
    hq = city["hq"]
    doc = dist.set_recipients(
        document=draft,
        by=hq,
        units=[city.units["330310"], city.units["330320"]],
        copies=[city.units["330302"]],
        bodies=[("江城市委政法委", "main"), ("江城市人民政府办公室", "copy"), ("  ", "main")],
    )
    assert units_of(doc) == ["330310", "330320", "330302"]
    assert doc.recipients == "城东分局，城西分局，江城市委政法委"
    assert doc.cc == "治安支队，江城市人民政府办公室"
    assert doc.steps.last().action == "distribution"
    with pytest.raises(Forbidden):  # a unit lead does not draft the city's documents
        dist.set_recipients(document=doc, by=city["east_lead"], units=[city.units["330310"]])
    with pytest.raises(Forbidden):  # nor sends to a unit out of the drafter's sight
        dist.set_recipients(document=doc, by=city["west_lead"], units=[city.units["330310"]])
    with pytest.raises(svc.DocumentError):
        dist.set_recipients(document=doc, by=hq, bodies=[("x", "bcc")])


def test_issue_tells_each_unit_once_and_they_see_it(city, draft, city_leader):
    hq = city["hq"]
    assert get_document(city["hq"], draft.pk)
    assert not documents_for(city["east_lead"]).filter(pk=draft.pk).exists()  # a draft: the issuer's only
    doc = issue(draft, hq, city_leader)
    events = Event.objects.filter(kind="document", subject_id=doc.pk)
    assert sorted(events.values_list("unit__code", flat=True)) == ["330302", "330310", "330320"]
    told = Message.objects.filter(event__in=events, channel="inbox")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["east_lead", "west_lead"]
    assert doc.steps.last().action == "signed"
    assert AuditEvent.objects.filter(verb="document.signed", changes__recipients=3).exists()
    # the recipients' people see it (and those over them); others do not
    assert documents_for(city["east_lead"]).filter(pk=doc.pk).exists()
    assert documents_for(city["west_lead"]).filter(pk=doc.pk).exists()
    assert not documents_for(city["station_lead"]).filter(pk=doc.pk).exists()
    assert not documents_for(city["nobody"]).filter(pk=doc.pk).exists()
    assert dist.actions(city["east_lead"], doc) == ["acknowledge"]
    assert dist.actions(hq, doc) == ["chase", "record_sent"]


def test_acknowledge_and_chase_those_who_have_not(city, draft, city_leader):
    hq = city["hq"]
    doc = issue(draft, hq, city_leader)
    with pytest.raises(Forbidden):
        dist.acknowledge(document=doc, by=city["station_lead"])  # its station is no recipient
    with pytest.raises(Forbidden):
        dist.acknowledge(document=doc, by=hq)  # HQ reports for no unit
    row = dist.acknowledge(document=doc, by=city["east_lead"])
    assert row.unit.code == "330310" and row.acknowledged_by == city["east_lead"]
    first = row.acknowledged_at
    assert dist.acknowledge(document=doc, by=city["east_lead"]).acknowledged_at == first  # once
    assert AuditEvent.objects.filter(verb="document.acknowledged").count() == 1
    receipts = dist.receipts(doc)
    assert (receipts.units, receipts.acknowledged) == (3, 1)
    assert [r.unit.code for r in receipts.waiting] == ["330302", "330320"]

    with pytest.raises(Forbidden):
        dist.chase(document=doc, by=city["east_lead"])
    done = dist.chase(document=doc, by=hq, note="请今日内签收")
    assert (done.chased, done.already) == (2, 0)
    chased = Event.objects.filter(kind="doc_chased", subject_id=doc.pk)
    assert sorted(chased.values_list("unit__code", flat=True)) == ["330302", "330320"]
    assert chased.first().reason == "请今日内签收"
    told = Message.objects.filter(event__in=chased, channel="inbox")
    assert list(told.values_list("recipient__username", flat=True)) == ["west_lead"]
    assert DocumentRecipient.objects.get(document=doc, unit__code="330320").chased == 1
    with pytest.raises(AlreadyChased):  # once a day
        dist.chase(document=doc, by=hq)
    # tomorrow, after 城西 acknowledged: only 治安支队 is chased
    DocumentRecipient.objects.filter(document=doc).update(chased_at=timezone.now() - timedelta(days=1))
    dist.acknowledge(document=doc, by=city["west_lead"])
    assert dist.chase(document=doc, by=hq).chased == 1
    DocumentRecipient.objects.filter(document=doc).update(acknowledged_at=timezone.now())
    with pytest.raises(NothingToChase):
        dist.chase(document=doc, by=hq)


def test_an_outside_body_is_recorded_as_sent(city, draft, city_leader):
    hq = city["hq"]
    dist.set_recipients(document=draft, by=hq, units=[city.units["330310"]], bodies=[("江城市人民政府", "main")])
    doc = issue(get_document(hq, draft.pk), hq, city_leader)
    body = doc.distribution.get(unit=None)
    today = timezone.localdate()
    with pytest.raises(svc.DocumentError):
        dist.record_sent(document=doc, by=hq, recipient=body.pk, channel=" ", sent_on=today)
    with pytest.raises(svc.DocumentError):
        dist.record_sent(document=doc, by=hq, recipient=body.pk, channel="传真", sent_on=today + timedelta(days=1))
    with pytest.raises(Forbidden):
        dist.record_sent(document=doc, by=city["east_lead"], recipient=body.pk, channel="传真", sent_on=today)
    row = dist.record_sent(document=doc, by=hq, recipient=body.pk, channel="机要交换", sent_on=today)
    assert (row.channel, row.sent_on, row.sent_by) == ("机要交换", today, hq)
    assert AuditEvent.objects.filter(verb="document.sent").exists()
    assert Event.objects.filter(kind="document", subject_id=doc.pk).count() == 1  # the outside body: not told


def test_issue_is_set_based(city, draft, city_leader):
    """The statements of telling the recipients do not grow with their number."""
    hq = city["hq"]
    doc = svc.check_document(document=svc.submit_document(document=draft, by=hq), by=hq)
    with CaptureQueriesContext(connection) as few:
        dist.issue(doc, hq)
    Event.objects.all().delete()
    DocumentRecipient.objects.filter(document=doc).exclude(unit__code="330310").delete()
    with CaptureQueriesContext(connection) as one:
        dist.issue(doc, hq)
    assert len(few) == len(one) <= 6


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, code=200):
    assert response.status_code == code, response.content.decode()
    return response.json()


def test_distribution_through_the_api(city, draft, city_leader):
    hq, pk = api(city["hq"]), draft.pk
    got = ok(hq.get(f"{URL}{pk}/recipients/"))
    assert got["units"] == 3 and got["actions"] == ["edit"]
    body = {"units": ["330310", "330320"], "bodies": [{"name": "江城市人民政府", "sent_as": "copy"}]}
    assert api(city["east_lead"]).put(f"{URL}{pk}/recipients/", body, format="json").status_code == 404
    assert hq.put(f"{URL}{pk}/recipients/", {"units": ["nope"]}, format="json").status_code == 404
    got = ok(hq.put(f"{URL}{pk}/recipients/", body, format="json"))
    assert [r["name"] for r in got["recipients"]] == ["城东分局", "城西分局", "江城市人民政府"]
    assert ok(hq.get(f"{URL}{pk}/"))["cc"] == "江城市人民政府"
    assert hq.post(f"{URL}{pk}/chase/", {}, format="json").status_code == 400  # a draft
    issue(get_document(city["hq"], pk), city["hq"], city_leader)
    east = api(city["east_lead"])
    assert ok(east.get(f"{URL}{pk}/recipients/"))["actions"] == ["acknowledge"]
    assert api(city["station_lead"]).post(f"{URL}{pk}/acknowledge/").status_code == 404  # out of its sight
    row = ok(east.post(f"{URL}{pk}/acknowledge/"))
    assert row["unit"] == "330310" and row["acknowledged_by"] == "李东"
    assert east.post(f"{URL}{pk}/chase/", {}, format="json").status_code == 403
    assert ok(hq.post(f"{URL}{pk}/chase/", {"note": "请签收"}, format="json")) == {"chased": 1, "already": 0}
    assert hq.post(f"{URL}{pk}/chase/", {}, format="json").status_code == 409
    got = ok(hq.get(f"{URL}{pk}/recipients/"))
    assert (got["units"], got["acknowledged"], got["waiting"]) == (2, 1, 1)
    outside = next(r for r in got["recipients"] if r["unit"] is None)
    today = timezone.localdate().isoformat()
    sent = {"recipient": outside["id"], "channel": "机要交换", "sent_on": today}
    assert east.post(f"{URL}{pk}/sent/", sent, format="json").status_code == 403
    assert ok(hq.post(f"{URL}{pk}/sent/", sent, format="json"))["channel"] == "机要交换"
    assert hq.post(f"{URL}{pk}/sent/", sent | {"recipient": 0}, format="json").status_code == 404


def test_the_messages_read_as_an_office_writes_them_and_open_the_document(city, draft, city_leader):
    from notifications import delivery
    from notifications.inbox import link

    hq = city["hq"]
    doc = issue(draft, hq, city_leader)
    dist.chase(document=doc, by=hq, note="请今日内签收")
    delivery.drain()
    got = Message.objects.filter(recipient=city["west_lead"], channel="inbox").order_by("id")
    issued, chased = list(got)
    assert issued.subject == f"【公文】江城市公安局：{doc.title}（{doc.number}）"
    assert "城西分局为发送单位" in issued.body and "签收" in issued.body
    assert chased.subject == f"【催办】请签收{doc.number}"
    assert "城西分局尚未签收" in chased.body and "请今日内签收" in chased.body
    assert link(issued) == link(chased) == f"/documents/{doc.pk}/"
