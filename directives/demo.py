"""Demo directives (督办事项) in the demo campaign: a leader's instruction handed down to 城关派出所, a listed
major case led by the criminal investigation detachment with 城关派出所 cooperating, its 包案 leader the
chief, and a secret one; each written through the services as HQ would, then dated back."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Unit, User
from inspections.demo import on
from tasks.models import Campaign

from .models import Source
from .services import Case, acknowledge_directive, give_feedback, hand_down, register_directive

WALKTHROUGH = "33031101"  # 城关派出所 (lead_chengguan)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def seed_directives(campaign: Campaign, *, today: date) -> int:
    """Three directives registered over the last fortnight; the walkthrough's station has one to acknowledge
    and one (the case) it already acknowledged and reported on. Returns how many."""
    units = {u.code: u for u in Unit.objects.filter(code__in=[WALKTHROUGH, "330303", "330311", "33031102"])}
    people = {u.username: u for u in User.objects.filter(username__in=["hq_wang", "leader_chen", "lead_chengguan"])}
    if len(units) < 4 or len(people) < 3:  # a demo without these units or users: nothing to show
        return 0
    hq, chief, lead = people["hq_wang"], people["leader_chen"], people["lead_chengguan"]
    due = min(campaign.end, today + timedelta(days=20))
    registered = today - timedelta(days=12)
    with on(_at(registered, 10)):
        case = register_directive(
            campaign=campaign, by=hq, title="“6·18”城关菜市场系列盗窃案", source=Source.CASE,
            lead_units=[units["330303"]], cooperating_units=[units[WALKTHROUGH]], due_date=due,
            text="限期侦破，每周报告侦办进展。", instruction="此案影响恶劣，务必限期侦破。", instructed_by="陈志远",
            instructed_on=registered, level="city", leader=chief,
            case=Case(case_no="A3303002026061800012", case_type="盗窃", crime_date=registered - timedelta(days=3)),
        )  # fmt: skip
        hand_down(directive=case, by=hq)
    with on(_at(registered + timedelta(days=1), 9)):
        acknowledge_directive(directive=case, by=lead)
    with on(_at(registered + timedelta(days=5), 16)):
        give_feedback(directive=case, by=lead, text="已调取周边监控32路，锁定嫌疑人活动轨迹。")
    with on(_at(today - timedelta(days=2), 11)):
        instruction = register_directive(
            campaign=campaign, by=hq, title="落实局长批示：整治城关夜市噪音扰民", source=Source.INSTRUCTION,
            lead_units=[units[WALKTHROUGH]], due_date=due, instruction="群众反映强烈，请城关所牵头整治，一周内见效。",
            instructed_by="陈志远", instructed_on=today - timedelta(days=3), leader=chief,
        )  # fmt: skip
        hand_down(directive=instruction, by=hq)
    with on(_at(today - timedelta(days=1), 15)):
        secret = register_directive(
            campaign=campaign, by=hq, title="涉稳风险提示：东湖片区信访人员动向", source=Source.RISK,
            lead_units=[units["33031102"]], due_date=due, secret=True, text="密切掌握动向，每日报告。",
        )  # fmt: skip
        hand_down(directive=secret, by=hq)
    return 3
