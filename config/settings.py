"""avlabel settings: everything comes from the environment, with an embedded default.

With no variables set, the platform runs on a SQLite file and a Celery broker that needs
no server (kombu's filesystem transport), both under AVLABEL_DATA_DIR.
"""

import os
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    broker_url,
    database_config,
    env_bool,
    env_choice,
    env_folders,
    env_int,
    env_list,
    secret_key_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("AVLABEL_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
# Production is DEBUG off on a database server: there a missing key stops start-up, since a
# key generated per host would differ between the web and worker hosts.
_production = not DEBUG and bool(os.environ.get("DATABASE_URL", "").strip())
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if _production or (not DEBUG and env_bool("AVLABEL_REQUIRE_SECRET_KEY", False)):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required in production (DJANGO_DEBUG off with DATABASE_URL "
            "set, or AVLABEL_REQUIRE_SECRET_KEY on): set it to a long random string, the same on every host."
        )
    # A per-installation key kept in the data folder: sessions survive restarts of the demo.
    SECRET_KEY = secret_key_file(DATA_DIR / "secret_key")

# The test client's host "testserver" is added by Django's test set-up, not allowed here.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",  # failed logins and lockouts (below: Logins and API tokens)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served here: /api/docs/ works offline
    "csp",
    "annotator",
    "modelzoo",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ApiBodyLimitMiddleware",  # before anything reads a body
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout on the login pages into its 429 page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotator.roles.role_context",
                "csp.context_processors.nonce",  # CSP_NONCE, for <script nonce="{{ CSP_NONCE }}">
            ],
        },
    },
]

DATABASES = {"default": database_config(DATA_DIR / "avlabel.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Logins and API tokens (README, "Accounts, tokens and lockout"). django-axes counts failed
# logins on every authenticate() with a request: the login page, the admin's and
# POST /api/auth/token/. AxesStandaloneBackend only refuses locked-out clients; ModelBackend
# checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AVLABEL_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AVLABEL_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# A username from one address: locking a username alone would let anyone lock a rater out
# by typing their name, locking an address alone would lock out a whole lab behind one NAT.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "annotator.logins.attempted_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address: REMOTE_ADDR, or behind a proxy the header the operator names, one
# the proxy sets itself (nginx: proxy_set_header X-Real-IP $remote_addr). A header the
# client can send would let it pick a fresh address for every attempt.
_client_ip_header = os.environ.get("AVLABEL_CLIENT_IP_HEADER", "").strip()
if _client_ip_header and not all(part.isalnum() for part in _client_ip_header.split("-")):
    raise ImproperlyConfigured(f"AVLABEL_CLIENT_IP_HEADER={_client_ip_header!r} is not a header name, e.g. X-Real-IP.")
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_" + _client_ip_header.upper().replace("-", "_"), "REMOTE_ADDR") if _client_ip_header else ("REMOTE_ADDR",)
)
# X-Forwarded-For: the address the last proxy appended, not one the client wrote before it.
AXES_IPWARE_PROXY_ORDER = "right-most"
# API tokens expire this long after they were issued; logging out or a new password ends them earlier.
AVLABEL_TOKEN_TTL = timedelta(hours=env_int("AVLABEL_TOKEN_TTL_HOURS", 720, minimum=1))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves straight from the app folders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
# Clip media and generated artefacts (spectrograms, heatmaps, exports). Never served as
# plain static files: annotator checks who may fetch what.
MEDIA_ROOT = Path(os.environ.get("AVLABEL_MEDIA_ROOT", DATA_DIR / "media")).resolve()
ARTIFACTS_DIR = DATA_DIR / "artifacts"

# The largest /api/ request body (config.middleware): DRF reads bodies itself, past Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE. A rating or a study is a few kB; 1 MiB leaves room for a
# long clip list in a predict request.
AVLABEL_API_MAX_BODY_BYTES = env_int("AVLABEL_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
# Imports through the pages and the API (README, "Importing through the pages and the API").
# An upload request (an import file, a batch of media files, one chunk of a large one) is
# refused past AVLABEL_UPLOAD_MAX_BYTES with 413; a media file sent in chunks may grow to
# AVLABEL_UPLOAD_MAX_FILE_BYTES; one request carries at most AVLABEL_UPLOAD_MAX_FILES files.
AVLABEL_UPLOAD_MAX_BYTES = env_int("AVLABEL_UPLOAD_MAX_BYTES", 256 * 1024 * 1024, minimum=1024)
AVLABEL_UPLOAD_MAX_FILE_BYTES = env_int("AVLABEL_UPLOAD_MAX_FILE_BYTES", 8 * 1024**3, minimum=1024)
AVLABEL_UPLOAD_MAX_FILES = env_int("AVLABEL_UPLOAD_MAX_FILES", 100, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FILES = AVLABEL_UPLOAD_MAX_FILES
# Server folders a researcher may name as a dataset's media folder (comma-separated, absolute;
# none: only uploaded media). A folder elsewhere, or one a link leads out of them, is refused.
AVLABEL_MEDIA_IMPORT_ROOTS = env_folders("AVLABEL_MEDIA_IMPORT_ROOTS")
# Uploaded import files and partly uploaded media (under the data folder, shared by the web
# and worker hosts); uploaded media go to MEDIA_ROOT/uploads/dataset-<id>.
AVLABEL_IMPORT_DIR = DATA_DIR / "imports"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotator.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("AVLABEL_API_PAGE_SIZE", 50, minimum=1),
    "DEFAULT_SCHEMA_CLASS": "config.api.ApiSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "avlabel API",
    "DESCRIPTION": "Datasets, clips, studies, rating queue, model runs and evaluation.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Route ids (config.converters): the schema states their range, so clients and the
    # fuzzer know a larger number is refused.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}},
    # Fields of one name ("status", "kind") with different choices: one enum name each.
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "annotator.models.Study.Status",
        "ModelRunStatusEnum": "modelzoo.models.ModelRun.Status",
        "EvaluationReportStatusEnum": "evaluation.models.EvaluationReport.Status",
        "ModelRunKindEnum": "modelzoo.models.ModelRun.Kind",
        "TableColumnKindEnum": "evaluation.tables.COLUMN_KINDS",
        "MediaFlagEnum": "annotator.importers.probe.MEDIA_FLAG_CHOICES",
        "ImportJobStatusEnum": "annotator.models.ImportJob.Status",
        "ImportJobKindEnum": "annotator.models.ImportJob.Kind",
        "MediaFileStatusEnum": "annotator.services.media_uploads.MEDIA_FILE_STATUSES",
        "RaterStandingStateEnum": "annotator.models.StudyRater.State",
        # A gold truth, an adjudication: present or absent.
        "PresentAbsentEnum": "annotator.models.Adjudication.Decision",
    },
}

# Celery: routes in settings, gpu queue for training and inference.
CELERY_BROKER_URL = broker_url(DATA_DIR)
_broker_dir = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True  # progress and outcomes live on database rows
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "modelzoo.train": {"queue": "gpu"},
    "modelzoo.predict": {"queue": "gpu"},
    "modelzoo.predict_chunk": {"queue": "gpu"},
    "annotator.import_run": {"queue": "default"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# A lost worker (README, "When a worker dies"): the task holding a run or a prediction chunk
# beats its row every AVLABEL_RUN_HEARTBEAT_SECONDS; modelzoo.runs_reap, sent by the beat
# scheduler every AVLABEL_RUNS_REAP_SECONDS, queues again what has not beaten for
# AVLABEL_RUN_STALE_SECONDS (at most AVLABEL_RUN_MAX_ATTEMPTS takes, then the run fails). The
# broker's own redelivery (after an hour on Redis) is a no-op by then: claims are conditional.
AVLABEL_RUN_HEARTBEAT_SECONDS = env_int("AVLABEL_RUN_HEARTBEAT_SECONDS", 5, minimum=1)
AVLABEL_RUN_STALE_SECONDS = env_int("AVLABEL_RUN_STALE_SECONDS", 20, minimum=1)
if AVLABEL_RUN_STALE_SECONDS < 3 * AVLABEL_RUN_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"AVLABEL_RUN_STALE_SECONDS={AVLABEL_RUN_STALE_SECONDS} must be at least three heartbeats "
        f"(3 x AVLABEL_RUN_HEARTBEAT_SECONDS = {3 * AVLABEL_RUN_HEARTBEAT_SECONDS}), or live runs would be taken away."
    )
AVLABEL_RUN_MAX_ATTEMPTS = env_int("AVLABEL_RUN_MAX_ATTEMPTS", 5, minimum=1)
_reap_seconds = float(env_int("AVLABEL_RUNS_REAP_SECONDS", 5, minimum=1))
# Periodic tasks, sent by the one `celery -A config beat` of a deployment (deploy/systemd).
CELERY_BEAT_SCHEDULE = {
    # A reaper message left waiting behind other work expires: the next one comes anyway.
    "modelzoo.runs_reap": {
        "task": "modelzoo.runs_reap",
        "schedule": _reap_seconds,
        "options": {"expires": _reap_seconds},
    },
    # Lapsed reservations grant nothing but would pile up (every rater who walks away leaves one).
    "annotator.reservations_purge": {
        "task": "annotator.reservations_purge",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Training/inference device: cpu, cuda or cuda:<n>; empty = cuda when available, else cpu.
AVLABEL_DEVICE = os.environ.get("AVLABEL_DEVICE", "").strip()

# librosa's onset detector JIT-compiles with numba; the cache on disk makes that a
# once-per-machine cost instead of once per process.
os.environ.setdefault("NUMBA_CACHE_DIR", str(DATA_DIR / "numba-cache"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Timestamped and named, so a log line reads apart from a command's own report.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("AVLABEL_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# HTTPS. The demo serves plain http on 127.0.0.1 with DEBUG off, so the redirect and the
# secure cookies are switched on by the operator (README, Production deployment). HSTS is
# on by default without DEBUG: browsers heed it only over https, where it belongs.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe the app over plain http
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself: trusting the
# header otherwise lets any client claim https.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: off, report-only (browsers log violations) or enforce. Inline
# scripts run only with the request's nonce; style="" attributes in the templates (progress
# bars, layout) need inline styles; data: is the empty page icon.
_csp_mode = env_choice("DJANGO_CSP", ("off", "report-only", "enforce"), "off")
_csp_policy = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
CONTENT_SECURITY_POLICY = _csp_policy if _csp_mode == "enforce" else None
CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy if _csp_mode == "report-only" else None
