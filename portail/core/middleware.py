"""Request id and the security headers Django does not set by itself."""

import re
import uuid
from collections.abc import Callable

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portail.core.logging import request_id_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class IdentifiedRequest(HttpRequest):
    """A request once RequestIdMiddleware has run: `id` is the id of the logs and incidents."""

    id: str


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane one from the reverse proxy) for logs and incidents."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: IdentifiedRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-Id", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request.id
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages of a signed-in user hold personal data: never keep them in shared caches.
            response.setdefault("Cache-Control", "private, no-store")
        return response


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, without building a policy for a response exempted from it (JSON
    for machines, such as the token endpoint's: 5 % of a token refresh)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(response, "_csp_exempt", False):
            return response
        return super().process_response(request, response)
