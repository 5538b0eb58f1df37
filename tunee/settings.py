"""Tunee settings.

Every value comes from the environment (a `.env` file beside manage.py is read when present) and has an embedded
default, so that `make run` works on a fresh machine with nothing configured. The README's configuration table
lists each variable; keep the two in step.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from tunee import queues, schedule

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Read after .env, so that VAR_DIR can be set there too. Importing the settings creates no directory: the ones the
# service writes to (STARTUP_DIRS) are made at start-up (tunee/apps.py).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)


def _required_secret(name: str, dev_default) -> str:
    """Secrets have no default in production: with DEBUG off the variable must be set."""
    value = env.str(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return dev_default() if callable(dev_default) else dev_default


def _installation_secret_key() -> str:
    """A development key generated once per installation under var/, never committed."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _required_secret("SECRET_KEY", _installation_secret_key)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public origin, used in notify URLs and file links; follows `PORT` (the port `make run` serves on) by default.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip("/")

INSTALLED_APPS = [
    "stats.admin_config.TuneeAdminConfig",  # django.contrib.admin with Tunee's site (the dashboard as its index)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "tunee",
    "accounts",
    "membership",
    "payments",
    "generation",
    "works",
    "moderation",
    "notifications",
    "security",
    "stats",
]

# Admin messages are kept in the session (which the admin has anyway): the default cookie-then-session storage
# builds a cookie signer on every request, the API's included, which never shows a message.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
MIDDLEWARE = [
    "tunee.requestid.RequestIdMiddleware",  # first: every later step, and every log line, has the request id
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # API security: blocked addresses refused, then /api signatures checked, before anything else runs.
    "security.middleware.IpFilterMiddleware",
    "security.middleware.RequestSigningMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tunee.api.middleware.ApiErrorMiddleware",
    "tunee.metrics.HttpMetricsMiddleware",  # django-prometheus's after-middleware, minus the series nobody reads
]

ROOT_URLCONF = "tunee.urls"
WSGI_APPLICATION = "tunee.wsgi.application"
ASGI_APPLICATION = "tunee.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
# Without DATABASE_URL: a SQLite file under var/. With it: usually PostgreSQL (postgres://user:pass@host:5432/db).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: wait for the lock instead of failing, and take the
    # write lock at BEGIN so that read-then-write transactions cannot deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A health check is one more round trip (SELECT 1) at the start of every request: off by default (measured in
    # bench/http.py); a connection broken by a database restart then fails one request and is replaced.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
    # Parameters bound on the server and the queries a connection has run 5 times kept prepared (psycopg), so
    # PostgreSQL stops parsing and planning the hot queries on every request: measured in bench/http.py, 7-27% more
    # requests a second on every hot endpoint. Off (`0`) behind a pooler that cannot keep them (PgBouncer before 1.21
    # in transaction mode).
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "tunee.cache.RedisCache",  # Django's, reusing its client object (tunee/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="tunee"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # One process's memory: revocations, throttles and caps are not shared with other processes. Fine for `make run`
    # and tests; with DEBUG off it must be meant (ALLOW_LOCAL_CACHE=1, one process), else revoked logins would keep
    # working in other workers for minutes and every limit would be per process.
    if not DEBUG and not env.bool("ALLOW_LOCAL_CACHE", default=False):
        raise ImproperlyConfigured(
            "REDIS_URL must be set when DEBUG is off: without it each process has its own cache, so revoked logins "
            "linger in other workers and throttles are per process. Set ALLOW_LOCAL_CACHE=1 if one process is meant."
        )
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tunee"}}

# Small catalogs read on every request (plans, packages, IP rules) are kept this many seconds in each process over
# the shared cache (tunee/localcache.py): a change shows at once where it was made, within this delay elsewhere.
LOCAL_CACHE_SECONDS = env.int("LOCAL_CACHE_SECONDS", default=5)

# --- Auth -----------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts ---------------------------------------------------------------------------------------------------
# SMS codes: `console` prints `SMS to <phone>: <text>` on the worker's standard output, `locmem` keeps an outbox
# (tests), `aliyun` sends through Alibaba Cloud SMS (Dysmsapi) with the official SDK.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_CODE_TTL_SECONDS = env.int("SMS_CODE_TTL_SECONDS", default=300)
SMS_CODE_MAX_ATTEMPTS = env.int("SMS_CODE_MAX_ATTEMPTS", default=5)
SMS_COOLDOWN_SECONDS = env.int("SMS_COOLDOWN_SECONDS", default=60)
SMS_DAILY_LIMIT_PER_PHONE = env.int("SMS_DAILY_LIMIT_PER_PHONE", default=10)
SMS_HOURLY_LIMIT_PER_IP = env.int("SMS_HOURLY_LIMIT_PER_IP", default=20)
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=5.0)
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_TEMPLATE_CODE = env.str("ALIYUN_SMS_TEMPLATE_CODE", default="")  # a template with a ${code} variable
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")  # http://host:port for tests
# WeChat login: without WECHAT_APP_ID a sandbox turns any code into a stable fake identity, but only while
# WECHAT_SANDBOX is on (the default with DEBUG): off, WeChat login without credentials answers 50000 (and
# `manage.py check` warns), so a production deploy that forgot its credentials never logs anyone in by any code.
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com/")
WECHAT_LOGIN_MODE = env.str("WECHAT_LOGIN_MODE", default="miniprogram")  # miniprogram (jscode2session) or app (OAuth)
WECHAT_TIMEOUT_SECONDS = env.float("WECHAT_TIMEOUT_SECONDS", default=5.0)
WECHAT_SANDBOX = env.bool("WECHAT_SANDBOX", default=DEBUG)
# Email accounts: when on, an unverified email cannot log in (20002).
REQUIRE_EMAIL_VERIFICATION = env.bool("REQUIRE_EMAIL_VERIFICATION", default=False)
EMAIL_VERIFICATION_MAX_AGE_DAYS = env.int("EMAIL_VERIFICATION_MAX_AGE_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Account mails (verification, password reset) per address, whatever its case and whether or not it has an
# account: one per kind per cooldown, at most the daily limit per business day; more are silently not sent.
EMAIL_COOLDOWN_SECONDS = env.int("EMAIL_COOLDOWN_SECONDS", default=60)
EMAIL_DAILY_LIMIT_PER_ADDRESS = env.int("EMAIL_DAILY_LIMIT_PER_ADDRESS", default=10)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
# Login sessions: how long a session's "still valid" check is cached (revoking clears it at once).
SESSION_CHECK_CACHE_SECONDS = env.int("SESSION_CHECK_CACHE_SECONDS", default=300)
THROTTLE_LOGIN_IP_RATE = env.str("THROTTLE_LOGIN_IP_RATE", default="30/min")
THROTTLE_LOGIN_ACCOUNT_RATE = env.str("THROTTLE_LOGIN_ACCOUNT_RATE", default="10/min")
# Photo uploads (POST /api/works) per user, on top of the general rate: each one decodes a photo.
THROTTLE_UPLOAD_RATE = env.str("THROTTLE_UPLOAD_RATE", default="20/hour")

# --- Internationalisation ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The admin's own strings (app, model, field and choice names, actions): English source, Chinese in
# locale/zh_Hans/LC_MESSAGES/django.po (compiled .mo next to it). The API's messages are tunee/api/i18n.T pairs.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")  # also the business day of the daily quotas
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGE = env.str("STORAGE", default="s3" if AWS_STORAGE_BUCKET_NAME else "local")
if STORAGE == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=STORAGE == "local")
# Members' high-quality downloads are handed out as signed URLs that expire after this many seconds (S3: presigned).
MEDIA_SIGNED_URL_TTL = env.int("MEDIA_SIGNED_URL_TTL", default=3600)
# Provider files and WeChat avatars are fetched from public addresses only; these host:port entries (comma-separated)
# are private ones that may be fetched too (tests' local servers, provider files on a private network).
ASSET_FETCH_PRIVATE_ALLOWLIST = env.list("ASSET_FETCH_PRIVATE_ALLOWLIST", default=[])
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ----------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tunee <no-reply@tunee.app>")

# --- Django REST framework --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["tunee.api.renderers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "tunee.api.parsers.StrictCamelCaseJSONParser",
        "djangorestframework_camel_case.parser.CamelCaseFormParser",
        "djangorestframework_camel_case.parser.CamelCaseMultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "tunee.api.throttles.AnonRateThrottle",
        "tunee.api.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="600/min"),
        "user": env.str("THROTTLE_USER_RATE", default="1200/min"),
    },
    "EXCEPTION_HANDLER": "tunee.api.handlers.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "tunee.api.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATETIME_FORMAT": None,  # datetimes are rendered by tunee.api.renderers as ISO 8601 UTC with milliseconds
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many proxies of ours sit in front (X-Forwarded-For is read through exactly that many); unset: none.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),  # 0: trust no X-Forwarded-For (see README)
}
JSON_UNDERSCOREIZE = {"no_underscore_before_number": True}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME", default=604800)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=30)),
    "SIGNING_KEY": SECRET_KEY,
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tunee API",
    "DESCRIPTION": (
        "Photo or words in, song out. Every `/api` response is wrapped in the envelope "
        '`{"code", "message", "data", "timestamp"}`; errors add `details`. See README and API.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "tunee.api.schema.envelope_postprocessing_hook",
        "security.schema.signing_headers_hook",
    ],
    "ENUM_NAME_OVERRIDES": {"PaymentMethodEnum": ["wechat", "alipay"]},
}

# --- Entitlements ---------------------------------------------------------------------------------------------
# Points a generation costs once the day's quota is used up (0 turns paying with points off).
GENERATION_POINTS_COST = env.int("GENERATION_POINTS_COST", default=10)

# --- Celery ---------------------------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport under var/: no server needed, and the jobs
# still run in a separate worker process (`make run` starts one).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "celery" / "broker"
STARTUP_DIRS = [VAR_DIR, STATIC_ROOT]  # made by tunee/apps.py when Django starts (web, worker, manage.py)
if CELERY_BROKER_URL == "filesystem://":
    STARTUP_DIRS += [CELERY_BROKER_DIR / sub for sub in ("out", "processed", "control")]
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Named queues, one per kind of work (tunee/queues.py): members' generations jump the line through generation_priority.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queues.ALL]
CELERY_TASK_DEFAULT_EXCHANGE = queues.DEFAULT
CELERY_TASK_DEFAULT_ROUTING_KEY = queues.DEFAULT
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
# The long jobs are idempotent, so a job is acknowledged only after it ran: a worker that dies mid-job gives it
# back to the broker instead of losing it. One job prefetched at a time keeps priority meaningful.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# CELERY_BEAT_SCHEDULE: at the end of this file, from tunee/schedule.py (every periodic job, in one place).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")

# --- Generation pipeline ----------------------------------------------------------------------------------------
# A generation not finished GENERATION_TIMEOUT seconds after it was queued fails and is refunded (the pipeline checks
# at every step; the sweeper below catches the ones nobody looks at any more).
GENERATION_TIMEOUT = env.int("GENERATION_TIMEOUT", default=600)
# Waiting for a provider that finishes later (suno): first poll after GENERATION_POLL_INTERVAL seconds, then x1.5
# each time up to GENERATION_POLL_MAX_INTERVAL (plus jitter). A callback from the provider triggers a poll at once.
GENERATION_POLL_INTERVAL = env.float("GENERATION_POLL_INTERVAL", default=5.0)
GENERATION_POLL_MAX_INTERVAL = env.float("GENERATION_POLL_MAX_INTERVAL", default=30.0)
# Transient provider errors: at most GENERATION_MAX_RETRIES retries, backoff GENERATION_RETRY_BACKOFF * 2^n seconds
# (plus jitter, at least the provider's Retry-After), never past GENERATION_TIMEOUT.
GENERATION_MAX_RETRIES = env.int("GENERATION_MAX_RETRIES", default=5)
GENERATION_RETRY_BACKOFF = env.float("GENERATION_RETRY_BACKOFF", default=2.0)
# Copying a provider's files into our storage: size cap and download time limit per file.
GENERATION_ASSET_MAX_BYTES = env.int("GENERATION_ASSET_MAX_BYTES", default=50 * 1024 * 1024)
GENERATION_ASSET_TIMEOUT = env.float("GENERATION_ASSET_TIMEOUT", default=60.0)
GENERATION_SWEEP_INTERVAL = env.float("GENERATION_SWEEP_INTERVAL", default=60.0)

# --- Moderation -----------------------------------------------------------------------------------------------
# What users publish (prompts, lyrics, titles, descriptions, tags, usernames, photos, avatars) is screened before it
# is charged or shown. `local`: the word list in the database (admin › Moderation › Words); `wechat`: WeChat content
# security 2.0 (msgSecCheck for text, mediaCheckAsync for photos with the verdict on the message push), with the
# local checks for users without an openid and whenever WeChat fails.
MODERATION_PROVIDER = env.str("MODERATION_PROVIDER", default="local")
# local: photos go to the staff review queue (kept out of the feed until approved) instead of passing.
MODERATION_PHOTOS_REVIEW = env.bool("MODERATION_PHOTOS_REVIEW", default=False)
# A work reported by this many distinct users is kept out of the feed and the share page until staff review it.
MODERATION_REPORT_THRESHOLD = env.int("MODERATION_REPORT_THRESHOLD", default=3)
# Verdict log rows older than this many days are purged by the beat job `moderation.purge`.
MODERATION_LOG_RETENTION_DAYS = env.int("MODERATION_LOG_RETENTION_DAYS", default=180)
# The Token configured for the mini program's message push (its signature is checked on every push).
MODERATION_WECHAT_PUSH_TOKEN = env.str("MODERATION_WECHAT_PUSH_TOKEN", default="")
# A media check with no verdict after this many seconds goes to the staff queue (review) instead of waiting forever.
MODERATION_MEDIA_TIMEOUT = env.int("MODERATION_MEDIA_TIMEOUT", default=3600)

# --- Payments -------------------------------------------------------------------------------------------------
# A provider without merchant credentials runs against the payment sandbox inside the service (payments_sandbox/,
# keys generated once under var/payments-sandbox/). PAYMENT_SANDBOX=0 forbids that: a provider without credentials
# is then unavailable. It defaults to DEBUG, so a production deploy that forgot its credentials cannot be paid for
# free through the sandbox. Partly configured credentials are an error, never the sandbox. The sandbox is its own
# app, installed only when PAYMENT_SANDBOX is on: off, there is no sandbox table, route or admin page at all.
PAYMENT_SANDBOX = env.bool("PAYMENT_SANDBOX", default=DEBUG)
if PAYMENT_SANDBOX:
    INSTALLED_APPS.append("payments_sandbox")
PAYMENT_TIMEOUT_SECONDS = env.float("PAYMENT_TIMEOUT_SECONDS", default=10.0)
# Notify endpoints: requests per client IP (DRF rate; real providers send a few per order, retries included; when
# tripped: the provider's own FAIL with 429 and nothing stored), and how many notifications that fail verification
# are stored per client IP and clock hour (verified ones are always stored; 0 stores none).
THROTTLE_NOTIFY_IP_RATE = env.str("THROTTLE_NOTIFY_IP_RATE", default="120/min")
PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = env.int("PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR", default=100)
WECHAT_PAY_APP_ID = env.str("WECHAT_PAY_APP_ID", default="") or env.str("WECHAT_APP_ID", default="")
WECHAT_PAY_MCH_ID = env.str("WECHAT_PAY_MCH_ID", default="")
WECHAT_PAY_API_KEY = env.str("WECHAT_PAY_API_KEY", default="")  # the v2 API key (32 characters), MD5 signing
WECHAT_PAY_API_BASE = env.str("WECHAT_PAY_API_BASE", default="https://api.mch.weixin.qq.com/")
WECHAT_PAY_CERT_PATH = env.str("WECHAT_PAY_CERT_PATH", default="")  # apiclient_cert.pem, for refunds
WECHAT_PAY_KEY_PATH = env.str("WECHAT_PAY_KEY_PATH", default="")  # apiclient_key.pem, for refunds
ALIPAY_APP_ID = env.str("ALIPAY_APP_ID", default="")
ALIPAY_APP_PRIVATE_KEY = env.str("ALIPAY_APP_PRIVATE_KEY", default="")  # PEM (or bare base64); "\n" escapes accepted
ALIPAY_PUBLIC_KEY = env.str("ALIPAY_PUBLIC_KEY", default="")  # Alipay's public key, PEM (or bare base64)
ALIPAY_GATEWAY = env.str("ALIPAY_GATEWAY", default="https://openapi.alipay.com/gateway.do")
ALIPAY_SELLER_ID = env.str("ALIPAY_SELLER_ID", default="")  # optional: notifications must name this seller
# Orders: a pending order expires PAYMENT_ORDER_TTL_MINUTES after it was placed (the provider is told too); the beat
# job closes expired orders every PAYMENT_EXPIRY_INTERVAL seconds and asks the providers about the unpaid orders of
# the last PAYMENT_RECONCILE_HOURS hours every PAYMENT_RECONCILE_INTERVAL seconds (notifications that never came).
PAYMENT_ORDER_TTL_MINUTES = env.int("PAYMENT_ORDER_TTL_MINUTES", default=30)
PAYMENT_EXPIRY_INTERVAL = env.float("PAYMENT_EXPIRY_INTERVAL", default=60.0)
PAYMENT_RECONCILE_INTERVAL = env.float("PAYMENT_RECONCILE_INTERVAL", default=3600.0)
PAYMENT_RECONCILE_HOURS = env.float("PAYMENT_RECONCILE_HOURS", default=24.0)

# --- Generation providers ---------------------------------------------------------------------------------------
# `local` composes and renders real MP3s and reads photos on this machine; `suno` / `openai` call the hosted
# services (generation/providers/). The *_API_BASE / *_BASE_URL variables let tests point them at local fakes.
MUSIC_PROVIDER = env.str("MUSIC_PROVIDER", default="local")
VISION_PROVIDER = env.str("VISION_PROVIDER", default="local")
if MUSIC_PROVIDER not in ("local", "suno"):
    raise ImproperlyConfigured("MUSIC_PROVIDER must be local or suno")
if VISION_PROVIDER not in ("local", "openai"):
    raise ImproperlyConfigured("VISION_PROVIDER must be local or openai")
SUNO_API_BASE = env.str("SUNO_API_BASE", default="https://api.sunoapi.org").rstrip("/")
SUNO_API_KEY = env.str("SUNO_API_KEY", default="")
SUNO_MODEL = env.str("SUNO_MODEL", default="V4_5")
SUNO_TIMEOUT = env.float("SUNO_TIMEOUT", default=15.0)  # seconds to wait for each answer of the gateway
SUNO_CREDITS_INTERVAL = env.float("SUNO_CREDITS_INTERVAL", default=600.0)  # seconds between two credits readings
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")  # empty: the SDK's default (api.openai.com)
OPENAI_VISION_MODEL = env.str("OPENAI_VISION_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=30.0)

# --- Works ----------------------------------------------------------------------------------------------------
# Photos: at most this many bytes and pixels (checked before decoding: decompression bombs cost nothing; 24 MP
# decode in a few hundred MB, which one web worker survives), stored re-encoded as JPEG at most
# WORKS_IMAGE_MAX_SIDE pixels a side, with a WORKS_THUMBNAIL_SIZE thumbnail.
WORKS_IMAGE_MAX_BYTES = env.int("WORKS_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
WORKS_IMAGE_MAX_PIXELS = env.int("WORKS_IMAGE_MAX_PIXELS", default=24_000_000)
WORKS_IMAGE_MAX_SIDE = env.int("WORKS_IMAGE_MAX_SIDE", default=4096)
WORKS_THUMBNAIL_SIZE = env.int("WORKS_THUMBNAIL_SIZE", default=480)
# A play counts once per IP and work within this window (refreshing the page does not inflate it).
WORKS_PLAY_WINDOW_SECONDS = env.int("WORKS_PLAY_WINDOW_SECONDS", default=1800)
# Cached answers: a finished work's detail, and the first page of the public feed (invalidated on every change).
WORKS_DETAIL_CACHE_SECONDS = env.int("WORKS_DETAIL_CACHE_SECONDS", default=300)
WORKS_FEED_CACHE_SECONDS = env.int("WORKS_FEED_CACHE_SECONDS", default=60)

# --- Notifications ----------------------------------------------------------------------------------------------
# When a generation or a work's song completes or fails, its owner is told once per channel (notifications/).
# WeChat subscribe messages (mini program users with a subscription for the template): the app is WECHAT_APP_ID /
# WECHAT_APP_SECRET / WECHAT_API_BASE above; nothing is sent while they or the template are unset. Templates are
# the ids from the mini program console; WECHAT_TEMPLATE_FIELDS maps what the message says (title, outcome, time)
# to the template's keywords. The pages opened are formatted with the generation id (`{id}`): a work's song opens
# WECHAT_PAGE_WORK_READY (the mini program finds the work by its generationId), any other generation
# WECHAT_PAGE_SONG_READY. WECHAT_MINIPROGRAM_STATE: developer, trial or formal (which build the message opens).
WECHAT_TEMPLATE_SONG_READY = env.str("WECHAT_TEMPLATE_SONG_READY", default="")
WECHAT_TEMPLATE_SONG_FAILED = env.str("WECHAT_TEMPLATE_SONG_FAILED", default="") or WECHAT_TEMPLATE_SONG_READY
WECHAT_TEMPLATE_FIELDS = env.dict(
    "WECHAT_TEMPLATE_FIELDS", default={"title": "thing1", "outcome": "phrase2", "time": "time3"}
)
WECHAT_PAGE_SONG_READY = env.str("WECHAT_PAGE_SONG_READY", default="pages/generation/detail?id={id}")
WECHAT_PAGE_WORK_READY = env.str("WECHAT_PAGE_WORK_READY", default="pages/works/detail?generationId={id}")
WECHAT_MINIPROGRAM_STATE = env.str("WECHAT_MINIPROGRAM_STATE", default="formal")
# App push through JPush (the `jpush` SDK) to the devices the app registered (POST /api/devices). Without
# credentials PUSH_BACKEND is `console`: one line `PUSH to <username>: <text>` per message on the worker's
# standard output (what `make run` shows); `locmem` keeps an outbox (tests). JPUSH_API_BASE replaces the SDK's
# push base URL (a local fake in tests).
JPUSH_APP_KEY = env.str("JPUSH_APP_KEY", default="")
JPUSH_MASTER_SECRET = env.str("JPUSH_MASTER_SECRET", default="")
JPUSH_API_BASE = env.str("JPUSH_API_BASE", default="https://api.jpush.cn/v3/")
JPUSH_APNS_PRODUCTION = env.bool("JPUSH_APNS_PRODUCTION", default=not DEBUG)
JPUSH_TIMEOUT_SECONDS = env.float("JPUSH_TIMEOUT_SECONDS", default=5.0)
PUSH_BACKEND = env.str("PUSH_BACKEND", default="jpush" if JPUSH_APP_KEY else "console")
# Transient provider errors: at most NOTIFICATIONS_MAX_RETRIES retries per message, backoff up to
# NOTIFICATIONS_RETRY_BACKOFF * 2^n seconds (full jitter); then the message is marked failed, logged and counted.
NOTIFICATIONS_MAX_RETRIES = env.int("NOTIFICATIONS_MAX_RETRIES", default=5)
NOTIFICATIONS_RETRY_BACKOFF = env.float("NOTIFICATIONS_RETRY_BACKOFF", default=10.0)

# --- API security ---------------------------------------------------------------------------------------------
# Signed requests (security/): on, every /api request but the webhooks and the schema pages must carry X-App-Key,
# X-Timestamp, X-Nonce and X-Signature of an active app key (admin: Security › App keys). On in production.env.example.
API_SIGNING_REQUIRED = env.bool("API_SIGNING_REQUIRED", default=False)
# Generation creates (POST /api/generation/create, /api/music/tasks) per user, on top of the general rate.
THROTTLE_GENERATION_RATE = env.str("THROTTLE_GENERATION_RATE", default="10/min")
# Pending or processing generations a user may have at once (any route); one more is a 429 and nothing is charged.
GENERATION_IN_FLIGHT_FREE = env.int("GENERATION_IN_FLIGHT_FREE", default=2)
GENERATION_IN_FLIGHT_MEMBER = env.int("GENERATION_IN_FLIGHT_MEMBER", default=5)
# Sensitive fields at rest (tunee/crypto.py): comma-separated Fernet keys, the first encrypts, all decrypt (rotate
# with `manage.py reencrypt_fields`). Required with DEBUG off; in development one key is derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off")
    import base64
    import hashlib

    # the same derivation as tunee.crypto.derive_key (not imported here: settings load before the ORM)
    _digest = hashlib.sha256(f"tunee-field-encryption:{SECRET_KEY}".encode()).digest()
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_digest).decode()]

# --- Retention ------------------------------------------------------------------------------------------------
# `manage.py purge_expired` and its daily beat job delete rows past these many days (0: keep that kind for ever;
# tunee/retention.py): SMS codes past their expiry and account-mail records; refresh tokens past their expiry and
# ended login sessions; finished song-ready notifications and used WeChat subscriptions; raw payment notifications
# (the order events stay). The moderation verdict log follows MODERATION_LOG_RETENTION_DAYS.


def _retention_days(name: str, default: int) -> int:
    days = env.int(name, default=default)
    if days < 0:
        raise ImproperlyConfigured(f"{name} is a number of days, 0 or more (0: keep for ever)")
    return days


SMS_CODE_RETENTION_DAYS = _retention_days("SMS_CODE_RETENTION_DAYS", 7)
LOGIN_SESSION_RETENTION_DAYS = _retention_days("LOGIN_SESSION_RETENTION_DAYS", 30)
NOTIFICATION_RETENTION_DAYS = _retention_days("NOTIFICATION_RETENTION_DAYS", 90)
PAYMENT_NOTIFICATION_RETENTION_DAYS = _retention_days("PAYMENT_NOTIFICATION_RETENTION_DAYS", 365)

# --- Logging --------------------------------------------------------------------------------------------------
# One line per record on standard output, web and workers alike: JSON (python-json-logger) by default with DEBUG off,
# `plain` text with it on. Every line carries the request id of the request or job that wrote it (tunee/requestid.py)
# and has phone numbers, emails, tokens and codes masked (tunee/logmask.py).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "tunee.logmask.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            "defaults": {"request_id": "-"},
        },
        "json": {
            "()": "tunee.logmask.JsonFormatter",  # python-json-logger's
            "fmt": "%(levelname)s %(name)s %(message)s",
            "timestamp": "time",  # ISO 8601, UTC
            "rename_fields": {"levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
    },
    "filters": {
        "request_id": {"()": "tunee.requestid.RequestIdFilter"},
        "mask": {"()": "tunee.logmask.SecretMaskFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "mask"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Security in production -------------------------------------------------------------------------------------
# HTTPS: HSTS and the redirect to https are off unless configured (on in deploy/production.env.example). The proxy's
# X-Forwarded-Proto is believed only when a proxy of ours stands in front (NUM_PROXIES > 0): without one, any
# client could claim https.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes and scrapers inside the network
if REST_FRAMEWORK["NUM_PROXIES"] > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# /metrics and /readyz: a request with `Authorization: Bearer <METRICS_TOKEN>`, or from an address in
# METRICS_ALLOWED_NETWORKS (CIDRs), is let in; nothing else. With neither set: open while DEBUG is on, loopback only
# when it is off. Setting METRICS_TOKEN alone closes them to everyone without the token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS",
    default=[] if METRICS_TOKEN else ["0.0.0.0/0", "::/0"] if DEBUG else ["127.0.0.0/8", "::1/128"],
)

# --- Periodic jobs ----------------------------------------------------------------------------------------------
# Every beat job with its interval and queue, listed in tunee/schedule.py; built last, once every interval is read.
CELERY_BEAT_SCHEDULE = schedule.beat_schedule(globals())
