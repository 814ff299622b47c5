"""Authenticating a démarche's client outside the token endpoint (introspection, the feed).

The same rules as the token endpoint: HTTP Basic (preferred) or client_secret_post, checked by
the portal's validator (keyed hash of the secret, the client cache).
"""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.common import Request


def authenticated_client(request: HttpRequest) -> Any:
    """DOT's Application of the client that authenticated this request, or None."""
    core = get_oauthlib_core()
    body = urlencode(core.extract_body(request)) if request.method == "POST" else ""
    oauth_request = Request(
        request.build_absolute_uri(), request.method, body, core.extract_headers(request)
    )
    if not core.server.request_validator.authenticate_client(oauth_request):
        return None
    return oauth_request.client


def invalid_client() -> JsonResponse:
    """RFC 6749 §5.2: 401 with the scheme the client should use."""
    response = JsonResponse(
        {"error": "invalid_client", "error_description": "Client authentication failed."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Basic realm="portail"'
    response["Cache-Control"] = "no-store"
    return response
