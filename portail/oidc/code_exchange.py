"""The token endpoint's authorization-code exchange, its checks written out (no oauthlib dispatch).

Every entry into a démarche ends with one exchange. Through DOT and oauthlib it builds
oauthlib's request from every header, asks a dispatcher which grant type handles it, runs the
grant's validation through a dozen validator hooks, then its token handler and modifiers. Here
the successful exchange of a confidential client is done in one function, with the same
validator and the same rows (portail.oidc.code_rows):

1. the client authenticated as DOT does it (HTTP Basic, else client_secret_post; the secret's
   keyed hash compared in constant time: the validator's `authenticate_client`), allowed the
   authorization-code grant;
2. its grant found by the code (with its user, how the person signed in and the session behind
   it: grant_rows), the client's, not expired, its person active;
3. `redirect_uri` equal to the authorization's; PKCE S256: the verifier's hash equal to the
   challenge (compared in constant time);
4. the access and refresh tokens drawn, the ID token's claims made by the validator (as DOT's
   path makes them: aud, iat, nonce, at_hash, then sub, the scopes' claims, iss, exp,
   auth_time, jti, amr, acr, sid) and signed (portail.oidc.id_tokens);
5. the code marked used and its grant spent in the same step as the tokens' rows: of two
   exchanges of one code only one writes.

Anything else is DOT's: every refusal (so its RFC 6749 error bodies, status codes and headers,
and its handling of a replayed code — refused, and what the first exchange issued revoked, RFC
6749 §10.5 — are unchanged), a public client, a query string, a CORS `Origin`, a resource
indicator (RFC 8707), a code without PKCE or without the `openid` scope, an HS256 client. Nothing
is written before the answer is known to be a success, so DOT's second look sees what it would
have seen alone.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request

from portail.core.secrets import keyed_hash
from portail.oidc import code_rows, grant_rows, id_tokens

GRANT_TYPE = "authorization_code"
# The validator's purpose for the code's keyed hash (UsedAuthorizationCode, SessionGrant).
CODE_PURPOSE = "oauth-authorization-code"


@cache
def _validator() -> Any:
    return oauth2_settings.OAUTH2_VALIDATOR_CLASS()


def _generator(name: str) -> Any:
    setting = getattr(oauth2_settings, name)
    return import_string(setting) if isinstance(setting, str) else setting


def _client_request(request: HttpRequest) -> Request:
    """oauthlib's request with what client authentication reads: the Authorization header and
    the body's client credentials (DOT's extract_body: the last value of each)."""
    body = {"grant_type": GRANT_TYPE}
    for name in ("client_id", "client_secret"):
        value = request.POST.get(name)
        if value is not None:
            body[name] = value
    headers = {}
    if "HTTP_AUTHORIZATION" in request.META:
        headers["HTTP_AUTHORIZATION"] = request.META["HTTP_AUTHORIZATION"]
    oauth_request = Request(request.build_absolute_uri(request.path), "POST", body, headers)
    oauth_request.portail_http_request = request  # the issuer is derived from it
    return oauth_request


def _pkce_s256_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(computed.encode(), challenge.encode())


def _found_grant(
    request: HttpRequest, oauth_request: Request, client: Any
) -> grant_rows.FoundGrant | None:
    """The code's grant if this exchange may go the short way, else None (DOT decides)."""
    params = request.POST
    code = params.get("code")
    redirect_uri = params.get("redirect_uri")
    verifier = params.get("code_verifier")
    if not code or not redirect_uri or not verifier:
        return None
    found = grant_rows.find(code, keyed_hash(code, CODE_PURPOSE))
    if found is None:
        return None  # unknown, or exchanged already (a replay): DOT refuses and revokes
    grant = found.grant
    if (
        grant.application_id != client.pk
        or grant.is_expired()
        or not grant.user.is_active
        or grant.code_challenge_method != "S256"
        or not grant.code_challenge
        or not _pkce_s256_matches(verifier, grant.code_challenge)
        or not grant.redirect_uri_allowed(redirect_uri)
    ):
        return None
    oauth_request.scopes = grant.scope.split(" ")
    # The validator's own gate of code_rows' exchange: an OpenID request, no resource indicator.
    if not _validator()._lean_exchange_possible(grant, oauth_request):
        return None
    return found


def answer(request: HttpRequest) -> HttpResponse | None:
    """The token response of a successful authorization-code exchange, or None: DOT answers."""
    params = request.POST
    if (
        params.get("grant_type") != GRANT_TYPE
        or request.META.get("QUERY_STRING")
        or "HTTP_ORIGIN" in request.META
        or "resource" in params
    ):
        return None
    validator = _validator()
    oauth_request = _client_request(request)
    if not validator.authenticate_client(oauth_request):
        return None
    client = oauth_request.client
    if (
        client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL
        or client.algorithm != AbstractApplication.RS256_ALGORITHM
        or not validator.validate_grant_type(client.client_id, GRANT_TYPE, client, oauth_request)
    ):
        return None
    found = _found_grant(request, oauth_request, client)
    if found is None:
        return None
    return _issued(oauth_request, found, params["code"])


def _issued(oauth_request: Request, found: grant_rows.FoundGrant, code: str) -> HttpResponse | None:
    grant = found.grant
    client = oauth_request.client
    scopes = oauth_request.scopes
    code_hash = keyed_hash(code, CODE_PURPOSE)
    # What the validator's ID-token claims read (validators.PortalOAuth2Validator).
    oauth_request.client_id = client.client_id
    oauth_request.user = grant.user
    oauth_request.code = code
    oauth_request.nonce = grant.nonce or None
    oauth_request.portail_authentication = found.authentication
    oauth_request.portal_found_grant = found
    oauth_request.lean_exchange = code_hash

    expires_in = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    token: dict[str, Any] = {
        "access_token": _generator("ACCESS_TOKEN_GENERATOR")(oauth_request),
        "expires_in": expires_in,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "refresh_token": _generator("REFRESH_TOKEN_GENERATOR")(oauth_request),
    }
    id_token: dict[str, Any] = {"aud": client.client_id, "iat": int(time.time())}
    if oauth_request.nonce is not None:
        id_token["nonce"] = oauth_request.nonce
    id_token["at_hash"] = id_tokens.access_token_hash(token["access_token"])
    claims, expiration = _validator().get_id_token_dictionary(token, None, oauth_request)
    id_token.update(claims)
    token["id_token"] = id_tokens.signed(id_token)

    issued = code_rows.Issued(
        grant_id=grant.pk,
        user_id=grant.user_id,
        application_id=client.pk,
        code_hash=code_hash,
        jti=uuid.UUID(id_token["jti"]),
        id_token_expires=expiration,
        scope=token["scope"],
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires=timezone.now() + timedelta(seconds=expires_in),
        resource=[],
    )
    if not code_rows.issue(issued):
        return None  # exchanged by another request meanwhile: DOT refuses this one and revokes
    response = HttpResponse(json.dumps(token), content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    # JSON for machines: no document, no policy to build (portail.core.middleware.CSPMiddleware).
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response
