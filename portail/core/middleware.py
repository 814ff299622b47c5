"""Request id, and the response's security headers in one layer.

Every request goes through each layer of MIDDLEWARE (a few microseconds each before any work):
the headers Django's SecurityMiddleware does not set and the Content-Security-Policy are written
by one layer, `CSPMiddleware`; the request's id is given by the outermost layer,
which also times the request (portail.metrics.middleware)."""

import functools
import re
import uuid
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from portail.core.logging import request_id_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class IdentifiedRequest(HttpRequest):
    """A request once RequestIdMiddleware has run: `id` is the id of the logs and incidents."""

    id: str


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane one from the reverse proxy) for logs and incidents.
    In MIDDLEWARE through portail.metrics.middleware, which times it: one layer for both."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: IdentifiedRequest) -> HttpResponseBase:
        # META, not `request.headers`: that builds a dict of every header, for one.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request.id
        return response


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, with the policy built once per process, and the security
    headers Django's SecurityMiddleware does not set, written just before the policy: one layer
    instead of two, the headers in the order the two layers wrote them (Django's X-Frame-Options
    stays its own layer: `check --deploy` looks for it by name). Listed before
    portail.oidc.middleware, which runs before it on the way out.

    django-csp builds the header from the settings at every response (5 % of a light page), and
    for a response exempted from it (JSON for machines, such as the token endpoint's). Here a
    response without a policy of its own (no `_csp_*` attribute, such as the authorization
    form's `_csp_update`) gets the settings' policy built once, the request's nonce put in;
    everything else goes to django-csp as before (tests/core/test_csp.py, tests/oidc/test_form_action.py)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if _signed_in(request):
            # Pages of a signed-in user hold personal data: never keep them in shared caches.
            response.setdefault("Cache-Control", "private, no-store")
        return self._csp(request, response)

    def _csp(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(response, "_csp_exempt", False):
            return response
        if settings.DEBUG or any(hasattr(response, name) for name in _OWN_POLICY):
            return super().process_response(request, response)
        nonce = getattr(request, "_csp_nonce", None)
        policy, report_only = _policies(nonce is not None)
        for header, value in ((HEADER, policy), (HEADER_REPORT_ONLY, report_only)):
            if value and header not in response:
                response[header] = value.replace(_NONCE_MARK, nonce) if nonce else value
        if nonce is None:
            # As django-csp: a nonce asked for after the header is written is an error.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


def _without_session(request: HttpRequest) -> bool:
    """No session cookie: the request's user, if not set by a login in it, is anonymous."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def _signed_in(request: HttpRequest) -> bool:
    """`request.user.is_authenticated`, without reading the user of a request that brings no
    session (a machine's): its user, still the lazy one and not read yet, can only be anonymous
    (a login in the request sets `request.user`)."""
    user = getattr(request, "user", None)
    if user is None:
        return False
    without_session = settings.SESSION_COOKIE_NAME not in request.COOKIES  # a call less
    lazy = isinstance(user, SimpleLazyObject)
    if without_session and lazy and user._wrapped is empty:
        return False  # not read yet
    return bool(user.is_authenticated)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's, looking at the view before the user for a request without a session: a view
    that needs no login (the machines' endpoints, the login form) then does not read its user.
    The answer is Django's either way; with a session, Django's order (reading the user may
    end a session whose password changed, before the view sees it)."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[object, ...],
        view_kwargs: dict[str, object],
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True) and _without_session(request):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


# A response carrying one of these has a policy of its own: django-csp builds it.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_NONCE_MARK = "\x00nonce\x00"


@functools.cache
def _policies(with_nonce: bool) -> tuple[str, str]:
    """The settings' policy and report-only policy, as django-csp builds them (the nonce a mark
    to replace), when no URL prefix is excluded from them; else django-csp's own way."""
    for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        if (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES"):
            raise ImproperlyConfigured(f"{name}: EXCLUDE_URL_PREFIXES is not supported here")
    nonce = _NONCE_MARK if with_nonce else None
    return build_policy(nonce=nonce), build_policy(nonce=nonce, report_only=True)


def _forget_policies(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _policies.cache_clear()


setting_changed.connect(_forget_policies, dispatch_uid="portail.core.middleware.csp")
