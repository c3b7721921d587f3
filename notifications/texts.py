"""The words of the reminders: the default texts (Chinese, as offices write them), keyed by what the
reminder is about, its kind and to whom. Migration 0006 seeds ``MessageTemplate`` rows from these
for HQ to edit; a text missing from the table falls back to the one here (and, for an audience without
its own text, to the first person reminded's).

Each is Django template syntax over: ``recipient``, ``reminder``, ``colour``, ``unit``, ``campaign``,
``due`` (e.g. 7月15日), ``days_late``, and per subject ``item``/``assignment`` (checklist items and
check-ins, with ``expected`` for the planned pace), ``finding``/``notice``, ``hotspot``, or ``round`` with
``period`` (7月7日至9日) and ``day`` (its last day, the date its totals are reported under).
"""

from __future__ import annotations

HI = "{{ recipient.get_full_name }}：\n"
ITEM = "{{ campaign.name }}第{{ item.code }}项“{{ item.title }}”"
FINDING = "“{{ finding.description|truncatechars:60 }}”（{{ finding.place }}）"
NOTICE = "{% if notice %}按《责令整改通知书》{{ notice.number }}，{% endif %}"
HOTSPOT = "挂牌整治点位“{{ hotspot.name }}”"
ROUND = "{{ campaign.name }}{{ round.name }}（{{ period }}）"
AS_ROUND = "（按轮次汇总填报，统计日期为{{ day }}）"

TEXTS: dict[tuple[str, str, str], tuple[str, str]] = {
    # checklist item deadlines
    ("assignment", "due_soon", "lead"): (
        "【督办提醒·蓝】{{ item.code }} 将于{{ due }}到期",
        HI + ITEM + "，{{ unit.name }}完成时限为{{ due }}，请抓紧推进，按时报送。",
    ),
    ("assignment", "due_today", "lead"): (
        "【督办提醒·蓝】{{ item.code }} 今天到期",
        HI + ITEM + "，{{ unit.name }}今天（{{ due }}）到期，请于今日内完成并提交验收。",
    ),
    ("assignment", "overdue", "lead"): (
        "【督办·红】{{ item.code }} 已逾期{{ days_late }}天",
        HI
        + ITEM
        + "，{{ unit.name }}完成时限{{ due }}，已逾期{{ days_late }}天。请立即落实，并说明原因、明确完成时间。",
    ),
    ("assignment", "overdue", "leader"): (
        "【督办·红】您分管的{{ item.code }}项{{ unit.name }}已逾期{{ days_late }}天",
        HI + "您分管的" + ITEM + "，{{ unit.name }}完成时限{{ due }}，已逾期{{ days_late }}天，请督促落实。",
    ),
    ("assignment", "overdue", "superior"): (
        "【督办·红】下级单位{{ unit.name }}{{ item.code }}项已逾期{{ days_late }}天",
        HI + "下级单位{{ unit.name }}承担的" + ITEM + "完成时限{{ due }}，已逾期{{ days_late }}天，请督促其落实。",
    ),
    ("assignment", "overdue", "hq"): (
        "【督办·红】{{ unit.name }}{{ item.code }}项逾期{{ days_late }}天",
        "{{ unit.name }}承担的"
        + ITEM
        + "完成时限{{ due }}，已逾期{{ days_late }}天，已提醒单位负责人、分管领导和上级单位。",
    ),
    ("assignment", "behind", "lead"): (
        "【督办·黄】{{ item.code }} 进度落后于序时进度",
        HI + ITEM + "，{{ unit.name }}目标{{ assignment.target|floatformat:'-2' }}{{ item.target_unit }}，"
        "已完成{{ assignment.progress|floatformat:'-2' }}，按序时进度应完成{{ expected|floatformat:'-2' }}，"
        "请加快推进。",
    ),
    # periodic check-ins of cadence items (每周/每月报送)
    ("checkin", "due_soon", "lead"): (
        "【报送提醒·蓝】{{ item.code }} 本期进展请于{{ due }}前报送",
        HI + ITEM + "需定期报送进展，{{ unit.name }}本期截止{{ due }}，请按时报送。",
    ),
    ("checkin", "due_today", "lead"): (
        "【报送提醒·蓝】{{ item.code }} 本期进展今天截止报送",
        HI + ITEM + "需定期报送进展，{{ unit.name }}本期今天（{{ due }}）截止，请于今日内报送。",
    ),
    ("checkin", "overdue", "lead"): (
        "【督办·红】{{ item.code }} {{ due }}一期进展逾期未报送",
        HI + ITEM + "，{{ unit.name }}{{ due }}一期进展已逾期{{ days_late }}天未报送，请立即补报。",
    ),
    ("checkin", "overdue", "leader"): (
        "【督办·红】您分管的{{ item.code }}项{{ unit.name }}{{ due }}一期进展逾期未报送",
        HI + "您分管的" + ITEM + "，{{ unit.name }}{{ due }}一期进展已逾期{{ days_late }}天未报送，请督促补报。",
    ),
    ("checkin", "overdue", "superior"): (
        "【督办·红】下级单位{{ unit.name }}{{ item.code }}项进展逾期未报送",
        HI + "下级单位{{ unit.name }}承担的" + ITEM + "，{{ due }}一期进展已逾期{{ days_late }}天未报送，请督促补报。",
    ),
    ("checkin", "overdue", "hq"): (
        "【督办·红】{{ unit.name }}{{ item.code }}项{{ due }}一期进展逾期未报送",
        "{{ unit.name }}承担的" + ITEM + "，{{ due }}一期进展已逾期{{ days_late }}天未报送。",
    ),
    # rectification deadlines of findings (整改期限)
    ("finding", "due_soon", "lead"): (
        "【整改提醒·蓝】{{ finding.place }}问题整改将于{{ due }}到期",
        HI + NOTICE + "{{ unit.name }}应于{{ due }}前整改问题" + FINDING + "，请按期整改并上报整改情况。",
    ),
    ("finding", "due_today", "lead"): (
        "【整改提醒·蓝】{{ finding.place }}问题整改今天到期",
        HI + NOTICE + "{{ unit.name }}问题" + FINDING + "整改期限为今天（{{ due }}），请于今日内上报整改情况。",
    ),
    ("finding", "overdue", "lead"): (
        "【整改督办·红】{{ finding.place }}问题整改已逾期{{ days_late }}天",
        HI
        + NOTICE
        + "{{ unit.name }}问题"
        + FINDING
        + "整改期限{{ due }}，已逾期{{ days_late }}天，请立即整改并上报。",
    ),
    ("finding", "overdue", "superior"): (
        "【整改督办·红】下级单位{{ unit.name }}问题整改已逾期{{ days_late }}天",
        HI + "下级单位{{ unit.name }}的问题" + FINDING + "整改期限{{ due }}，已逾期{{ days_late }}天，请督促整改。",
    ),
    ("finding", "overdue", "hq"): (
        "【整改督办·红】{{ unit.name }}问题整改逾期{{ days_late }}天",
        "{{ unit.name }}的问题" + FINDING + "整改期限{{ due }}，已逾期{{ days_late }}天。",
    ),
    # hotspot inspections (挂牌整治点位的定期督导检查)
    ("hotspot", "due_soon", "inspector"): (
        "【挂牌督导·蓝】{{ hotspot.name }}本周期检查将于{{ due }}截止",
        HI + HOTSPOT + "（责任单位{{ unit.name }}）本周期督导检查将于{{ due }}截止，尚未检查，请按期安排。",
    ),
    ("hotspot", "due_today", "inspector"): (
        "【挂牌督导·蓝】{{ hotspot.name }}本周期检查今天截止",
        HI + HOTSPOT + "（责任单位{{ unit.name }}）本周期督导检查今天（{{ due }}）截止，尚未检查。",
    ),
    ("hotspot", "overdue", "inspector"): (
        "【挂牌督导·红】{{ hotspot.name }}{{ due }}截止的周期未检查",
        HI + HOTSPOT + "（责任单位{{ unit.name }}）截至{{ due }}的检查周期未开展督导检查，请尽快补查。",
    ),
    ("hotspot", "overdue", "hq"): (
        "【挂牌督导·红】{{ hotspot.name }}{{ due }}截止的周期未检查",
        HOTSPOT + "（责任单位{{ unit.name }}）截至{{ due }}的检查周期未开展督导检查，已逾期{{ days_late }}天。",
    ),
    # results statistics of a round of concentrated operations (集中统一行动战果报送)
    ("round", "due_soon", "lead"): (
        "【战果报送·蓝】{{ round.name }}（{{ period }}）战果请于{{ due }}前报送",
        HI + ROUND + "结束后，{{ unit.name }}战果请于{{ due }}前报送" + AS_ROUND + "。",
    ),
    ("round", "due_today", "lead"): (
        "【战果报送·蓝】{{ round.name }}（{{ period }}）战果今天截止报送",
        HI + ROUND + "，{{ unit.name }}战果今天（{{ due }}）截止报送，请于今日内报送" + AS_ROUND + "。",
    ),
    ("round", "overdue", "lead"): (
        "【战果督办·红】{{ round.name }}（{{ period }}）战果逾期未报送",
        HI
        + ROUND
        + "，{{ unit.name }}战果应于{{ due }}前报送，已逾期{{ days_late }}天未报送，请立即补报"
        + AS_ROUND
        + "。",
    ),
    ("round", "overdue", "superior"): (
        "【战果督办·红】下级单位{{ unit.name }}{{ round.name }}战果逾期未报送",
        HI + "下级单位{{ unit.name }}" + ROUND + "战果应于{{ due }}前报送，已逾期{{ days_late }}天未报送，请督促补报。",
    ),
    ("round", "overdue", "hq"): (
        "【战果督办·红】{{ unit.name }}{{ round.name }}战果逾期{{ days_late }}天未报送",
        "{{ unit.name }}"
        + ROUND
        + "战果应于{{ due }}前报送，已逾期{{ days_late }}天未报送，已提醒单位负责人和上级单位。",
    ),
}

FIRST = {"hotspot": "inspector"}  # who a subject's reminders go to first (else the unit lead)


def text(subject_type: str, kind: str, audience: str) -> tuple[str, str]:
    """The default words for a reminder: its own, else the first person reminded's, else generic."""
    first = FIRST.get(subject_type, "lead")
    found = TEXTS.get((subject_type, kind, audience)) or TEXTS.get((subject_type, kind, first))
    return found or ("【督办提醒】{{ unit.name }}", HI + "{{ unit.name }}有一项督办事项，期限{{ due }}，请及时处理。")
