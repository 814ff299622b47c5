"""The authorization code's grant and what goes with it, read in one plain SQL statement.

The code exchange needs the grant, its user (the claims), how the person signed in
(`GrantAuthentication`: amr, acr, auth_time) and the portal session that authorised the code
(`SessionGrant`: the ID token's `sid`). Through the ORM that was three queries built and
compiled at each exchange, more CPU than running them; here one statement whose text is made
once from the models, every value a parameter, every column converted from the database as the
ORM converts it (tests/oidc/test_grant_rows.py compares the instances with the ORM's).
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, models, router
from oauth2_provider.models import get_grant_model

from portail.core import sql_read
from portail.oidc.models import GrantAuthentication, SessionGrant

Grant = get_grant_model()
User = get_user_model()


@dataclass(frozen=True)
class FoundGrant:
    """A grant (its `user` loaded), how the person signed in, the session behind the code."""

    grant: Any  # DOT's Grant
    authentication: GrantAuthentication | None
    user_session_id: uuid.UUID | None


def _fields(model: type[models.Model]) -> list[Any]:
    return list(model._meta.concrete_fields)


_AUTHENTICATION_FIELDS = ("grant", "amr", "acr", "auth_time")


def _authentication_fields() -> list[Any]:
    return sql_read.fields(GrantAuthentication, _AUTHENTICATION_FIELDS)


def _session_field() -> Any:
    return SessionGrant._meta.get_field("user_session")


@cache
def _select_sql(alias: str) -> str:
    session = sql_read.columns(alias, "s", [_session_field()])
    return (
        f"SELECT {sql_read.columns(alias, 'g', _fields(Grant))},"
        f" {sql_read.columns(alias, 'u', _fields(User))},"
        f" {sql_read.columns(alias, 'a', _authentication_fields())}, {session}"
        f" FROM {sql_read.table(alias, Grant)} g"
        f" INNER JOIN {sql_read.table(alias, User)} u ON u.id = g.user_id"
        f" LEFT JOIN {sql_read.table(alias, GrantAuthentication)} a ON a.grant_id = g.id"
        f" LEFT JOIN {sql_read.table(alias, SessionGrant)} s ON s.code_hash = %s"
        " WHERE g.code = %s"
    )


@cache
def _converters(alias: str) -> sql_read.Converters:
    fields = [*_fields(Grant), *_fields(User), *_authentication_fields(), _session_field()]
    return sql_read.converters(alias, fields)


def find(code: str, code_hash: str) -> FoundGrant | None:
    """The grant of `code` with its user, its authentication and the session of `code_hash`
    (the code's keyed hash, as SessionGrant keeps it), or None."""
    alias = router.db_for_read(Grant)
    with connections[alias].cursor() as cursor:
        cursor.execute(_select_sql(alias), [code_hash, code])
        row = cursor.fetchone()
    if row is None:
        return None
    values = sql_read.converted(alias, row, _converters(alias))
    grant_fields, user_fields = _fields(Grant), _fields(User)
    n_grant, n_user = len(grant_fields), len(user_fields)
    grant = sql_read.instance(alias, Grant, grant_fields, values[:n_grant])
    user = sql_read.instance(alias, User, user_fields, values[n_grant : n_grant + n_user])
    Grant._meta.get_field("user").set_cached_value(grant, user)
    signed_in = values[n_grant + n_user : -1]
    authentication = None
    if signed_in[0] is not None:
        authentication = sql_read.instance(
            alias, GrantAuthentication, _authentication_fields(), signed_in
        )
    return FoundGrant(grant=grant, authentication=authentication, user_session_id=values[-1])
