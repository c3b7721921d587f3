"""Demo supervision data: two listed hotspots (one visited weekly but for two missed weeks, one never),
a night inspection with findings, a notice in progress, a self-inspection finding.

Written through the services like real use (so the history is there too); run once per campaign.
Deadlines the rules check against today are set from today, since the demo campaign may be over.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import Unit, User
from audit.models import AuditEvent
from tasks.models import Campaign

from . import services as svc
from .models import Hotspot, Inspection, InspectionKind


def _weekly_visits(hotspot: Hotspot, by, office: Unit, today, skip: set[int]) -> None:
    """The hotspot's weekly supervision, two days into each window so far except the ``skip``-th
    ones (so the board shows a missed week or two). Seeded today, then dated back to their day."""
    step = timedelta(days=hotspot.inspect_every_days)
    day, n = hotspot.listed_on + timedelta(days=2), 0
    while day < today:
        if n not in skip:
            visit = svc.plan_inspection(
                by=by, campaign=hotspot.campaign, units=[hotspot.unit], hotspot=hotspot, planned_on=day,
                issuing_unit=office,
            )  # fmt: skip
            svc.complete_inspection(inspection=visit, by=by, summary="挂牌乱点周督导：现场检查夜市摊点")
            at = timezone.make_aware(datetime.combine(day, time(21, 30)))
            Inspection.objects.filter(pk=visit.pk).update(started_at=at, completed_at=at)
            AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(Inspection), object_id=visit.pk
            ).update(at=at)
        day, n = day + step, n + 1


def seed_supervision(campaign: Campaign) -> bool:
    """Seed the demo's supervision records; False if the campaign already has some."""
    if campaign.inspections.exists() or campaign.hotspots.exists():
        return False
    units = {u.code: u for u in Unit.objects.filter(code__in=["3303", "33031101", "33031201", "33031102"])}
    Unit.objects.filter(code="3303").update(doc_prefix="江公督")
    units["3303"].refresh_from_db()
    inspector = User.objects.get(username="insp_huang")
    lead = User.objects.get(username="lead_chengguan")
    today = timezone.localdate()
    start = campaign.start

    night_market = svc.list_hotspot(
        by=inspector, campaign=campaign, unit=units["33031101"], name="城关夜市片区",
        area="解放路至人民路夜市一带", problems="夜间打架斗殴警情集中；占道经营；消防通道堵塞",
        responsible_name="田志勇", responsible=lead, listed_on=start, deadline=max(campaign.end, today + timedelta(days=30)),
        criteria=["夜间警情同比下降30%以上", "无占道经营", "消防通道全部畅通"],
    )  # fmt: skip
    svc.list_hotspot(
        by=inspector, campaign=campaign, unit=units["33031201"], name="西门客运站周边",
        area="西门客运站及周边200米", problems="黑车揽客；盗窃警情多发", responsible_name="西门派出所所长",
        listed_on=start, deadline=max(campaign.end, today + timedelta(days=30)),
        criteria=["盗窃警情同比下降20%以上", "黑车揽客整治到位"],
    )  # fmt: skip

    _weekly_visits(night_market, inspector, units["3303"], today, skip={2, 5})

    night = svc.plan_inspection(
        by=inspector, campaign=campaign, units=[units["33031101"], units["33031102"]], kind=InspectionKind.NIGHT,
        planned_on=min(today, campaign.end), issuing_unit=units["3303"],
    )  # fmt: skip
    svc.start_inspection(inspection=night, by=inspector)
    blocked = svc.log_finding(
        by=inspector, inspection=night, unit=units["33031101"], place="解放路夜市12号烧烤店",
        description="后厨消防通道堆放杂物，灭火器过期", category="fire", severity="serious", hotspot=night_market,
    )  # fmt: skip
    ledger = svc.log_finding(
        by=inspector, inspection=night, unit=units["33031101"], place="城关派出所值班室",
        description="重点场所清查台账未按日更新", category="records",
    )  # fmt: skip
    svc.log_finding(
        by=inspector, inspection=night, unit=units["33031102"], place="东湖KTV",
        description="未落实营业场所治安登记制度", category="management",
    )  # fmt: skip
    notice = svc.issue_notice(
        by=inspector, unit=units["33031101"], findings=[blocked, ledger], deadline=today + timedelta(days=7),
        requirements="立即清理消防通道、更换过期灭火器；补齐清查台账并落实日更新制度。", inspection=night,
    )  # fmt: skip
    svc.answer_finding(finding=ledger, by=lead, text="已补齐7月以来清查台账，明确内勤每日更新。")
    svc.log_finding(
        by=lead, campaign=campaign, unit=units["33031101"], place="辖区网吧",
        description="自查发现2家网吧未落实实名登记", category="management",
    )  # fmt: skip
    return notice is not None
