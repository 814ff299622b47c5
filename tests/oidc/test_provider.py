"""The OpenID Connect provider: discovery, code flow with PKCE, tokens, and each bad input."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from portail.oidc.models import UsedAuthorizationCode
from tests.oidc.helpers import REDIRECT_URI, Flow, basic_auth, userinfo

pytestmark = pytest.mark.django_db


def decode_id_token(client, id_token: str) -> dict:
    keys = client.get("/o/.well-known/jwks.json").json()
    key_set = jwk.JWKSet.from_json(json.dumps(keys))
    return json.loads(jwt.JWT(jwt=id_token, key=key_set, algs=["RS256"]).claims)


def test_discovery_document_names_every_endpoint(client):
    doc = client.get("/o/.well-known/openid-configuration").json()
    issuer = "http://testserver/o"
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == f"{issuer}/authorize/"
    assert doc["token_endpoint"] == f"{issuer}/token/"
    assert doc["userinfo_endpoint"] == f"{issuer}/userinfo/"
    assert doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert doc["end_session_endpoint"] == f"{issuer}/logout/"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert {"habilitations", "email", "phone"} <= set(doc["scopes_supported"])
    assert {"sub", "email", "email_verified", "given_name", "family_name"} <= set(
        doc["claims_supported"]
    )
    assert {"phone_number", "habilitations"} <= set(doc["claims_supported"])
    # The root address leads to the issuer's document; RFC 8414 metadata at its well-known path.
    root = client.get("/.well-known/openid-configuration")
    assert root.status_code == 302
    assert root["Location"] == "/o/.well-known/openid-configuration"
    metadata = client.get("/.well-known/oauth-authorization-server/o").json()
    assert metadata["issuer"] == issuer


def test_jwks_publishes_the_rs256_signing_key(client):
    keys = client.get("/o/.well-known/jwks.json").json()["keys"]
    assert len(keys) >= 1
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["use"] == "sig"
    assert "d" not in keys[0]  # the public half only


def test_code_flow_gives_signed_id_token_and_userinfo(client, user, flow):
    response = client.get(flow.authorize_url())
    assert response.status_code == 302  # no consent screen: a ministry démarche
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["iss"] == ["http://testserver/o"]  # RFC 9207
    code = query["code"][0]
    tokens = flow.token_request(client, code).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300  # minutes, not hours
    claims = decode_id_token(client, tokens["id_token"])
    assert claims["iss"] == "http://testserver/o"
    assert claims["aud"] == flow.client_id
    assert claims["nonce"] == flow.nonce
    assert claims["sub"] == str(user.public_id)
    assert claims["email"] == user.email
    assert claims["sub"] != user.email
    info = userinfo(client, tokens["access_token"]).json()
    assert info == {
        "sub": str(user.public_id),
        "email": user.email,
        "email_verified": True,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "name": user.get_full_name(),
        "phone_number": user.phone,
        "habilitations": [],
        "habilitations_suspendues": [],
    }


def test_tokens_are_stored_only_as_checksums(client, user, flow):
    tokens = flow.tokens(client)
    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert tokens["access_token"] not in stored.token_checksum
    assert RefreshToken.objects.get().token == ""


def test_claims_follow_the_scopes(client, user, flow):
    flow.scope = "openid"
    info = userinfo(client, flow.tokens(client)["access_token"]).json()
    assert info == {"sub": str(user.public_id)}


def test_anonymous_person_is_sent_to_the_portal_login_keeping_the_request(client, flow):
    response = client.get(flow.authorize_url())
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/connexion/"
    assert parse_qs(location.query)["next"][0].startswith("/o/authorize/?")


def test_prompt_none_without_session_answers_login_required(client, flow):
    response = client.get(flow.authorize_url(prompt="none"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert parse_qs(location.query)["error"] == ["login_required"]


# -- bad input: the authorization request --------------------------------------------------------


def test_unknown_client_gets_an_error_page_and_no_redirect(client, user, flow):
    flow.client_id = "inconnu"
    response = client.get(flow.authorize_url())
    assert response.status_code == 400
    assert "Location" not in response
    assert "Cette démarche n&#x27;est pas reconnue par le portail." in response.content.decode()
    assert not Grant.objects.exists()


def test_unregistered_redirect_uri_is_never_followed(client, user, flow):
    response = client.get(flow.authorize_url(redirect_uri="https://evil.example/callback/"))
    assert response.status_code == 400
    assert "Location" not in response
    assert "adresse de retour demandée par la démarche n&#x27;est pas enregistrée" in (
        response.content.decode()
    )
    assert not Grant.objects.exists()


def test_redirect_uri_must_match_exactly(client, user, flow):
    response = client.get(flow.authorize_url(redirect_uri=REDIRECT_URI + "extra/"))
    assert response.status_code == 400
    assert not Grant.objects.exists()


def test_missing_pkce_challenge_is_refused(client, user, flow):
    response = client.get(flow.authorize_url(code_challenge=None, code_challenge_method=None))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == [flow.state]
    assert "code" not in query
    assert not Grant.objects.exists()


def test_plain_pkce_method_is_refused(client, user, flow):
    response = client.get(
        flow.authorize_url(code_challenge=flow.verifier, code_challenge_method="plain")
    )
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_implicit_flow_is_refused(client, user, flow):
    response = client.get(flow.authorize_url(response_type="id_token token"))
    query = parse_qs(urlsplit(response["Location"]).query + urlsplit(response["Location"]).fragment)
    # RFC 6749 §4.1.2.1: this client may only use the code flow.
    assert query["error"] == ["unauthorized_client"]
    assert "access_token" not in query
    assert "id_token" not in query


# -- bad input: the token request ----------------------------------------------------------------


def test_missing_pkce_verifier_is_refused(client, user, flow):
    response = flow.token_request(client, flow.get_code(client), verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()


def test_wrong_pkce_verifier_is_refused(client, user, flow):
    response = flow.token_request(client, flow.get_code(client), verifier="x" * 64)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_wrong_client_secret_is_refused(client, user, flow):
    code = flow.get_code(client)
    flow.secret = "mauvais-secret"
    response = flow.token_request(client, code)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_code_of_another_client_is_refused(client, user, flow, ceres_client):
    from portail.demarches.models import Demarche
    from portail.oidc.clients import register_demarche_client

    other_demarche = Demarche.objects.exclude(pk=ceres_client.application.pk).exclude(code="ceres")[
        0
    ]
    other = register_demarche_client(
        actor=None, demarche=other_demarche, redirect_uris=[REDIRECT_URI]
    )
    code = flow.get_code(client)
    thief = Flow(other.client_id, other.client_secret)
    thief.verifier = flow.verifier
    response = thief.token_request(client, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_redirect_uri_of_the_token_request_must_match(client, user, flow):
    code = flow.get_code(client)
    response = flow.token_request(client, code, redirect_uri="https://demarche.example/autre/")
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_request", "invalid_grant")
    assert not AccessToken.objects.exists()


def test_expired_code_is_refused(client, user, flow):
    code = flow.get_code(client)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = flow.token_request(client, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_replayed_code_is_refused_and_its_tokens_revoked(client, user, flow):
    code = flow.get_code(client)
    first = flow.token_request(client, code).json()
    assert userinfo(client, first["access_token"]).status_code == 200

    replay = flow.token_request(client, code)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert userinfo(client, first["access_token"]).status_code == 401
    assert flow.refresh(client, first["refresh_token"]).json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()
    assert UsedAuthorizationCode.objects.get().replayed_at is not None
    assert code not in UsedAuthorizationCode.objects.get().code_hash  # kept as a keyed hash


def test_expired_access_token_is_refused_by_userinfo(client, user, flow):
    tokens = flow.tokens(client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = userinfo(client, tokens["access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_access_token_in_the_query_string_is_refused(client, user, flow):
    tokens = flow.tokens(client)
    response = client.get(f"/o/userinfo/?access_token={tokens['access_token']}")
    assert response.status_code in (400, 401)


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(client, user, flow):
    tokens = flow.tokens(client)
    renewed = flow.refresh(client, tokens["refresh_token"]).json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert userinfo(client, renewed["access_token"]).status_code == 200

    replay = flow.refresh(client, tokens["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert userinfo(client, renewed["access_token"]).status_code == 401
    assert flow.refresh(client, renewed["refresh_token"]).json()["error"] == "invalid_grant"


def test_deactivated_account_cannot_refresh(client, user, flow):
    tokens = flow.tokens(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = flow.refresh(client, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_token_endpoint_accepts_client_secret_post_too(client, user, flow):
    code = flow.get_code(client)
    response = client.post(
        "/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier,
            "client_id": flow.client_id,
            "client_secret": flow.secret,
        },
    )
    assert response.status_code == 200


def test_unknown_client_at_the_token_endpoint(client, user, flow):
    response = client.post(
        "/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        HTTP_AUTHORIZATION=basic_auth("inconnu", "secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# -- RP-initiated logout -------------------------------------------------------------------------


def test_rp_initiated_logout_ends_the_portal_session_and_returns_to_the_demarche(
    client, user, flow
):
    tokens = flow.tokens(client)
    response = client.get(
        "/o/logout/",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://demarche.example/au-revoir/",
            "state": "s1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "https://demarche.example/au-revoir/?state=s1"
    assert "_auth_user_id" not in client.session
    assert not AccessToken.objects.exists()
    assert userinfo(client, tokens["access_token"]).status_code == 401


def test_rp_initiated_logout_refuses_an_unregistered_destination(client, user, flow):
    tokens = flow.tokens(client)
    response = client.get(
        "/o/logout/",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert "Déconnexion impossible" in response.content.decode()
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_without_id_token_asks_the_person(client, user, flow):
    response = client.get("/o/logout/")
    assert response.status_code == 200
    assert "Se déconnecter du portail ?" in response.content.decode()
    assert client.session["_auth_user_id"] == str(user.pk)
    response = client.post("/o/logout/", {"allow": "on"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_refresh_token_of_another_client_is_refused(client, user, flow, ceres_client):
    from portail.demarches.models import Demarche
    from portail.oidc.clients import register_demarche_client

    tokens = flow.tokens(client)
    other = register_demarche_client(
        actor=None,
        demarche=Demarche.objects.get(code="mon-activite-formation"),
        redirect_uris=[REDIRECT_URI],
    )
    thief = Flow(other.client_id, other.client_secret)
    assert thief.refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    # The rightful client still can.
    assert flow.refresh(client, tokens["refresh_token"]).status_code == 200


def test_expired_refresh_token_is_refused(client, user, flow, settings):
    tokens = flow.tokens(client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(hours=12, seconds=1))
    response = flow.refresh(client, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_token_whose_access_was_revoked_is_refused(client, user, flow):
    tokens = flow.tokens(client)
    AccessToken.objects.all().delete()  # e.g. revoked through /o/revoke_token/
    assert flow.refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_rotation_lost_to_a_concurrent_refresh_is_refused(user, flow, client):
    """Two refreshes validated at the same moment: the second finds the row rotated."""
    from oauthlib.common import Request
    from oauthlib.oauth2.rfc6749 import errors

    from portail.oidc.validators import PortalOAuth2Validator

    tokens = flow.tokens(client)
    validator = PortalOAuth2Validator()
    app = AccessToken.objects.get().application
    first, second = Request("/o/token/"), Request("/o/token/")
    for request in (first, second):
        request.grant_type = "refresh_token"
        request.client = app
        assert validator.validate_refresh_token(tokens["refresh_token"], app, request)
    new = {
        "access_token": "a" * 30,
        "refresh_token": "r" * 30,
        "scope": "openid",
        "expires_in": 300,
    }
    validator.save_bearer_token(dict(new), first)
    with pytest.raises(errors.InvalidGrantError):
        validator.save_bearer_token(
            {**new, "access_token": "b" * 30, "refresh_token": "s" * 30}, second
        )
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1


def test_key_rotation_keeps_tokens_of_the_retired_key_valid(client, user, flow, settings):
    from portail.oidc.keys import generate_private_key

    old_key = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    old_token = flow.tokens(client)["id_token"]
    new_key = generate_private_key()
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": new_key,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old_key],
    }

    keys = client.get("/o/.well-known/jwks.json").json()["keys"]
    assert len({k["kid"] for k in keys}) == 2
    new_token = flow.tokens(client)["id_token"]
    header = json.loads(jwt.JWT(jwt=new_token).token.objects["protected"])
    assert header["kid"] == keys[0]["kid"]  # new tokens: the new key
    assert decode_id_token(client, old_token)["sub"] == str(user.public_id)  # old ones verify
    assert decode_id_token(client, new_token)["sub"] == str(user.public_id)
