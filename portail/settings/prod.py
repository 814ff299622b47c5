"""Production: every secret comes from the environment, and start-up stops when one is missing."""

from portail.settings.base import *  # noqa: F403
from portail.settings.base import env, env_bool, env_int
from portail.settings.env import mandatory_secret

ENVIRONMENT = "prod"
DEBUG = False
SECRET_KEY = mandatory_secret("SECRET_KEY")
ALTCHA_HMAC_KEY = mandatory_secret("ALTCHA_HMAC_KEY")
CODE_HASH_KEY = mandatory_secret("CODE_HASH_KEY")
EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", "")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Hashed names for the CDN; gzip (and brotli when installed) copies next to each file, unless
# STATIC_COMPRESS=0: the production-shaped run (scripts/prodlike.py), where nobody downloads them
# and compressing the DSFR's files would take minutes of each start.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "portail.core.static_storage.StaticFilesStorage"
        if env_bool("STATIC_COMPRESS", True)
        else "portail.core.static_storage.UncompressedStaticFilesStorage"
    },
}
# Each worker keeps its connection between requests, SQLite included (base.py keeps SQLite at 0 for
# the development server, whose threads end with their request): SQLite parses the whole schema
# at a connection's first statement, 40 % of the instructions of a page like "Mes démarches"
# (decision 0014, "Sixth session: a connection per request").
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", "structured")  # noqa: F405
# The key signing ID tokens (PEM in OIDC_RSA_PRIVATE_KEY, or a file in OIDC_RSA_PRIVATE_KEY_FILE).
if not OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]:  # noqa: F405
    OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = mandatory_secret("OIDC_RSA_PRIVATE_KEY")  # noqa: F405
