"""The person's establishments and roles as CERES shows them: the `habilitations` claim read at
sign-in (or at the last re-check), corrected by the changes the portal pushed since
(ceres.web.feed): a revoked role disappears, a changed one shows its new label, without waiting
for the next re-check or a new login."""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ceres.web.feed import roles_since

# CERES' roles (the portal's catalogue): what a role added since sign-in is called.
ROLES = {
    "centre-agree": {"label": "Centre agréé", "gestionnaire": False},
    "gestionnaire-centres": {"label": "Gestionnaire CENTRES", "gestionnaire": True},
}

Habilitation = dict[str, Any]


def claims_read_at(request: HttpRequest) -> datetime | None:
    """When the claim in the session was read: mozilla-django-oidc sets the next re-check to that
    moment plus OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS."""
    expiration = request.session.get("oidc_id_token_expiration")
    if not expiration:
        return None
    read_at = float(expiration) - settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS
    return datetime.fromtimestamp(read_at, UTC)


def _role(code: str) -> dict[str, Any]:
    known = ROLES.get(code, {"label": code, "gestionnaire": False})
    return {"code": code, **known, "ends_at": None}


def with_portal_changes(
    request: HttpRequest, habilitations: list[Habilitation]
) -> list[Habilitation]:
    read_at = claims_read_at(request)
    if read_at is None or not habilitations:
        return habilitations
    changed = roles_since(request.user.get_username(), read_at)
    if not changed:
        return habilitations
    result = []
    for entry in habilitations:
        codes = changed.get(entry.get("siret", ""))
        if codes is None:
            result.append(entry)
        elif codes:  # none left: the establishment is gone from the list
            claimed = {role["code"]: role for role in entry.get("roles", [])}
            result.append({**entry, "roles": [claimed.get(c) or _role(c) for c in codes]})
    return result
