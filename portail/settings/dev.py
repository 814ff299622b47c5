"""Development: works with no environment variable at all (SQLite, local mailbox)."""

from portail.oidc.keys import development_private_key
from portail.settings.base import *  # noqa: F403
from portail.settings.base import INSTALLED_APPS, VAR_DIR, env

# The development tools (load_demo_data): never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "portail.devtools"]
ENVIRONMENT = "dev"
DEBUG = True
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
EMAIL_SUBJECT_PREFIX = "[DEV] "
ALTCHA_HMAC_KEY = env("ALTCHA_HMAC_KEY", "dev-only-altcha-key")
CODE_HASH_KEY = env("CODE_HASH_KEY", "dev-only-code-hash-key")
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# OpenID Connect: the local CERES speaks http; a signing key generated once under var/.
OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["http", "https"]  # noqa: F405
OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] or (  # noqa: F405
    development_private_key(VAR_DIR)
)
