"""`context_of`: the origin of an action, built once per request."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from portail.core.context import SYSTEM, Context, context_of
from portail.core.logging import request_id_var
from portail.core.middleware import RequestIdMiddleware

pytestmark = pytest.mark.django_db


def test_built_once_per_request():
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Navigateur")
    first = context_of(request)
    assert context_of(request) is first
    assert first == Context(ip="192.0.2.7", request_id="", user_agent="Navigateur")


def test_without_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.2"
    )
    assert context_of(request).ip == "10.0.0.1"


def test_the_address_comes_from_the_last_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.2"
    )
    assert context_of(request).ip == "198.51.100.2"
    settings.TRUSTED_PROXY_COUNT = 2
    other = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.2"
    )
    assert context_of(other).ip == "203.0.113.9"


def test_no_address_is_none():
    request = RequestFactory().get("/", REMOTE_ADDR="")
    assert context_of(request).ip is None


def test_the_request_id_is_the_logs_one():
    token = request_id_var.set("req-42")
    try:
        assert context_of(RequestFactory().get("/")).request_id == "req-42"
    finally:
        request_id_var.reset(token)
    # Outside a request ("-" in the logs) the context has no id.
    assert context_of(RequestFactory().get("/")).request_id == ""


def test_a_long_user_agent_is_cut_and_system_is_empty():
    request = RequestFactory().get("/", HTTP_USER_AGENT="x" * 2000)
    assert len(context_of(request).user_agent) == 512
    assert Context(ip=None, request_id="", user_agent="") == SYSTEM


def test_inside_the_middleware_the_context_has_the_request_id():
    seen = {}

    def view(request):
        seen["context"] = context_of(request)
        seen["id"] = request.id
        return HttpResponse()

    response = RequestIdMiddleware(view)(RequestFactory().get("/"))
    assert seen["id"]
    assert seen["context"].request_id == seen["id"] == response["X-Request-Id"]
