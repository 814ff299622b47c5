"""The Content-Security-Policy header, built once per process, is django-csp's, nonce included."""

import re

import pytest
from csp.utils import build_policy

pytestmark = pytest.mark.django_db


def test_a_page_with_a_nonce_gets_djangos_csp_policy_with_that_nonce(client):
    response = client.get("/")
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert response["Content-Security-Policy"] == build_policy(nonce=nonce)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    # Another request, another nonce, in its own header.
    other = client.get("/")
    other_nonce = re.search(r'nonce="([^"]+)"', other.content.decode()).group(1)
    assert other_nonce != nonce
    assert other["Content-Security-Policy"] == build_policy(nonce=other_nonce)


def test_a_response_without_a_nonce_gets_the_policy_without_one(client):
    response = client.get("/demarches/")  # a redirect to the login
    assert response.status_code == 302
    assert response["Content-Security-Policy"] == build_policy(nonce=None)
    assert "nonce" not in response["Content-Security-Policy"]


def test_a_change_of_the_settings_policy_is_followed(client, settings):
    client.get("/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"
