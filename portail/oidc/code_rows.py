"""The authorization-code exchange's writes in plain SQL, on the plan of refresh_rows.

Every entry into a démarche ends with one exchange. Through DOT it wrote its rows one `save()`
at a time, each in its own transaction, and read the grant four times (27 statements). Here the
grant is read once (with its user, portail.oidc.validators) and the writes are one step: mark the
code used, delete the grant, insert the ID token, the access token and the refresh token. On
PostgreSQL they are one statement (data-modifying common table expressions), atomic by itself;
elsewhere five statements in a transaction.

The rows are those DOT's _save_id_token, _create_access_token and _create_refresh_token write
(tests/oidc/test_code_rows.py compares them, on SQLite and PostgreSQL), for the configuration
of portail/settings/base.py; portail.oidc.validators falls back to DOT otherwise.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from portail.oidc.models import GrantAuthentication, SessionGrant, UsedAuthorizationCode
from portail.oidc.refresh_rows import _columns, _connection, _stored, _table, _values
from portail.oidc.tokens import checksum

AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()


@dataclass(frozen=True)
class Issued:
    """What one exchange writes, besides the request's user and client."""

    grant_id: int
    user_id: int
    application_id: int
    code_hash: str
    jti: uuid.UUID
    id_token_expires: datetime
    scope: str
    access_token: str
    refresh_token: str
    expires: datetime
    resource: list[str]


# The new rows: column → value, as placeholders of issue()'s parameters.
_USED_CODE = {
    "code_hash": "%(code_hash)s",
    "application_id": "%(application)s",
    "user_id": "%(user)s",
    "used_at": "%(now)s",
    "token_family": "%(family)s",
    "access_token_checksum": "%(access_checksum)s",
    "id_token_jti": "%(jti)s",
    "replayed_at": "NULL",
}
_ID_TOKEN = {
    "user_id": "%(user)s",
    "jti": "%(jti)s",
    "application_id": "%(application)s",
    "expires": "%(id_token_expires)s",
    "scope": "%(scope)s",
    "created": "%(now)s",
    "updated": "%(now)s",
}
_ACCESS_TOKEN = {
    "user_id": "%(user)s",
    "source_refresh_token_id": "NULL",
    "token": "%(access_token)s",
    "token_checksum": "%(access_checksum)s",
    "id_token_id": "%(id_token_id)s",
    "application_id": "%(application)s",
    "expires": "%(expires)s",
    "scope": "%(scope)s",
    "resource": "%(resource)s",
    "created": "%(now)s",
    "updated": "%(now)s",
}
_REFRESH_TOKEN = {
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


def _params(issued: Issued, connection: BaseDatabaseWrapper) -> dict[str, Any]:
    ops = connection.ops
    field = RefreshToken._meta.get_field
    return {
        "now": ops.adapt_datetimefield_value(timezone.now()),
        "grant": issued.grant_id,
        "code_hash": issued.code_hash,
        "user": issued.user_id,
        "application": issued.application_id,
        "jti": IDToken._meta.get_field("jti").get_db_prep_value(issued.jti, connection),
        "id_token_expires": ops.adapt_datetimefield_value(issued.id_token_expires),
        "scope": issued.scope,
        "expires": ops.adapt_datetimefield_value(issued.expires),
        "resource": field("resource").get_db_prep_save(issued.resource, connection),
        "family": field("token_family").get_db_prep_value(uuid.uuid4(), connection),
        "access_token": _stored(issued.access_token),
        "access_checksum": checksum(issued.access_token),
        "refresh_token": _stored(issued.refresh_token),
        "refresh_checksum": checksum(issued.refresh_token),
    }


def issue(issued: Issued) -> bool:
    """Mark the code used, spend its grant, store the ID, access and refresh tokens.

    False, and nothing written, when the code was used already (its hash is in the used codes)
    or its grant is gone: of two concurrent exchanges of one code only one succeeds.
    """
    connection = _connection()
    params = _params(issued, connection)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_issue_in_one_statement_sql(), params)
            return cursor.fetchone() is not None
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(_insert_sql(UsedAuthorizationCode, _USED_CODE), params)
            cursor.execute(f"DELETE FROM {_table(Grant)} WHERE id = %(grant)s", params)
            if cursor.rowcount != 1:
                raise _SpentError
            cursor.execute(_grant_dependants_sql()[0], params)
            cursor.execute(_grant_dependants_sql()[1], params)
            cursor.execute(_insert_sql(IDToken, _ID_TOKEN) + returning, params)
            params["id_token_id"] = cursor.fetchone()[0] if returning else cursor.lastrowid
            cursor.execute(_insert_sql(AccessToken, _ACCESS_TOKEN) + returning, params)
            params["access_id"] = cursor.fetchone()[0] if returning else cursor.lastrowid
            cursor.execute(_insert_sql(RefreshToken, _REFRESH_TOKEN), params)
    except (_SpentError, IntegrityError):
        return False
    return True


class _SpentError(Exception):
    """The grant was deleted between its reading and the exchange's writes."""


def _insert_sql(model: Any, row: dict[str, str]) -> str:
    return f"INSERT INTO {_table(model)} ({_columns(row)}) VALUES ({_values(row)})"


@cache
def _grant_dependants_sql() -> tuple[str, str]:
    # The rows that point at the grant go with it: how the person signed in (read already, for
    # the ID token), and the portal session's record takes the refresh-token family issued
    # (portail.oidc.session_tokens: ending that session revokes it).
    return (
        f"DELETE FROM {_table(GrantAuthentication)} WHERE grant_id = %(grant)s",
        (
            f"UPDATE {_table(SessionGrant)} SET grant_id = NULL, token_family = %(family)s"
            " WHERE grant_id = %(grant)s"
        ),
    )


@cache
def _issue_in_one_statement_sql() -> str:
    # Each step happens only if the one before did: the code marked used (a second exchange of
    # the same code conflicts on its hash and writes nothing), then its grant deleted, with the
    # rows that point at it (_grant_dependants_sql).
    used_table = _table(UsedAuthorizationCode)
    return f"""
        WITH used AS (
            INSERT INTO {used_table} ({_columns(_USED_CODE)}) VALUES ({_values(_USED_CODE)})
            ON CONFLICT (code_hash) DO NOTHING
            RETURNING id
        ), spent AS (
            DELETE FROM {_table(Grant)}
            WHERE id = %(grant)s AND EXISTS (SELECT 1 FROM used)
            RETURNING id
        ), signed_in AS (
            DELETE FROM {_table(GrantAuthentication)} WHERE grant_id IN (SELECT id FROM spent)
        ), session AS (
            UPDATE {_table(SessionGrant)} SET grant_id = NULL, token_family = %(family)s
            WHERE grant_id IN (SELECT id FROM spent)
        ), id_token AS (
            INSERT INTO {_table(IDToken)} ({_columns(_ID_TOKEN)})
            SELECT {_values(_ID_TOKEN)} FROM spent
            RETURNING id
        ), access AS (
            INSERT INTO {_table(AccessToken)} ({_columns(_ACCESS_TOKEN)})
            SELECT {_values(_ACCESS_TOKEN, {"id_token_id": "id_token.id"})} FROM id_token
            RETURNING id
        )
        INSERT INTO {_table(RefreshToken)} ({_columns(_REFRESH_TOKEN)})
        SELECT {_values(_REFRESH_TOKEN, {"access_token_id": "access.id"})} FROM access
        RETURNING id
    """
