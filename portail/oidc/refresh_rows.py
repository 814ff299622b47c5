"""The refresh-token grant's reads and writes in plain SQL.

A refresh is the token endpoint's most frequent request: every démarche refreshes the tokens of
every signed-in person every few minutes. Through the ORM, building and compiling its five
statements cost more than half of the request; written out they cost a tenth of that, and on
PostgreSQL the four writes go in one statement, one round trip (bench/token_endpoint.py).

They write the rows django-oauth-toolkit's _create_access_token and _create_refresh_token would
(tests/oidc/test_refresh_rows.py compares them), for the configuration of
portail/settings/base.py; portail.oidc.validators falls back to DOT otherwise. Table names come
from the models, columns are DOT's; every value is a query parameter, prepared by its model
field for the database in use.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from portail.oidc.tokens import checksum

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
User = get_user_model()


@dataclass(frozen=True)
class LiveRefreshToken:
    """An unrevoked refresh token, with what its refresh needs to know."""

    id: int
    user_id: int
    application_id: int
    access_token_id: int | None  # None once its access token was revoked
    token_family: uuid.UUID
    resource: list[str]  # RFC 8707 resources (DOT reads them from `refresh_token_instance`)
    original_scope: str | None  # of its access token: a refresh may not widen it
    access_expires: datetime | None
    user_is_active: bool


def _connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(RefreshToken)]


def _table(model: type[models.Model]) -> str:
    return str(_connection().ops.quote_name(model._meta.db_table))


@cache
def _select_live_sql() -> str:
    # Names from the models, quoted; the checksum is a parameter.
    return (
        "SELECT r.id, r.user_id, r.application_id, r.access_token_id, r.token_family,"
        " r.resource, a.scope, a.expires, u.is_active"
        f" FROM {_table(RefreshToken)} r"
        f" LEFT JOIN {_table(AccessToken)} a ON a.id = r.access_token_id"
        f" JOIN {_table(User)} u ON u.id = r.user_id"
        " WHERE r.token_checksum = %s AND r.revoked IS NULL"
    )


def find_live(token: str) -> LiveRefreshToken | None:
    """The unrevoked refresh token `token`, or None."""
    connection = _connection()
    with connection.cursor() as cursor:
        cursor.execute(_select_live_sql(), [checksum(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, user_id, application_id, access_token_id, family, resource, scope, expires, active = row
    field = RefreshToken._meta.get_field
    if expires is not None and timezone.is_naive(expires):  # SQLite keeps UTC without offset
        expires = timezone.make_aware(expires, UTC)
    return LiveRefreshToken(
        id=pk,
        user_id=user_id,
        application_id=application_id,
        access_token_id=access_token_id,
        token_family=field("token_family").to_python(family),
        resource=field("resource").from_db_value(resource, None, connection) or [],
        original_scope=scope,
        access_expires=expires,
        user_is_active=bool(active),
    )


def _stored(raw_token: str) -> str:
    """What the `token` column keeps (see oauth2_provider.models.set_token_value)."""
    return "" if oauth2_settings.COMPLIANT_BCP_RFC9700_TOKEN_STORAGE else raw_token


# The new rows: column → value, as placeholders of rotate()'s parameters.
_NEW_ACCESS_TOKEN = {
    "user_id": "%(user)s",
    "source_refresh_token_id": "%(previous)s",
    "token": "%(access_token)s",
    "token_checksum": "%(access_checksum)s",
    "id_token_id": "NULL",  # refreshed tokens come without an ID token (validators.py)
    "application_id": "%(application)s",
    "expires": "%(expires)s",
    "scope": "%(scope)s",
    "resource": "%(resource)s",
    "created": "%(now)s",
    "updated": "%(now)s",
}
_NEW_REFRESH_TOKEN = {
    "user_id": "%(user)s",
    "token": "%(refresh_token)s",
    "token_checksum": "%(refresh_checksum)s",
    "application_id": "%(application)s",
    "access_token_id": "%(access_id)s",
    "token_family": "%(family)s",
    "resource": "%(resource)s",
    "created": "%(now)s",
    "updated": "%(now)s",
    "revoked": "NULL",
}


def _columns(row: dict[str, str]) -> str:
    return ", ".join(row)


def _values(row: dict[str, str], replaced: dict[str, str] | None = None) -> str:
    replaced = replaced or {}
    return ", ".join(replaced.get(column, value) for column, value in row.items())


def rotate(
    previous: LiveRefreshToken,
    *,
    access_token: str,
    refresh_token: str,
    scope: str,
    expires: datetime,
    resource: list[str],
) -> bool:
    """Revoke `previous` and its access token and store the new pair, all or nothing.

    False, and nothing written, when another request revoked `previous` first: the revocation
    is a test-and-set, so of two concurrent refreshes with the same token only one succeeds.
    """
    connection = _connection()
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    field = RefreshToken._meta.get_field
    params = {
        "now": now,
        "previous": previous.id,
        "previous_access": previous.access_token_id,
        "user": previous.user_id,
        "application": previous.application_id,
        "family": field("token_family").get_db_prep_value(previous.token_family, connection),
        "resource": field("resource").get_db_prep_save(resource, connection),
        "scope": scope,
        "expires": ops.adapt_datetimefield_value(expires),
        "access_token": _stored(access_token),
        "access_checksum": checksum(access_token),
        "refresh_token": _stored(refresh_token),
        "refresh_checksum": checksum(refresh_token),
    }
    if connection.vendor == "postgresql":
        # One statement, one round trip, atomic by itself: on PostgreSQL a round trip costs the
        # worker about as much CPU as the work of the statement.
        with connection.cursor() as cursor:
            cursor.execute(_rotate_in_one_statement_sql(), params)
            return cursor.fetchone() is not None
    refresh_table, access_table = _table(RefreshToken), _table(AccessToken)
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"{_revoke_sql()} WHERE id = %(previous)s AND revoked IS NULL", params)
        if cursor.rowcount != 1:
            return False
        cursor.execute(f"DELETE FROM {access_table} WHERE id = %(previous_access)s", params)
        cursor.execute(
            f"INSERT INTO {access_table} ({_columns(_NEW_ACCESS_TOKEN)})"
            f" VALUES ({_values(_NEW_ACCESS_TOKEN)}){returning}",
            params,
        )
        params["access_id"] = cursor.fetchone()[0] if returning else cursor.lastrowid
        cursor.execute(
            f"INSERT INTO {refresh_table} ({_columns(_NEW_REFRESH_TOKEN)})"
            f" VALUES ({_values(_NEW_REFRESH_TOKEN)})",
            params,
        )
    return True


def _revoke_sql() -> str:
    return (
        f"UPDATE {_table(RefreshToken)}"
        " SET revoked = %(now)s, access_token_id = NULL, updated = %(now)s"
    )


@cache
def _rotate_in_one_statement_sql() -> str:
    # The same four steps as data-modifying common table expressions. Each insert happens only
    # if the revocation did; the foreign keys are checked at the end of the statement.
    refresh_table, access_table = _table(RefreshToken), _table(AccessToken)
    return f"""
        WITH revoked AS (
            {_revoke_sql()} WHERE id = %(previous)s AND revoked IS NULL RETURNING id
        ), dropped AS (
            DELETE FROM {access_table}
            WHERE id = %(previous_access)s AND EXISTS (SELECT 1 FROM revoked)
        ), issued AS (
            INSERT INTO {access_table} ({_columns(_NEW_ACCESS_TOKEN)})
            SELECT {_values(_NEW_ACCESS_TOKEN)} FROM revoked
            RETURNING id
        )
        INSERT INTO {refresh_table} ({_columns(_NEW_REFRESH_TOKEN)})
        SELECT {_values(_NEW_REFRESH_TOKEN, {"access_token_id": "issued.id"})} FROM issued
        RETURNING id
    """
