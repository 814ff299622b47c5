"""OpenID Connect Back-Channel Logout 1.0, CERES' side: the portal says a session ended.

- at sign-in, the ID token's `sid` (the portal session) is kept with the CERES session key
  (`PortalSession`, written at `user_logged_in`);
- `POST /portail/deconnexion/` (form field `logout_token`) gets a JWT signed by the portal's key
  (the JWKS of the ID tokens, as the feed's events): `iss`, `aud` (our client_id), `iat`, `exp`,
  `jti` never seen before, the back-channel `events` member, `sid` or `sub`, and no `nonce`
  (spec §2.6). Anything else: 400, nothing ended;
- the CERES sessions of that `sid` (or, without one, of that `sub`) are emptied but for a mark:
  the person's next click lands on "Vous êtes déconnecté" (`SignedOutByPortal`).

The 10-minute re-check (ceres.web.middleware) stays: a logout token lost for good is caught there.
"""

import logging
from datetime import timedelta
from functools import cache
from importlib import import_module
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from ceres.web.feed import _jwks
from ceres.web.models import PortalSession, ReceivedLogoutToken

log = logging.getLogger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
PORTAL_SID_KEY = "ceres_portal_sid"  # the ID token's `sid`, in the session until login ends
ENDED_KEY = "ceres_ended_by_portal"  # what is left of a session the portal ended

Claims = dict[str, Any]


class RejectedLogoutError(Exception):
    """Not a valid logout token of the portal for CERES, or one already used."""


def verified_logout(token: str) -> Claims:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ", "logout+jwt") != "logout+jwt":
            raise RejectedLogoutError("not a logout token (typ)")
        key = _jwks().get_signing_key_from_jwt(token)
        claims: Claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=settings.OIDC_ISSUER,
            options={"require": ["iss", "aud", "iat", "exp", "jti", "events"]},
            leeway=30,
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise RejectedLogoutError(
            f"signature or claims rejected: {exc.__class__.__name__}"
        ) from exc
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise RejectedLogoutError("no back-channel logout event")
    if "nonce" in claims:
        raise RejectedLogoutError("a nonce (an ID token, not a logout token)")
    if not (isinstance(claims.get("sid"), str) or isinstance(claims.get("sub"), str)):
        raise RejectedLogoutError("neither sid nor sub")
    return claims


def end_sessions(claims: Claims) -> int:
    """Record the `jti` (a replay is refused) and end the matching sessions. How many ended."""
    rows = PortalSession.objects.all()
    if isinstance(claims.get("sid"), str):
        rows = rows.filter(sid=claims["sid"])
    if isinstance(claims.get("sub"), str):
        rows = rows.filter(sub=claims["sub"])
    store = import_module(settings.SESSION_ENGINE).SessionStore
    try:
        with transaction.atomic():
            # A token lives minutes (`exp`): a day of jtis is more than enough to refuse replays.
            ReceivedLogoutToken.objects.filter(
                received_at__lt=timezone.now() - timedelta(days=1)
            ).delete()
            ReceivedLogoutToken.objects.create(jti=str(claims["jti"])[:100])
            keys = list(rows.values_list("session_key", flat=True))
            for key in keys:
                session = store(session_key=key)
                if session.exists(key):
                    # Emptied, not deleted: the next click says why the person is signed out.
                    session.clear()
                    session[ENDED_KEY] = True
                    session.save(must_create=False)
            rows.delete()
    except IntegrityError as exc:
        raise RejectedLogoutError("jti already used") from exc
    return len(keys)


def remember_portal_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """`user_logged_in`: the new CERES session key, with the portal session that signed it in."""
    sid = request.session.get(PORTAL_SID_KEY)
    key = request.session.session_key
    if isinstance(sid, str) and sid and key:
        connection = connections[router.db_for_write(PortalSession)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        upsert, forget = _remember_sql(connection.alias)
        # One commit for both writes (three before); inside the callback's own transaction
        # (ceres.web.views.CallbackView.login_success) without a savepoint.
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            # Insert, or update the row of that key (the key is new at every sign-in).
            cursor.execute(upsert, [sid, user.get_username(), key, now])
            # The re-check signs in again (a new key each time): rows of keys gone are
            # forgotten, in one statement whatever their number.
            cursor.execute(forget, [sid, key])


@cache
def _remember_sql(alias: str) -> tuple[str, str]:
    """The two statements of remember_portal_session, their text made once: through the ORM
    (bulk_create's upsert, a filtered delete with a subquery) building and compiling them cost
    more than running them, at every sign-in."""
    quote = connections[alias].ops.quote_name
    table = quote(PortalSession._meta.db_table)
    sessions = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    session_table = quote(sessions._meta.db_table)
    sid, sub, key, created = (quote(n) for n in ("sid", "sub", "session_key", "created_at"))
    upsert = (
        f"INSERT INTO {table} ({sid}, {sub}, {key}, {created}) VALUES (%s, %s, %s, %s)"  # noqa: S608
        f" ON CONFLICT ({key}) DO UPDATE SET {sid} = EXCLUDED.{sid}, {sub} = EXCLUDED.{sub}"
    )
    forget = (
        f"DELETE FROM {table} WHERE {sid} = %s AND {key} <> %s"  # noqa: S608
        f" AND {key} NOT IN (SELECT {quote('session_key')} FROM {session_table})"
    )
    return upsert, forget


user_logged_in.connect(remember_portal_session, dispatch_uid="ceres.web.backchannel")


class SignedOutByPortal:
    """A session the portal ended: forgotten, and the person sent to "Vous êtes déconnecté"."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.session.get(ENDED_KEY):
            request.session.flush()
            response: HttpResponse = redirect("ceres_web:logged_out")
            return response
        result: HttpResponse = self.get_response(request)
        return result
