"""Settings for Xã Số.

Every value comes from the environment (12-factor) with a default that works on a developer
machine with the local PostgreSQL and Redis services.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# A developer machine and the demo keep their own random secrets in this file, out of git
# (bin/demo and bin/test write it once: DJANGO_SECRET_KEY=…); the environment wins over it.
XASO_LOCAL_ENV_FILE = Path(env("XASO_LOCAL_ENV_FILE", str(BASE_DIR / ".xaso-local.env")))


def _local_env(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


_LOCAL_ENV = _local_env(XASO_LOCAL_ENV_FILE)
# Development is debug on, the test suite (and the processes it starts: XASO_DEVELOPMENT=1), or
# a checkout prepared by bin/demo or bin/test (the local file above). Anything else is
# production, which refuses to start without its secrets: the key and the keyring of core.secrets.
XASO_UNDER_TESTS = "pytest" in sys.modules
XASO_DEVELOPMENT = DEBUG or XASO_UNDER_TESTS or env_bool("XASO_DEVELOPMENT") or bool(_LOCAL_ENV)
SECRET_KEY = env("DJANGO_SECRET_KEY") or _LOCAL_ENV.get("DJANGO_SECRET_KEY") or ""
if not SECRET_KEY and XASO_DEVELOPMENT:
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
if XASO_UNDER_TESTS:  # the Celery workers and commands the tests start share the key
    os.environ.setdefault("DJANGO_SECRET_KEY", SECRET_KEY)
    os.environ.setdefault("XASO_DEVELOPMENT", "1")
if not XASO_DEVELOPMENT:
    _required = {"DJANGO_SECRET_KEY": SECRET_KEY, "XASO_SECRETS_KEYS": env("XASO_SECRETS_KEYS")}
    _missing = [name for name, value in _required.items() if not value]
    if _missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"{' and '.join(_missing)} must be set in production (DJANGO_DEBUG off). Generate each with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'. On a development machine, "
            "bin/demo or bin/test writes a random key to .xaso-local.env; or set DJANGO_DEBUG=1."
        )
# Secrets at rest (authenticator seeds, per-commune secrets) have a keyring of their own, not
# SECRET_KEY (see core.secrets): comma-separated, the first key encrypts, all of them decrypt.
# Without it, a random key kept in XASO_SECRETS_KEY_FILE (out of git) serves a developer machine.
XASO_SECRETS_KEYS = env_list("XASO_SECRETS_KEYS", "")
XASO_SECRETS_KEY_FILE = Path(env("XASO_SECRETS_KEY_FILE", str(BASE_DIR / ".xaso-secrets")))
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "*")

# Hosts that serve the national (public-schema) site: provinces, communes, supervising-unit API.
NATIONAL_HOSTS = env_list("XASO_NATIONAL_HOSTS", "localhost,127.0.0.1,testserver")
# Suffix appended to a commune's slug to build its default host (tule + .localhost).
COMMUNE_HOST_SUFFIX = env("XASO_COMMUNE_HOST_SUFFIX", ".localhost")

SHARED_APPS = [
    "django_tenants",
    "communes",
    "workcalendar",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_otp",
    "core",
    "axes",  # failed logins per account and per address (see communes.login_throttle)
    "jobs",
    "truststore",
    "published",  # the public side of the outbox: rows communes publish for the national host
    "ocop_national",  # the national OCOP catalogue: the products communes publish (ecommerce.publishing)
]
TENANT_APPS = [
    "outbox",  # before the apps that publish through it
    "population",
    "notifications",
    "signatures",
    "documents",
    "onestop",
    "broadcasting",
    "ecommerce",
    "health",
    "education",
]
if env_bool("XASO_TEST_PROBE_APP"):  # a throwaway tenant app for the provisioning tests
    TENANT_APPS.append("tests.provisioning.probe_app")
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "communes.Commune"
TENANT_DOMAIN_MODEL = "communes.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# Template schema that new communes are cloned from (see communes.provisioning).
TEMPLATE_SCHEMA_NAME = env("XASO_TEMPLATE_SCHEMA", "_commune_template")
# New schemas: "clone" (copy the template, migrate it first if behind) or "migrate".
XASO_PROVISION_METHOD = env("XASO_PROVISION_METHOD", "clone")
# migrate_schemas migrates the template before the communes.
GET_EXECUTOR_FUNCTION = "communes.provisioning.get_executor"
TENANT_CREATION_FAKES_MIGRATIONS = False
AUTO_CREATE_SCHEMA = True
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env("XASO_MIGRATE_PROCESSES", "2"))
TENANT_MULTIPROCESSING_CHUNKS = 2
# One `SET search_path` per connection and schema, not one before every query: a lookup made 14
# round trips, half of them the same SET (bench/README.md, one-stop). django-tenants forgets the
# path it set when the tenant changes, on rollback (of a transaction or a savepoint, which undo a
# SET) and when the connection closes; code that sets the path itself (communes.provisioning)
# calls set_schema_to_public() afterwards.
TENANT_LIMIT_SET_CALLS = env_bool("XASO_TENANT_LIMIT_SET_CALLS", True)

MIDDLEWARE = [
    "communes.middleware.CommuneHostMiddleware",
    "core.middleware.RequestGuardMiddleware",
    "core.http.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp): CONTENT_SECURITY_POLICY below.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Cache-Control: no-store on every answer that may carry personal data.
    "core.middleware.PrivateResponseMiddleware",
    "core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A user who needs the second factor reaches only the login and code pages until confirmed.
    "communes.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: a login refused by the throttle is answered with 429.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "communes.context_processors.commune",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xaso"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        # A kept connection is tested (SELECT 1) before its first use in each request or task:
        # after a database restart, a failover or pg_terminate_backend, the dead connection is
        # replaced instead of failing the request (django-tenants' SET search_path swallows the
        # error on a dead connection and the query then fails with "cursor already closed").
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "communes.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Passwords first; the province's identity provider (inert unless configured, see communes.oidc).
AUTHENTICATION_BACKENDS = [
    # First: refuses any login of a locked-out account or address (django-axes).
    "communes.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "communes.oidc.CitizenOIDCBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Language: Vietnamese first. Source strings are English.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Our catalogue first; locale_vendor completes the Vietnamese of Django, DRF and django-filter.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("XASO_MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": env("XASO_STORAGE_BACKEND", "core.storage.CommuneFileSystemStorage")},
    "staticfiles": {
        "BACKEND": env(
            "XASO_STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Uploads: size limits (bytes). Larger requests are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Whole request bodies (uploads included) above this are refused with 413 before being read.
XASO_MAX_REQUEST_BYTES = int(env("XASO_MAX_REQUEST_BYTES", str(25 * 1024 * 1024)))
XASO_IMPORT_MAX_BYTES = int(env("XASO_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
# JSON bodies (API, devices, bank notifications, JSON in form fields): size in bytes and nesting
# depth; beyond them a 400 (core.parsers), never a parser running out of stack.
XASO_JSON_MAX_BYTES = int(env("XASO_JSON_MAX_BYTES", str(2 * 1024 * 1024)))
XASO_JSON_MAX_DEPTH = int(env("XASO_JSON_MAX_DEPTH", "32"))
XASO_IMPORT_MAX_ROWS = int(env("XASO_IMPORT_MAX_ROWS", "20000"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("XASO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind TLS: redirect plain HTTP and send HSTS (XASO_HSTS_SECONDS, e.g. 31536000, once every
# commune host has its certificate).
SECURE_SSL_REDIRECT = env_bool("XASO_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = int(env("XASO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("XASO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("XASO_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# What a page may load and run (django-csp): its own files only. No inline script or style and no
# event-handler attribute: templates link static/js and static/css, progress bars get their width
# from static/js/site.js, htmx is told not to add its indicator style (meta htmx-config). Images
# may be data: URIs (the signature and seal images of the signatures pages). Forms post to their
# own host only (the province's login is a link, not a form). The API's Swagger UI widens this for
# its own page (config.urls_common).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("XASO_BEHIND_PROXY") else None
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# A refused form answers with a page in the site's layout that says what to do.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "no-reply@xaso.localhost")

# Redis and Celery. The broker only carries (schema, job id); PostgreSQL holds the truth.
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost the broker retries for ever (None): it must ride out a Redis outage.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Celery's consumer with a guard for celery 5.7.0's clean-up of a lost connection (see there).
CELERY_WORKER_CONSUMER = "config.celery:Consumer"
# Publishing from a request while Redis is down gives up quickly (about half a second): the row
# is committed, the write answers success and the sweeper sends the message later.
CELERY_BROKER_CONNECTION_TIMEOUT = float(env("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Beat runs the sweeper this often (lost messages, dead workers, timed waits).
XASO_SWEEP_SECONDS = float(env("XASO_SWEEP_SECONDS", "10"))
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {"task": "jobs.sweep", "schedule": XASO_SWEEP_SECONDS},
    "worker-heartbeat": {"task": "jobs.heartbeat", "schedule": 30.0},
    # Every morning, officials are reminded of the documents due soon or overdue in their hands.
    "document-reminders": {"task": "documents.send_reminders", "schedule": crontab(hour=7, minute=0)},
    # Records of logins are kept XASO_LOGIN_RECORDS_DAYS days (personal data), expired throttle counts a day.
    "prune-login-records": {"task": "communes.prune_login_records", "schedule": crontab(hour=3, minute=15)},
    # Files kept for a refused form (core.uploads) live a few hours.
    "prune-kept-uploads": {"task": "core.prune_kept_uploads", "schedule": crontab(minute=40)},
    # The radio's playlists of the coming slots are built ahead of time, and missing audio rendered.
    "radio-playlists": {"task": "broadcasting.prepare_playlists", "schedule": crontab(minute="*/15")},
    # Devices' heartbeats are kept in Redis when they arrive and written into PostgreSQL here.
    "radio-heartbeats": {"task": "broadcasting.flush_heartbeats", "schedule": 30.0},
    # The outbox: writers whose wake-up was lost are woken (one query on the public index).
    "outbox-sweep": {"task": "outbox.sweep", "schedule": float(env("XASO_OUTBOX_SWEEP_SECONDS", "15"))},
    # Every commune's figures of the previous and the current month are published (outbox.facts).
    "outbox-facts": {"task": "outbox.refresh_facts", "schedule": crontab(minute=25)},
    # The national OCOP catalogue's rows are made good nightly where a change bypassed the services.
    "ocop-catalogue-resync": {"task": "ecommerce.resync_catalogue", "schedule": crontab(hour=2, minute=40)},
    # OCOP certificates ending within 90 and 30 days: their producers and economy officers are told once.
    "ocop-certificate-warnings": {"task": "ecommerce.warn_certificates", "schedule": crontab(hour=7, minute=30)},
    # On the first of the month, households are sent one SMS for their children's vaccinations due.
    "health-vaccination-reminders": {"task": "health.send_vaccination_reminders",
                                     "schedule": crontab(day_of_month=1, hour=8, minute=0)},
}
# Durable jobs: lease length and retry backoff (seconds). The lease is renewed every third of
# its length while a job runs; a job whose worker died is taken over within lease + sweep
# (see jobs/services.py for the figures).
XASO_JOB_LEASE_SECONDS = int(env("XASO_JOB_LEASE_SECONDS", "30"))
XASO_JOB_MAX_ATTEMPTS = int(env("XASO_JOB_MAX_ATTEMPTS", "5"))
XASO_JOB_BACKOFF_BASE = float(env("XASO_JOB_BACKOFF_BASE", "5"))
# A queued job whose message is older than this is sent again by the sweeper (lost message).
XASO_JOB_ENQUEUE_GRACE_SECONDS = float(env("XASO_JOB_ENQUEUE_GRACE_SECONDS", "60"))
# Sooner than that when the broker can be read: a queued job older than this whose message is
# neither in the broker's queue nor delivered to a worker (unacked) is sent again. 0 turns the
# broker check off (then only the grace above applies).
XASO_JOB_LOST_MESSAGE_SECONDS = float(env("XASO_JOB_LOST_MESSAGE_SECONDS", "10"))
# The broker check reads at most this many waiting messages; a longer queue is a backlog, not
# a loss, and its jobs wait for the grace above.
XASO_JOB_BROKER_SCAN_LIMIT = int(env("XASO_JOB_BROKER_SCAN_LIMIT", "5000"))
# Workers write their heartbeat (public schema) this often.
XASO_WORKER_HEARTBEAT_SECONDS = float(env("XASO_WORKER_HEARTBEAT_SECONDS", "30"))
# The outbox (outbox/writer.py): an undelivered entry older than the grace gets its writer woken by
# the sweeper (not again within the rewake delay); a failed entry is retried after base × 2^(n-1)
# seconds (at most an hour); a writer takes entries a batch at a time for at most run seconds, then
# hands over; delivered entries are kept this many days.
XASO_OUTBOX_GRACE_SECONDS = float(env("XASO_OUTBOX_GRACE_SECONDS", "30"))
XASO_OUTBOX_REWAKE_SECONDS = float(env("XASO_OUTBOX_REWAKE_SECONDS", "60"))
XASO_OUTBOX_BACKOFF_BASE = float(env("XASO_OUTBOX_BACKOFF_BASE", "5"))
XASO_OUTBOX_BATCH = int(env("XASO_OUTBOX_BATCH", "100"))
XASO_OUTBOX_RUN_SECONDS = float(env("XASO_OUTBOX_RUN_SECONDS", "20"))
XASO_OUTBOX_KEEP_DAYS = float(env("XASO_OUTBOX_KEEP_DAYS", "7"))

# Notification gateway (SMS and e-mail to households).
XASO_SMS_BACKEND = env("XASO_SMS_BACKEND", "notifications.gateways.ConsoleGateway")
XASO_SMS_URL = env("XASO_SMS_URL", "")
XASO_SMS_TOKEN = env("XASO_SMS_TOKEN", "")
XASO_SMS_TIMEOUT = float(env("XASO_SMS_TIMEOUT", "10"))
# Where the provider answers GET for one idempotency key ("{key}" in the address), if it can:
# a send cut off mid-call is then looked up instead of being left to an official.
XASO_SMS_STATUS_URL = env("XASO_SMS_STATUS_URL", "")
# True only when the provider's contract says a repeated Idempotency-Key delivers once.
XASO_SMS_DEDUPLICATES = env_bool("XASO_SMS_DEDUPLICATES", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call gets 401 with WWW-Authenticate, not 403.
        # DRF's token, read-only for users who need the second factor (communes.second_factor).
        "communes.second_factor.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON within the size and depth limits (XASO_JSON_MAX_BYTES, XASO_JSON_MAX_DEPTH).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DATE_INPUT_FORMATS": ["%d/%m/%Y", "iso-8601"],
    "DATE_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xã Số API",
    "DESCRIPTION": "REST API of the Xã Số commune portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two models have a field named "kind" with different choices: name each enum after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "CertificateKindEnum": "signatures.models.CertificateKind",
        "SignatureImageKindEnum": "signatures.models.ImageKind",
        "HealthQuestionStateEnum": "health.models.Question.State",
        "JobStateEnum": "jobs.models.JobState",
        "SexEnum": "population.models.Sex",
        "AbsenceKindEnum": "education.models.Absence.Kind",
        "ReportCardKindEnum": "education.models.ReportCardJob.Kind",
    },
    "PATH_CONVERTER_OVERRIDES": {
        "commune_code": {"type": "string", "pattern": "^[0-9]{5}$"},
        "province_code": {"type": "string", "pattern": "^[0-9]{2}$"},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
XASO_WORKER_STALE_SECONDS = int(env("XASO_WORKER_STALE_SECONDS", "120"))

# Working-day calendar (workcalendar): working periods of a working day, local time, and the
# weekly rest days (Monday = 0).
XASO_WORK_PERIODS = [("07:30", "11:30"), ("13:00", "17:00")]
XASO_WEEKLY_REST_DAYS = [5, 6]

# --- Documents and digital signatures ----------------------------------------------------------
# Fonts with Vietnamese glyphs (Liberation Serif has Times New Roman's metrics; Debian's
# fonts-liberation2 package installs it here; version 1 lacks ệ, ư and ố).
XASO_FONT_DIR = env("XASO_FONT_DIR", "/usr/share/fonts/truetype/liberation2")
# An RFC 3161 timestamp authority: signatures are PAdES B-T with one, B-B without.
XASO_TSA_URL = env("XASO_TSA_URL", "")
# Embed revocation data (PAdES B-LT) when signing; needs the CAs' OCSP/CRL reachable.
XASO_SIGNING_EMBED_VALIDATION = env_bool("XASO_SIGNING_EMBED_VALIDATION", False)
# Uploaded PDFs: size limit, and the limits of the separate process that parses them.
XASO_PDF_MAX_BYTES = int(env("XASO_PDF_MAX_BYTES", str(20 * 1024 * 1024)))
XASO_PDF_PARSE_SECONDS = float(env("XASO_PDF_PARSE_SECONDS", "20"))
XASO_PDF_PARSE_MEMORY_MB = int(env("XASO_PDF_PARSE_MEMORY_MB", "768"))
# Certificates: warn this many days before expiry; a key grant locks after this many wrong PINs.
XASO_CERT_EXPIRY_WARNING_DAYS = int(env("XASO_CERT_EXPIRY_WARNING_DAYS", "30"))
XASO_PIN_MAX_ATTEMPTS = int(env("XASO_PIN_MAX_ATTEMPTS", "5"))
XASO_PIN_LOCK_MINUTES = int(env("XASO_PIN_LOCK_MINUTES", "15"))
# PKCS#11 modules a commune admin may name (absolute paths; empty: tokens are not offered).
XASO_PKCS11_MODULES = env_list("XASO_PKCS11_MODULES", "")
# Remote signing services (Cloud Signature Consortium API): allowed address prefixes (empty:
# any http(s) address), the bearer token (XASO_CSC_TOKEN, or XASO_CSC_TOKEN_<NAME> per service),
# the HTTP timeout, and how long a request waits for the official's confirmation.
XASO_CSC_URLS = env_list("XASO_CSC_URLS", "")
XASO_CSC_TOKEN = env("XASO_CSC_TOKEN", "") or None
XASO_CSC_TIMEOUT = float(env("XASO_CSC_TIMEOUT", "10"))
XASO_CSC_CONFIRM_SECONDS = int(env("XASO_CSC_CONFIRM_SECONDS", "900"))
# Public verification: anonymous uploads per client address, and how long the log is kept.
XASO_VERIFY_RATE = env("XASO_VERIFY_RATE", "30/minute")
XASO_VERIFICATION_LOG_DAYS = int(env("XASO_VERIFICATION_LOG_DAYS", "365"))
# Officials with these roles log in with a second factor (TOTP), since they can sign.
# Roles that need the second factor besides the built-in ones (communes.second_factor
# ROLES_NEEDING_SECOND_FACTOR: every role that approves, signs, issues, broadcasts or administers).
XASO_SECOND_FACTOR_ROLES = env_list("XASO_SECOND_FACTOR_ROLES", "")

# --- Throttles of the login and the other guessable steps ---------------------------------------
# Wrong passwords (django-axes, counted in PostgreSQL): an account locks after
# XASO_LOGIN_FAILURES_PER_ACCOUNT failures from any address, an address after
# XASO_LOGIN_FAILURES_PER_ADDRESS failures on any accounts (higher: mobile networks put many
# citizens behind one address), each until XASO_LOGIN_COOLOFF_MINUTES after its last counted
# failure. Attempts while locked are refused without being counted, so the time shown holds, and
# a password reset through the e-mailed link lifts the lock of its account.
XASO_LOGIN_FAILURES_PER_ACCOUNT = int(env("XASO_LOGIN_FAILURES_PER_ACCOUNT", "10"))
XASO_LOGIN_FAILURES_PER_ADDRESS = int(env("XASO_LOGIN_FAILURES_PER_ADDRESS", "30"))
XASO_LOGIN_COOLOFF_MINUTES = int(env("XASO_LOGIN_COOLOFF_MINUTES", "15"))
# Days that records of logins (account, address, browser) are kept before the nightly pruning.
XASO_LOGIN_RECORDS_DAYS = int(env("XASO_LOGIN_RECORDS_DAYS", "90"))
AXES_HANDLER = "communes.login_throttle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_FAILURE_LIMIT = XASO_LOGIN_FAILURES_PER_ACCOUNT
AXES_COOLOFF_TIME = XASO_LOGIN_COOLOFF_MINUTES / 60  # hours
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_USERNAME_CALLABLE = "communes.login_throttle.username_of"
AXES_LOCKOUT_CALLABLE = "communes.login_throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner in every command's output
# Other guessable steps (core.throttle, counted in PostgreSQL): "attempts/period" per key.
# Codes of the authenticator app per client address (each account also locks after 5 wrong codes).
XASO_SECOND_FACTOR_ADDRESS_RATE = env("XASO_SECOND_FACTOR_ADDRESS_RATE", "30/15min")
# Sign-ups per client address, and per phone number (each sends an SMS).
XASO_SIGNUP_ADDRESS_RATE = env("XASO_SIGNUP_ADDRESS_RATE", "10/hour")
XASO_SIGNUP_PHONE_RATE = env("XASO_SIGNUP_PHONE_RATE", "3/hour")
# Sign-up confirmation codes entered per client address (each code also dies after 5 wrong tries).
XASO_SIGNUP_CODE_ADDRESS_RATE = env("XASO_SIGNUP_CODE_ADDRESS_RATE", "20/hour")
# Password reset requests per client address, and per e-mail address asked for.
XASO_PASSWORD_RESET_ADDRESS_RATE = env("XASO_PASSWORD_RESET_ADDRESS_RATE", "10/hour")
XASO_PASSWORD_RESET_EMAIL_RATE = env("XASO_PASSWORD_RESET_EMAIL_RATE", "3/hour")
# Wrong PINs of signatures per client address (each key grant also locks after
# XASO_PIN_MAX_ATTEMPTS wrong PINs).
XASO_PIN_ADDRESS_RATE = env("XASO_PIN_ADDRESS_RATE", "30/15min")

# --- One-stop desk (onestop) -----------------------------------------------------------------
# Dossier codes: {agency} is the commune's agency identifier (or its 5-digit code), {date} the
# day of receipt, {seq} the day's sequence number. Circular 03/2025 fixes the national form.
XASO_DOSSIER_CODE_FORMAT = env("XASO_DOSSIER_CODE_FORMAT", "{agency}-{date:%y%m%d}-{seq:04d}")
# Files of a dossier: per-file limit, accepted types, and how many files a dossier may hold.
XASO_DOSSIER_FILE_MAX_BYTES = int(env("XASO_DOSSIER_FILE_MAX_BYTES", str(5 * 1024 * 1024)))
XASO_DOSSIER_FILE_TYPES = env_list("XASO_DOSSIER_FILE_TYPES", "application/pdf,image/jpeg,image/png")
XASO_DOSSIER_MAX_FILES = int(env("XASO_DOSSIER_MAX_FILES", "30"))
# Public status lookup (counted in PostgreSQL, core.throttle): lookups per client address, wrong
# phones per (dossier code, address) in an hour, and wrong phones per address (onestop.selectors).
XASO_LOOKUP_RATE = env("XASO_LOOKUP_RATE", "20/hour")
XASO_LOOKUP_MAX_FAILURES = int(env("XASO_LOOKUP_MAX_FAILURES", "5"))
XASO_LOOKUP_FAILURE_RATE = env("XASO_LOOKUP_FAILURE_RATE", "30/day")
# Bank payment notifications: the shared secret of the HMAC-SHA256 signature (empty: refused).
XASO_BANK_WEBHOOK_SECRET = env("XASO_BANK_WEBHOOK_SECRET", "")
# Addresses in e-mails, SMS and printed forms (never taken from the request's Host): the scheme
# and port of the public site, before a commune's primary domain (core.links); the national
# host's address (default: the scheme and port before the first of XASO_NATIONAL_HOSTS).
XASO_PUBLIC_SCHEME = env("XASO_PUBLIC_SCHEME", "http")
XASO_PUBLIC_PORT = env("XASO_PUBLIC_PORT", "")
XASO_NATIONAL_PUBLIC_URL = env("XASO_NATIONAL_PUBLIC_URL", "")

# Counters that several processes must share (throttles) live in Redis.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("XASO_CACHE_URL", REDIS_URL),
        "KEY_PREFIX": env("XASO_CACHE_PREFIX", "xaso"),
        # A Redis that stops answering (a dropped link, a paused server) costs a page these
        # seconds, then the page is drawn without it, instead of hanging until the proxy gives up.
        "OPTIONS": {
            "socket_connect_timeout": float(env("XASO_CACHE_CONNECT_TIMEOUT", "1")),
            "socket_timeout": float(env("XASO_CACHE_TIMEOUT", "1")),
        },
    },
}

# Citizens' login through the province's identity provider (OpenID Connect). Off unless the
# endpoints are set; citizens then have both local accounts and the province's login.
OIDC_RP_CLIENT_ID = env("XASO_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env("XASO_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("XASO_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env("XASO_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env("XASO_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env("XASO_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env("XASO_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env("XASO_OIDC_SCOPES", "openid profile email phone")
XASO_OIDC_ISSUER = env("XASO_OIDC_ISSUER", "")
XASO_OIDC_PROVIDER_NAME = env("XASO_OIDC_PROVIDER_NAME", "")

# --- Commune radio (broadcasting) ------------------------------------------------------------
# Default daily windows of a new commune (local time), "HH:MM-HH:MM" separated by commas.
XASO_RADIO_DEFAULT_SLOTS = env_list("XASO_RADIO_DEFAULT_SLOTS", "05:00-07:30,17:00-19:00")
# A cluster with no heartbeat for this long shows as offline; heartbeats closer together than
# XASO_RADIO_HEARTBEAT_MIN_SECONDS are refused (429).
XASO_RADIO_OFFLINE_SECONDS = int(env("XASO_RADIO_OFFLINE_SECONDS", "600"))
XASO_RADIO_HEARTBEAT_MIN_SECONDS = int(env("XASO_RADIO_HEARTBEAT_MIN_SECONDS", "20"))
# Text-to-speech: the engine ("espeak" or "vendor"), the default voice, limits, and the loudness
# target of every MP3 (EBU R 128 / ATSC A/85 style integrated loudness).
XASO_TTS_ENGINE = env("XASO_TTS_ENGINE", "espeak")
XASO_TTS_VOICE = env("XASO_TTS_VOICE", "vi")
XASO_TTS_MAX_CHARS = int(env("XASO_TTS_MAX_CHARS", "20000"))
XASO_TTS_TARGET_LUFS = float(env("XASO_TTS_TARGET_LUFS", "-16"))
XASO_TTS_VENDOR_URL = env("XASO_TTS_VENDOR_URL", "")
XASO_TTS_VENDOR_KEY = env("XASO_TTS_VENDOR_KEY", "")
XASO_TTS_VENDOR_TIMEOUT = float(env("XASO_TTS_VENDOR_TIMEOUT", "60"))
XASO_TTS_VENDOR_MAX_CHARS = int(env("XASO_TTS_VENDOR_MAX_CHARS", "2000"))  # text sent per request
XASO_TTS_VENDOR_VOICES = env_list("XASO_TTS_VENDOR_VOICES", "")  # "id=label" pairs the vendor offers
# eSpeak NG: the binary (found on the path when empty), words per minute, seconds per piece.
XASO_TTS_ESPEAK_BINARY = env("XASO_TTS_ESPEAK_BINARY", "")
XASO_TTS_ESPEAK_RATE = int(env("XASO_TTS_ESPEAK_RATE", "160"))
XASO_TTS_ESPEAK_TIMEOUT = float(env("XASO_TTS_ESPEAK_TIMEOUT", "60"))
# Uploaded bulletins: size and length limits.
XASO_RADIO_UPLOAD_MAX_BYTES = int(env("XASO_RADIO_UPLOAD_MAX_BYTES", str(30 * 1024 * 1024)))
XASO_RADIO_UPLOAD_MAX_SECONDS = int(env("XASO_RADIO_UPLOAD_MAX_SECONDS", "1800"))
# Recordings up to this length are converted during the upload; longer ones by a speech job.
XASO_RADIO_UPLOAD_INLINE_SECONDS = int(env("XASO_RADIO_UPLOAD_INLINE_SECONDS", "300"))
# An emergency broadcast interrupts for at least this long (or its audio × repeats, if longer).
XASO_RADIO_EMERGENCY_MINUTES = int(env("XASO_RADIO_EMERGENCY_MINUTES", "30"))

# --- OCOP marketplace: producers' photos and certificate warnings (ecommerce) --------------------
# A product photo: at most this many bytes and pixels (the pixels are read from the header before
# decoding, against decompression bombs), at most this many photos per product.
XASO_OCOP_PHOTO_MAX_BYTES = int(env("XASO_OCOP_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
XASO_OCOP_PHOTO_MAX_PIXELS = int(env("XASO_OCOP_PHOTO_MAX_PIXELS", "50000000"))
XASO_OCOP_PHOTOS_PER_PRODUCT = int(env("XASO_OCOP_PHOTOS_PER_PRODUCT", "10"))
# An OCOP certificate holds this many months after its date of issue unless it says otherwise.
XASO_OCOP_CERTIFICATE_MONTHS = int(env("XASO_OCOP_CERTIFICATE_MONTHS", "36"))

# --- OCOP marketplace: the product map (ecommerce/map_views.py) -----------------------------------
# The tiles of the map page: a Leaflet URL template ({z}/{x}/{y}, {s} for a provider's subdomains)
# and the attribution its provider asks for (HTML, shown on the map). OpenStreetMap's tiles by
# default: their usage policy suits a commune's light traffic; a busy installation sets its own
# tile server. Empty: no tiles (the markers and the list by village only). The page's
# Content-Security-Policy admits images from that host on this page alone.
XASO_MAP_TILE_URL = env("XASO_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
XASO_MAP_TILE_ATTRIBUTION = env(
    "XASO_MAP_TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
)

# --- Commune health station (health) ------------------------------------------------------------
# A full ICD-10 list to import beside the shipped common codes (CSV: code,title_vi,title_en).
XASO_ICD10_FILE = env("XASO_ICD10_FILE", "")
# The Expanded Programme on Immunization's schedule: the shipped health/data/epi_schedule.yaml, or a
# province's own copy (checked when the portal starts).
XASO_EPI_SCHEDULE_FILE = env("XASO_EPI_SCHEDULE_FILE", "")
# How many questions a resident may ask the doctor ("5/day", "20/week").
XASO_HEALTH_ASK_RATE = env("XASO_HEALTH_ASK_RATE", "5/day")
