"""The habilitations the claims show, read in one plain SQL statement.

Every ID token and every userinfo answer reads them: the person's live habilitations (not
revoked, not ended: `HabilitationQuerySet.live`) in the démarche of the calling client, with
their establishment, its centre agréé and the role. Through the ORM (select_related, only, the
ordering across joins) building and compiling the query cost more than running it; here its text
is made once, the instances are those the ORM makes (the same loaded and deferred fields), and
the sites liés are prefetched by the perimeter's own Prefetch (portail.centres.perimeter).
tests/oidc/test_claim_rows.py compares the rows with `Habilitation.objects.live()`'s.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)

from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import prefetch_related_objects
from django.utils import timezone

from portail.centres.models import Centre
from portail.centres.perimeter import prefetch_linked_sites
from portail.companies.models import Establishment
from portail.core import sql_read
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation


def _habilitation_fields() -> list[Any]:
    names = ("id", "establishment", "role", "ends_at", "suspended_at", "suspension_reason")
    return sql_read.fields(Habilitation, names)


def _establishment_fields() -> list[Any]:
    names = ("id", "siret", "name", "commune", "address", "postcode")
    return sql_read.fields(Establishment, names)


def _centre_fields() -> list[Any]:
    return sql_read.fields(Centre, ("id",))  # as only() leaves it: the rest deferred


def _role_fields() -> list[Any]:
    return sql_read.fields(Role, ("id", "code", "label", "can_manage"))


@cache
def _select_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name

    def column(prefix: str, model: Any, name: str) -> str:
        return f"{prefix}.{quote(model._meta.get_field(name).column)}"

    return (
        f"SELECT {sql_read.columns(alias, 'h', _habilitation_fields())},"
        f" {sql_read.columns(alias, 'e', _establishment_fields())},"
        f" {sql_read.columns(alias, 'c', _centre_fields())},"
        f" {sql_read.columns(alias, 'r', _role_fields())}"
        f" FROM {sql_read.table(alias, Habilitation)} h"
        f" INNER JOIN {sql_read.table(alias, Demarche)} d"
        f" ON d.id = {column('h', Habilitation, 'demarche')}"
        f" INNER JOIN {sql_read.table(alias, Establishment)} e"
        f" ON e.id = {column('h', Habilitation, 'establishment')}"
        f" LEFT JOIN {sql_read.table(alias, Centre)} c"
        f" ON {column('c', Centre, 'establishment')} = e.id"
        f" INNER JOIN {sql_read.table(alias, Role)} r ON r.id = {column('h', Habilitation, 'role')}"
        f" WHERE {column('h', Habilitation, 'user')} = %s"
        f" AND {column('d', Demarche, 'oidc_client_id')} = %s"
        # HabilitationQuerySet.live(): not revoked, not ended.
        f" AND {column('h', Habilitation, 'revoked_at')} IS NULL"
        f" AND ({column('h', Habilitation, 'ends_at')} IS NULL"
        f" OR {column('h', Habilitation, 'ends_at')} > %s)"
        f" ORDER BY {column('e', Establishment, 'siret')} ASC,"
        f" {column('r', Role, 'order')} ASC, {column('r', Role, 'code')} ASC"
    )


@cache
def _converters(alias: str) -> sql_read.Converters:
    return sql_read.converters(
        alias,
        [*_habilitation_fields(), *_establishment_fields(), *_centre_fields(), *_role_fields()],
    )


def live_habilitations(user_id: int, client_id: str) -> list[Habilitation]:
    """The live habilitations of user `user_id` in the démarche of `client_id`, suspended ones
    included, each with its establishment (and centre) and role, and the centres' sites liés."""
    alias = router.db_for_read(Habilitation)
    now = connections[alias].ops.adapt_datetimefield_value(timezone.now())
    with connections[alias].cursor() as cursor:
        cursor.execute(_select_sql(alias), [user_id, client_id, now])
        rows = cursor.fetchall()
    fields = [_habilitation_fields(), _establishment_fields(), _centre_fields(), _role_fields()]
    cuts = [0]
    for group in fields:
        cuts.append(cuts[-1] + len(group))
    to_establishment = Habilitation._meta.get_field("establishment")
    to_role = Habilitation._meta.get_field("role")
    centre_of = Centre._meta.get_field("establishment")
    habilitations = []
    for row in rows:
        values = sql_read.converted(alias, row, _converters(alias))
        parts = [values[cuts[i] : cuts[i + 1]] for i in range(len(fields))]
        habilitation = sql_read.instance(alias, Habilitation, fields[0], parts[0])
        establishment = sql_read.instance(alias, Establishment, fields[1], parts[1])
        centre = (
            sql_read.instance(alias, Centre, fields[2], parts[2])
            if parts[2][0] is not None
            else None
        )
        # As select_related leaves them: the reverse one-to-one cached, even when there is none.
        centre_of.remote_field.set_cached_value(establishment, centre)
        if centre is not None:
            centre_of.set_cached_value(centre, establishment)
        to_establishment.set_cached_value(habilitation, establishment)
        to_role.set_cached_value(habilitation, sql_read.instance(alias, Role, fields[3], parts[3]))
        habilitations.append(habilitation)
    prefetch_related_objects(habilitations, prefetch_linked_sites("establishment__centre"))
    return habilitations
