"""Introspection (RFC 7662) and revocation (RFC 7009): client authentication, own tokens only."""

import pytest
from oauth2_provider.models import AccessToken, RefreshToken

from portail.demarches.models import Demarche
from portail.oidc.clients import register_demarche_client
from tests.oidc.helpers import REDIRECT_URI, basic_auth, userinfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_client(ceres_client):
    other_demarche = Demarche.objects.exclude(code="ceres")[0]
    return register_demarche_client(
        actor=None, demarche=other_demarche, redirect_uris=[REDIRECT_URI]
    )


def introspect(client, registered, token, **extra):
    return client.post(
        "/o/introspect/",
        data={"token": token, **extra},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.client_secret),
    )


def revoke(client, registered, token, **extra):
    return client.post(
        "/o/revoke_token/",
        data={"token": token, **extra},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.client_secret),
    )


def test_discovery_names_introspection_and_revocation(client):
    doc = client.get("/o/.well-known/openid-configuration").json()
    assert doc["introspection_endpoint"] == "http://testserver/o/introspect/"
    assert doc["revocation_endpoint"] == "http://testserver/o/revoke_token/"
    assert doc["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    metadata = client.get("/.well-known/oauth-authorization-server/o").json()
    assert metadata["introspection_endpoint"] == "http://testserver/o/introspect/"
    assert metadata["revocation_endpoint"] == "http://testserver/o/revoke_token/"


def test_introspection_of_own_tokens(client, user, flow, ceres_client):
    tokens = flow.tokens(client)
    answer = introspect(client, ceres_client, tokens["access_token"]).json()
    assert answer["active"] is True
    assert answer["sub"] == str(user.public_id)
    assert answer["client_id"] == ceres_client.client_id
    assert "openid" in answer["scope"].split()
    assert answer["exp"] > answer["iat"]
    refresh = introspect(
        client, ceres_client, tokens["refresh_token"], token_type_hint="refresh_token"
    ).json()
    assert refresh["active"] is True
    assert refresh["token_type"] == "refresh_token"
    assert refresh["sub"] == str(user.public_id)


def test_introspection_of_another_clients_token_is_inactive(
    client, user, flow, ceres_client, other_client
):
    tokens = flow.tokens(client)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(client, other_client, token).json() == {"active": False}
    assert introspect(client, ceres_client, "inconnu").json() == {"active": False}


def test_introspection_requires_client_authentication(client, user, flow, ceres_client):
    tokens = flow.tokens(client)
    anonymous = client.post("/o/introspect/", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = client.post(
        "/o/introspect/",
        data={"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic_auth(ceres_client.client_id, "faux"),
    )
    assert wrong.status_code == 401
    # client_secret_post works too; a GET is refused (the token would sit in URLs and logs).
    posted = client.post(
        "/o/introspect/",
        data={
            "token": tokens["access_token"],
            "client_id": ceres_client.client_id,
            "client_secret": ceres_client.client_secret,
        },
    )
    assert posted.json()["active"] is True
    assert client.get("/o/introspect/", {"token": tokens["access_token"]}).status_code == 405
    missing = client.post(
        "/o/introspect/",
        HTTP_AUTHORIZATION=basic_auth(ceres_client.client_id, ceres_client.client_secret),
    )
    assert missing.status_code == 400


def test_introspection_of_a_revoked_or_closed_accounts_token_is_inactive(
    client, user, flow, ceres_client
):
    tokens = flow.tokens(client)
    assert revoke(client, ceres_client, tokens["access_token"]).status_code == 200
    assert introspect(client, ceres_client, tokens["access_token"]).json() == {"active": False}
    tokens = flow.tokens(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert introspect(client, ceres_client, tokens["access_token"]).json() == {"active": False}


def test_revocation_requires_client_authentication(client, user, flow, ceres_client):
    tokens = flow.tokens(client)
    anonymous = client.post(
        "/o/revoke_token/",
        data={"token": tokens["refresh_token"], "client_id": ceres_client.client_id},
    )
    assert anonymous.status_code == 401
    wrong = client.post(
        "/o/revoke_token/",
        data={"token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(ceres_client.client_id, "faux"),
    )
    assert wrong.status_code == 401
    assert RefreshToken.objects.get().revoked is None


def test_revocation_of_another_clients_token_changes_nothing(
    client, user, flow, ceres_client, other_client
):
    tokens = flow.tokens(client)
    # RFC 7009 §2.2: 200 all the same, without saying whether the token exists.
    assert revoke(client, other_client, tokens["refresh_token"]).status_code == 200
    assert revoke(client, other_client, tokens["access_token"]).status_code == 200
    assert RefreshToken.objects.get().revoked is None
    assert AccessToken.objects.count() == 1
    assert userinfo(client, tokens["access_token"]).status_code == 200


def test_revoking_own_refresh_token_ends_it(client, user, flow, ceres_client):
    tokens = flow.tokens(client)
    response = revoke(
        client, ceres_client, tokens["refresh_token"], token_type_hint="refresh_token"
    )
    assert response.status_code == 200
    assert RefreshToken.objects.get().revoked is not None
    assert flow.refresh(client, tokens["refresh_token"]).status_code == 400
    assert introspect(client, ceres_client, tokens["refresh_token"]).json() == {"active": False}
