"""Guard rails and fixtures shared by every test (the rules are in docs/architecture.md, "Tests")."""

import os

import pytest
from django.core.cache import cache

from tests.mailbox import TestMailbox

# Playwright's sync API runs an event loop in the main thread; Django's ORM then refuses to run
# from "async" code. The browser tests only use the ORM from the test itself, synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _real_smtp(settings):
    """pytest-django swaps in the in-memory email backend; we speak real SMTP to `mailbox`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mailbox(tmp_path, settings):
    """A real SMTP server catching what the outbox worker sends. `mailbox.wait_for(to=...)`."""
    box = TestMailbox(tmp_path / "mailbox")
    box.catcher.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    yield box
    box.catcher.stop()
