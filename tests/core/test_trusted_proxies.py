"""TRUSTED_PROXY_COUNT comes from the environment: behind the reverse proxy, each client keeps
its own address for the rate limits instead of sharing the proxy's."""

import importlib

import pytest
from django.test import RequestFactory

from portail.core.client_ip import client_ip
from portail.settings import base

pytestmark = pytest.mark.django_db  # the cache the rate limits use is cleared around each test


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    try:
        assert importlib.reload(base).TRUSTED_PROXY_COUNT == 1
    finally:
        monkeypatch.delenv("TRUSTED_PROXY_COUNT")
        assert importlib.reload(base).TRUSTED_PROXY_COUNT == 0


def test_behind_one_proxy_the_forwarded_client_counts(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"
