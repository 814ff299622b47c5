"""CERES settings shared by every environment (each value from the environment, CERES_*).

CERES trusts the portal only through OpenID Connect: the issuer, the client credentials and how
often habilitations are re-checked are all it knows. See docs/ceres.md.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE

from ceres import __version__

BASE_DIR = Path(__file__).resolve().parent.parent  # the `ceres` package
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("CERES_VAR_DIR", str(PROJECT_DIR / "var")))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


APP_VERSION = __version__
ENVIRONMENT = "base"
SERVICE_NAME = "CERES"
SERVICE_TAGLINE = "Certifications Emplois"
SECRET_KEY = env("CERES_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in env("CERES_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dsfr",
    "dsfr_layout",
    "mozilla_django_oidc",
    "ceres.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A session the portal ended (back-channel logout): "Vous êtes déconnecté" at the next click.
    "ceres.web.backchannel.SignedOutByPortal",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's LoginRequiredMiddleware, an anonymous GET sent straight to the portal.
    "ceres.web.middleware.LoginRequired",
    # Silent re-authentication at the portal every CERES_RECHECK_SECONDS: habilitations re-read.
    "ceres.web.middleware.HabilitationsRefresh",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "ceres.urls"
WSGI_APPLICATION = "ceres.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsfr_layout.context_processors.page",
                "ceres.web.context_processors.ceres",
            ],
            # {% extends %} with the frame's blocks kept (dsfr_layout.kept_extends).
            "builtins": ["dsfr_layout.kept_extends"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("CERES_DATABASE_URL", f"sqlite:///{VAR_DIR / 'ceres.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "ceres-static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The portal and CERES may share a host name (127.0.0.1:8000 and :8001 in the demo): cookies do
# not care about ports, so CERES' cookies carry their own names.
SESSION_COOKIE_NAME = "ceres_sessionid"
CSRF_COOKIE_NAME = "ceres_csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("CERES_SESSION_SECONDS", 8 * 3600)
SESSION_ENGINE = "ceres.web.sessions"  # each new session written once
CSRF_COOKIE_HTTPONLY = True

# -- Signing in through the portal (mozilla-django-oidc) -----------------------------------------
OIDC_ISSUER = env("CERES_OIDC_ISSUER", "http://127.0.0.1:8000/o").rstrip("/")
PORTAL_URL = env("CERES_PORTAL_URL", OIDC_ISSUER.removesuffix("/o")).rstrip("/")
PORTAL_MES_DEMARCHES_URL = f"{PORTAL_URL}/demarches/"
PORTAL_MANAGEMENT_URL = f"{PORTAL_URL}/habilitations/ceres/"
# The `acr` the gestionnaire functions ask of the portal (acr_values): a second factor used.
MFA_ACR = env("CERES_MFA_ACR", "urn:portail:acr:mfa")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The logout form's answer redirects to the portal's end-session endpoint.
        "form-action": ["'self'", PORTAL_URL],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


AUTHENTICATION_BACKENDS = ["ceres.web.auth.PortalOIDCBackend"]
LOGIN_URL = "oidc_authentication_init"
LOGIN_REDIRECT_URL = "ceres_web:home"
LOGIN_REDIRECT_URL_FAILURE = (
    "/connexion/echec/"  # a path: mozilla-django-oidc does not resolve names
)
LOGOUT_REDIRECT_URL = "ceres_web:logged_out"

OIDC_RP_CLIENT_ID = env("CERES_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("CERES_OIDC_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{OIDC_ISSUER}/authorize/"
OIDC_OP_TOKEN_ENDPOINT = env("CERES_OIDC_TOKEN_ENDPOINT", f"{OIDC_ISSUER}/token/")
OIDC_OP_USER_ENDPOINT = f"{OIDC_ISSUER}/userinfo/"
OIDC_OP_JWKS_ENDPOINT = f"{OIDC_ISSUER}/.well-known/jwks.json"
OIDC_OP_LOGOUT_ENDPOINT = f"{OIDC_ISSUER}/logout/"
OIDC_OP_REVOCATION_ENDPOINT = f"{OIDC_ISSUER}/revoke_token/"
# CERES' code in the portal's catalogue: the feed of habilitation changes it follows (ceres.web.feed).
CERES_DEMARCHE_CODE = env("CERES_DEMARCHE_CODE", "ceres")
OIDC_OP_LOGOUT_URL_METHOD = "ceres.web.auth.provider_logout_url"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile phone habilitations"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the logout
OIDC_TIMEOUT = 10
OIDC_CALLBACK_CLASS = "ceres.web.views.CallbackView"
# At most this long between two readings of the person's habilitations at the portal.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("CERES_RECHECK_SECONDS", 600)
OIDC_EXEMPT_URLS = [
    "ceres_web:logged_out",
    "ceres_web:login_failed",
    "ceres_web:logout",
    "ceres_web:portal_events",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
