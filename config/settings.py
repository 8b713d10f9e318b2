"""avlabel settings: everything comes from the environment, with an embedded default.

With no variables set, the platform runs on a SQLite file and a Celery broker that needs
no server (kombu's filesystem transport), both under AVLABEL_DATA_DIR.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import broker_url, database_config, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("AVLABEL_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("AVLABEL_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required in production.")
    # A per-installation key kept in the data folder: sessions survive restarts of the demo.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
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
    "drf_spectacular",
    "annotator",
    "modelzoo",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
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
    # Fields of one name ("status", "kind") with different choices: one enum name each.
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "annotator.models.Study.Status",
        "ModelRunStatusEnum": "modelzoo.models.ModelRun.Status",
        "EvaluationReportStatusEnum": "evaluation.models.EvaluationReport.Status",
        "ModelRunKindEnum": "modelzoo.models.ModelRun.Kind",
        "TableColumnKindEnum": "evaluation.tables.COLUMN_KINDS",
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
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

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

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "SAMEORIGIN"
