""" "Mes sessions et appareils": every signed-in session of an account, ending them, new browsers.

- A `UserSession` row is written at login (a `user_logged_in` receiver: every way of logging in),
  its id kept in the session; its last activity is written at most once a minute
  (`UserSessionActivityMiddleware`), and it goes with its session row (logout, expiry, end: a
  cascade; `portail.accounts.session_store` follows Django's changes of key).
- Ending a session deletes its session row: that browser is logged out at its next request. The
  apps above are told first (`session_ending`): the OpenID Connect provider revokes the refresh
  tokens issued in it.
- A browser is recognised by a long-lived signed cookie holding a random token, of which each
  account keeps the keyed hash (`KnownBrowser`). A login from a browser the account does not know
  is journalled and its owner emailed, unless it is the account's first browser.

The session key itself is never shown, logged or sent in a form: pages and forms use the
`UserSession` id.
"""

import ipaddress
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from portail.accounts import user_agent
from portail.accounts.models import KnownBrowser, User, UserSession
from portail.accounts.session_store import INDEXED_KEY, SessionStore
from portail.audit.journal import record
from portail.core.context import SYSTEM, Context, context_of
from portail.core.people_middleware import is_machine_request
from portail.core.refusals import Refusal
from portail.core.secrets import keyed_hash
from portail.core.url_tag import cached_reverse
from portail.notifications.emails import queue_rendered
from portail.notifications.kept_email import render_kept

logger = logging.getLogger(__name__)

USER_SESSION_KEY = INDEXED_KEY  # the UserSession id, in the session
SEEN_KEY = "portail_session_seen_at"
SEEN_INTERVAL = 60  # seconds between two writes of the last activity
BROWSER_COOKIE = "portail_navigateur"
BROWSER_COOKIE_SALT = "portail.accounts.browser"
BROWSER_COOKIE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
BROWSER_PURPOSE = "known-browser"
EMAIL_CATEGORY = "account"

NOT_YOURS = (
    "Cette session n'existe pas ou plus (elle a peut-être déjà été fermée) : rien n'a été fermé."
)
NOT_THIS_ONE = "Pour fermer la session de ce navigateur, utilisez « Se déconnecter »."

# Sent before sessions end, inside the flow's transaction: `user_sessions`, the UserSession ids.
# portail.oidc revokes the refresh tokens issued in them and queues the démarches' logout tokens.
session_ending = Signal()


def mask_ip(ip: str | None) -> str:
    """203.0.113.xxx, 2001:db8:85a3:…: enough to recognise a place, not to find a household."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ""
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".xxx"
    return ":".join(address.exploded.split(":")[:3]) + ":…"


# --- the index of sessions ----------------------------------------------------------------------


def _describe(context: Context) -> dict[str, str]:
    agent = user_agent.parse(context.user_agent)
    return {"browser": agent.browser, "system": agent.system, "ip_masked": mask_ip(context.ip)}


def _index(request: HttpRequest, user: User) -> None:
    """Write the session's row (one INSERT; one UPDATE when it already has one, kept through
    Django's change of key by a second login in the same session)."""
    key = request.session.session_key
    if key is None:
        return
    now = timezone.now()
    described = _describe(context_of(request))
    session = request.session
    if isinstance(session, SessionStore) and session.insert_pending:
        # A new session (a login): its row and this one are inserted with the response.
        row = UserSession(id=uuid.uuid4(), user=user, started_at=now, last_seen_at=now, **described)
        session.index_once_written(row)
        session[USER_SESSION_KEY] = str(row.pk)
        session[SEEN_KEY] = int(time.time())
        return
    known = request.session.get(USER_SESSION_KEY)
    if not (
        known
        and UserSession.objects.filter(pk=known, session_id=key).update(
            user=user, last_seen_at=now, **described
        )
    ):
        row = UserSession.objects.create(
            session_id=key, user=user, started_at=now, last_seen_at=now, **described
        )
        request.session[USER_SESSION_KEY] = str(row.pk)
    request.session[SEEN_KEY] = int(time.time())


def index_session_at_login(
    sender: type[Any], request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session") and isinstance(user, User):
        _index(request, user)


user_logged_in.connect(index_session_at_login, dispatch_uid="portail.accounts.user_sessions")


class UserSessionActivityMiddleware:
    """The last activity of the signed-in session, written at most once a minute (one UPDATE).
    A session opened before the index existed gets its row then."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_request(request):  # no session: nothing to note
            return self.get_response(request)
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            seen = request.session.get(SEEN_KEY)
            now = int(time.time())
            if seen is None or now - int(seen) >= SEEN_INTERVAL:
                key = request.session.session_key
                updated = UserSession.objects.filter(session_id=key, user=user).update(
                    last_seen_at=timezone.now()
                )
                if updated:
                    request.session[SEEN_KEY] = now
                elif key and Session.objects.filter(session_key=key).exists():
                    try:
                        with transaction.atomic():
                            _index(request, user)
                    except IntegrityError:  # the session ended meanwhile: logged out next time
                        pass
        return self.get_response(request)


@dataclass(frozen=True)
class SessionLine:
    """One line of "Mes sessions et appareils"."""

    id: uuid.UUID
    browser: str
    system: str
    ip_masked: str
    started_at: Any
    last_seen_at: Any
    current: bool


def active_sessions(user: User, current_key: str | None) -> list[SessionLine]:
    """The account's live sessions, the current one first. A session still in the table but
    already dead is left out: expired, or opened before the last change of password (Django
    ends it at its next request: the hash of the password it holds no longer matches)."""
    rows = (
        UserSession.objects.filter(user=user, session__expire_date__gt=timezone.now())
        .select_related("session")
        .order_by("-last_seen_at")
    )
    password_hash = user.get_session_auth_hash()
    lines = []
    for row in rows:
        held = row.session.get_decoded().get(HASH_SESSION_KEY, "")
        if not constant_time_compare(held, password_hash):
            continue
        lines.append(
            SessionLine(
                id=row.pk,
                browser=row.browser,
                system=row.system,
                ip_masked=row.ip_masked,
                started_at=row.started_at,
                last_seen_at=row.last_seen_at,
                current=row.session_id == current_key,
            )
        )
    return sorted(lines, key=lambda line: not line.current)


# --- ending sessions (flows) --------------------------------------------------------------------


def _end(actor: User, rows: list[UserSession], context: Context) -> None:
    """Inside the caller's transaction: tell the apps above, delete, journal."""
    session_ending.send(sender=UserSession, user_sessions=[row.pk for row in rows])
    Session.objects.filter(session_key__in=[row.session_id for row in rows]).delete()
    for row in rows:
        record(
            "account.session_ended",
            actor=actor,
            target=actor,
            context=context,
            data={"session": str(row.pk), "browser": row.browser, "system": row.system},
        )
    logger.info("Account %s ended %d session(s)", actor.pk, len(rows))


def end_session(
    actor: User, session_id: uuid.UUID, *, current_key: str | None, context: Context = SYSTEM
) -> None:
    """End one session of `actor` (not the current one: that is logging out). A session of
    another account, or one already ended, is refused and nothing ends."""
    with transaction.atomic():
        row = (
            UserSession.objects.select_for_update(of=("self",))
            .filter(pk=session_id, user=actor)
            .first()
        )
        if row is None:
            raise Refusal(NOT_YOURS)
        if row.session_id == current_key:
            raise Refusal(NOT_THIS_ONE)
        _end(actor, [row], context)


def end_other_sessions(actor: User, *, current_key: str | None, context: Context = SYSTEM) -> int:
    """End every session of `actor` but the current one; how many ended."""
    with transaction.atomic():
        rows = list(
            UserSession.objects.select_for_update(of=("self",))
            .filter(user=actor)
            .exclude(session_id=current_key)
            .order_by("pk")  # one locking order for concurrent requests
        )
        if rows:
            _end(actor, rows, context)
        return len(rows)


# --- new browsers -------------------------------------------------------------------------------


def browser_token(request: HttpRequest) -> str:
    """The token of this browser's cookie, or "" (none, or not signed by us)."""
    try:
        token = request.get_signed_cookie(BROWSER_COOKIE, salt=BROWSER_COOKIE_SALT)
    except (KeyError, signing.BadSignature):
        return ""
    return token or ""


def remember_browser(response: HttpResponse, token: str) -> None:
    """Give (or renew) the browser's cookie."""
    response.set_signed_cookie(
        BROWSER_COOKIE,
        token,
        salt=BROWSER_COOKIE_SALT,
        max_age=BROWSER_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def note_login_browser(user: User, token: str, *, context: Context = SYSTEM) -> str:
    """After a login: is this browser (`token` from its cookie, "" if none) new for the account?
    Journals and emails the owner when it is, unless it is the account's first. Returns the token
    the browser keeps (a new one when it had none).

    Called by `flows.log_in` inside the login's transaction, so that the login, the browser's
    row, its journal line and its email commit together (no savepoint: nothing here fails on a
    conflict); on its own it opens its transaction."""
    if token and KnownBrowser.objects.filter(
        user=user, device_hash=keyed_hash(token, BROWSER_PURPOSE)
    ).update(last_seen_at=timezone.now()):
        return token  # a browser the account knows: one UPDATE
    token = token or secrets.token_urlsafe(32)
    now = timezone.now()
    described = _describe(context)
    with transaction.atomic(savepoint=False):
        # The same browser logging in twice at once is told once; the first browser not at all.
        if _remember(user, keyed_hash(token, BROWSER_PURPOSE), described, now):
            _tell_owner(user, now, described, context)
    return token


# The columns `_remember` writes, in the order of its parameters.
BROWSER_COLUMNS = ("user", "device_hash", "browser", "system", "first_seen_at", "last_seen_at")


@cache
def _remember_sql(vendor: str) -> str:
    """One statement for `vendor`: insert the browser unless the account has it already, and say
    whether the account has another one (the same answer before and after the insert: it leaves
    this browser out, whichever snapshot the vendor's RETURNING reads)."""
    q = connection.ops.quote_name
    table = q(KnownBrowser._meta.db_table)
    owner, device = _column("user"), _column("device_hash")
    columns = ", ".join(_column(name) for name in BROWSER_COLUMNS)
    values = ", ".join(["%s"] * len(BROWSER_COLUMNS))
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608 (values are parameters)
        f" ON CONFLICT ({owner}, {device}) DO NOTHING"
        f" RETURNING EXISTS(SELECT 1 FROM {table} o WHERE o.{owner} = %s AND o.{device} <> %s)"
    )


def _column(name: str) -> str:
    field = KnownBrowser._meta.get_field(name)
    assert isinstance(field, Field)
    return connection.ops.quote_name(field.column)


def _remember(user: User, device_hash: str, described: dict[str, str], now: datetime) -> bool:
    """Insert the browser's row (`KnownBrowser`); whether the owner is to be told: it was not
    there yet and the account has another browser."""
    at = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = [user.pk, device_hash, described["browser"], described["system"], at, at]
    with connection.cursor() as cursor:
        cursor.execute(_remember_sql(connection.vendor), [*params, user.pk, device_hash])
        row = cursor.fetchone()
    return row is not None and bool(row[0])


def _tell_owner(user: User, when: datetime, described: dict[str, str], context: Context) -> None:
    """The journal line and the email of a new browser, in the caller's transaction."""
    record(
        "account.new_browser_login",
        actor=user,
        target=user,
        context=context,
        data={"browser": described["browser"], "system": described["system"]},
    )
    template = "accounts/emails/new_browser"
    # Rendered once per process with marks for what changes (portail.notifications.kept_email):
    # the values come formatted as the templates' filters did (`date`, `default`).
    rendered = render_kept(
        template,
        {
            # Kept once reversed (portail.core.url_tag): the same two links at every login.
            "sessions_link": settings.PORTAL_BASE_URL
            + cached_reverse("accounts:sessions", [], {}, None),
            "password_link": settings.PORTAL_BASE_URL
            + cached_reverse("accounts:password_change", [], {}, None),
        },
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "when": date_filter(timezone.localtime(when), "d/m/Y à H:i"),
            "browser": described["browser"],
            "system": described["system"],
            "ip_masked": described["ip_masked"] or "inconnue",
        },
    )
    queue_rendered(template, user.email, rendered, category=EMAIL_CATEGORY)
    logger.info("Account %s logged in from a new browser", user.pk)


# Known browsers not seen for this long are forgotten (the cookie itself expires after 400 days).
BROWSER_MEMORY = timedelta(days=400)


def forget_old_browsers() -> int:
    """Housekeeping: browsers not seen for 400 days."""
    deleted, _ = KnownBrowser.objects.filter(
        last_seen_at__lt=timezone.now() - BROWSER_MEMORY
    ).delete()
    return deleted
