"""The demo's documents: last week's bulletin of the campaign issued (drafted by HQ's office, checked by
its head, signed by the bureau's leader: a 发文字号 and 第1期, its DOCX and PDF stored), and the week
before's as a draft the clerk can open, edit and send for checking; the issued bulletin's first laggard
summoned (约谈: planned three days after the issue, its 约谈通知 a draft)."""

from __future__ import annotations

from datetime import date, timedelta

from accounts.models import Unit, User
from boards.bulletin import default_period, week_of
from tasks.models import Campaign

from . import services as svc
from .summons import default_when, laggards_of, summon_units


def seed_documents(campaign: Campaign, *, today: date) -> int:
    """Two bulletins of the campaign's owner as of ``today``; returns how many documents. The office's clerk
    (hq_zhou) drafts, its head (hq_wang) checks — the drafter may not check her own draft — and the bureau's
    chief signs."""
    clerk, hq = User.objects.get(username="hq_zhou"), User.objects.get(username="hq_wang")
    leader = User.objects.get(username="leader_chen")
    period = default_period(campaign, today)
    made = 0
    if period.start > campaign.start:
        earlier = week_of(campaign, period.start - timedelta(days=1))
        svc.draft_bulletin(by=clerk, campaign=campaign, unit=campaign.owner, period=earlier)
        made += 1
    doc = svc.draft_bulletin(by=clerk, campaign=campaign, unit=campaign.owner, period=period)
    doc = svc.update_draft(
        document=doc, by=clerk, cc="省公安厅治安管理总队", next_steps="下周将开展第二轮集中统一行动。"
    )
    doc = svc.check_document(document=svc.submit_document(document=doc, by=clerk), by=hq)
    doc = svc.sign_document(document=doc, by=leader)
    named = laggards_of(doc)
    unit = Unit.objects.filter(code=named[0]["code"]).first() if named else None
    if unit is not None:
        summon_units(by=hq, bulletin=doc, units=[unit], scheduled_at=default_when(doc), place="市局三楼会议室")
        made += 1
    return made + 1
