"""Tests: CERES started as a real server by tests/ceres, its OIDC endpoints on the live portal."""

from ceres.settings.dev import *  # noqa: F403
from ceres.settings.dev import TEMPLATES
from portail.core.template_guard import InvalidTemplateVariable

ENVIRONMENT = "test"
DEBUG = False
ALLOWED_HOSTS = ["*"]
# An unknown template variable fails the test instead of rendering as "".
TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")
