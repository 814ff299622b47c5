"""OpenID Connect Back-Channel Logout 1.0: telling the démarches a portal session has ended.

- `sid`: each portal session (`UserSession`) has an opaque id, a keyed hash of its UUID, put in
  the ID tokens issued through it (portail.oidc.validators) and in the logout tokens;
- when a session ends (logout, "Mes sessions", an account closed: `session_ending` or Django's
  `user_logged_out`, inside that flow), every client that received a code through it and
  registered a `backchannel_logout_uri` gets a `PendingLogout` row, in the same transaction;
- the worker (`portail.core.deliveries`) POSTs each a logout token (form field `logout_token`),
  a JWT signed (RS256, `typ: logout+jwt`) with the ID-token key: `iss`, `aud`, `iat`, a short
  `exp`, a fresh `jti`, `sub`, `sid` and the `events` claim, never a `nonce` (spec §2.4). A
  failure waits a growing back-off (the webhooks' settings); after BACKCHANNEL_LOGOUT_MAX_ATTEMPTS
  the row is dropped: the démarche's own re-check (10 minutes for CERES) is the safety net.
"""

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portail.accounts.models import UserSession
from portail.core.secrets import keyed_hash
from portail.oidc.models import BackchannelLogoutEndpoint, PendingLogout, SessionGrant
from portail.oidc.webhooks import SigningKey, backoff_seconds, issuer, signed_jwt, signing_key

log = logging.getLogger(__name__)

SID_PURPOSE = "oidc-session-id"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"  # noqa: S105 -- spec §2.4: tells it from an ID token
TOKEN_SECONDS = 120  # the logout token's lifetime: it is signed again at each try
BATCH = 100
_session = requests.Session()


def session_id(user_session: uuid.UUID | str) -> str:
    """The `sid` of a portal session: opaque, the same in its ID tokens and its logout tokens."""
    return keyed_hash(str(user_session), SID_PURPOSE)[:32]


def queue_for_sessions(sender: Any, user_sessions: Iterable[uuid.UUID | str], **kwargs: Any) -> int:
    """`session_ending` receiver: one pending logout per (session, client with a logout URI)."""
    return _queue(SessionGrant.objects.filter(user_session_id__in=list(user_sessions)))


def queue_for_demarche(user_id: int, client_id: str) -> int:
    """The person lost their last habilitation for the démarche of `client_id`: its sessions
    there end (every portal session that signed in to it)."""
    return _queue(
        SessionGrant.objects.filter(user_session__user_id=user_id, application__client_id=client_id)
    )


def queue_after_change(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """`post_save` receiver of `HabilitationChange` (written after the habilitation itself)."""
    from portail.habilitations.models import Habilitation  # noqa: PLC0415

    if not (created and instance.roles_before and not instance.roles_after):
        return  # a grant or a role change: still habilitated there
    client_id = instance.demarche.oidc_client_id
    if not client_id:
        return
    still = Habilitation.objects.active().filter(
        user_id=instance.user_id, demarche_id=instance.demarche_id
    )
    if not still.exists():
        queue_for_demarche(instance.user_id, client_id)


def _queue(grants: Any) -> int:
    rows = (
        grants.filter(application__isnull=False)
        .values_list("user_session_id", "user_session__user__public_id", "application_id")
        .distinct()
    )
    wanted = {(session_id(s), str(sub), app) for s, sub, app in rows}
    if not wanted:
        return 0
    apps = {app for _, _, app in wanted}
    listening = set(
        BackchannelLogoutEndpoint.objects.filter(application_id__in=apps).values_list(
            "application_id", flat=True
        )
    )
    # Not twice the same (an account closed: its habilitations end, then its sessions).
    waiting = set(
        PendingLogout.objects.filter(
            application_id__in=apps, sid__in={sid for sid, _, _ in wanted}, attempts=0
        ).values_list("sid", "application_id")
    )
    pending = [
        PendingLogout(application_id=app, sub=sub, sid=sid)
        for sid, sub, app in sorted(wanted)
        if app in listening and (sid, app) not in waiting
    ]
    PendingLogout.objects.bulk_create(pending)
    return len(pending)


def queue_at_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """`user_logged_out` receiver (before Django flushes the session and its index row)."""
    from portail.accounts.user_sessions import USER_SESSION_KEY  # noqa: PLC0415

    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    ids = list(UserSession.objects.filter(session_id=key).values_list("pk", flat=True))
    if ids:
        queue_for_sessions(UserSession, ids)
    elif session is not None and session.get(USER_SESSION_KEY):
        queue_for_sessions(UserSession, [session[USER_SESSION_KEY]])


def logout_token(
    client_id: str, sub: str, sid: str, key: SigningKey | None = None, now: int | None = None
) -> str:
    iat = int(now if now is not None else time.time())
    claims = {
        "iss": issuer(),
        "aud": client_id,
        "iat": iat,
        "exp": iat + TOKEN_SECONDS,
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "sid": sid,
        "events": {EVENT: {}},
    }
    return signed_jwt(claims, key or signing_key(), typ=TOKEN_TYPE)


def _post(url: str, token: str) -> str:
    """ "" when acknowledged (2xx), else why not."""
    try:
        response = _session.post(
            url,
            data={"logout_token": token},
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    if 200 <= response.status_code < 300:
        return ""
    return f"HTTP {response.status_code}"


def _claim(pk: int) -> bool:
    """Push the row's next try forward first: two workers never send it at once."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT * 2 + 5)
    return bool(PendingLogout.objects.due(now).filter(pk=pk).update(next_attempt_at=lease))


def deliver_logouts() -> dict[str, int]:
    """One pass: {"delivered": n, "failed": n, "dropped": n}."""
    counts = {"delivered": 0, "failed": 0, "dropped": 0}
    due = list(
        PendingLogout.objects.due(timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    key: SigningKey | None = None
    for pk in due:
        if not _claim(pk):
            continue
        row = PendingLogout.objects.select_related("application").filter(pk=pk).first()
        uri = (
            BackchannelLogoutEndpoint.objects.filter(application_id=row.application_id)
            .values_list("uri", flat=True)
            .first()
            if row
            else None
        )
        if row is None or uri is None:  # the client no longer listens
            PendingLogout.objects.filter(pk=pk).delete()
            continue
        key = key or signing_key()
        error = _post(uri, logout_token(row.application.client_id, row.sub, row.sid, key))
        if not error:
            PendingLogout.objects.filter(pk=pk).delete()
            counts["delivered"] += 1
            continue
        attempts = row.attempts + 1
        if attempts >= settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS:
            PendingLogout.objects.filter(pk=pk).delete()
            counts["dropped"] += 1
            log.warning(
                "Logout for client %s dropped after %s tries: %s",
                row.application_id,
                attempts,
                error,
            )
            continue
        PendingLogout.objects.filter(pk=pk).update(
            attempts=attempts,
            last_error=error[:200],
            next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
        )
        counts["failed"] += 1
        log.warning(
            "Logout for client %s not delivered (try %s): %s", row.application_id, attempts, error
        )
    return counts


def set_endpoint(application: Any, uri: str) -> None:
    """Set (or, with "", remove) the client's `backchannel_logout_uri`."""
    with transaction.atomic():
        if uri:
            BackchannelLogoutEndpoint.objects.update_or_create(
                application=application, defaults={"uri": uri}
            )
        else:
            BackchannelLogoutEndpoint.objects.filter(application=application).delete()
