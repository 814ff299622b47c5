"""Production: secrets from the environment, start-up stops when one is missing; https only."""

import os

from django.core.exceptions import ImproperlyConfigured

from ceres.settings.base import *  # noqa: F403


def mandatory(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set in production.")
    return value


ENVIRONMENT = "prod"
SECRET_KEY = mandatory("CERES_SECRET_KEY")
OIDC_RP_CLIENT_ID = mandatory("CERES_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = mandatory("CERES_OIDC_CLIENT_SECRET")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Hashed names for the CDN; gzip (and brotli when installed) copies next to each file, unless
# STATIC_COMPRESS=0: the production-shaped run (scripts/prodlike.py), where nobody downloads them
# and compressing the DSFR's files would take minutes of each start.
# Each worker keeps its connection between requests (dev and tests open one per request): SQLite
# parses the whole schema at a connection's first statement (docs/decisions/0014,
# "Sixth session: a connection per request").
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CERES_DATABASE_CONN_MAX_AGE", "60"))  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if os.environ.get("STATIC_COMPRESS", "1") != "0"
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
