"""A trusted client's authorization (no consent screen): the ordinary request written out
(portail.oidc.trusted_authorization), the others validated once
(portail.oidc.views.AuthorizationView._trusted_client_code): the same redirect and rows as DOT's
path, and every request DOT refuses left to DOT."""

from collections import Counter
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client, RequestFactory
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import Grant
from oauth2_provider.oauth2_backends import _add_iss_to_redirect
from oauthlib.common import UNICODE_ASCII_CHARACTER_SET, add_params_to_uri, generate_token

from portail.oidc import trusted_authorization
from portail.oidc.models import GrantAuthentication, SessionGrant
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


def answer_of(client, flow, **overrides: str) -> dict[str, list[str]]:
    response = client.get(flow.authorize_url(**overrides))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


def _dot_alone(patched) -> None:
    patched.setattr(AuthorizationView, "_trusted_client_code", lambda self, request: None)
    patched.setattr(trusted_authorization, "oauthlib_request", lambda request: None)


def _rows(code: str) -> dict[str, object]:
    grant = Grant.objects.get(code=code)
    fields = ("user_id", "application_id", "redirect_uri", "scope", "nonce", "claims")
    authentication = GrantAuthentication.objects.get(grant=grant)
    session = SessionGrant.objects.filter(grant=grant).first()
    return {
        **{field: getattr(grant, field) for field in fields},
        "challenge": (grant.code_challenge, grant.code_challenge_method),
        "resource": grant.resource,
        "lifetime": round((grant.expires - grant.created).total_seconds()),
        "authentication": (authentication.amr, authentication.acr, authentication.auth_time),
        "session": (session.user_session_id, session.application_id) if session else None,
    }


@pytest.mark.parametrize("prompt", [None, "none"])
def test_the_ordinary_request_is_written_out_and_answered_as_dot_does(  # noqa: PLR0917
    client, user, flow, oauthlib_calls, monkeypatch, prompt
):
    response = client.get(flow.authorize_url(prompt=prompt))

    assert oauthlib_calls == []
    with monkeypatch.context() as patched:
        _dot_alone(patched)
        reference = client.get(flow.authorize_url(prompt=prompt))
    assert oauthlib_calls == ["validate_authorization_request", "create_authorization_response"]
    assert response.status_code == reference.status_code == 302
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    dot_code = parse_qs(urlsplit(reference["Location"]).query)["code"][0]
    assert len(code) == len(dot_code)
    assert set(code) <= set(UNICODE_ASCII_CHARACTER_SET) >= set(dot_code)
    assert response["Location"].replace(code, "C") == reference["Location"].replace(dot_code, "C")
    assert _rows(code) == _rows(dot_code)
    assert flow.token_request(Client(), code).status_code == 200


def test_the_code_is_drawn_as_oauthlibs_generate_token_draws_it():
    codes = [trusted_authorization.drawn_code() for _ in range(2000)]
    assert {len(code) for code in codes} == {len(generate_token())} == {30}
    assert len(set(codes)) == len(codes)
    # Each of the 62 characters as likely (60,000 drawn: about 968 each; the bounds are ±8 σ).
    counts = Counter("".join(codes))
    assert set(counts) == set(UNICODE_ASCII_CHARACTER_SET)
    assert 720 < min(counts.values()) <= max(counts.values()) < 1220, counts.most_common()


# Each goes DOT's way; DOT refuses all but the last four (answered as DOT answers them).
REFUSED = {
    "unknown client": {"client_id": "inconnu"},
    "no client": {"client_id": ""},
    "unregistered redirect": {"redirect_uri": "https://ailleurs.example/oidc/callback/"},
    "redirect without its slash": {"redirect_uri": REDIRECT_URI.rstrip("/")},
    "redirect with a query": {"redirect_uri": REDIRECT_URI + "?x=1"},
    "unknown scope": {"scope": "openid admin"},
    "response type token": {"response_type": "token"},
    "plain PKCE": {"code_challenge_method": "plain"},
    "no PKCE": {"code_challenge": None, "code_challenge_method": None},
    "no PKCE method": {"code_challenge_method": None},
    "prompt none and consent": {"prompt": "none consent"},
    "no openid": {"scope": "profile email"},
    "a resource": {"resource": "https://api.example/"},
    "max_age": {"max_age": "3600"},
    "an unknown parameter": {"display": "popup"},
}
DOT_ACCEPTS = {"no openid", "a resource", "max_age", "an unknown parameter"}


@pytest.mark.parametrize("name", list(REFUSED))
def test_every_other_request_goes_dots_way(rf_user, flow, name):
    request = RequestFactory().get(flow.authorize_url(**REFUSED[name]))
    request.user = rf_user
    assert trusted_authorization.oauthlib_request(request) is None


@pytest.mark.parametrize("name", sorted(set(REFUSED) - DOT_ACCEPTS))
def test_dot_refuses_them(client, user, flow, name):
    response = client.get(flow.authorize_url(**REFUSED[name]))
    assert "code=" not in response.get("Location", "")
    assert not Grant.objects.exists()


def test_a_parameter_twice_goes_dots_way(rf_user, flow):
    url = flow.authorize_url() + "&" + urlencode({"state": "autre"})
    request = RequestFactory().get(url)
    request.user = rf_user
    assert trusted_authorization.oauthlib_request(request) is None


def test_an_inactive_person_goes_dots_way(rf_user, flow):
    rf_user.is_active = False
    request = RequestFactory().get(flow.authorize_url())
    request.user = rf_user
    assert trusted_authorization.oauthlib_request(request) is None


@pytest.fixture
def rf_user(user):
    return user


def test_a_trusted_client_is_validated_once_and_answered_as_dot_does(
    client, user, flow, oauthlib_calls, monkeypatch
):
    # display: outside the ordinary request, validated once (_trusted_client_code).
    query = answer_of(client, flow, display="popup")

    assert oauthlib_calls == ["validate_authorization_request"]
    with monkeypatch.context() as patched:
        _dot_alone(patched)
        reference = answer_of(client, flow, display="popup")
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


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://ceres.example/oidc/callback/",
        "https://ceres.example/oidc/callback/?a=1&b=&flag",
        "https://ceres.example/cb?iss=https%3A%2F%2Fother&x=%C3%A9+%26%3D",
        "https://ceres.example/cb?x=a+b%2Bc#frag=1&iss=other",
        "https://ceres.example/cb;p=1?q=é",
        "http://127.0.0.1:8001/cb?",
        "https://ceres.example#",
    ],
)
@pytest.mark.parametrize("issuer", [None, "https://portail.example/o"])
def test_the_redirect_is_oauthlib_s_then_dot_s_iss(redirect_uri, issuer):
    for params in (
        [("code", "AbC123"), ("state", "s t+a&t=e/é")],
        [("code", "AbC123")],
    ):
        expected = add_params_to_uri(redirect_uri, params, fragment=False)
        if issuer is not None:
            expected = _add_iss_to_redirect(expected, issuer)
        assert trusted_authorization.response_location(redirect_uri, params, issuer) == expected
