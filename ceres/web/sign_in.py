"""A sign-in at the portal: its start (state, nonce and PKCE kept in the session, the redirect)
and its end's writes committed once (`committed_once`).

mozilla-django-oidc does this at /oidc/authenticate/, where LoginRequiredMiddleware first sends
an anonymous person: a request of its own at every entry into CERES (the middleware, a new
session). CERES' LoginRequired (ceres.web.middleware) answers that person with the redirect to
the portal itself; /oidc/authenticate/ stays for the other entries (the gestionnaire functions'
`?mfa=1`, a new sign-in after the portal's login_required). Both build the request here, as
mozilla-django-oidc's view does: the same parameters, the same session keys (`oidc_states`: state
→ nonce, PKCE verifier, time added; `oidc_login_next`), checked by the same callback (the state
used once, the nonce compared with the ID token's, the verifier sent with the code).
"""

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.utils import (
    absolutify,
    add_state_and_verifier_and_nonce_to_session,
    generate_code_challenge,
    import_from_settings,
)

from ceres.web.random_strings import random_string

Answer = TypeVar("Answer")


def _setting(name: str, *default: Any) -> Any:
    return import_from_settings(name, *default)


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` if it stays on CERES (or an allowed host), else None: mozilla's get_next_url."""
    if not url:
        return None
    hosts = [*_setting("OIDC_REDIRECT_ALLOWED_HOSTS", []), request.get_host()]
    safe = url_has_allowed_host_and_scheme(
        url,
        allowed_hosts=set(hosts),
        require_https=_setting("OIDC_REDIRECT_REQUIRE_HTTPS", request.is_secure()),
    )
    return url if safe else None


def authorization_redirect(
    request: HttpRequest, next_url: str | None, extra_params: dict[str, str]
) -> HttpResponseRedirect:
    """The redirect to the portal's authorization endpoint, its state, nonce and PKCE verifier
    kept in the session (mozilla-django-oidc's OIDCAuthenticationRequestView.get)."""
    state = random_string(_setting("OIDC_STATE_SIZE", 32))
    callback = _setting("OIDC_AUTHENTICATION_CALLBACK_URL", "oidc_authentication_callback")
    params = {
        "response_type": "code",
        "scope": _setting("OIDC_RP_SCOPES", "openid email"),
        "client_id": _setting("OIDC_RP_CLIENT_ID"),
        "redirect_uri": absolutify(request, reverse(callback)),
        "state": state,
        **extra_params,
    }
    if _setting("OIDC_USE_NONCE", True):
        params["nonce"] = random_string(_setting("OIDC_NONCE_SIZE", 32))
    code_verifier = None
    if _setting("OIDC_USE_PKCE", False):
        length = _setting("OIDC_PKCE_CODE_VERIFIER_SIZE", 64)
        if not 43 <= length <= 128:  # RFC 7636 §4.1
            raise ValueError("code_verifier_length must be between 43 and 128")
        code_verifier = random_string(length)
        method = _setting("OIDC_PKCE_CODE_CHALLENGE_METHOD", "S256")
        params["code_challenge"] = generate_code_challenge(code_verifier, method)
        params["code_challenge_method"] = method
    add_state_and_verifier_and_nonce_to_session(request, state, params, code_verifier)
    request.session["oidc_login_next"] = next_url
    endpoint = _setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
    return HttpResponseRedirect(f"{endpoint}?{urlencode(params)}")


def committed_once(log_in: Callable[[], Answer]) -> Answer:
    """The end of a sign-in (the callback's `login_success`: Django's login) with its writes —
    the spent session's row, `last_login`, the index of portal sessions (ceres.web.backchannel)
    — in one transaction: one commit instead of three."""
    with transaction.atomic():
        return log_in()
