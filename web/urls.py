from django.urls import path

from . import boards, reminders, supervision, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_tasks, name="my"),
    path("assignments/<int:pk>/", views.assignment, name="assignment"),
    path("assignments/<int:pk>/report/", views.report, name="report"),
    path("assignments/<int:pk>/transition/", views.transition, name="transition"),
    path("assignments/<int:pk>/comment/", views.comment, name="comment"),
    path("assignments/<int:pk>/extension/", views.extension, name="extension"),
    path("extensions/<int:pk>/decide/", views.decide, name="decide"),
    path("review/", views.review, name="review"),
    path("items/", views.items, name="items"),
    path("items/<int:pk>/", views.item, name="item"),
    path("board/", boards.battle, name="board"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox-read-all"),
    path("inbox/settings/", reminders.preferences, name="preferences"),
    path("outbox/", reminders.outbox_page, name="outbox"),
    path("outbox/retry/", reminders.outbox_retry, name="outbox-retry"),
    path("outbox/<int:pk>/", reminders.outbox_message, name="outbox-message"),
    # supervision
    path("findings/", supervision.findings, name="findings"),
    path("findings/new/", supervision.finding_new, name="finding-new"),
    path("findings/counts/", supervision.finding_counts, name="finding-counts"),
    path("findings/<int:pk>/", supervision.finding, name="finding"),
    path("findings/<int:pk>/answer/", supervision.finding_answer, name="finding-answer"),
    path("findings/<int:pk>/verify/", supervision.finding_verify, name="finding-verify"),
    path("rectification/", supervision.rectification, name="rectification"),
    path("notices/", supervision.notices, name="notices"),
    path("notices/new/", supervision.notice_new, name="notice-new"),
    path("notices/<int:pk>/", supervision.notice, name="notice"),
    path("notices/<int:pk>/print/", supervision.notice_print, name="notice-print"),
    path("notices/<int:pk>/pdf/", supervision.notice_pdf, name="notice-pdf"),
    path("inspections/", supervision.inspections, name="inspections"),
    path("inspections/new/", supervision.inspection_new, name="inspection-new"),
    path("inspections/<int:pk>/", supervision.inspection, name="inspection"),
    path("inspections/<int:pk>/start/", supervision.inspection_start, name="inspection-start"),
    path("inspections/<int:pk>/complete/", supervision.inspection_complete, name="inspection-complete"),
    path("hotspots/", supervision.hotspots, name="hotspots"),
    path("hotspots/new/", supervision.hotspot_new, name="hotspot-new"),
    path("hotspots/<int:pk>/", supervision.hotspot, name="hotspot"),
]
