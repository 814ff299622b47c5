"""Tests: fast hashing where the hash is not under test, a fixed key, SQLite or DATABASE_URL."""

from portail.core.template_guard import InvalidTemplateVariable
from portail.settings.base import TEMPLATES
from portail.settings.local import *  # noqa: F403

ENVIRONMENT = "test"
DEBUG = False
SECRET_KEY = "test-only-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["*"]
EMAIL_SUBJECT_PREFIX = "[TEST] "
EMAIL_PORT = 0  # each test that sends mail starts its own SMTP server (tests/mailbox.py)
ALTCHA_HMAC_KEY = "test-altcha-key"
ALTCHA_MAX_NUMBER = 2000  # cheap challenges: tests solve them for real
CODE_HASH_KEY = "test-code-hash-key"
# Cheap argon2id parameters: the benchmarks measure the real ones.
ARGON2_TIME_COST = 1
ARGON2_MEMORY_COST_KIB = 1024
# An unknown template variable fails the test instead of rendering as "".
TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")
