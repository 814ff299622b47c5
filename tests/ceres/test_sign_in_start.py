"""An anonymous person's first CERES page sends them straight to the portal (ceres.web.sign_in):
the authorization request mozilla-django-oidc's /oidc/authenticate/ makes, its state used once,
its nonce and PKCE verifier checked, `next` kept when it stays on CERES."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401
from tests.ceres.server import CLIENT_ID
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def portal_http(user, live_server) -> requests.Session:
    from tests.ceres.fixtures import portal_session_cookie

    cookie = portal_session_cookie(user, live_server.url)
    http = requests.Session()
    http.cookies.set(cookie["name"], cookie["value"])
    return http


def authorization_query(location: str, portal_url: str) -> dict[str, str]:
    assert location.startswith(f"{portal_url}/o/authorize/?"), location
    query = parse_qs(urlsplit(location).query)
    assert all(len(values) == 1 for values in query.values())
    return {name: values[0] for name, values in query.items()}


def test_an_anonymous_page_redirects_to_the_portals_authorization(live_server, ceres):
    with requests.Session() as http:
        first = http.get(f"{ceres.url}/etablissement/", allow_redirects=False, timeout=10)
        second = http.get(f"{ceres.url}/etablissement/", allow_redirects=False, timeout=10)

    assert first.status_code == 302
    query = authorization_query(first.headers["Location"], live_server.url)
    assert query.pop("state")
    assert query.pop("nonce")
    assert query.pop("code_challenge")
    assert query == {
        "response_type": "code",
        "scope": "openid email profile phone habilitations",
        "client_id": CLIENT_ID,
        "redirect_uri": ceres.callback_url,
        "code_challenge_method": "S256",
    }
    assert "ceres_sessionid" in first.cookies
    # Each start draws its own state, nonce and verifier.
    again = authorization_query(second.headers["Location"], live_server.url)
    assert again["state"] != parse_qs(urlsplit(first.headers["Location"]).query)["state"][0]


def test_the_straight_sign_in_comes_back_to_the_page_once(live_server, ceres):
    user = UserFactory()
    portal = portal_http(user, live_server)
    with requests.Session() as http:
        start = http.get(f"{ceres.url}/etablissement/?x=1", allow_redirects=False, timeout=10)
        at_portal = portal.get(start.headers["Location"], allow_redirects=False, timeout=10)
        assert at_portal.status_code == 302
        back = at_portal.headers["Location"]
        assert back.startswith(f"{ceres.callback_url}?")
        state = authorization_query(start.headers["Location"], live_server.url)["state"]
        assert parse_qs(urlsplit(back).query)["state"] == [state]

        # The portal checked the PKCE verifier, CERES the ID token's nonce: signed in.
        callback = http.get(back, allow_redirects=False, timeout=10)
        assert callback.status_code == 302, callback.text[:500]
        assert callback.headers["Location"] == "/etablissement/?x=1"

        # The state is used once: the same answer again is refused, and signs out.
        replay = http.get(back, allow_redirects=False, timeout=10)
        assert replay.status_code == 400
        assert "Connexion impossible" in replay.text
        after = http.get(f"{ceres.url}/", allow_redirects=False, timeout=10)
        assert after.headers["Location"].startswith(f"{live_server.url}/o/authorize/?")
    assert "state not found in session" in ceres.log.read_text()


def test_a_start_at_authenticate_keeps_only_a_next_on_ceres(live_server, ceres):
    user = UserFactory()
    portal = portal_http(user, live_server)
    for next_url, landing in (("/gestion/", "/gestion/"), ("https://ailleurs.example/", "/")):
        with requests.Session() as http:
            start = http.get(
                f"{ceres.url}/oidc/authenticate/",
                params={"next": next_url},
                allow_redirects=False,
                timeout=10,
            )
            at_portal = portal.get(start.headers["Location"], allow_redirects=False, timeout=10)
            callback = http.get(at_portal.headers["Location"], allow_redirects=False, timeout=10)
            assert callback.status_code == 302
            assert callback.headers["Location"] == landing


def test_the_verifier_kept_is_the_challenges(live_server, ceres):
    """The session's verifier is the one whose S256 hash was sent: a code exchanged with
    another verifier is refused by the portal (tests/oidc), so a sign-in that succeeds proves
    it; here the challenge's form is checked (43 characters of base64url, no padding)."""
    with requests.Session() as http:
        start = http.get(f"{ceres.url}/", allow_redirects=False, timeout=10)
    challenge = authorization_query(start.headers["Location"], live_server.url)["code_challenge"]
    assert len(challenge) == 43
    assert "=" not in challenge
    assert len(base64.urlsafe_b64decode(challenge + "=")) == hashlib.sha256().digest_size
