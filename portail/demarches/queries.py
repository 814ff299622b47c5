"""Read-side helpers of the démarches: the catalogue as a user sees it, and who manages what."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from portail.centres.perimeter import sirens_covering
from portail.demarches.models import Demarche
from portail.habilitations.models import Habilitation


@dataclass(frozen=True)
class Catalogue:
    held: list  # démarches the user holds a live habilitation of; `.manages` set on each
    others: list  # the other active démarches


def catalogue_for(user) -> Catalogue:
    """The active démarches split into held / others, in one query whatever their number."""
    live = Habilitation.objects.active().filter(user=user, demarche=OuterRef("pk"))
    demarches = Demarche.objects.filter(is_active=True).annotate(
        held=Exists(live), manages=Exists(live.filter(role__can_manage=True))
    )
    held, others = [], []
    for demarche in demarches:
        (held if demarche.held else others).append(demarche)
    return Catalogue(held=held, others=others)


def managing_habilitations(demarche) -> QuerySet[Habilitation]:
    return Habilitation.objects.active().filter(demarche=demarche, role__can_manage=True)


def managing_habilitations_over(demarche, establishment) -> QuerySet[Habilitation]:
    """Live managing habilitations of `demarche` whose holder may act on `establishment`.

    The converse of the perimeter rule (`portail.centres.perimeter`), which
    `portail.habilitations.scope` applies the other way: a gestionnaire manages the
    establishments of the SIREN where they hold the role, and the sites liés of a centre agréé
    of that SIREN.
    """
    return managing_habilitations(demarche).filter(
        sirens_covering(establishment, "establishment__siren")
    )


def gestionnaires_of(demarche, establishment) -> QuerySet:
    """The active accounts that manage `demarche` for `establishment` (for access requests)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(
        pk__in=managing_habilitations_over(demarche, establishment).values("user_id")
    ).order_by("pk")


def may_manage(user, demarche, establishment) -> bool:
    """May `user` decide on requests of `demarche` for `establishment`? (habilitations' scope)"""
    from portail.habilitations import scope

    return scope.may_manage(user, demarche, establishment)
