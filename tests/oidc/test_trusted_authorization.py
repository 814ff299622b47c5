"""A trusted client's authorization (no consent screen) validated once
(portail.oidc.views.AuthorizationView._trusted_client_code): the same redirect as DOT's path."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import Grant

from portail.oidc.views import AuthorizationView
from tests.oidc.helpers import REDIRECT_URI

pytestmark = pytest.mark.django_db


@pytest.fixture
def oauthlib_calls(monkeypatch):
    calls = []
    for name in ("validate_authorization_request", "create_authorization_response"):
        original = getattr(oauth2_views.AuthorizationView, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(oauth2_views.AuthorizationView, name, counted)
    return calls


def answer_of(client, flow) -> dict[str, list[str]]:
    response = client.get(flow.authorize_url())
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


def test_a_trusted_client_is_validated_once_and_answered_as_dot_does(
    client, user, flow, oauthlib_calls, monkeypatch
):
    query = answer_of(client, flow)

    assert oauthlib_calls == ["validate_authorization_request"]
    with monkeypatch.context() as patched:
        patched.setattr(AuthorizationView, "_trusted_client_code", lambda self, request: None)
        reference = answer_of(client, flow)
    assert list(query) == list(reference) == ["code", "state", "iss"]
    assert query["state"] == reference["state"] == [flow.state]
    assert query["iss"] == reference["iss"] == ["http://testserver/o"]
    grant = Grant.objects.get(code=query["code"][0])
    dot_grant = Grant.objects.get(code=reference["code"][0])
    for field in ("user_id", "application_id", "redirect_uri", "scope", "nonce", "claims"):
        assert getattr(grant, field) == getattr(dot_grant, field), field
    assert grant.code_challenge == flow.challenge
    assert grant.code_challenge_method == "S256"
    tokens = flow.token_request(Client(), query["code"][0])
    assert tokens.status_code == 200


def test_a_client_that_asks_consent_still_gets_dots_page(client, user, flow, ceres_client):
    type(ceres_client.application).objects.filter(pk=ceres_client.application.pk).update(
        skip_authorization=False
    )
    response = client.get(flow.authorize_url())
    assert response.status_code == 200
    assert not Grant.objects.exists()
