"""A trusted démarche's ordinary authorization request answered without oauthlib's dispatch.

Every entry into a démarche, and its silent re-check every ten minutes, is one authorization
request of the same shape: `response_type=code`, the client, its registered `redirect_uri`,
`scope` with `openid`, `state`, `nonce`, PKCE S256, perhaps `prompt=none`. Through DOT, oauthlib
builds its request from the escaped URL and every header, dispatches to the OpenID grant and
runs a dozen validator hooks, then the view draws the code and builds the redirect. Here that
request is checked in one function with the same validator (portail.oidc.validators) and
answered with the same rows (portail.oidc.authorization_rows) and the same redirect:

1. the query as oauthlib reads it (its alphabet, its `urldecode`), each parameter once, none
   but those above; the person signed in and active;
2. the client known (validate_client_id: the client cache), trusted (skip_authorization),
   allowed the authorization-code grant (validate_response_type);
3. `redirect_uri` absolute, one of the client's registered URIs exactly, and allowed by DOT's
   check (validate_redirect_uri);
4. the scopes with `openid`, all available to the client (validate_scopes); PKCE S256 with a
   challenge; `prompt` absent or `none` (validate_silent_login, validate_silent_authorization);
5. the code drawn (`drawn_code`: oauthlib's generate_token's alphabet and length), saved with how the person signed in and the
   portal session (the validator's save_authorization_code), the redirect with `code`, `state`
   and RFC 9207's `iss` built as oauthlib and DOT build it.

Anything else — an error of any kind, another parameter (acr_values, max_age, prompt=login,
claims, resource, ui_locales…), a client that asks consent — returns None: DOT's path answers,
unchanged. tests/oidc/test_trusted_authorization.py compares the redirects and rows with DOT's.
"""

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from django.http import HttpRequest
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request, urldecode, urlencoded
from oauthlib.oauth2.rfc6749.utils import scope_to_list
from oauthlib.uri_validate import is_absolute_uri

from portail.accounts.models import User
from portail.core.csrf_random import random_alphanumeric
from portail.oidc.code_exchange import _validator

# The parameters of the ordinary request: anything else goes DOT's way.
REQUIRED = frozenset({"response_type", "client_id", "redirect_uri", "scope", "code_challenge"})
OPTIONAL = frozenset({"state", "nonce", "code_challenge_method", "prompt"})

# oauthlib's generate_token draws its 30 characters one by one (SystemRandom.choice, 60 calls);
# the CSRF middleware's drawing gives the same: 30 characters of the same 62, each uniform.
CODE_LENGTH = 30


def _params(request: HttpRequest) -> dict[str, str] | None:
    """The query as oauthlib reads it, if it is the ordinary request's; else None."""
    query = request.META.get("QUERY_STRING", "")
    # Only oauthlib's alphabet: DOT's escaping of the query then changes nothing.
    if not set(query) <= urlencoded:
        return None
    try:
        pairs = urldecode(query)
    except ValueError:
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or not REQUIRED <= params.keys() <= REQUIRED | OPTIONAL:
        return None
    if (
        params["response_type"] != "code"
        or params.get("code_challenge_method", "plain") != "S256"
        or not params["code_challenge"]
        or params.get("prompt", "none") != "none"
    ):
        return None
    return params


def oauthlib_request(request: HttpRequest) -> Request | None:
    """oauthlib's request of an ordinary authorization by a trusted client, validated as oauthlib
    and DOT validate it, or None (DOT's path decides)."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        return None
    params = _params(request)
    if params is None:
        return None
    validator = _validator()
    oauth_request = Request(request.build_absolute_uri(request.path), "GET")
    oauth_request.user = user
    client_id = params["client_id"]
    redirect_uri = params["redirect_uri"]
    scopes = scope_to_list(params["scope"])
    oauth_request.client_id = client_id
    oauth_request.redirect_uri = redirect_uri
    oauth_request.response_type = "code"
    oauth_request.scopes = scopes
    oauth_request.state = params.get("state")
    oauth_request.nonce = params.get("nonce")
    oauth_request.prompt = params.get("prompt")
    oauth_request.code_challenge = params["code_challenge"]
    oauth_request.code_challenge_method = "S256"
    oauth_request.claims = None
    if not client_id or not validator.validate_client_id(client_id, oauth_request):
        return None
    client = oauth_request.client
    if (
        not client.skip_authorization
        or not client.allows_grant_type(AbstractApplication.GRANT_AUTHORIZATION_CODE)
        or not validator.validate_response_type(client_id, "code", client, oauth_request)
        or not is_absolute_uri(redirect_uri)
        or redirect_uri not in client.redirect_uris.split()
        or not validator.validate_redirect_uri(client_id, redirect_uri, oauth_request)
        or not scopes
        or "openid" not in scopes
        or not validator.validate_scopes(client_id, scopes, client, oauth_request)
        or not validator.is_pkce_required(client_id, oauth_request)
    ):
        return None
    if oauth_request.prompt == "none" and not (
        validator.validate_silent_login(oauth_request)
        and validator.validate_silent_authorization(oauth_request)
    ):
        return None
    return oauth_request


def drawn_code() -> str:
    """An authorization code as oauthlib's generate_token draws it: 30 characters of
    [A-Za-z0-9], each uniform, from `secrets`."""
    return random_alphanumeric(CODE_LENGTH)


def redirect_location(
    request: HttpRequest, oauth_request: Request, signed_in: dict[str, Any]
) -> str:
    """The code drawn and saved, and the démarche's redirect: code, state, iss."""
    for name, value in signed_in.items():
        setattr(oauth_request, name, value)
    code = {"code": drawn_code()}
    if oauth_request.state:
        code["state"] = oauth_request.state
    _validator().save_authorization_code(oauth_request.client_id, code, oauth_request)
    issuer = None
    if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
        issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
    return response_location(oauth_request.redirect_uri, list(code.items()), issuer)


def response_location(redirect_uri: str, params: list[tuple[str, str]], issuer: str | None) -> str:
    """oauthlib's add_params_to_uri, then DOT's _add_iss_to_redirect (RFC 9207) when `issuer`
    is given, in one parse of the URI: DOT parsed and encoded again what oauthlib had just
    encoded (parse_qsl undoes urlencode, pair for pair)."""
    parts = list(urlparse(redirect_uri))
    query = [*parse_qsl(parts[4], keep_blank_values=True), *params]
    if issuer is None:
        parts[4] = urlencode(query)
        return urlunparse(parts)
    # DOT: a single issuer, any `iss` of the registered URI dropped, in the query or fragment.
    query = [(k, v) for k, v in query if k != "iss"]
    fragment = [(k, v) for k, v in parse_qsl(parts[5], keep_blank_values=True) if k != "iss"]
    (fragment if parts[5] else query).append(("iss", issuer))
    parts[4] = urlencode(query)
    parts[5] = urlencode(fragment)
    return urlunparse(parts)
