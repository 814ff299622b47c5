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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, models, router
from oauth2_provider.models import get_grant_model

from portail.oidc.models import GrantAuthentication, SessionGrant

Grant = get_grant_model()
User = get_user_model()

Converter = Callable[[Any, Any, Any], Any]


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
    return [GrantAuthentication._meta.get_field(name) for name in _AUTHENTICATION_FIELDS]


def _session_field() -> Any:
    return SessionGrant._meta.get_field("user_session")


@cache
def _select_sql(alias: str) -> str:
    ops = connections[alias].ops

    def table(model: type[models.Model]) -> str:
        return str(ops.quote_name(model._meta.db_table))

    def columns(prefix: str, fields: Sequence[Any]) -> str:
        return ", ".join(f"{prefix}.{ops.quote_name(f.column)}" for f in fields)

    return (
        f"SELECT {columns('g', _fields(Grant))}, {columns('u', _fields(User))},"
        f" {columns('a', _authentication_fields())}, s.{ops.quote_name(_session_field().column)}"
        f" FROM {table(Grant)} g"
        f" INNER JOIN {table(User)} u ON u.id = g.user_id"
        f" LEFT JOIN {table(GrantAuthentication)} a ON a.grant_id = g.id"
        f" LEFT JOIN {table(SessionGrant)} s ON s.code_hash = %s"
        " WHERE g.code = %s"
    )


@cache
def _converters(alias: str) -> list[tuple[Any, list[Converter]]]:
    """Per column, its expression and what the ORM applies to a value read from this database."""
    connection = connections[alias]
    fields = [
        *_fields(Grant),
        *_fields(User),
        *_authentication_fields(),
        _session_field(),
    ]
    converters = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        converters.append(
            (
                column,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
            )
        )
    return converters


def find(code: str, code_hash: str) -> FoundGrant | None:
    """The grant of `code` with its user, its authentication and the session of `code_hash`
    (the code's keyed hash, as SessionGrant keeps it), or None."""
    alias = router.db_for_read(Grant)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(alias), [code_hash, code])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for i, (column, converters) in enumerate(_converters(alias)):
        for convert in converters:
            values[i] = convert(values[i], column, connection)
    grant_fields, user_fields = _fields(Grant), _fields(User)
    n_grant, n_user = len(grant_fields), len(user_fields)
    grant = Grant.from_db(alias, [f.attname for f in grant_fields], values[:n_grant])
    user = User.from_db(alias, [f.attname for f in user_fields], values[n_grant : n_grant + n_user])
    Grant._meta.get_field("user").set_cached_value(grant, user)
    signed_in = values[n_grant + n_user : -1]
    authentication = None
    if signed_in[0] is not None:
        authentication = GrantAuthentication.from_db(
            alias, [f.attname for f in _authentication_fields()], signed_in
        )
    return FoundGrant(grant=grant, authentication=authentication, user_session_id=values[-1])
