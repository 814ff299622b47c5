"""A third-party client library (Authlib, not CERES' mozilla-django-oidc) against the live provider.

Everything goes over HTTP to the live server: discovery, authorization (with the person's portal
session cookie), code exchange with PKCE, ID token signature checked with the published JWKS,
userinfo, refresh.
"""

import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.test import Client
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from portail.demarches.catalogue import install_catalogue
from portail.demarches.models import Demarche, Role
from portail.oidc.clients import register_demarche_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT_URI = "http://127.0.0.1:9/callback/"  # never contacted: the test reads the redirect


@pytest.fixture
def registered(live_server):
    install_catalogue(Demarche, Role)
    return register_demarche_client(
        actor=None,
        demarche=Demarche.objects.get(code="ceres"),
        redirect_uris=[REDIRECT_URI],
    )


def portal_session_cookie(user) -> dict:
    django_client = Client()
    django_client.force_login(user)
    return {"sessionid": django_client.cookies["sessionid"].value}


def test_authlib_runs_the_code_flow_and_validates_the_id_token_with_the_jwks(
    live_server, registered
):
    user = UserFactory()
    discovery = requests.get(
        f"{live_server.url}/o/.well-known/openid-configuration", timeout=10
    ).json()
    assert discovery["issuer"] == f"{live_server.url}/o"

    # Closed at the end: a kept-alive connection would hold a live-server database connection.
    session = OAuth2Session(
        registered.client_id,
        registered.client_secret,
        scope="openid email profile habilitations",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )

    # The person's browser: already logged in to the portal, sent back at once (no consent).
    answer = requests.get(
        url, cookies=portal_session_cookie(user), allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI)

    token = session.fetch_token(
        discovery["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )

    # Validate the ID token as Authlib's OpenID client does: the JWKS, then the claims.
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    key_set = KeySet.import_key_set(jwks)
    decoded = jwt.decode(token["id_token"], key_set, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["kid"] in {k["kid"] for k in jwks["keys"]}
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [discovery["issuer"]]}},
        {"nonce": nonce, "client_id": registered.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)  # iss, aud, exp, iat, nonce, at_hash
    assert claims["sub"] == str(user.public_id)

    info = session.get(discovery["userinfo_endpoint"]).json()
    assert info["sub"] == str(user.public_id)
    assert info["email"] == user.email
    assert info["habilitations"] == []

    # A tampered ID token fails the signature check.
    head, payload, signature = token["id_token"].split(".")
    forged = ".".join(
        [head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, key_set, algorithms=["RS256"])

    # Refresh through Authlib: rotated.
    renewed = session.refresh_token(discovery["token_endpoint"])
    assert renewed["refresh_token"] != token["refresh_token"]
    session.close()
