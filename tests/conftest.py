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


# `@pytest.mark.postgres_only(reason="…")`: what needs PostgreSQL (row locks between threads,
# COPY, pg_dump) is skipped on SQLite with its own reason, before any fixture sets it up. One
# rule, the same in CI: there both databases run, and each test runs on the one it needs.
POSTGRES_ONLY_REASON = "needs PostgreSQL: run with DATABASE_URL=postgres://…"


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or next(iter(marker.args), POSTGRES_ONLY_REASON)
            item.add_marker(pytest.mark.skip(reason=reason))


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
    from django.db import connection

    lines = [f"database: {connection.vendor}"]
    if connection.vendor != "postgresql":
        lines[0] += ", tests marked postgres_only SKIPPED (DATABASE_URL=postgres://… runs them)"
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return [
            *lines,
            f"rate limits on Redis: SKIPPED, no Redis at {TEST_REDIS_URL} (apt-get install redis-server)",
        ]
    return [*lines, f"rate limits on Redis: {TEST_REDIS_URL}"]


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
