"""The authorization-code exchange written out (portail.oidc.code_exchange): a success answers
as DOT's path does (the response, the ID token's claims and header, the rows: test_code_rows),
and every refusal goes DOT's way, with its RFC 6749 error, before anything is written."""

import base64
import hashlib
import json
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from portail.oidc import code_exchange, grant_rows, id_tokens
from portail.oidc.models import UsedAuthorizationCode
from tests.oidc.helpers import REDIRECT_URI, Flow, basic_auth, userinfo

pytestmark = pytest.mark.django_db

# Claims that differ between two exchanges by nature.
DRAWN_CLAIMS = {"iat", "exp", "jti", "at_hash"}


@pytest.fixture
def dot_only(monkeypatch):
    """Every token request DOT's way (the reference)."""
    monkeypatch.setattr(code_exchange, "answer", lambda request: None)


@pytest.fixture
def through_dot(monkeypatch):
    """How many requests DOT's token response made (the written-out path answers the others)."""
    calls = []
    original = oauth2_views.TokenView.create_token_response

    def counted(self, request):
        calls.append(request.path)
        return original(self, request)

    monkeypatch.setattr(oauth2_views.TokenView, "create_token_response", counted)
    return calls


def exchange_fields(flow: Flow, code: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier,
    }


def public_key(client):
    (jwk,) = client.get("/o/.well-known/jwks.json").json()["keys"]
    return jwk["kid"], RSAAlgorithm.from_jwk(json.dumps(jwk))


def verified(client, flow, id_token: str) -> tuple[dict, dict]:
    kid, key = public_key(client)
    header = jwt.get_unverified_header(id_token)
    assert header["kid"] == kid
    claims = jwt.decode(
        id_token, key, algorithms=["RS256"], audience=flow.client_id, issuer="http://testserver/o"
    )
    return header, claims


def test_a_successful_exchange_does_not_go_through_oauthlib(client, user, flow, through_dot):
    response = flow.token_request(Client(), flow.get_code(client))

    assert response.status_code == 200
    assert through_dot == []
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    tokens = response.json()
    assert list(tokens) == [
        "access_token",
        "expires_in",
        "token_type",
        "scope",
        "refresh_token",
        "id_token",
    ]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["scope"] == flow.scope
    assert userinfo(client, tokens["access_token"]).status_code == 200


def test_the_id_token_says_what_dots_says(client, user, flow, monkeypatch):
    lean = flow.tokens(client)
    with monkeypatch.context() as patched:
        patched.setattr(code_exchange, "answer", lambda request: None)
        dot = flow.tokens(client)

    assert set(lean) == set(dot)
    assert {k: v for k, v in lean.items() if "token" not in k} == {
        k: v for k, v in dot.items() if "token" not in k
    }
    lean_header, lean_claims = verified(client, flow, lean["id_token"])
    dot_header, dot_claims = verified(client, flow, dot["id_token"])
    assert lean_header == dot_header == {"typ": "JWT", "alg": "RS256", "kid": lean_header["kid"]}
    assert set(lean_claims) == set(dot_claims)
    for name in set(dot_claims) - DRAWN_CLAIMS:
        assert lean_claims[name] == dot_claims[name], name
    assert lean_claims["sid"]
    assert lean_claims["amr"] == ["pwd"]
    assert lean_claims["exp"] - lean_claims["iat"] == dot_claims["exp"] - dot_claims["iat"]
    digest = hashlib.sha256(lean["access_token"].encode()).digest()[:16]
    assert lean_claims["at_hash"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert lean_claims["at_hash"] == id_tokens.access_token_hash(lean["access_token"])
    assert IDToken.objects.get(jti=lean_claims["jti"]).user == user


def test_client_secret_post_goes_the_written_out_way_too(client, user, flow, through_dot):
    fields = exchange_fields(flow, flow.get_code(client))
    fields.update(client_id=flow.client_id, client_secret=flow.secret)
    response = Client().post("/o/token/", fields)
    assert response.status_code == 200
    assert through_dot == []


def test_the_exchange_is_at_most_six_statements(client, user, flow):
    code = flow.get_code(client)
    with CaptureQueriesContext(connection) as captured:
        response = flow.token_request(Client(), code)
    assert response.status_code == 200
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK")
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]
    # The grant with what goes with it, the habilitations claim, the writes (one statement on
    # PostgreSQL; SQLite's variant runs each write on its own: see test_code_rows).
    assert len(statements) == (3 if connection.vendor == "postgresql" else 9)


# -- every refusal: DOT's answer, nothing written ------------------------------------------------


def other_client_flow(flow):
    from portail.demarches.models import Demarche
    from portail.oidc.clients import register_demarche_client

    demarche = Demarche.objects.exclude(code="ceres").order_by("code")[0]
    other = register_demarche_client(
        actor=None, demarche=demarche, redirect_uris=[REDIRECT_URI], replace=True
    )
    thief = Flow(other.client_id, other.client_secret)
    thief.verifier = flow.verifier
    return thief


def refused(case: str, flow: Flow, code: str):
    """The token request of `case` for `code` (the démarche's server: a client of its own)."""
    data = exchange_fields(flow, code)
    credentials = {"HTTP_AUTHORIZATION": basic_auth(flow.client_id, flow.secret)}
    path = "/o/token/"
    if case == "another client's code":
        return other_client_flow(flow).token_request(Client(), code)
    if case == "wrong secret":
        credentials = {"HTTP_AUTHORIZATION": basic_auth(flow.client_id, "mauvais-secret")}
    elif case == "unknown client":
        credentials = {"HTTP_AUTHORIZATION": basic_auth("inconnu", "secret")}
    elif case == "no client authentication":
        credentials, data["client_id"] = {}, flow.client_id
    elif case == "query string":
        path = "/o/token/?code=1"
    else:
        changed = {
            "missing code": ("code", None),
            "unknown code": ("code", "x" * 30),
            "other redirect_uri": ("redirect_uri", "https://demarche.example/autre/"),
            "missing verifier": ("code_verifier", None),
            "wrong verifier": ("code_verifier", "x" * 64),
        }[case]
        data[changed[0]] = changed[1]
    return Client().post(path, {k: v for k, v in data.items() if v is not None}, **credentials)


REFUSALS = {
    "wrong secret": (401, "invalid_client"),
    "unknown client": (401, "invalid_client"),
    "no client authentication": (401, "invalid_client"),
    "another client's code": (400, "invalid_grant"),
    "missing code": (400, "invalid_request"),
    "unknown code": (400, "invalid_grant"),
    "other redirect_uri": (400, "invalid_request"),
    "missing verifier": (400, "invalid_request"),
    "wrong verifier": (400, "invalid_grant"),
    "query string": (400, "invalid_request"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
@pytest.mark.usefixtures("user")
def test_each_refusal_is_dots_answer(case, client, flow, through_dot, monkeypatch):
    code = flow.get_code(client)
    response = refused(case, flow, code)

    assert (response.status_code, response.json()["error"]) == REFUSALS[case]
    assert through_dot == ["/o/token/"]  # answered by DOT: its body, status and headers
    assert not AccessToken.objects.exists()
    assert not UsedAuthorizationCode.objects.exists()
    assert Grant.objects.filter(code=code).exists()  # still exchangeable by its client
    with monkeypatch.context() as patched:
        patched.setattr(code_exchange, "answer", lambda request: None)
        reference = refused(case, flow, code)
    assert reference.status_code == response.status_code
    assert reference.json() == response.json()
    assert reference.get("Cache-Control") == response.get("Cache-Control")


@pytest.mark.parametrize("case", ["expired", "inactive person"])
def test_a_code_no_longer_good_is_dots_invalid_grant(case, client, user, flow, through_dot):
    code = flow.get_code(client)
    if case == "expired":
        Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    else:
        type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = flow.token_request(Client(), code)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert through_dot == ["/o/token/"]
    assert not AccessToken.objects.exists()


def test_a_replay_is_refused_and_revokes_the_first_exchanges_tokens(client, user, flow):
    code = flow.get_code(client)
    first = flow.token_request(Client(), code)
    assert first.status_code == 200

    replay = flow.token_request(Client(), code)

    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert replay["Cache-Control"] == "no-store"
    assert userinfo(client, first.json()["access_token"]).status_code == 401
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert UsedAuthorizationCode.objects.get().replayed_at is not None


def test_two_exchanges_of_one_code_at_once_leave_neither_usable(client, user, flow, monkeypatch):
    """The second exchange reads the grant before the first writes (concurrently): its write
    finds the code used, DOT refuses it and revokes what the first issued (RFC 6749 §10.5)."""
    code = flow.get_code(client)
    find = grant_rows.find
    first: list = []

    def meanwhile(*args):
        found = find(*args)
        if not first:  # the other request exchanges the code between this read and its write
            first.append(None)
            first[0] = flow.token_request(Client(), code)
        return found

    monkeypatch.setattr(grant_rows, "find", meanwhile)
    second = flow.token_request(Client(), code)

    assert first[0].status_code == 200
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")
    assert userinfo(client, first[0].json()["access_token"]).status_code == 401
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()
    assert UsedAuthorizationCode.objects.get().replayed_at is not None


def test_the_validators_shortcuts_answer_as_dots_derivations(rf):
    """The issuer from the discovery path reversed once, and the claims' request-agnostic
    form, equal to what DOT computes each time (oauth2_settings.oidc_issuer, inspect)."""
    from django.urls import set_script_prefix
    from oauth2_provider.oauth2_validators import OAuth2Validator
    from oauth2_provider.settings import oauth2_settings
    from oauthlib.common import Request

    from portail.oidc.validators import PortalOAuth2Validator

    dots_test = OAuth2Validator._get_additional_claims_is_request_agnostic.__func__
    assert PortalOAuth2Validator._get_additional_claims_is_request_agnostic() is True
    assert dots_test(PortalOAuth2Validator) is True

    validator = PortalOAuth2Validator()
    for prefix, host, secure in (("/", "testserver", False), ("/portail/", "a.gouv.fr:8443", True)):
        set_script_prefix(prefix)
        try:
            http_request = rf.post("/o/token/", HTTP_HOST=host, secure=secure)
            oauth_request = Request("https://x/o/token/")
            oauth_request.portail_http_request = http_request
            ours = validator.get_oidc_issuer_endpoint(oauth_request)
            assert ours == oauth2_settings.oidc_issuer(http_request)
        finally:
            set_script_prefix("/")
    assert ours == "https://a.gouv.fr:8443/portail/o"
