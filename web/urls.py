from django.urls import path

from . import views

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
    path("notices/<int:pk>/print/", views.notice_print, name="notice-print"),
    path("notices/<int:pk>/pdf/", views.notice_pdf, name="notice-pdf"),
]
