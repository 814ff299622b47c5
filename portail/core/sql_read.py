"""Reading model instances from plain SQL as the ORM would: the same columns, each value converted
from the database as the ORM converts it (SQLite's datetimes and UUIDs, JSON, booleans).

For the hot reads whose ORM queries cost more to build and compile than to run: the sign-on's
(`portail.oidc.grant_rows`, `claim_rows`), the session with its account
(`portail.accounts.session_user`) and the login's account (`accounts.models.account_columns`),
"Mes démarches"' catalogue (`portail.habilitations.catalogue`), the management page's people
(`people_rows`) and the invitation form's scope (`invitation_scope`). Each module makes its
statement's text once and keeps the converters of its columns per database: one way of
converting, here, for all of them.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections

Converter = Callable[[Any, Any, Any], Any]
Converters = list[tuple[Any, list[Converter]]]


def fields(model: Any, names: Sequence[str]) -> list[Any]:
    """The fields `names` of `model`, in the model's order (Model.from_db expects it)."""
    return [field for field in model._meta.concrete_fields if field.name in names]


def columns(alias: str, prefix: str, fields: Sequence[Any]) -> str:
    """`prefix."column", …` of `fields`, quoted for the database `alias`."""
    quote = connections[alias].ops.quote_name
    return ", ".join(f"{prefix}.{quote(field.column)}" for field in fields)


def table(alias: str, model: Any) -> str:
    return str(connections[alias].ops.quote_name(model._meta.db_table))


def converters(alias: str, fields: Sequence[Any]) -> Converters:
    """Per field, its column expression and what the ORM applies to a value read from `alias`."""
    connection = connections[alias]
    found = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        found.append(
            (
                column,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
            )
        )
    return found


def converted(alias: str, row: Sequence[Any], by_column: Converters) -> list[Any]:
    connection = connections[alias]
    values = list(row)
    for i, (column, functions) in enumerate(by_column):
        for convert in functions:
            values[i] = convert(values[i], column, connection)
    return values


def instance(alias: str, model: Any, loaded: Sequence[Any], values: Sequence[Any]) -> Any:
    """A `model` instance loaded from the database `alias`; `loaded`, its fields in the model's
    order (`fields`), the others deferred."""
    return model.from_db(alias, [field.attname for field in loaded], list(values))
