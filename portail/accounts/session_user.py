"""The session and its account in one statement: every signed-in page read the session's row,
then the account its data names (two statements, each compiled by the ORM).

`read(session_key)` joins the session's row to its row of "Mes sessions et appareils"
(`UserSession`, written at login) and that row's account, in SQL written once per database
vendor; `SessionStore.load` keeps the account it found. `AuthenticationMiddleware` then takes that
account when it is the one the session's data names, through Django's ModelBackend, and checks it
exactly as `django.contrib.auth.get_user` does (an active account, the session's hash of the
password); in any other case (no index row, another backend) it is Django's `get_user`.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from portail.accounts.models import User, UserSession, account_columns
from portail.core import sql_read

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@cache
def _statement(vendor: str) -> tuple[str, list[str], sql_read.Converters]:
    """The SQL for `vendor`, the account's field names and each column's converters."""
    q = connection.ops.quote_name
    fields = User._meta.concrete_fields
    columns = ", ".join(f"u.{q(field.column)}" for field in fields)
    index = UserSession._meta
    sql = (
        f"SELECT s.{q('session_data')}, {columns}"
        f" FROM {q(Session._meta.db_table)} s"
        f" LEFT JOIN {q(index.db_table)} us"
        f" ON us.{q(index.get_field('session').column)} = s.{q('session_key')}"
        f" LEFT JOIN {q(User._meta.db_table)} u ON u.{q(User._meta.pk.column)}"
        f" = us.{q(index.get_field('user').column)}"
        f" WHERE s.{q('session_key')} = %s AND s.{q('expire_date')} > %s"
    )
    names, converters = account_columns(vendor)
    return sql, names, converters


def read(session_key: str) -> tuple[str, User | None] | None:
    """The session's data and the account it is indexed under (None: no index row), or None
    when the session does not exist or has expired."""
    sql, names, converters = _statement(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_key, now])
        row = cursor.fetchone()
    if row is None:
        return None
    data, values = row[0], list(row[1:])
    if values[names.index(User._meta.pk.attname)] is None:
        return data, None
    return data, User.from_db(
        connection.alias, names, sql_read.converted(connection.alias, values, converters)
    )


def user_of(request: HttpRequest) -> Any:
    """`django.contrib.auth.get_user`, with the account read with the session when there is one."""
    session = request.session
    try:
        user_id = session[SESSION_KEY]  # loads the session (and reads the account)
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    account = getattr(session, "account_read", None)
    if (
        account is None
        or backend_path != MODEL_BACKEND
        or backend_path not in settings.AUTHENTICATION_BACKENDS
        or str(account.pk) != str(user_id)
    ):
        return auth.get_user(request)
    user: User | None = account if ModelBackend().user_can_authenticate(account) else None
    if user is None:
        return AnonymousUser()
    # Verify the session, as django.contrib.auth.get_user does.
    session_hash = session.get(HASH_SESSION_KEY)
    session_auth_hash = user.get_session_auth_hash()
    if session_hash and constant_time_compare(session_hash, session_auth_hash):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        session.cycle_key()
        session[HASH_SESSION_KEY] = session_auth_hash
        return user
    session.flush()
    return AnonymousUser()


def _cached_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = user_of(request)  # type: ignore[attr-defined]  # Django's own cache
    return request._cached_user  # type: ignore[attr-defined]


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's, whose `request.user` takes the account read with the session."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))  # type: ignore[assignment]
