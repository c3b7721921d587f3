"""Demo supervision data: two listed hotspots, a few inspections with findings, a notice in progress.

Written through the services like real use (so the history is there too); run once per campaign.
Deadlines the rules check against today are set from today, since the demo campaign may be over.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Unit, User
from tasks.models import Campaign

from . import services as svc
from .models import InspectionKind


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

    weekly = svc.plan_inspection(
        by=inspector, campaign=campaign, units=[units["33031101"]], hotspot=night_market,
        planned_on=start + timedelta(days=8), issuing_unit=units["3303"],
    )  # fmt: skip
    svc.complete_inspection(inspection=weekly, by=inspector, summary="挂牌乱点周督导：现场检查夜市摊点12家")

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
