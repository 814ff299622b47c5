"""Development: works with no environment variable at all (SQLite, local mailbox)."""

from portail.settings.base import env
from portail.settings.local import *  # noqa: F403

ENVIRONMENT = "dev"
DEBUG = True
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
EMAIL_SUBJECT_PREFIX = "[DEV] "
ALTCHA_HMAC_KEY = env("ALTCHA_HMAC_KEY", "dev-only-altcha-key")
CODE_HASH_KEY = env("CODE_HASH_KEY", "dev-only-code-hash-key")
