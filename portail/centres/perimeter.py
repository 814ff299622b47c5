"""The perimeter rule: which establishments a habilitation on a SIRET covers, and its converse.

A habilitation held on an establishment (a SIRET) covers:
- the establishments of the same SIREN known to the portal: the same company;
- the sites liés (a `LinkedSite` with an establishment) of a centre agréé of that SIREN: a centre
  answers for the sites its agrément names, even when they belong to another company.

A site lié's own SIREN widens nothing: the centre covers the site, not the site's company.

The rule is written here once. `portail.habilitations.scope` applies it to the SIRENs where a
gestionnaire holds a managing role; `portail.demarches.queries` applies its converse to find who
manages an establishment. Everything is returned as lazy query sets or filters built from
subqueries, so that callers compose them into their own queries: the number of queries does not
grow with the size of the company.
"""

# ruff: noqa: S608 (establishment_ids_covered_sql: SQL built from the models' names)
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from portail.centres.models import Centre, LinkedSite
from portail.companies.models import Establishment

# SIRENs: a list, or a values query set of SIRENs (then used as a subquery).
SirenSet = QuerySet[Any, Any] | Iterable[str]


def _linked_sites_of_centres_of(sirens: SirenSet) -> QuerySet[LinkedSite]:
    """The sites liés that are establishments, of the centres agréés of `sirens`."""
    return LinkedSite.objects.filter(
        centre__establishment__siren__in=sirens, establishment__isnull=False
    )


def establishments_covered_by(sirens: SirenSet) -> QuerySet[Establishment]:
    """The establishments that a habilitation on any of `sirens` covers.

    One query with two subqueries when `sirens` is a query set: a view may compose it further
    (filter, paginate, count) without a query per establishment."""
    linked = _linked_sites_of_centres_of(sirens).values("establishment_id")
    return Establishment.objects.filter(Q(siren__in=sirens) | Q(pk__in=linked))


def establishment_ids_covered_by(sirens: Sequence[str]) -> list[int]:
    """The ids of `establishments_covered_by(sirens)`, sorted, for SIRENs already evaluated.

    A UNION of two indexed queries (the establishments of those SIRENs, the sites liés of their
    centres) rather than the OR of `establishments_covered_by`: on PostgreSQL the OR defeats the
    indexes (40 ms on 100,000 establishments instead of 1, bench/habilitations.py)."""
    if not sirens:
        return []
    same_company = (
        Establishment.objects.filter(siren__in=sirens).order_by().values_list("pk", flat=True)
    )
    linked = (
        _linked_sites_of_centres_of(sirens).order_by().values_list("establishment_id", flat=True)
    )
    return sorted(set(same_company.union(linked)))


def establishment_ids_covered_sql(sirens: str) -> str:
    """`establishment_ids_covered_by` as one plain statement whose SIRENs are the subquery
    `sirens` (SQL selecting one column; its parameters are the statement's): for a caller that
    reads its SIRENs and the establishments they cover at once (`portail.habilitations.scope`)."""
    q = connection.ops.quote_name
    establishment, centre, site = (
        q(model._meta.db_table) for model in (Establishment, Centre, LinkedSite)
    )
    return (
        f"WITH s AS ({sirens})"
        f" SELECT e.{q('id')} FROM {establishment} e WHERE e.{q('siren')} IN (SELECT * FROM s)"
        f" UNION SELECT l.{q('establishment_id')} FROM {site} l"
        f" INNER JOIN {centre} c ON c.{q('id')} = l.{q('centre_id')}"
        f" INNER JOIN {establishment} ce ON ce.{q('id')} = c.{q('establishment_id')}"
        f" WHERE ce.{q('siren')} IN (SELECT * FROM s) AND l.{q('establishment_id')} IS NOT NULL"
    )


def sirens_covering(establishment: Establishment, siren_path: str = "siren") -> Q:
    """The converse: a filter keeping the rows whose SIREN at `siren_path` (for example
    "establishment__siren" on habilitations) covers `establishment`.

    Those SIRENs are the establishment's own and those of the centres agréés that hold it as a
    site lié. A filter rather than a query set of SIRENs, so that the caller's query keeps the
    shape it was tuned with: "SIREN = x OR SIREN IN (the centres' SIRENs)", one subquery."""
    centres_linking = LinkedSite.objects.filter(establishment=establishment).values(
        "centre__establishment__siren"
    )
    return Q(**{siren_path: establishment.siren}) | Q(**{f"{siren_path}__in": centres_linking})


def prefetch_linked_sites(centre_path: str) -> "Prefetch[str]":
    """Prefetches, in one query, the sites liés (with their establishments, in the order they were
    added) of the centres at `centre_path` (for example "establishment__centre"); read them
    with `linked_sites_of`."""
    return Prefetch(
        f"{centre_path}__sites",
        queryset=LinkedSite.objects.select_related("establishment").order_by("pk"),
    )


def linked_sites_of(establishment: Establishment) -> list[LinkedSite]:
    """The sites liés of the centre agréé on `establishment`, none when it is not a centre.

    Runs no query for what `prefetch_linked_sites` and `select_related` fetched."""
    try:
        centre = establishment.centre
    except Centre.DoesNotExist:
        return []
    if centre is None:
        return []
    return list(centre.sites.all())
