"""The one place that answers "may this gestionnaire act on this establishment?".

A gestionnaire of a démarche (a live habilitation whose role `can_manage`) manages the
establishments that the perimeter rule (`portail.centres.perimeter`) gives for the SIRENs where
they hold that role:
- the establishments where they hold that role;
- the other establishments of the same SIREN known to the portal (the same company);
- the sites liés of a centre agréé (`centres.Centre`) on any of those establishments.

This module holds the gestionnaire's side (their managing habilitations, their SIRENs); the
perimeter comes from `portail.centres.perimeter` only. Everything is returned as lazy query sets
built from subqueries: a view composes them into its own queries, so the number of queries does
not grow with the size of the company.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from portail.centres.perimeter import (
    establishment_ids_covered_by,
    establishment_ids_covered_sql,
    establishments_covered_by,
)
from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation, HabilitationQuerySet

if TYPE_CHECKING:
    from portail.accounts.models import User

# Whoever asks: an anonymous visitor manages nothing.


def managing_habilitations(
    user: "User | AnonymousUser", demarche: Demarche | str
) -> HabilitationQuerySet:
    """The user's live habilitations of `demarche` (a Demarche, or the code of an active one)
    that let them manage others."""
    if isinstance(user, AnonymousUser) or not getattr(user, "is_authenticated", False):
        return Habilitation.objects.none()
    if isinstance(demarche, str):
        of_demarche = Q(demarche__code=demarche, demarche__is_active=True)
    else:
        of_demarche = Q(demarche=demarche)
    return Habilitation.objects.active().filter(of_demarche, user=user, role__can_manage=True)


def managed_sirens(
    user: "User | AnonymousUser", demarche: Demarche | str
) -> QuerySet[Habilitation, str]:
    """The SIRENs of the establishments where the user holds a managing role (a values query).

    One join rather than nested subqueries: on PostgreSQL half the cost to compile and to plan
    (bench/habilitations.py)."""
    return (
        managing_habilitations(user, demarche)
        .order_by()
        .values_list("establishment__siren", flat=True)
        .distinct()
    )


def managed_siren_list(user: "User | AnonymousUser", demarche: Demarche | str) -> list[str]:
    """`managed_sirens`, evaluated."""
    return list(managed_sirens(user, demarche))


def managed_establishments(
    user: "User | AnonymousUser", demarche: Demarche | str
) -> QuerySet[Establishment]:
    """The establishments on which `user` may manage habilitations of `demarche`."""
    return establishments_covered_by(managed_sirens(user, demarche))


def managed_establishment_ids(user: "User | AnonymousUser", demarche: Demarche | str) -> list[int]:
    """The ids of `managed_establishments`, sorted: for a Demarche, in one plain statement (the
    SIRENs, then the UNION of the establishments of those SIRENs and their sites liés: an OR of
    the two defeats the indexes on PostgreSQL, 40 ms on 100,000 establishments instead of 1);
    for a démarche's code, in two indexed queries. Compiling the ORM's two cost more than
    running them on the management page; tests/habilitations/test_scope.py compares both."""
    if isinstance(demarche, str) or not getattr(user, "is_authenticated", False):
        return establishment_ids_covered_by(managed_siren_list(user, demarche))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_managed_ids_sql(connection.vendor), [now, demarche.pk, user.pk, True])
        return sorted(row[0] for row in cursor.fetchall())


@cache
def _managed_ids_sql(vendor: str) -> str:
    """The SIRENs of `managed_sirens` (active, managing, of the démarche and the person), and
    the establishments the perimeter rule gives them."""
    q = connection.ops.quote_name

    def col(model: Any, name: str) -> str:
        return str(q(model._meta.get_field(name).column))

    h = Habilitation
    sirens = (
        f"SELECT e.{q('siren')} FROM {q(h._meta.db_table)} h"
        f" INNER JOIN {q(Role._meta.db_table)} r ON r.{q('id')} = h.{col(h, 'role')}"
        f" INNER JOIN {q(Establishment._meta.db_table)} e ON e.{q('id')} = h.{col(h, 'establishment')}"
        f" WHERE h.{col(h, 'revoked_at')} IS NULL"
        f" AND (h.{col(h, 'ends_at')} IS NULL OR h.{col(h, 'ends_at')} > %s)"
        f" AND h.{col(h, 'suspended_at')} IS NULL AND h.{col(h, 'demarche')} = %s"
        f" AND h.{col(h, 'user')} = %s AND r.{col(Role, 'can_manage')} = %s"
    )
    return establishment_ids_covered_sql(sirens)


def is_gestionnaire(user: "User | AnonymousUser", demarche: Demarche | str) -> bool:
    return managing_habilitations(user, demarche).exists()


def may_manage(
    user: "User | AnonymousUser", demarche: Demarche | str, establishment: Establishment
) -> bool:
    """True when `user` may act on `establishment` for `demarche`."""
    return managed_establishments(user, demarche).filter(pk=establishment.pk).exists()
