"""Settings for the campaign back-office.

One file, driven by environment variables. With no variables at all it runs the embedded
development setup: SQLite under var/, no Redis, DEBUG on. In production (DEBUG=0) a missing
SECRET_KEY stops the process instead of falling back to a key that differs per worker.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from utilities.backends import ENGINES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development: one key kept on disk, so every process (web, worker, tests) shares it.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so that its ``changepassword`` replaces Django's: a password set from the command line goes
    # through ``accounts.services.change_password`` (audited, the user's API tokens revoked).
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "treebeard",
    "django_celery_beat",
    "csp",
    "audit.axes_app.SignInLocksConfig",  # django-axes, named in Chinese in the admin
    "audit",
    "tasks",
    "directives",
    "inspections",
    "notifications",
    "stats",
    "boards",
    "documents",
    "web",
    "bench",  # benchmarks and synthetic data (manage.py bench_*, seed_load): no models
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ops.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # the database out of reach (restart, failover): 503 + Retry-After, not a 500; a full disk: 507 (ops/outage.py)
    "ops.outage.OutageMiddleware",
    "csp.middleware.CSPMiddleware",
    "audit.middleware.SecurityEventMiddleware",
    # last: it turns a locked-out sign-in into the lock-out page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ops.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "ops.wsgi.application"

# Database: DATABASE_URL (postgres://user:pass@host:5432/name) or the embedded SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's web process and worker read while one writes; IMMEDIATE makes
    # write transactions take the lock up front instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Django's backend with its SELECT statements written once per shape (utilities.backends.kept, docs/cpu.md);
# KEPT_SQL=0 gives Django's own backend (to compare).
if os.environ.get("KEPT_SQL", "1") != "0":
    DATABASES["default"]["ENGINE"] = ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
# the tests write each kept statement in full as well and compare (tests/conftest.py)
KEPT_SQL_VERIFY = False
# PostgreSQL: kept statements run as prepared statements (utilities.backends.postgresql.prepared, docs/cpu.md);
# PREPARED_SQL=0 sends every statement as text (behind a pooler that shares connections between clients)
PREPARED_SQL = os.environ.get("PREPARED_SQL", "1") != "0"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked (user, address) pair is refused before the password is checked
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the session's user read with its grants in one statement (accounts/backends.py)
    "accounts.backends.ScopedModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first: Simplified Chinese by default, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["ops.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
# Working hours (工作时间), the one definition: the receipt reminders (签收) count a window in these hours
# (``utilities.workhours``). Mon–Fri mornings and afternoons, local time; HOLIDAYS (法定节假日, ISO dates)
# are days off and MAKEUP_WORKDAYS (调休上班的周末) days on — both empty unless set for the year.
WORKING_WEEKDAYS = (1, 2, 3, 4, 5)  # ISO weekdays
WORKING_PERIODS = (("08:30", "12:00"), ("14:00", "17:30"))
HOLIDAYS = env_list("HOLIDAYS")
MAKEUP_WORKDAYS = env_list("MAKEUP_WORKDAYS")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files a browser asks for at the site's root whatever the page says (/favicon.ico: the admin, a PDF)
WHITENOISE_ROOT = BASE_DIR / "static" / "site-root"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# The Word template official documents are written into (documents/render/docx.py): the office may replace it.
DOCUMENT_TEMPLATE = os.environ.get("DOCUMENT_TEMPLATE", "")
STORAGES = {
    # uploads and exports: a file is stored whole or not at all; a full disk is a clear refusal (utilities/storage.py)
    "default": {"BACKEND": "utilities.storage.MediaStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Redis is optional: without REDIS_URL the cache is in-process and Celery uses an in-memory broker.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis redelivers an unacknowledged task after the visibility timeout: above the longest task (a
# sweep of a province takes seconds, a drain batch minutes at worst), below "a reminder is late".
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800)}
CELERY_TASK_TIME_LIMIT = 900

# Reminders (docs/reminders.md): channels and retries.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The intranet mail relay (smtp backend), or the directory of the file backend (the load test counts
# each reminder's mail there).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # a hung relay must not hold a delivery batch for ever
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "督办系统 <duban@tracker.local>")
NOTIFY_MAIL_DOMAIN = os.environ.get("NOTIFY_MAIL_DOMAIN", "tracker.local")
NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL", "")
NOTIFY_WEBHOOK_SECRET = os.environ.get("NOTIFY_WEBHOOK_SECRET", "")
NOTIFY_WEBHOOK_TIMEOUT = env_int("NOTIFY_WEBHOOK_TIMEOUT", 5)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 30)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON renderer with orjson writing (utilities/renderers.py: the same bytes, a sixth of the time)
    "DEFAULT_RENDERER_CLASSES": [
        "utilities.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "utilities.params.FilterBackend",  # a related row by id: out of scope answers as no such row
        "rest_framework.filters.SearchFilter",
        "utilities.paging.StableOrdering",  # ?ordering=, the id breaking ties
    ],
    "DEFAULT_PAGINATION_CLASS": "utilities.paging.Pagination",  # the first page read before a count
    "PAGE_SIZE": 50,
    # drf-spectacular's, plus the refusals (400/403/404/415) every operation can answer: ops/openapi.py
    "DEFAULT_SCHEMA_CLASS": "ops.openapi.AutoSchema",
    # a service's refusal (utilities.errors) as its status and body; everything else as DRF answers it
    "EXCEPTION_HANDLER": "ops.handlers.api_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "专项行动任务督办系统 API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get components of their own, so an upload reads as a binary file (a FileField is
    # a URL in answers) and read-only fields are not offered as input.
    "COMPONENT_SPLIT_REQUEST": True,
    # The intranet has no CDN: Swagger UI and Redoc are served from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ComparatorEnum": "tasks.models.Comparator",
        "RiskLetterSourceEnum": "inspections.models.LetterSource",
        "CampaignStatusEnum": "tasks.models.CampaignStatus",
        "AssignmentStatusEnum": "tasks.models.AssignmentStatus",
        "InspectionStatusEnum": "inspections.models.InspectionStatus",
        "InspectionKindEnum": "inspections.models.InspectionKind",
        "FindingStatusEnum": "inspections.models.FindingStatus",
        "NoticeStatusEnum": "inspections.models.NoticeStatus",
        "LetterStatusEnum": "inspections.models.LetterStatus",
        "HotspotStatusEnum": "inspections.models.Hotspot.Status",
        "UnitKindEnum": "accounts.models.UnitKind",
        "IndicatorKindEnum": "stats.models.Kind",
        "DocumentKindEnum": "documents.models.DocumentKind",
        "DocumentStateEnum": "documents.models.DocumentState",
        "RecipientRoleEnum": "documents.models.RecipientRole",
        "AccountRoleEnum": "accounts.models.Role",  # a sign-off rule's role (document-rules)
        "RoleEnum": "tasks.models.AssignmentRole",  # as before the rules came: lead | coop
        "DirectiveStatusEnum": "directives.models.Status",
        "DirectiveSourceEnum": "directives.models.Source",
        "DirectiveLevelEnum": "directives.models.Level",
        "CaseOutcomeEnum": "directives.models.Outcome",
        "DirectiveRatingEnum": "directives.models.Rating",
        "SummonsStateEnum": "documents.models.SummonsState",
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# PostgreSQL fast paths (COPY for bulk writes); off = the portable path SQLite uses. See utilities/db.py.
DB_FAST_PATHS = env_bool("DB_FAST_PATHS", True)

# Exported spreadsheets are kept this many days, then their files are cleared (boards.purge_exports).
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)

# Settings for the plan importer.
PLAN_IMPORT_MAX_BYTES = int(os.environ.get("PLAN_IMPORT_MAX_BYTES", 20 * 1024 * 1024))

SITE_TITLE = _("Campaign task tracking")

# Uploads (evidence): checked by content, limited in size, served only through a permission check.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
# Every Office file the system opens or accepts passes one gate first (utilities/office.py): what it unpacks
# to in all and per part, how far it expands, and how many cells (and rows) its tables hold.
OFFICE_MAX_EXPANDED_BYTES = env_int(
    "OFFICE_MAX_EXPANDED_BYTES",
    env_int("UPLOAD_MAX_EXPANDED_BYTES", 200 * 1024 * 1024),  # its former name
)
OFFICE_MAX_MEMBER_BYTES = env_int("OFFICE_MAX_MEMBER_BYTES", 50 * 1024 * 1024)
OFFICE_MAX_RATIO = env_int("OFFICE_MAX_RATIO", 100)  # Office's own files stay far below; Apache POI's limit
OFFICE_MAX_CELLS = env_int("OFFICE_MAX_CELLS", 200_000)  # a province's units: ~10,000; a plan: ~1,000
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security (docs/trust.md) -----------------------------------------------------------------------
# Production (DEBUG=0) is HTTPS-only: secure cookies, HSTS, redirect to https. Behind a proxy that ends
# TLS, set SECURE_PROXY_SSL_HEADER=1 (the proxy must overwrite X-Forwarded-Proto); a plain-HTTP loopback
# test run may switch single parts off (SECURE_SSL_REDIRECT=0, SECURE_COOKIES=0).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # the load balancer's probe speaks plain HTTP to each host
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A session lasts a working day at most and ends when the browser closes (shared workstations).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# An API token lives 12 hours from when it was issued (accounts/tokens.py): a client running all day (a
# figures script, a phone) signs in once in the morning, and a token copied or left behind is dead by
# the next working day. Shorter would make scripts send the password (and count against the sign-in
# lock) several times a day; longer comes back to "never". A password change or deactivation ends it at once.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 12)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be at least 1 (tokens that never expire are not offered)")
CSRF_COOKIE_HTTPONLY = True  # the pages send the token from the form, never read from the cookie
# Behind N proxies, the client's address is the Nth from the right of X-Forwarded-For (audit, lock-out).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Content-Security-Policy (django-csp): everything from this server, no inline script or style, no
# frames; images also as data: (ECharts' "save as image") and blob: (photo previews before upload).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Sign-in throttling (django-axes): 5 wrong passwords lock the pair (user name, address) for 15 minutes.
# Locking the pair, not the user, means someone elsewhere cannot lock a real user out of their own
# workstation by guessing; HQ sees and lifts locks in the admin (登录锁定 · 登录尝试).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "audit.origin.client_ip"
AXES_VERBOSE = False

# Plan uploads (tasks/services/plan_uploads.py): the dry run and the import run as a background job when
# a worker is configured; uploads never imported are deleted with their files after so many days.
PLAN_UPLOADS_IN_BACKGROUND = env_bool("PLAN_UPLOADS_IN_BACKGROUND", not CELERY_TASK_ALWAYS_EAGER)
PLAN_UPLOAD_KEEP_DAYS = env_int("PLAN_UPLOAD_KEEP_DAYS", 30)
