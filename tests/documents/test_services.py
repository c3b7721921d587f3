"""Documents: drafting a bulletin and a notice's document, the clerk's edits, the sign-off with the right
and the wrong people, numbers taken at issue, the frozen content and files."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection

from accounts.models import Role
from boards.bulletin import week_of
from documents import services as svc
from documents.models import Document, DocumentSequence, DocumentState, SignOffRule
from documents.render import content as build
from utilities.errors import Forbidden

from .conftest import WEEK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mid_campaign")]
S = DocumentState


@pytest.fixture
def draft(city, worked):
    return svc.draft_bulletin(by=city["hq"], campaign=worked, unit=city.units["3303"], period=week_of(worked, WEEK))


def walk(doc, hq, leader):
    doc = svc.submit_document(document=doc, by=hq)
    doc = svc.check_document(document=doc, by=hq)
    return svc.sign_document(document=doc, by=leader)


def test_a_bulletin_draft_holds_the_figures_and_the_clerks_words(city, draft):
    assert draft.state == S.DRAFT and not draft.number and draft.issue_no is None
    assert draft.title.startswith("关于") and draft.title.endswith("第9周（8月24日至30日）工作情况的通报")
    assert draft.recipients == "江城市公安局各单位"
    kinds = [b["t"] for b in draft.generated["blocks"]]
    assert "table" in kinds and kinds.count("chart") == 2
    assert draft.requirements.startswith("一要压实工作责任")
    content = build.compose(draft)
    headings = [b["label"] + b["text"] for b in content["blocks"] if b["t"] == "heading"]
    assert headings[0] == "一、总体进展" and headings[-1].endswith("、工作要求")
    assert content["number"] == "" and content["date"] == ""
    assert draft.steps.get().action == "drafted"


def test_numbering_of_levels():
    blocks = [{"t": "heading", "level": lv, "text": "x"} for lv in (1, 2, 3, 4, 4, 3, 2, 1, 2)]
    assert [b["label"] for b in build.numbered(blocks)] == [
        "一、",
        "（一）",
        "1.",
        "（1）",
        "（2）",
        "2.",
        "（二）",
        "二、",
        "（一）",
    ]
    assert [build.cn_number(n) for n in (1, 10, 12, 20, 21)] == ["一", "十", "十二", "二十", "二十一"]


def test_the_clerk_edits_and_the_wrong_people_cannot(city, draft):
    doc = svc.update_draft(
        document=draft, by=city["hq"], opening="按照市局部署，现将有关情况通报如下：", next_steps="继续抓好整改"
    )
    assert doc.version == 2 and doc.steps.filter(action="edited").exists()
    content = build.compose(doc)
    assert content["blocks"][0]["text"] == "按照市局部署，现将有关情况通报如下："
    assert content["blocks"][-2]["text"] == "下步工作"
    same = svc.update_draft(document=doc, by=city["hq"], next_steps="继续抓好整改")
    assert same.version == 2  # nothing changed: nothing recorded
    with pytest.raises(svc.DocumentConflict) as stale:
        svc.update_draft(document=doc, by=city["hq"], version=1, title="新标题")
    assert stale.value.payload()["version"] == 2
    for who in ("east_lead", "inspector", "east_leader", "nobody"):
        with pytest.raises(Forbidden):
            svc.update_draft(document=doc, by=city[who], title="改")
    with pytest.raises(svc.DocumentError):
        svc.update_draft(document=doc, by=city["hq"], title=" ")
    with pytest.raises(svc.DocumentError):
        svc.update_draft(document=doc, by=city["hq"], number="1")
    with pytest.raises(Forbidden):
        svc.draft_bulletin(
            by=city["east_lead"], campaign=doc.campaign, unit=city.units["3303"], period=week_of(doc.campaign, WEEK)
        )


def test_sign_off_refuses_the_wrong_roles_and_returns_with_a_note(city, draft, city_leader):
    with pytest.raises(svc.DocumentError):
        svc.check_document(document=draft, by=city["hq"])  # not submitted yet
    with pytest.raises(Forbidden):
        svc.submit_document(document=draft, by=city["east_leader"])
    doc = svc.submit_document(document=draft, by=city["hq"])
    assert svc.allowed_actions(city["hq"], doc) == ["check", "return"]
    assert svc.allowed_actions(city_leader, doc) == []
    for who in ("east_lead", "inspector", "east_leader"):
        with pytest.raises(Forbidden):
            svc.check_document(document=doc, by=city[who])
    with pytest.raises(Forbidden):
        svc.check_document(document=doc, by=city_leader)
    with pytest.raises(svc.DocumentError):
        svc.update_draft(document=doc, by=city["hq"], title="改")  # no longer a draft
    doc = svc.check_document(document=doc, by=city["hq"])
    assert doc.state == S.SIGNING and doc.checked_by == city["hq"]
    with pytest.raises(Forbidden):
        svc.sign_document(document=doc, by=city["hq"])  # HQ checks, a leader signs
    with pytest.raises(Forbidden):
        svc.sign_document(document=doc, by=city["east_leader"])  # a leader of a branch only
    with pytest.raises(svc.DocumentError):
        svc.return_document(document=doc, by=city_leader, note=" ")
    doc = svc.return_document(document=doc, by=city_leader, note="排名表请核对")
    assert doc.state == S.DRAFT and doc.returned_note == "排名表请核对" and doc.checked_by is None
    with pytest.raises(svc.DocumentError):
        svc.return_document(document=doc, by=city_leader, note="再退")
    assert not DocumentSequence.objects.exists()  # no number for a draft
    assert list(doc.steps.values_list("action", flat=True)) == ["drafted", "submitted", "checked", "returned"]


def test_issued_bulletin_is_numbered_frozen_and_stored(city, draft, city_leader):
    doc = walk(draft, city["hq"], city_leader)
    assert doc.state == S.ISSUED and doc.number == "江城市通〔2026〕1号" and doc.issue_no == 1
    assert doc.signer_name == "陈局长" and doc.content["signer"] == "陈局长"
    assert doc.content["issue_no"] == "第1期" and doc.content["date"] == "2026年9月1日"
    text = build.canonical_text(doc.content)
    assert doc.text_hash == hashlib.sha256(text.encode()).hexdigest()
    assert "签发人：陈局长" in text and "江城市通〔2026〕1号" in text
    assert doc.pdf.read()[:5] == b"%PDF-" and doc.docx.read()[:2] == b"PK"
    # the draft's parts cannot change any more, and refreshing is refused
    for call in (
        lambda: svc.update_draft(document=doc, by=city["hq"], title="改"),
        lambda: svc.refresh_draft(document=doc, by=city["hq"]),
        lambda: svc.submit_document(document=doc, by=city["hq"]),
    ):
        with pytest.raises(svc.DocumentError):
            call()
    # the next bulletin of the campaign is 第2期 and the next number
    second = svc.draft_bulletin(
        by=city["hq"], campaign=doc.campaign, unit=city.units["3303"], period=week_of(doc.campaign, WEEK)
    )
    second = walk(second, city["hq"], city_leader)
    assert (second.number, second.issue_no) == ("江城市通〔2026〕2号", 2)


def test_a_rule_names_the_checker_and_signer(city, draft, city_leader):
    SignOffRule.objects.create(campaign=draft.campaign, kind="bulletin", step="check", user=city["inspector"])
    SignOffRule.objects.create(campaign=draft.campaign, kind="bulletin", step="sign", role=Role.HQ)
    doc = svc.submit_document(document=draft, by=city["hq"])
    with pytest.raises(Forbidden):
        svc.check_document(document=doc, by=city["hq"])  # the rule replaces the default
    doc = svc.check_document(document=doc, by=city["inspector"])
    with pytest.raises(Forbidden):
        svc.sign_document(document=doc, by=city_leader)
    doc = svc.sign_document(document=doc, by=city["hq"])
    assert doc.signer_name == "王晓燕"


def test_a_notice_document_keeps_the_notice_number(city, notice, city_leader):
    doc = svc.draft_notice_document(by=city["inspector"], notice=notice)
    assert doc.title == "责令整改通知书" and doc.recipients == "城关派出所"
    assert doc.requirements == "立即清理消防通道\n更换过期灭火器"
    with pytest.raises(svc.DocumentError):
        svc.draft_notice_document(by=city["hq"], notice=notice)
    doc = svc.refresh_draft(document=doc, by=city["inspector"])
    doc = svc.update_draft(document=doc, by=city["inspector"], cc="市局督察支队", attachments="问题照片")
    doc = walk(doc, city["hq"], city_leader)
    assert doc.number == notice.number and not DocumentSequence.objects.exists()
    texts = [b.get("text") for b in doc.content["blocks"]]
    assert texts[-1].startswith("请于2026年9月8日前整改完毕") and "1．夜宵摊聚集区：消防通道堵塞，灭火器过期。" in texts
    assert doc.content["attachments"] == ["问题照片"] and doc.content["cc"] == "市局督察支队"


def test_a_free_document(city, published, city_leader):
    with pytest.raises(svc.DocumentError):
        svc.draft_document(by=city["hq"], campaign=published, kind="bulletin", unit=city.units["3303"], title="x")
    with pytest.raises(svc.DocumentError):
        svc.draft_document(by=city["hq"], campaign=published, kind="notice", unit=city.units["3303"], title=" ")
    doc = svc.draft_document(
        by=city["hq"], campaign=published, kind="notice", unit=city.units["3303"], title="关于加强夜间巡查的通知"
    )
    with pytest.raises(svc.DocumentError):
        svc.submit_document(document=doc, by=city["hq"])  # nothing written yet
    doc = svc.update_draft(document=doc, by=city["hq"], requirements="各单位要加强夜间巡查。", recipients="各分局")
    doc = walk(doc, city["hq"], city_leader)
    assert doc.number == "江城市发〔2026〕1号" and doc.issue_no is None


def test_a_failed_issue_gives_its_number_and_files_back(city, draft, city_leader, monkeypatch, settings):
    doc = svc.check_document(document=svc.submit_document(document=draft, by=city["hq"]), by=city["hq"])

    def broken(content):
        raise OSError("disk")

    monkeypatch.setattr(svc, "render_docx", broken)
    with pytest.raises(OSError):
        svc.sign_document(document=doc, by=city_leader)
    doc.refresh_from_db()
    assert doc.state == S.SIGNING and not doc.number
    assert not DocumentSequence.objects.filter(last__gt=0).exists()
    import os

    left = [f for _, _, files in os.walk(settings.MEDIA_ROOT) for f in files]
    assert left == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_take_distinct_numbers(city):
    if connection.vendor != "postgresql":
        pytest.skip("row locks")
    unit = city.units["3303"]
    taken: list[int] = []

    def take():
        from django.db import transaction

        for _ in range(20):
            with transaction.atomic():
                taken.append(svc._take(unit, "notice", 2026))
        connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(1, 81))
    assert Document.objects.count() == 0
