"""Development: the demo's CERES on 127.0.0.1:8001, signing in at the portal on 127.0.0.1:8000.

The client credentials are the demo's (portail/oidc/demo.py registers them): local use only.
"""

from ceres.settings.base import *  # noqa: F403
from ceres.settings.base import VAR_DIR, env

ENVIRONMENT = "dev"
DEBUG = True
SECRET_KEY = env("CERES_SECRET_KEY", "ceres-dev-only-insecure-key-0123456789abcdefghijklmnop")
OIDC_RP_CLIENT_ID = env("CERES_OIDC_CLIENT_ID", "ceres-demo")
OIDC_RP_CLIENT_SECRET = env(
    "CERES_OIDC_CLIENT_SECRET",
    "ceres-demo-secret-for-local-use-only-0123456789abcdefghijklmnopqrstuvwxyz",
)
VAR_DIR.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
