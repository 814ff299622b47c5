"""Drive the provider's code flow with Django's test client (PKCE S256, HTTP Basic client auth)."""

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

REDIRECT_URI = "https://demarche.example/oidc/callback/"
POST_LOGOUT_URI = "https://demarche.example/au-revoir/"
ALL_SCOPES = "openid profile email phone habilitations"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class Flow:
    client_id: str
    secret: str
    redirect_uri: str = REDIRECT_URI
    scope: str = ALL_SCOPES
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    verifier: str = ""
    challenge: str = ""

    def __post_init__(self):
        self.verifier, self.challenge = pkce_pair()

    def authorize_url(self, **overrides) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return "/o/authorize/?" + urlencode(params)

    def get_code(self, client, **overrides) -> str:
        response = client.get(self.authorize_url(**overrides))
        assert response.status_code == 302, response.content[:500]
        location = urlsplit(response["Location"])
        query = parse_qs(location.query)
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.redirect_uri
        assert query["state"] == [self.state]
        return query["code"][0]

    def token_request(self, client, code: str, verifier: str | None = "", **extra):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier if verifier == "" else verifier,
        }
        data.update(extra)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(
            "/o/token/",
            data=data,
            HTTP_AUTHORIZATION=basic_auth(self.client_id, self.secret),
        )

    def refresh(self, client, refresh_token: str):
        return client.post(
            "/o/token/",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            HTTP_AUTHORIZATION=basic_auth(self.client_id, self.secret),
        )

    def tokens(self, client) -> dict:
        response = self.token_request(client, self.get_code(client))
        assert response.status_code == 200, response.content
        return response.json()


def userinfo(client, access_token: str):
    return client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")
