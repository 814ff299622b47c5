"""Revoking CERES' refresh token at the portal when the person logs out (RFC 7009).

mozilla-django-oidc keeps the ID token (the logout's hint) but not the refresh token the portal
issues with it: `KeepsRefreshToken` keeps it in the (server-side) session, `revoke_refresh_token`
revokes it at logout, so no live credential of the person outlasts the CERES session.
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest

log = logging.getLogger(__name__)

REFRESH_TOKEN_KEY = "oidc_refresh_token"  # noqa: S105 -- a session key's name


class KeepsRefreshToken:
    """Mixin of the authentication backend (before OIDCAuthenticationBackend)."""

    request: HttpRequest

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        token_info: dict[str, Any] = super().get_token(payload)  # type: ignore[misc]
        if token_info.get("refresh_token"):
            self.request.session[REFRESH_TOKEN_KEY] = token_info["refresh_token"]
        return token_info


def revoke_refresh_token(request: HttpRequest) -> None:
    """Revoke the session's refresh token; a portal out of reach does not stop the logout."""
    token = request.session.pop(REFRESH_TOKEN_KEY, None)
    if not token:
        return
    try:
        response = requests.post(
            settings.OIDC_OP_REVOCATION_ENDPOINT,
            data={"token": token, "token_type_hint": "refresh_token"},
            auth=(settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET),
            timeout=settings.OIDC_TIMEOUT,
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning("Refresh token not revoked at logout: %s", type(exc).__name__)
