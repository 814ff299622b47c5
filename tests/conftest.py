"""Guard rails and fixtures shared by every test (the rules are in docs/architecture.md, "Tests")."""

import os
import uuid

import pytest
import redis
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


# The rate-limit tests run against the database and against a real Redis (CI starts it): a
# dedicated database number, and a key prefix of this test's own, deleted after it.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> redis.Redis:
    """A client of the test Redis. Without one, `make test` on a machine that has only Python
    skips the Redis runs, said in the header and the summary; in CI (`CI=true`) it fails."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis does not answer at {TEST_REDIS_URL} ({exc}): Redis runs NOT done"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run starts it")
        pytest.skip(message)
    return client


def pytest_report_header(config):
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return f"rate limits on Redis: SKIPPED, no Redis at {TEST_REDIS_URL} (apt-get install redis-server)"
    return f"rate limits on Redis: {TEST_REDIS_URL}"


@pytest.fixture(params=["database", "redis"])
def limits_store(request, settings):
    """Where the rate limits live for this test: "database" (their table) or "redis"."""
    if request.param == "database":
        settings.RATELIMIT_REDIS_URL = ""
        yield "database"
        return
    client = redis_or_skip()
    prefix = f"rltest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings.RATELIMIT_REDIS_URL = TEST_REDIS_URL
    settings.RATELIMIT_KEY_PREFIX = prefix
    yield "redis"
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def mailbox(tmp_path, settings):
    """A real SMTP server catching what the outbox worker sends. `mailbox.wait_for(to=...)`."""
    box = TestMailbox(tmp_path / "mailbox")
    box.catcher.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    yield box
    box.catcher.stop()
