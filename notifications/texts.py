"""The words of the reminders: the default texts (Chinese, as offices write them), keyed by what the
reminder is about, its kind and to whom. Migration 0006 seeds ``MessageTemplate`` rows from these
for HQ to edit; a text missing from the table falls back to the one here (and, for an audience without
its own text, to the first person reminded's).

Each is Django template syntax over: ``recipient``, ``reminder``, ``colour``, ``unit``, ``campaign``,
``due`` (e.g. 7月15日), ``days_late``, and per subject ``item``/``assignment`` (checklist items and
check-ins, with ``expected`` for the planned pace), ``finding``/``notice``, ``hotspot``, or ``round`` with
``period`` (7月7日至9日) and ``day`` (its last day, the date its totals are reported under), ``letter``
(a risk letter) or ``document`` (an issued document, ``due`` its issue day).
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
        "已完成{{ assignment.progress|floatformat:'-2' }}，按序时进度应完成{{ expected|floatformat:'-2' }}{{ item.target_unit }}，"
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
    # 未签收: work or a notice not acknowledged within the rules' working hours (once; then the superior)
    # (one per unit and campaign: ``count`` items, the earliest due ``due``)
    ("unacked", "unacked", "lead"): (
        "【签收提醒】《{{ campaign.name }}》{{ count }}项任务尚未签收",
        HI + "《{{ campaign.name }}》下达{{ unit.name }}的任务中，尚有{{ count }}项未签收（最早完成时限{{ due }}）。"
        "请及时登录系统，在“我的任务”中逐项签收，明确责任人，按时限推进落实。",
    ),
    ("unacked", "unacked", "superior"): (
        "【签收督办】下级单位{{ unit.name }}{{ count }}项任务尚未签收",
        HI + "下级单位{{ unit.name }}承担的《{{ campaign.name }}》任务中，尚有{{ count }}项经提醒仍未签收"
        "（最早完成时限{{ due }}），请督促其及时签收并组织落实。",
    ),
    ("notice_unack", "unacked", "lead"): (
        "【签收提醒】整改通知书{{ notice.number }}尚未签收",
        HI + "{{ notice.issuing_unit.name }}向{{ unit.name }}下发的《责令整改通知书》（{{ notice.number }}）"
        "至今尚未签收。请及时签收，并于{{ due }}前按要求整改、上报整改情况。",
    ),
    ("notice_unack", "unacked", "superior"): (
        "【签收督办】下级单位{{ unit.name }}整改通知书{{ notice.number }}尚未签收",
        HI + "{{ notice.issuing_unit.name }}向下级单位{{ unit.name }}下发的《责令整改通知书》（{{ notice.number }}）"
        "经提醒仍未签收，整改期限为{{ due }}，请督促其及时签收并按期整改。",
    ),
    ("letter_unack", "unacked", "lead"): (
        "【签收提醒】风险提示函{{ letter.number }}尚未签收",
        HI + "{{ letter.issuing_unit.name }}向{{ unit.name }}发出的《风险提示函》（{{ letter.number }}）"
        "至今尚未签收。请及时签收，并于{{ due }}前书面反馈采取的防范措施。",
    ),
    ("letter_unack", "unacked", "superior"): (
        "【签收督办】下级单位{{ unit.name }}风险提示函{{ letter.number }}尚未签收",
        HI + "{{ letter.issuing_unit.name }}向下级单位{{ unit.name }}发出的《风险提示函》（{{ letter.number }}）"
        "经提醒仍未签收，反馈时限为{{ due }}，请督促其及时签收并落实防范措施。",
    ),
    # an issued document (公文) not acknowledged by a recipient unit: ``document``, ``due`` its issue day
    ("doc_unack", "unacked", "lead"): (
        "【签收提醒】公文{{ document.number }}尚未签收",
        HI + "{{ document.issuing_unit.name }}{{ due }}印发的《{{ document.title }}》（{{ document.number }}）"
        "已发送{{ unit.name }}，至今尚未签收。请及时签收，并按文件要求抓好贯彻落实。",
    ),
    ("doc_unack", "unacked", "superior"): (
        "【签收督办】下级单位{{ unit.name }}公文{{ document.number }}尚未签收",
        HI + "{{ document.issuing_unit.name }}{{ due }}印发的《{{ document.title }}》（{{ document.number }}）"
        "已发送下级单位{{ unit.name }}，经提醒仍未签收，请督促其及时签收并抓好贯彻落实。",
    ),
}

FIRST = {"hotspot": "inspector"}  # who a subject's reminders go to first (else the unit lead)


def text(subject_type: str, kind: str, audience: str) -> tuple[str, str]:
    """The default words for a reminder: its own, else the first person reminded's, else generic."""
    first = FIRST.get(subject_type, "lead")
    found = TEXTS.get((subject_type, kind, audience)) or TEXTS.get((subject_type, kind, first))
    return found or ("【督办提醒】{{ unit.name }}", HI + "{{ unit.name }}有一项督办事项，期限{{ due }}，请及时处理。")


# --- Events (docs/events.md): what was done to a unit's work, keyed ("event", kind, audience) -----------
# Over: ``recipient``, ``event``, ``unit``, ``campaign``, ``actor`` (who acted; empty for the system),
# ``reason`` (the reason given, or a comment's words), ``count`` (items in one message), per subject
# ``assignment``/``item``/``due``, ``notice``, ``finding``; for extensions ``requested`` and ``previous``
# (7月15日), for notices ``findings`` (how many) and ``deadline``, for findings ``deadline``, for risk
# letters ``letter`` and ``reply_by``.

BY = "{% if actor %}{{ actor.unit.name }}{% else %}行动办公室{% endif %}"
SEVERAL = "{% if count > 1 %}等{{ count }}项{% endif %}"

EVENT_TEXTS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("event", "assigned", "lead"): (
        "【任务下达】您单位在《{{ campaign.name }}》中有{{ count }}项任务",
        HI + "《{{ campaign.name }}》已下达，{{ unit.name }}承担{{ count }}项任务。请在“我的任务”中查看，"
        "明确责任人和措施，按时限推进并报送进展。",
    ),
    ("event", "returned", "lead"): (
        "【退回】{{ item.code }}项" + SEVERAL + "被退回，请补充完善",
        HI + ITEM + SEVERAL + "，{{ unit.name }}报送的办理情况被" + BY + "退回。"
        "{% if reason %}退回理由：{{ reason }}。{% endif %}请按要求补充完善后重新提交。",
    ),
    ("event", "accepted", "lead"): (
        "【验收通过】{{ item.code }}项" + SEVERAL + "已通过验收",
        HI + ITEM + SEVERAL + "，{{ unit.name }}的办理情况已经" + BY + "验收通过。",
    ),
    ("event", "reopened", "lead"): (
        "【重新办理】{{ item.code }}项" + SEVERAL + "已重新打开",
        HI + ITEM + SEVERAL + "，{{ unit.name }}已验收的办理情况被" + BY + "重新打开。"
        "{% if reason %}理由：{{ reason }}。{% endif %}请继续办理并重新提交。",
    ),
    ("event", "notice", "lead"): (
        "【整改通知】{{ notice.number }}，请于{{ deadline }}前整改",
        HI + "{{ notice.issuing_unit.name }}向{{ unit.name }}下发《责令整改通知书》（{{ notice.number }}），"
        "列明问题{{ findings }}个，整改期限为{{ deadline }}。请按通知书要求逐项整改，并按期上报整改情况。",
    ),
    ("event", "rejected", "lead"): (
        "【整改未通过】{{ finding.place }}问题请重新整改",
        HI + NOTICE + "{{ unit.name }}问题" + FINDING + "上报的整改情况经验证不合格。"
        "{% if reason %}理由：{{ reason }}。{% endif %}请于{{ deadline }}前重新整改并上报。",
    ),
    ("event", "verified", "lead"): (
        "【整改销号】{{ finding.place }}问题整改已通过验证",
        HI + NOTICE + "{{ unit.name }}问题" + FINDING + "的整改情况已通过验证，予以销号。",
    ),
    ("event", "letter", "lead"): (
        "【风险提示】{{ letter.number }}，请于{{ reply_by }}前反馈",
        HI + "{{ letter.issuing_unit.name }}向{{ unit.name }}发出《风险提示函》（{{ letter.number }}）："
        "{{ letter.title }}。请签收，按防范要求落实措施，并于{{ reply_by }}前反馈采取的防范措施。",
    ),
    ("event", "letter_done", "lead"): (
        "【风险提示办结】{{ letter.number }}已办结",
        HI + "{{ unit.name }}对《风险提示函》（{{ letter.number }}）的反馈已经" + BY + "审核，予以办结。",
    ),
    ("event", "letter_back", "lead"): (
        "【风险提示退回】{{ letter.number }}的反馈请补充完善",
        HI + "{{ unit.name }}对《风险提示函》（{{ letter.number }}）的反馈被" + BY + "退回。"
        "{% if reason %}理由：{{ reason }}。{% endif %}请补充完善后于{{ reply_by }}前重新反馈。",
    ),
    ("event", "ext_asked", "reviewer"): (
        "【延期申请】{{ unit.name }}申请{{ item.code }}项延期至{{ requested }}",
        HI + "{{ unit.name }}申请将" + ITEM + "的完成时限由{{ previous }}延至{{ requested }}。"
        "理由：{{ reason }}。请及时审批。",
    ),
    ("event", "ext_approved", "lead"): (
        "【延期同意】{{ item.code }}项完成时限延至{{ requested }}",
        HI + ITEM + "，{{ unit.name }}的延期申请已经" + BY + "同意，完成时限由{{ previous }}延至{{ requested }}。"
        "{% if reason %}意见：{{ reason }}。{% endif %}",
    ),
    ("event", "ext_approved", "requester"): (
        "【延期同意】您申请的{{ item.code }}项延期已同意",
        HI + "您为{{ unit.name }}申请的" + ITEM + "延期已经" + BY + "同意，完成时限延至{{ requested }}。"
        "{% if reason %}意见：{{ reason }}。{% endif %}",
    ),
    ("event", "ext_refused", "lead"): (
        "【延期未同意】{{ item.code }}项延期申请未获同意",
        HI + ITEM + "，{{ unit.name }}申请延至{{ requested }}未获同意，完成时限仍为{{ previous }}。"
        "{% if reason %}理由：{{ reason }}。{% endif %}请按原时限推进。",
    ),
    ("event", "ext_refused", "requester"): (
        "【延期未同意】您申请的{{ item.code }}项延期未获同意",
        HI + "您为{{ unit.name }}申请的" + ITEM + "延期（至{{ requested }}）未获同意，完成时限仍为{{ previous }}。"
        "{% if reason %}理由：{{ reason }}。{% endif %}请按原时限推进。",
    ),
    ("event", "passed_down", "lead"): (
        "【任务分解】{{ assignment.parent.unit.name }}向您单位分解{{ item.code }}项任务",
        HI + ITEM + "，{{ assignment.parent.unit.name }}已分解给{{ unit.name }}"
        "{% if shares %}，分解目标{{ shares }}{% elif assignment.target_share %}，分解目标"
        "{{ assignment.target_share|floatformat:'-2' }}{{ item.target_unit }}{% endif %}，完成时限{{ due }}。请抓紧落实。",
    ),
    ("event", "commented", "lead"): (
        "【批注】" + BY + "对{{ item.code }}项作了批注",
        HI + BY + "{{ actor.get_full_name }}对" + ITEM + "（{{ unit.name }}）批注：{{ reason }}",
    ),
    ("event", "commented", "reviewer"): (
        "【批注】{{ unit.name }}对{{ item.code }}项作了批注",
        HI + "{{ unit.name }}{{ actor.get_full_name }}就" + ITEM + "批注：{{ reason }}",
    ),
    ("event", "commented", "requester"): (  # 报请领导批示: the leader addressed (``progress.request_instruction``)
        "【报请批示】{{ unit.name }}就{{ item.code }}项报请您批示",
        HI + BY + "{{ actor.get_full_name }}就" + ITEM + "（{{ unit.name }}）报请您批示：{{ reason }}",
    ),
    ("event", "chased", "lead"): (
        "【催办】{{ item.code }}项" + SEVERAL + "请抓紧办理",
        HI + BY + "对{{ unit.name }}承担的" + ITEM + SEVERAL + "进行催办。"
        "{% if reason %}催办意见：“{{ reason }}”。{% endif %}请抓紧推进，按时限报送进展。",
    ),
    ("event", "document", "lead"): (  # 公文下发: a recipient unit of an issued document
        "【公文】{{ document.issuing_unit.name }}：{{ document.title }}（{{ document.number }}）",
        HI + "{{ document.issuing_unit.name }}印发《{{ document.title }}》（{{ document.number }}），"
        "{{ unit.name }}为发送单位。请登录系统查阅并签收，按文件要求抓好落实。",
    ),
    ("event", "doc_chased", "lead"): (  # 催签收: HQ chases a recipient that has not acknowledged
        "【催办】请签收{{ document.number }}",
        HI + BY + "印发的《{{ document.title }}》（{{ document.number }}），{{ unit.name }}尚未签收。"
        "{% if reason %}催办意见：“{{ reason }}”。{% endif %}请及时查阅签收，按文件要求抓好落实。",
    ),
    ("event", "submitted", "reviewer"): (  # a share submitted: the leads of the unit that split it
        "【待验收】{{ unit.name }}提交了{{ item.code }}项分解任务",
        HI + "{{ unit.name }}已将" + ITEM + "的分解任务办理情况提交验收"
        "{% if reason %}（说明：{{ reason }}）{% endif %}。请及时审核，验收通过或退回补充。",
    ),
}


def event_text(kind: str, audience: str) -> tuple[str, str]:
    """The default words of an event for an audience: its own, else the unit leads', else generic."""
    found = EVENT_TEXTS.get(("event", kind, audience)) or EVENT_TEXTS.get(("event", kind, "lead"))
    return found or ("【工作提示】{{ unit.name }}", HI + "{{ unit.name }}有一项工作动态，请登录系统查看。")
