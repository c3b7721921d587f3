from django.urls import path

from . import accounts, boards, notifications, pages, stats
from .inspections import findings, hotspots, inspections, notices
from .tasks import assignments, campaigns, items, plans

app_name = "web"

# Each page is named after its domain (its app, its module in web/, its template folder): web:<domain>-<page>;
# a domain's landing page is its name alone (web:inspections, web:stats).
urlpatterns = [
    path("", pages.home, name="home"),
    # tasks
    path("my/", assignments.my_tasks, name="tasks-my"),
    path("assignments/<int:pk>/", assignments.assignment, name="tasks-assignment"),
    path("assignments/<int:pk>/report/", assignments.report, name="tasks-report"),
    path("assignments/<int:pk>/transition/", assignments.transition, name="tasks-transition"),
    path("assignments/<int:pk>/comment/", assignments.comment, name="tasks-comment"),
    path("assignments/<int:pk>/acknowledge/", assignments.acknowledge, name="tasks-acknowledge"),
    path("assignments/<int:pk>/pass-down/", assignments.pass_down_work, name="tasks-pass-down"),
    path("assignments/<int:pk>/extension/", assignments.extension, name="tasks-extension"),
    path("extensions/<int:pk>/decide/", assignments.decide, name="tasks-decide"),
    path("review/", assignments.review, name="tasks-review"),
    path("review/bulk/", assignments.review_bulk, name="tasks-review-bulk"),
    path("items/", items.items, name="tasks-items"),
    path("items/export/", items.items_export, name="tasks-items-export"),
    path("items/<int:pk>/", items.item, name="tasks-item"),
    path("items/<int:pk>/edit/", items.item_edit, name="tasks-item-edit"),
    path("campaigns/", campaigns.campaigns, name="tasks-campaigns"),
    path("campaigns/<int:pk>/", campaigns.campaign, name="tasks-campaign"),
    path("campaigns/<int:pk>/copy/", campaigns.copy, name="tasks-campaign-copy"),
    path("campaigns/<int:pk>/publish/", campaigns.publish, name="tasks-campaign-publish"),
    path("campaigns/<int:pk>/close/", campaigns.close, name="tasks-campaign-close"),
    path("campaigns/<int:pk>/reopen/", campaigns.reopen, name="tasks-campaign-reopen"),
    path("plans/", plans.plans, name="tasks-plans"),
    path("plans/<int:pk>/", plans.plan, name="tasks-plan"),
    path("plans/<int:pk>/status/", plans.plan_status, name="tasks-plan-status"),
    path("plans/<int:pk>/file/", plans.plan_file, name="tasks-plan-file"),
    # inspections (supervision: findings, notices, inspections, hotspots)
    path("findings/", findings.findings, name="inspections-findings"),
    path("findings/new/", findings.finding_new, name="inspections-finding-new"),
    path("findings/counts/", findings.finding_counts, name="inspections-finding-counts"),
    path("findings/<int:pk>/", findings.finding, name="inspections-finding"),
    path("findings/<int:pk>/answer/", findings.finding_answer, name="inspections-finding-answer"),
    path("findings/<int:pk>/verify/", findings.finding_verify, name="inspections-finding-verify"),
    path("rectification/", findings.rectification, name="inspections-rectification"),
    path("notices/", notices.notices, name="inspections-notices"),
    path("notices/new/", notices.notice_new, name="inspections-notice-new"),
    path("notices/<int:pk>/", notices.notice, name="inspections-notice"),
    path("notices/<int:pk>/print/", notices.notice_print, name="inspections-notice-print"),
    path("notices/<int:pk>/acknowledge/", notices.notice_acknowledge, name="inspections-notice-acknowledge"),
    path("notices/<int:pk>/pdf/", notices.notice_pdf, name="inspections-notice-pdf"),
    path("inspections/", inspections.inspections, name="inspections"),
    path("inspections/new/", inspections.inspection_new, name="inspections-inspection-new"),
    path("inspections/<int:pk>/", inspections.inspection, name="inspections-inspection"),
    path("inspections/<int:pk>/start/", inspections.inspection_start, name="inspections-inspection-start"),
    path("inspections/<int:pk>/complete/", inspections.inspection_complete, name="inspections-inspection-complete"),
    path("hotspots/", hotspots.hotspots, name="inspections-hotspots"),
    path("hotspots/new/", hotspots.hotspot_new, name="inspections-hotspot-new"),
    path("hotspots/<int:pk>/", hotspots.hotspot, name="inspections-hotspot"),
    # notifications
    path("inbox/", notifications.inbox, name="notifications-inbox"),
    path("inbox/<int:pk>/read/", notifications.inbox_read, name="notifications-inbox-read"),
    path("inbox/read-all/", notifications.inbox_read_all, name="notifications-inbox-read-all"),
    path("inbox/settings/", notifications.preferences, name="notifications-preferences"),
    path("outbox/", notifications.outbox_page, name="notifications-outbox"),
    path("outbox/retry/", notifications.outbox_retry, name="notifications-outbox-retry"),
    path("outbox/<int:pk>/", notifications.outbox_message, name="notifications-outbox-message"),
    path("campaigns/<int:pk>/reminders/", notifications.policy, name="notifications-policy"),
    path("campaigns/<int:pk>/reminders/reset/", notifications.policy_reset, name="notifications-policy-reset"),
    # stats
    path("stats/", stats.statistics, name="stats"),
    path("stats/report/", stats.report, name="stats-report"),
    path("stats/upload/", stats.upload, name="stats-upload"),
    path("stats/sheet/", stats.sheet, name="stats-sheet"),
    path("stats/summary/", stats.summary_page, name="stats-summary"),
    path("stats/summary/sheet/", stats.summary_sheet, name="stats-summary-sheet"),
    path("stats/catalogue/", stats.catalogue, name="stats-catalogue"),
    path("stats/rounds/<int:pk>/report/", stats.round_report, name="stats-round-report"),
    # boards
    path("board/", boards.battle, name="boards-battle"),
    path("board/work/", boards.work, name="boards-work"),
    path("leader/", boards.leader, name="boards-leader"),
    path("board/work/chase/", boards.work_chase, name="boards-work-chase"),
    path("exports/", boards.exports, name="boards-exports"),
    path("exports/new/", boards.export_new, name="boards-export-new"),
    path("exports/status/", boards.export_status, name="boards-export-status"),
    path("exports/<int:pk>/download/", boards.export_download, name="boards-export-download"),
    path("board/ranking/", boards.ranking_page, name="boards-ranking"),
    path("board/bulletin/", boards.bulletin_page, name="boards-bulletin"),
    path("board/bulletin/pdf/", boards.bulletin_pdf, name="boards-bulletin-pdf"),
    # accounts
    path("account/tokens/", accounts.api_tokens, name="accounts-tokens"),
]
