"""What development and the tests share on top of base, never production: the development tools,
static files served straight from the apps, and an OpenID Connect provider that lets the local
CERES speak http with a signing key generated once under var/."""

from portail.oidc.keys import development_private_key
from portail.settings.base import *  # noqa: F403
from portail.settings.base import INSTALLED_APPS, OAUTH2_PROVIDER, VAR_DIR

# The development tools (load_demo_data): never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "portail.devtools"]
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# OpenID Connect: the local CERES speaks http; a signing key generated once under var/.
OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["http", "https"]
OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] or (
    development_private_key(VAR_DIR)
)
