"""REDIS_URL as the README offers it: the cache and the rate limits of a fresh process use
Redis (the `redis` package with `hiredis`, from the lock file)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL, redis_or_skip

pytestmark = pytest.mark.django_db  # the cache of the test process is cleared around it

PROBE = """
import django
django.setup()
from django.core.cache import caches
cache = caches["default"]
from portail.core import ratelimit
from portail.accounts.limits import LOGIN_PER_ACCOUNT
import redis.utils
cache.set("probe", "ok", 30)
print(type(cache).__name__, cache.get("probe"), type(ratelimit.store()).__name__,
      redis.utils.HIREDIS_AVAILABLE, ratelimit.health()["status"])
cache.delete("probe")
LOGIN_PER_ACCOUNT.reset("probe@exemple.fr")
"""


def test_redis_url_serves_the_cache_and_the_rate_limits():
    redis_or_skip()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portail.settings.test",
        "REDIS_URL": TEST_REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"rltest-{uuid.uuid4().hex[:8]}",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["RedisCache", "ok", "RedisStore", "True", "ok"]
