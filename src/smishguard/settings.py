"""The one Django settings module; everything deployment-specific comes from ``SMISHGUARD_*`` variables."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from smishguard import config
from smishguard.clientaddr import client_ip_for_limits

BASE_DIR = Path(__file__).resolve().parent
SMISHGUARD = config.load()

SECRET_KEY = config.secret_key()
DEBUG = config.env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in (config.env("ALLOWED_HOSTS") or "localhost,127.0.0.1,[::1]").split(",") if h]
# The simulations' tracked-link host ([training] simulation_host): accepted, and it answers /s/... only
# (training.landing_hosts.SimulationHostMiddleware).
if SMISHGUARD.training.simulation_host and "*" not in ALLOWED_HOSTS:
    _simulation_host = SMISHGUARD.training.simulation_host.rsplit(":", 1)[0].lower()
    if _simulation_host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_simulation_host)
CSRF_TRUSTED_ORIGINS = [SMISHGUARD.origin]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django.contrib.messages",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # its templates and static files: the API docs page is served from here, not from a CDN
    "smishguard.audit",
    "smishguard.outbox",
    "smishguard.ratelimits",
    "smishguard.accounts",
    "smishguard.siem",
    "smishguard.passkeys",
    "smishguard.detection",
    "smishguard.reports",
    "smishguard.gateway",
    "smishguard.messaging",
    "smishguard.watch",
    "smishguard.training",
    "smishguard.web",
]

MIDDLEWARE = [
    "smishguard.logs.RequestIdMiddleware",  # a request id for its log lines and X-Request-ID
    "smishguard.metrics.RequestMetricsMiddleware",  # counts every answer (an increment: smishguard.metrics)
    "smishguard.clientaddr.ForwardedHeadersMiddleware",  # drops X-Forwarded-* unless the peer is a trusted proxy
    "django.middleware.security.SecurityMiddleware",
    "smishguard.web.middleware.StrictTransportSecurityMiddleware",
    "smishguard.web.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the header built once
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "smishguard.training.landing_hosts.SimulationHostMiddleware",  # the simulation host: /s/... and static only
    "smishguard.health.HealthMiddleware",  # /healthz, /readyz: before any rate limit, session lookup or audit
    "smishguard.metrics_view.MetricsMiddleware",  # GET /metrics behind its bearer token, before any session lookup
    "smishguard.gateway.middleware.GatewayCheckMiddleware",  # /api/authz/*: straight to the check (hot path)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smishguard.accounts.middleware.BodySizeLimitMiddleware",
    "smishguard.accounts.throttle.RateLimitMiddleware",  # per-address limits, before any session lookup
    "smishguard.accounts.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "smishguard.web.middleware.MessageMiddleware",  # Django's, with the storage made on first use
    "smishguard.accounts.page_errors.ErrorPageMiddleware",  # a page's uncaught SmishguardError: flash or error page
    "smishguard.passkeys.stepup_page.StepUpMiddleware",  # a page that needs a fresh key touch asks for one
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smishguard.urls"
WSGI_APPLICATION = "smishguard.wsgi.application"
AUTH_USER_MODEL = "accounts.Employee"
# Employees have no password: nothing authenticates through Django's backends.
AUTHENTICATION_BACKENDS: list[str] = []
# The sign-in page (passkeys'): where accounts' page guards and sign-outs send a browser without a session.
LOGIN_URL = "passkeys:signin"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.messages.context_processors.messages",
                "smishguard.web.context.navigation",
                "smishguard.web.context.issued_links",
            ],
        },
    },
]

_db = dj_database_url.parse(config.database_url(), conn_max_age=600)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if config.may_create():  # not for a CLI command run where nothing is set up (smishguard.clitools.setup_django)
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
        # workers never deadlock upgrading a read lock; the busy timeout queues writers instead of failing.
        # mmap: a connection reads pages through a memory map instead of a read() per page; with several
        # workers each one's page cache is emptied whenever another writes, so pages are read again often
        # (about 15% less server CPU per sign-in with two workers; see docs/benchmarks.md, "Sign-in").
        # wal_autocheckpoint: a commit copies the WAL back into the database once it passes 10,000 pages (~40 MB)
        # instead of SQLite's 1,000; that checkpoint runs inside the commit, with the next writer waiting.  Under
        # `smishguard serve` each worker's checkpointer thread copies it every half second without holding up
        # writers (smishguard.server.checkpoint_wal), so this is the backstop for other processes and for a
        # burst.  journal_size_limit truncates the WAL file back to 64 MB after a checkpoint.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
        "PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;",
    }
    _db["CONN_MAX_AGE"] = None
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (SMS sending, broadcasts, ...): django-tasks on its database backend; `smishguard worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = config.env("STATIC_ROOT")  # for collectstatic behind nginx; whitenoise serves from the package otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# E-mail (training reminders where [training] email_from is set: messaging/email.py, an outbox kind), on Django's
# mail framework: SMISHGUARD_EMAIL_HOST (blank: no e-mail is sent), _PORT, _USER, _PASSWORD, _TLS (STARTTLS),
# _SSL (implicit TLS), _BACKEND (another Django backend, e.g. console for a trial).
EMAIL_BACKEND = config.env("EMAIL_BACKEND") or "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = config.env("EMAIL_HOST") or ""
EMAIL_PORT = int(config.env("EMAIL_PORT") or 25)
EMAIL_HOST_USER = config.env("EMAIL_USER") or ""
EMAIL_HOST_PASSWORD = config.env("EMAIL_PASSWORD") or ""
EMAIL_USE_TLS = config.env_bool("EMAIL_TLS", False)
EMAIL_USE_SSL = config.env_bool("EMAIL_SSL", False)
EMAIL_TIMEOUT = 10

# Bodies larger than this are refused with 413 before any view parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(config.env("MAX_BODY_BYTES") or 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

SESSION_COOKIE_NAME = "sg_session"
# Flash messages after POST/redirect/GET live in a signed cookie (our sessions are not Django's).
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
SECURE_COOKIES = SMISHGUARD.secure_origin
CSRF_COOKIE_SECURE = SECURE_COOKIES
# The messages cookie takes its flags from the SESSION_COOKIE_* settings.
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SAMESITE = "Lax"
# SMISHGUARD_COOKIE_DOMAIN: sg_session (accounts.middleware) and the CSRF cookie scoped to a parent domain, so the
# gateway's sibling app hosts receive the session (docs/gateway.md); None: host-only.  The messages cookie stays
# host-only (it takes SESSION_COOKIE_DOMAIN, left unset).
COOKIE_DOMAIN = config.cookie_domain(SMISHGUARD.origin)
CSRF_COOKIE_DOMAIN = COOKIE_DOMAIN
CSRF_FAILURE_VIEW = "smishguard.metrics.csrf_failure"  # Django's page, counted as a refusal ("csrf")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# X-Forwarded-Proto counts only from trusted_proxies (clientaddr.ForwardedHeadersMiddleware drops anyone else's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SMISHGUARD.trusted_proxies else None

# Rate limits (accounts.throttle) on django-ratelimit, counted in one shared cache.  The one setting that picks
# it: the database counters (smishguard.ratelimits.cache, one atomic statement a call) until Redis joins.
RATELIMIT_CACHE_BACKEND = "smishguard.ratelimits.cache.CounterCache"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": RATELIMIT_CACHE_BACKEND},
}
# Production mode: SMISHGUARD_REDIS_URL set, the counters are in Redis (one atomic operation a hit), under the
# key prefix "smishguard:" so that a shared Redis is safe, and in the database while Redis is away
# (smishguard.ratelimits.redis_cache).  Timeouts short: a Redis that does not answer costs a request one second.
REDIS_URL = config.redis_url()
if REDIS_URL:
    RATELIMIT_CACHE_BACKEND = "smishguard.ratelimits.redis_cache.FailoverCounterCache"
    CACHES["ratelimit"] = {
        "BACKEND": RATELIMIT_CACHE_BACKEND,
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": config.env("REDIS_KEY_PREFIX") or "smishguard",
        "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
    }
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = client_ip_for_limits  # a callable: django-ratelimit imports a dotted path on every call
# django-ratelimit's own defaults, spelled out: a setting left unset is looked for, and missed, on every
# request (an AttributeError each time); the hash as a callable, not a dotted path it would import each time.
RATELIMIT_CACHE_PREFIX = "rl:"
RATELIMIT_HASH_ALGORITHM = hashlib.sha256
RATELIMIT_IPV4_MASK = 32
RATELIMIT_IPV6_MASK = 64

# Strict-Transport-Security when the configured origin is https, on every response whatever scheme the request
# came in on (web.middleware.StrictTransportSecurityMiddleware: behind a TLS-terminating proxy Django may not
# know); browsers ignore it over plain HTTP.  Django's SecurityMiddleware reads the same two settings.
SECURE_HSTS_SECONDS = 2 * 365 * 86400 if SMISHGUARD.secure_origin else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# Content-Security-Policy (django-csp): every script and style is a file of ours (static/js, static/css) or of
# django-ninja's (the API docs); no inline code, no eval, no other origin, no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Permissions-Policy (django-permissions-policy): no page of ours needs a device or sensor; WebAuthn (sign-in,
# enrolment, adding a key) stays allowed for our own origin, as does writing to the clipboard (copy buttons).
# Only features chromium knows are named: it logs an error for each one it does not ("ambient-light-sensor",
# "bluetooth" are behind flags there); tests/e2e/test_e2e_security_headers.py fails on such a message.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "serial",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    )
}
PERMISSIONS_POLICY.update(
    {
        "publickey-credentials-get": ["self"],
        "publickey-credentials-create": ["self"],
        "clipboard-write": ["self"],
    }
)

# GET /metrics (smishguard.metrics_view): the bearer token Prometheus presents; None: /metrics answers 404.
METRICS_TOKEN = config.metrics_token()

# SMISHGUARD_LOG_FORMAT: "text" (the default) or "json" (smishguard.logs.JsonFormatter, one object per line).
LOG_FORMAT = config.log_format()

# No secret in a log line: Django's request loggers ("Not Found: /enrol/<token>") and everything the console
# handler writes go through smishguard.redaction's filter (enrolment tokens, tracked links' rids (/s/<rid>),
# token-like query values).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "smishguard.redaction.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "smishguard.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": config.env("LOG_LEVEL") or "WARNING"},
    "loggers": {
        "smishguard": {"level": config.env("LOG_LEVEL") or "WARNING", "propagate": True},
        "django.request": {"filters": ["redact"]},
        # runserver's request lines (Django's own handler for them is replaced, so name one here).
        "django.server": {"handlers": ["console"], "filters": ["redact"], "level": "INFO", "propagate": False},
    },
}
