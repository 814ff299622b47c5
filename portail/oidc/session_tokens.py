"""The tokens a démarche received through a portal session end with that session.

At authorization the view passes the portal session (its `UserSession` id) to the validator,
which records it beside the code (`SessionGrant`); the code's exchange adds the refresh-token
family it issued. When the person ends the session from "Mes sessions et appareils"
(`portail.accounts.user_sessions.session_ending`, sent inside that flow's transaction), the
families are revoked (refresh and access tokens) and codes not yet exchanged are deleted.
"""

import uuid
from typing import Any

from oauth2_provider.models import get_grant_model, get_refresh_token_model

from portail.accounts.models import UserSession
from portail.oidc.models import SessionGrant

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()

CREDENTIAL = "portal_session"  # the attribute oauthlib sets on its request from our credential


def session_uuid(session_id: str | None) -> uuid.UUID | None:
    """The `UserSession` id the view passed, or None when the session has none."""
    try:
        return uuid.UUID(str(session_id))
    except ValueError:
        return None


def record_authorization(session_id: str | None, user_id: int, code_hash: str, grant: Any) -> None:
    """At authorization: the code `code_hash` (its DOT `grant`) comes from session `session_id`.

    DOT's way; portail.oidc.authorization_rows writes the same row with the grant."""
    session = session_uuid(session_id)
    if session is None:
        return
    if UserSession.objects.filter(pk=session, user_id=user_id).exists():
        SessionGrant.objects.create(
            user_session_id=session,
            code_hash=code_hash,
            grant=grant,
            application_id=grant.application_id,
        )


def record_exchange(code_hash: str, token_family: uuid.UUID | None) -> None:
    """At the code's exchange: the refresh-token family it issued."""
    if token_family:
        SessionGrant.objects.filter(code_hash=code_hash).update(token_family=token_family)


def session_of_code(code_hash: str) -> uuid.UUID | None:
    """The portal session that authorised the code (None: none recorded)."""
    found: uuid.UUID | None = (
        SessionGrant.objects.filter(code_hash=code_hash)
        .values_list("user_session_id", flat=True)
        .first()
    )
    return found


def revoke_for_sessions(sender: Any, user_sessions: list[uuid.UUID], **kwargs: Any) -> None:
    """`session_ending` receiver: revoke what the ending sessions authorised."""
    rows = list(
        SessionGrant.objects.filter(user_session_id__in=user_sessions).values_list(
            "token_family", "grant_id"
        )
    )
    for family in {family for family, _ in rows if family}:
        RefreshToken.revoke_family(family)
    Grant.objects.filter(pk__in=[grant for _, grant in rows if grant]).delete()
