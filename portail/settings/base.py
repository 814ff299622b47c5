"""Settings shared by every environment. Environment modules (dev, test, prod) import this one.

Every value an operator may change comes from the environment; see the table in README.md.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE

from portail import __version__
from portail.oidc.keys import inactive_keys_from_env, private_key_from_env
from portail.settings.env import env, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent  # the `portail` package
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env("PORTAIL_VAR_DIR", str(PROJECT_DIR / "var")))

APP_VERSION = __version__
ENVIRONMENT = "base"  # overridden by each environment module; shown in email subjects outside prod

SECRET_KEY = env("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
# How many reverse proxies stand in front (portail.core.client_ip): behind one, every client
# would otherwise share the proxy's address, and its rate limits (docs/deploy.md).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SERVICE_NAME = env("SERVICE_NAME", "Mes Démarches Emploi et Formation Professionnelle")
SERVICE_TAGLINE = env("SERVICE_TAGLINE", "Portail de services du ministère chargé de l'emploi")
# The CERES letter (portail.backoffice.letters): where it is signed, the assistance it names.
LETTER_PLACE = env("LETTER_PLACE", "Paris")
ASSISTANCE_HOURS = env("ASSISTANCE_HOURS", "du lundi au vendredi 9h à 18h")
ASSISTANCE_PHONE = env("ASSISTANCE_PHONE", "01 46 29 25 54")
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Mes Démarches — agents")
# The name a person's authenticator app shows for a portal account (agents': OTP_TOTP_ISSUER).
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "Mes Démarches")
# Passkeys (WebAuthn) are bound to the portal's public address: its host is the relying
# party id, its origin the only one an assertion may come from.
WEBAUTHN_RP_ID = urlsplit(PORTAL_BASE_URL).hostname or "localhost"
WEBAUTHN_ORIGIN = f"{urlsplit(PORTAL_BASE_URL).scheme}://{urlsplit(PORTAL_BASE_URL).netloc}"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "dsfr",
    "dsfr_layout",
    "widget_tweaks",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "portail.core",
    "portail.audit",
    "portail.notifications",
    "portail.accounts",
    "portail.companies",
    "portail.centres",
    "portail.demarches",
    "portail.habilitations",
    "portail.backoffice",
    "portail.oidc",
    "portail.metrics",
]

MIDDLEWARE = [
    # Outermost: the request's id, and the time of every request by view (docs/deploy.md,
    # "Metrics"). Each layer costs every request: the project's own are folded into few.
    "portail.metrics.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # portail.core.people_middleware: skipped on the machines' endpoints (MACHINE_PATHS).
    "portail.core.people_middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, taking the account read with the session (portail.accounts.session_user).
    "portail.accounts.session_user.AuthenticationMiddleware",
    # Django's, not reading the user of a request without a session for a view that needs no login.
    "portail.core.middleware.LoginRequiredMiddleware",
    "portail.core.people_middleware.OTPMiddleware",
    "portail.core.people_middleware.MessageMiddleware",
    "portail.accounts.middleware.SessionTimeoutMiddleware",
    "portail.accounts.user_sessions.UserSessionActivityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Permissions-Policy and the like, then the Content-Security-Policy (one layer).
    "portail.core.middleware.CSPMiddleware",
    # The login form of a sign-in to a démarche may lead to the démarche (docs/oidc.md).
    "portail.oidc.middleware.AuthorizationFormActionMiddleware",
]

# Paths called by machines, never by a person's browser: the provider's endpoints for the
# démarches' servers, the health check, the metrics. The layers of portail.core.people_middleware
# and the session's timeout and activity let them through untouched.
MACHINE_PATHS = [
    "/o/token/",
    "/o/revoke_token/",
    "/o/introspect/",
    "/o/userinfo/",
    "/o/demarches/",
    "/o/.well-known/",
    "/.well-known/",
    "/healthz",
    "/metrics",
]

ROOT_URLCONF = "portail.urls"
WSGI_APPLICATION = "portail.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsfr_layout.context_processors.page",
            ],
            # {% url %} with its answers kept (portail.core.url_tag); {% extends %} with the
            # frame's blocks kept (dsfr_layout.kept_extends).
            "builtins": ["portail.core.url_tag", "dsfr_layout.kept_extends"],
        },
    },
]
# django-dsfr's renderer with its text fields and error lists in Python (portail.core.form_rendering).
FORM_RENDERER = "portail.core.form_rendering.FormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portail.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the email worker read while the other writes;
    # IMMEDIATE makes transactions take the write lock up front instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "demarches:mes_demarches"
LOGOUT_REDIRECT_URL = "home"

# argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane): see docs/decisions/0004.
PASSWORD_HASHERS = [
    "portail.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 2)
ARGON2_MEMORY_COST_KIB = env_int("ARGON2_MEMORY_COST_KIB", 19 * 1024)
ARGON2_PARALLELISM = env_int("ARGON2_PARALLELISM", 1)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "portail.accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # French words and names, keyboard rows, years: portail/accounts/password_policy.py.
    {"NAME": "portail.accounts.password_policy.FrenchCommonPasswordValidator"},
    {"NAME": "portail.accounts.pwned.PwnedPasswordValidator"},
]
# Pwned Passwords range API (https://api.pwnedpasswords.com); empty: not asked.
PWNED_PASSWORDS_URL = env("PWNED_PASSWORDS_URL")
PWNED_PASSWORDS_TIMEOUT = float(env("PWNED_PASSWORDS_TIMEOUT", "2"))

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Cache: the database by default (shared by every process, survives restarts, so rate limits
# hold across workers); Redis when REDIS_URL is set.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portail_cache",
        }
    }
# Rate limits (portail.core.ratelimit): in Redis when REDIS_URL is set, else in their own table.
RATELIMIT_REDIS_URL = REDIS_URL
RATELIMIT_KEY_PREFIX = env("RATELIMIT_KEY_PREFIX", "rl")

# Request bodies: a form's fields (files aside) above 1 MiB are refused (400) from the announced
# Content-Length, before the body is read; files (the back-office imports, 10 MiB at most) go to
# disk above 2.5 MiB. The reverse proxy bounds the whole body (docs/deploy.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Sessions: idle timeout of 30 minutes (the session saved again at most once a minute), absolute
# timeout of 12 hours (portail.accounts.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_REFRESH_INTERVAL = 60
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Django's database sessions, indexed per account for "Mes sessions et appareils".
SESSION_ENGINE = "portail.accounts.session_store"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "portail.core.views.csrf_failure"

# Anti-robot check (ALTCHA, portail.accounts.altcha): the browser's proof-of-work draws its counter
# below this number: on average it computes half as many SHA-256 hashes. Tests use 2,000.
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 50_000)

# Email: everything goes through the outbox (portail.notifications); the worker speaks SMTP.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Mes Démarches <no-reply@emploi.gouv.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = ""  # set per environment: "[DEV] ", "[TEST] "
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30)
# A row left "sending" by a worker that died is sent again after this long: well above the
# longest live send (EMAIL_TIMEOUT per SMTP step), or a slow worker and its successor both send.
OUTBOX_STALE_CLAIM_SECONDS = env_int("OUTBOX_STALE_CLAIM_SECONDS", 600)
# Pushing the feed of habilitation changes to the démarches' webhooks (portail.oidc.webhooks):
# seconds of the HTTP timeout, of the first back-off after a failure, of the longest one (the
# delay a webhook back from an outage waits, at most, for its events).
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 2)
WEBHOOK_MAX_BACKOFF_SECONDS = env_int("WEBHOOK_MAX_BACKOFF_SECONDS", 300)
# Back-channel logout tokens (portail.oidc.backchannel): same back-off, then given up.
BACKCHANNEL_LOGOUT_MAX_ATTEMPTS = env_int("BACKCHANNEL_LOGOUT_MAX_ATTEMPTS", 8)

# How long an activation code (portail.demarches.codes), an access request and an invitation
# (portail.habilitations) stay valid.
ACTIVATION_CODE_VALIDITY_DAYS = env_int("ACTIVATION_CODE_VALIDITY_DAYS", 183)
ACCESS_REQUEST_VALIDITY_DAYS = env_int("ACCESS_REQUEST_VALIDITY_DAYS", 30)
INVITATION_VALIDITY_DAYS = env_int("INVITATION_VALIDITY_DAYS", 14)
# The periodic access review (portail.habilitations.access_review): days the gestionnaires have to
# answer, reminders so many days before the deadline, days a suspended access waits for a
# confirmation before it ends.
ACCESS_REVIEW_RESPONSE_DAYS = env_int("ACCESS_REVIEW_RESPONSE_DAYS", 30)
ACCESS_REVIEW_REMINDER_DAYS = [int(d) for d in env_list("ACCESS_REVIEW_REMINDER_DAYS", "30,7,1")]
ACCESS_REVIEW_GRACE_DAYS = env_int("ACCESS_REVIEW_GRACE_DAYS", 30)

# Dormant accounts (portail.accounts.dormancy, docs/retention.md): an account without a login for
# this many days is warned by email, then deactivated that many days after the warning unless it
# logs in; the last gestionnaire of a démarche only after the agents of its region were warned,
# that many days before.
DORMANT_ACCOUNT_DAYS = env_int("DORMANT_ACCOUNT_DAYS", 365)
DORMANT_ACCOUNT_NOTICE_DAYS = env_int("DORMANT_ACCOUNT_NOTICE_DAYS", 30)
DORMANT_ACCOUNT_AGENTS_NOTICE_DAYS = env_int("DORMANT_ACCOUNT_AGENTS_NOTICE_DAYS", 30)

# Retention (docs/retention.md), applied by the housekeeping: bodies of the outbox's emails emptied
# after so many days (the row and its status kept), journal events deleted after so many years,
# accounts never activated deleted so many days after their sign-up.
RETENTION_OUTBOX_BODY_DAYS = env_int("RETENTION_OUTBOX_BODY_DAYS", 90)
RETENTION_JOURNAL_YEARS = env_int("RETENTION_JOURNAL_YEARS", 5)
RETENTION_UNACTIVATED_ACCOUNT_DAYS = env_int("RETENTION_UNACTIVATED_ACCOUNT_DAYS", 30)

# Content-Security-Policy: no inline script anywhere; DSFR's module script carries a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Prometheus metrics at /metrics (portail.metrics): shown to a scraper sending
# "Authorization: Bearer <METRICS_TOKEN>", or to one of these networks reaching the process
# directly (not through the proxy). Neither set: the endpoint answers 404 to everyone.
METRICS_TOKEN = env("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")

# Where the demo and the tests find the local mailbox's web page (development only).
MAILBOX_URL = env("MAILBOX_URL", "http://127.0.0.1:8025")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portail.core.logging.RequestIdFilter"}},
    "formatters": {
        "structured": {"()": "portail.core.logging.JsonFormatter"},
        "console": {
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env("LOG_FORMAT", "console"),
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # django.request logs 4xx as warnings: our own 500 handler logs errors with the reference.
        "django.request": {"level": "ERROR"},
    },
}

# OpenID Connect provider (django-oauth-toolkit): the portal is the identity provider of every
# démarche. Details and key rotation: docs/oidc.md. RFC 9700 (OAuth 2.0 Security BCP) compliant.
# The signing key comes from OIDC_RSA_PRIVATE_KEY (PEM) or OIDC_RSA_PRIVATE_KEY_FILE; production
# requires one, development and tests generate one under var/ (see local.py, prod.py).
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "OIDC_ENABLED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_GENERATOR": "portail.oidc.tokens.random_token",
    "REFRESH_TOKEN_GENERATOR": "portail.oidc.tokens.random_token",
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OIDC_ACCESS_TOKEN_SECONDS", 300),
    "ID_TOKEN_EXPIRE_SECONDS": env_int("OIDC_ID_TOKEN_SECONDS", 300),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env_int("OIDC_AUTHORIZATION_CODE_SECONDS", 60),
    # A refresh token dies this long after its last access token expired (sliding).
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("OIDC_REFRESH_TOKEN_SECONDS", 12 * 3600),
    # Production: https only. dev.py and test.py add http for the local CERES.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "OIDC_ISS_ENDPOINT": env("OIDC_ISSUER"),  # empty: derived from the request (<portal>/o)
    "OIDC_RSA_PRIVATE_KEY": private_key_from_env(),
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": inactive_keys_from_env(),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # No "log out of the portal too?" question when the ID token proves who asks (OIDC RP-Initiated
    # Logout 1.0 §2 still makes DOT ask when it does not).
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "SCOPES": {
        "openid": "Connexion avec votre compte du portail",
        "profile": "Vos nom et prénom",
        "email": "Votre adresse électronique",
        "phone": "Votre numéro de téléphone",
        "habilitations": "Vos habilitations pour cette démarche",
    },
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "portail.oidc.validators.PortalOAuth2Validator",
    # Client secrets: HMAC-SHA-256, not the password hasher (docs/decisions/0009).
    "CLIENT_SECRET_HASHER": "client_secret_hmac_sha256",
}
PASSWORD_HASHERS = [*PASSWORD_HASHERS, "portail.oidc.hashers.ClientSecretHasher"]
# Seconds a worker keeps a client it read (portail/oidc/client_cache.py); 0 disables.
OIDC_CLIENT_CACHE_SECONDS = env_int("OIDC_CLIENT_CACHE_SECONDS", 30)
# Named so portail.oidc's migrations can depend on the (swappable) model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
