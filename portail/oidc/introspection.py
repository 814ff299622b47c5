"""Token introspection (RFC 7662) for the démarches.

The client authenticates (RFC 7662 §2.1) and learns only about its own tokens: another client's
token, an unknown, expired or revoked one all answer `{"active": false}` alike (§2.2), so a
client cannot probe what others hold.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)

from portail.oidc.client_auth import authenticated_client, invalid_client
from portail.oidc.tokens import checksum

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

INACTIVE = {"active": False}


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _access_token(value: str, application: Any) -> dict[str, Any] | None:
    token = (
        AccessToken.objects.filter(token_checksum=checksum(value), application=application)
        .select_related("user")
        .first()
    )
    if token is None or token.is_expired() or token.user is None or not token.user.is_active:
        return None
    return {
        "active": True,
        "token_type": "Bearer",
        "scope": token.scope,
        "client_id": application.client_id,
        "sub": str(token.user.public_id),
        "iat": _timestamp(token.created),
        "exp": _timestamp(token.expires),
    }


def _refresh_token(value: str, application: Any) -> dict[str, Any] | None:
    token = (
        RefreshToken.objects.filter(
            token_checksum=checksum(value), application=application, revoked__isnull=True
        )
        .select_related("user", "access_token")
        .first()
    )
    if token is None or token.access_token is None or not token.user.is_active:
        return None
    # A refresh token dies REFRESH_TOKEN_EXPIRE_SECONDS after its access token expired (sliding).
    expires = token.access_token.expires + refresh_token_expire_timedelta()
    if expires <= timezone.now():
        return None
    return {
        "active": True,
        "token_type": "refresh_token",
        "scope": token.access_token.scope,
        "client_id": application.client_id,
        "sub": str(token.user.public_id),
        "iat": _timestamp(token.created),
        "exp": _timestamp(expires),
    }


@csrf_exempt  # a machine-to-machine endpoint authenticated by the client's credentials
@login_not_required
@require_POST
def introspect(request: HttpRequest) -> JsonResponse:
    application = authenticated_client(request)
    if application is None:
        return invalid_client()
    value = request.POST.get("token", "")
    if not value:
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "The token parameter is missing."},
            status=400,
        )
    else:
        lookups = [_access_token, _refresh_token]
        if request.POST.get("token_type_hint") == "refresh_token":
            lookups.reverse()
        answer = next(
            (found for lookup in lookups if (found := lookup(value, application))), INACTIVE
        )
        response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response
