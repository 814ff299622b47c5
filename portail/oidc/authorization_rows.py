"""The authorization's writes in plain SQL, on the plan of code_rows: the grant, how the person
signed in (`GrantAuthentication`) and the portal session behind the code (`SessionGrant`).

Every entry into a démarche starts with one authorization. Through the ORM it was three
`create()` and an existence check, each built and compiled at every request, each its own
transaction. Here: on PostgreSQL one statement (data-modifying common table expressions);
elsewhere three in a transaction. The session's link is written only when the session belongs
to the person (as session_tokens.record_authorization checks it).

The rows are those DOT's `_create_authorization_code` and the validator's own writes make
(tests/oidc/test_authorization_rows.py compares them, on SQLite and PostgreSQL), for requests
without resource indicators and with the S256 PKCE method; portail.oidc.validators goes DOT's
way otherwise.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from portail.accounts.models import UserSession
from portail.oidc.models import GrantAuthentication, SessionGrant
from portail.oidc.refresh_rows import _columns, _connection, _table, _values

Grant = get_grant_model()


@dataclass(frozen=True)
class Authorized:
    """What one authorization writes."""

    user_id: int
    application_id: int
    code: str
    code_hash: str
    expires: datetime
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    nonce: str
    claims: str  # JSON, as DOT stores it
    amr: list[str]
    acr: str
    auth_time: datetime | None
    user_session_id: uuid.UUID | None


# The new rows: column → placeholder of record()'s parameters.
_GRANT = {
    "user_id": "%(user)s",
    "code": "%(code)s",
    "application_id": "%(application)s",
    "expires": "%(expires)s",
    "redirect_uri": "%(redirect_uri)s",
    "scope": "%(scope)s",
    "created": "%(now)s",
    "updated": "%(now)s",
    "code_challenge": "%(code_challenge)s",
    "code_challenge_method": "%(code_challenge_method)s",
    "nonce": "%(nonce)s",
    "claims": "%(claims)s",
    "resource": "%(resource)s",
}
_AUTHENTICATION = {
    "grant_id": "%(grant)s",
    "amr": "%(amr)s",
    "acr": "%(acr)s",
    "auth_time": "%(auth_time)s",
}
_SESSION_GRANT = {
    "user_session_id": "%(user_session)s",
    "code_hash": "%(code_hash)s",
    "grant_id": "%(grant)s",
    "token_family": "NULL",
    "application_id": "%(application)s",
    "created_at": "%(now)s",
}


def _params(authorized: Authorized) -> dict[str, Any]:
    connection = _connection()

    def prepared(model: Any, name: str, value: Any) -> Any:
        return model._meta.get_field(name).get_db_prep_save(value, connection)

    return {
        "now": prepared(Grant, "created", timezone.now()),
        "user": authorized.user_id,
        "application": authorized.application_id,
        "code": authorized.code,
        "code_hash": authorized.code_hash,
        "expires": prepared(Grant, "expires", authorized.expires),
        "redirect_uri": authorized.redirect_uri,
        "scope": authorized.scope,
        "code_challenge": authorized.code_challenge,
        "code_challenge_method": authorized.code_challenge_method,
        "nonce": authorized.nonce,
        "claims": authorized.claims,
        "resource": prepared(Grant, "resource", []),
        "amr": prepared(GrantAuthentication, "amr", authorized.amr),
        "acr": authorized.acr,
        "auth_time": prepared(GrantAuthentication, "auth_time", authorized.auth_time),
        "user_session": prepared(SessionGrant, "user_session", authorized.user_session_id),
    }


def record(authorized: Authorized) -> None:
    """Store the grant of a new code, how the person signed in, and the session it came from."""
    connection = _connection()
    params = _params(authorized)
    with_session = authorized.user_session_id is not None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_record_in_one_statement_sql(with_session), params)
        return
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(_insert_sql(Grant, _GRANT) + returning, params)
        params["grant"] = cursor.fetchone()[0] if returning else cursor.lastrowid
        cursor.execute(_insert_sql(GrantAuthentication, _AUTHENTICATION), params)
        if with_session:
            cursor.execute(_session_grant_sql(), params)


def _insert_sql(model: Any, row: dict[str, str]) -> str:
    return f"INSERT INTO {_table(model)} ({_columns(row)}) VALUES ({_values(row)})"


def _session_is_the_persons() -> str:
    return (
        f"EXISTS (SELECT 1 FROM {_table(UserSession)}"
        " WHERE id = %(user_session)s AND user_id = %(user)s)"
    )


@cache
def _session_grant_sql() -> str:
    return (
        f"INSERT INTO {_table(SessionGrant)} ({_columns(_SESSION_GRANT)})"
        f" SELECT {_values(_SESSION_GRANT)} WHERE {_session_is_the_persons()}"
    )


@cache
def _record_in_one_statement_sql(with_session: bool) -> str:
    grant_id = {"grant_id": "new_grant.id"}
    session = (
        f", linked AS (INSERT INTO {_table(SessionGrant)} ({_columns(_SESSION_GRANT)})"
        f" SELECT {_values(_SESSION_GRANT, grant_id)} FROM new_grant"
        f" WHERE {_session_is_the_persons()})"
        if with_session
        else ""
    )
    return (
        f"WITH new_grant AS ({_insert_sql(Grant, _GRANT)} RETURNING id){session}"
        f" INSERT INTO {_table(GrantAuthentication)} ({_columns(_AUTHENTICATION)})"
        f" SELECT {_values(_AUTHENTICATION, grant_id)} FROM new_grant"
    )
