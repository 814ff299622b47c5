"""The invitation forms' démarche, its roles and the establishments its gestionnaire manages, in
two plain statements (the ORM took five: the démarche, the managing SIRENs, the covered ids, the
active establishments, the roles; compiling them cost more than running them).

1. the active démarche of that code, `LEFT JOIN` the person's active habilitations of it whose
   role manages, with their establishment's SIREN (`scope.managed_siren_list`), `LEFT JOIN`
   the démarche's roles (`demarche.roles.all()`, in their order);
2. the establishments those SIRENs cover (`perimeter.establishment_ids_covered_by`: the same
   companies', and the sites liés of their centres agréés), as rows.

The SQL is written once per database vendor from the models' tables; instances are built by the
ORM's `from_db` with its column converters. `tests/habilitations/test_invitation_scope.py`
compares the answer with the ORM's case by case (suspended, ended, revoked, a role that does not
manage, another démarche's, an inactive démarche, sites liés, closed establishments).
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import connection
from django.utils import timezone

from portail.centres.models import Centre, LinkedSite
from portail.companies.models import Establishment
from portail.core import sql_read
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation

if TYPE_CHECKING:
    from portail.accounts.models import User

DEMARCHE_FIELDS = [field.attname for field in Demarche._meta.concrete_fields]
ROLE_FIELDS = [field.attname for field in Role._meta.concrete_fields]
# What the invitation forms read of an establishment (the others are deferred, as `only()`),
# in the model's order of fields, which `from_db` expects.
ESTABLISHMENT_FIELDS = tuple(
    field.attname
    for field in Establishment._meta.concrete_fields
    if field.attname in {"id", "siret", "name", "commune", "is_active"}
)


def _col(model: type[Any], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@cache
def _demarche_statement(vendor: str) -> tuple[str, sql_read.Converters, sql_read.Converters]:
    """The démarche with the SIRENs where the person holds a managing role, and the démarche's
    roles, for `vendor` (a row per SIREN and role, the roles in their model's order)."""
    q = connection.ops.quote_name
    d, h, r = Demarche._meta, Habilitation._meta, Role._meta
    columns = ", ".join(f"d.{q(field.column)}" for field in d.concrete_fields)
    role_columns = ", ".join(f"dr.{q(field.column)}" for field in r.concrete_fields)
    ends_at = f"h.{_col(Habilitation, 'ends_at')}"
    sql = (
        f"SELECT {columns}, e.{_col(Establishment, 'siren')}, {role_columns}"
        f" FROM {q(d.db_table)} d"
        f" LEFT JOIN ({q(h.db_table)} h"
        f" INNER JOIN {q(r.db_table)} hr ON hr.{q('id')} = h.{_col(Habilitation, 'role')}"
        f" INNER JOIN {q(Establishment._meta.db_table)} e"
        f" ON e.{q('id')} = h.{_col(Habilitation, 'establishment')})"
        f" ON h.{_col(Habilitation, 'demarche')} = d.{q('id')}"
        f" AND h.{_col(Habilitation, 'user')} = %s AND hr.{_col(Role, 'can_manage')} = %s"
        # HabilitationQuerySet.active(): live (neither revoked nor ended) and not suspended.
        f" AND h.{_col(Habilitation, 'revoked_at')} IS NULL"
        f" AND ({ends_at} IS NULL OR {ends_at} > %s)"
        f" AND h.{_col(Habilitation, 'suspended_at')} IS NULL"
        f" LEFT JOIN {q(r.db_table)} dr ON dr.{_col(Role, 'demarche')} = d.{q('id')}"
        f" WHERE d.{_col(Demarche, 'code')} = %s AND d.{_col(Demarche, 'is_active')} = %s"
        # Role.Meta.ordering within one démarche ("demarche", "order", "label"), then the id.
        f" ORDER BY dr.{_col(Role, 'order')}, dr.{_col(Role, 'label')}, dr.{q('id')}"
    )
    return (
        sql,
        sql_read.converters(connection.alias, d.concrete_fields),
        sql_read.converters(connection.alias, r.concrete_fields),
    )


@lru_cache(maxsize=64)
def _establishments_statement(vendor: str, sirens: int) -> tuple[str, sql_read.Converters]:
    """The establishments `sirens` SIRENs cover, for `vendor`: a UNION of two indexed reads (an
    OR defeats the indexes on PostgreSQL, `perimeter.establishment_ids_covered_by`)."""
    q = connection.ops.quote_name
    table = q(Establishment._meta.db_table)
    columns = ", ".join(f"e.{_col(Establishment, name)}" for name in ESTABLISHMENT_FIELDS)
    siren, marks = _col(Establishment, "siren"), ", ".join(["%s"] * sirens)
    sql = (
        f"SELECT {columns} FROM {table} e WHERE e.{siren} IN ({marks})"
        f" UNION SELECT {columns} FROM {table} e"
        f" INNER JOIN {q(LinkedSite._meta.db_table)} s"
        f" ON s.{_col(LinkedSite, 'establishment')} = e.{q('id')}"
        f" INNER JOIN {q(Centre._meta.db_table)} c ON c.{q('id')} = s.{_col(LinkedSite, 'centre')}"
        f" INNER JOIN {table} ce ON ce.{q('id')} = c.{_col(Centre, 'establishment')}"
        f" WHERE ce.{siren} IN ({marks})"
    )
    fields = [f for f in Establishment._meta.concrete_fields if f.attname in ESTABLISHMENT_FIELDS]
    return sql, sql_read.converters(connection.alias, fields)


class ManagedScope(NamedTuple):
    """What the invitation forms read: the active démarche (None if there is none), the
    establishments the person manages in it by SIRET (none: not a gestionnaire of it; open or
    closed, the forms offer the open ones), the démarche's roles in their order."""

    demarche: Demarche | None
    establishments: list[Establishment]
    roles: list[Role]


def managed_scope(user: "User", code: str) -> ManagedScope:
    """The démarche `code`, the establishments `user` manages in it and its roles."""
    sql, converters, role_converters = _demarche_statement(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, True, now, code, True])
        rows = cursor.fetchall()
    if not rows:
        return ManagedScope(None, [], [])
    width = len(converters)
    demarche = Demarche.from_db(
        connection.alias,
        DEMARCHE_FIELDS,
        sql_read.converted(connection.alias, rows[0][:width], converters),
    )
    roles: dict[int, Role] = {}
    for row in rows:
        values = row[width + 1 :]
        if values[0] is not None and values[0] not in roles:
            roles[values[0]] = Role.from_db(
                connection.alias,
                ROLE_FIELDS,
                sql_read.converted(connection.alias, values, role_converters),
            )
    sirens = sorted({row[width] for row in rows if row[width] is not None})
    if not sirens:
        return ManagedScope(demarche, [], list(roles.values()))
    sql, establishment_converters = _establishments_statement(connection.vendor, len(sirens))
    with connection.cursor() as cursor:
        cursor.execute(sql, sirens + sirens)
        found = cursor.fetchall()
    establishments = [
        Establishment.from_db(
            connection.alias,
            ESTABLISHMENT_FIELDS,
            sql_read.converted(connection.alias, row, establishment_converters),
        )
        for row in found
    ]
    establishments.sort(key=lambda establishment: establishment.siret)
    return ManagedScope(demarche, establishments, list(roles.values()))
