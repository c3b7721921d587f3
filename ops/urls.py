from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import OwnTokensView, TokenView, UnitViewSet, UserViewSet
from boards.api import BattleBoardView, ExportViewSet, RankingView
from directives.api import DirectiveViewSet
from documents.api import DocumentViewSet
from documents.rule_api import RuleViewSet
from documents.summons_api import SummonsViewSet
from inspections.api import (
    FindingViewSet,
    HotspotViewSet,
    InspectionCountsView,
    InspectionViewSet,
    LetterFileViewSet,
    NoticeViewSet,
    PhotoViewSet,
    RiskLetterViewSet,
)
from notifications.api import InboxViewSet
from ops.health import healthz
from ops.schema import SchemaView
from stats.api import (
    CatalogueView,
    FiguresRankingView,
    FiguresView,
    IndicatorViewSet,
    NonReportersView,
    RoundViewSet,
    SheetUploadView,
    SummaryUploadView,
    TotalsView,
)
from tasks.api import (
    AssignmentViewSet,
    CampaignViewSet,
    EvidenceViewSet,
    ExtensionRequestViewSet,
    ItemViewSet,
    LineOfActionViewSet,
    PlanJobView,
    PlanView,
)

admin.site.site_header = admin.site.site_title = settings.SITE_TITLE
admin.site.index_title = settings.SITE_TITLE

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("users", UserViewSet, basename="user")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("actions", LineOfActionViewSet, basename="action")
router.register("items", ItemViewSet, basename="item")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("evidence", EvidenceViewSet, basename="evidence")
router.register("extension-requests", ExtensionRequestViewSet, basename="extension-request")
router.register("directives", DirectiveViewSet, basename="directive")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("findings", FindingViewSet, basename="finding")
router.register("finding-photos", PhotoViewSet, basename="finding-photo")
router.register("notices", NoticeViewSet, basename="notice")
router.register("hotspots", HotspotViewSet, basename="hotspot")
router.register("documents", DocumentViewSet, basename="document")
router.register("summons", SummonsViewSet, basename="summons")
router.register("document-rules", RuleViewSet, basename="document-rule")
router.register("risk-letters", RiskLetterViewSet, basename="risk-letter")
router.register("risk-letter-files", LetterFileViewSet, basename="risk-letter-file")
router.register("inbox", InboxViewSet, basename="inbox")
router.register("exports", ExportViewSet, basename="export")
router.register("stats/indicators", IndicatorViewSet, basename="stats-indicator")
router.register("stats/rounds", RoundViewSet, basename="stats-round")

# The API's own views, then the router's: every API request is resolved under one prefix, without trying the
# pages' 113 patterns first (a statistics POST tried 420 patterns before its own; now 14).
api = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/tokens/", OwnTokensView.as_view(), name="api-own-tokens"),
    path("inspection-counts/", InspectionCountsView.as_view(), name="inspection-counts"),
    path("boards/battle/", BattleBoardView.as_view(), name="board-battle"),
    path("boards/ranking/", RankingView.as_view(), name="board-ranking"),
    path("stats/catalogue/", CatalogueView.as_view(), name="stats-catalogue"),
    path("stats/totals/", TotalsView.as_view(), name="stats-totals"),
    path("stats/ranking/", FiguresRankingView.as_view(), name="stats-ranking"),
    path("stats/non-reporters/", NonReportersView.as_view(), name="stats-non-reporters"),
    path("stats/figures/", FiguresView.as_view(), name="stats-figures"),
    path("stats/figures/upload/", SheetUploadView.as_view(), name="stats-upload"),
    path("stats/figures/summary/", SummaryUploadView.as_view(), name="stats-summary"),
    path("plans/", PlanView.as_view(), name="plans"),
    path("plans/<int:pk>/", PlanJobView.as_view(), name="plan-job"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("api/v1/", include(api)),
    path("healthz/", healthz, name="healthz"),  # anonymous: the load balancer's probe (ops/health.py)
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI's start-up script as a file (the split view), so the CSP needs no inline script;
    # Redoc injects its styles at run time, so its page alone allows inline style (never script).
    path("api/schema/ui/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="schema-ui"),
    path(
        "api/schema/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="schema-redoc",
    ),
    path("", include("web.urls")),
]

# Unmatched paths under /api/ answer JSON like the API (ops/handlers.py); pages keep Django's 404.
handler404 = "ops.handlers.not_found"
# The database out of reach or the disk full, met outside a view: 503 / 507 as in the views (ops/outage.py).
handler500 = "ops.outage.server_error"
