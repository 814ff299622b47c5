"""Factories and a small world for the habilitations tests: CERES, a company with two
establishments, its gestionnaire, and one person of every other kind."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from portail.accounts.models import User
from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation
from tests.factories import (
    EstablishmentFactory,
    HabilitationFactory,
    UserFactory,
    make_siren,
    make_siret,
)


def ceres() -> tuple[Demarche, Role, Role]:
    """CERES and its two roles, whether or not the catalogue migration created them."""
    demarche, _ = Demarche.objects.get_or_create(
        code="ceres",
        defaults={
            "short_label": "CERES",
            "long_name": "Certifications Emplois",
            "service_type": "Certification professionnelle",
            "accepts_activation_codes": True,
        },
    )
    # The catalogue asks CERES' gestionnaires for a second factor; these tests are about
    # habilitations, and turn it on where the factor is their subject (test_strong_auth.py).
    if demarche.requires_mfa:
        demarche.requires_mfa = False
        demarche.save(update_fields=["requires_mfa"])
    centre, _ = Role.objects.get_or_create(
        demarche=demarche,
        code="centre-agree",
        defaults={"label": "Centre agréé", "description": "Centres de formation", "order": 10},
    )
    gestionnaire, _ = Role.objects.get_or_create(
        demarche=demarche,
        code="gestionnaire-centres",
        defaults={
            "label": "Gestionnaire CENTRES",
            "description": "Gestionnaire des comptes CENTRES",
            "can_manage": True,
            "order": 20,
        },
    )
    return demarche, centre, gestionnaire


def other_demarche() -> tuple[Demarche, Role]:
    demarche, _ = Demarche.objects.get_or_create(
        code="autre-demarche",
        defaults={"short_label": "AUTRE", "long_name": "Autre démarche", "service_type": "Test"},
    )
    manager, _ = Role.objects.get_or_create(
        demarche=demarche,
        code="gestionnaire-autre",
        defaults={"label": "Gestionnaire AUTRE", "can_manage": True},
    )
    return demarche, manager


def company(n: int, name: str = "CFI ATLANTIQUE", sites: int = 2) -> list[Establishment]:
    siren = make_siren(n)
    return [
        EstablishmentFactory(
            siren=siren, siret=make_siret(siren, i + 1), name=name, is_head_office=(i == 0)
        )
        for i in range(sites)
    ]


def person(first: str, last: str, establishment=None, **kwargs) -> User:
    fields = {"first_name": first, "last_name": last}
    if establishment is not None:
        fields.update(
            establishment=establishment,
            declared_siret=establishment.siret,
            declared_siren=establishment.siren,
            declared_company_name=establishment.name,
            establishment_verified=True,
        )
    fields.update(kwargs)
    return UserFactory(**fields)


def habilitate(user, role, establishment, **kwargs) -> Habilitation:
    return HabilitationFactory(user=user, role=role, establishment=establishment, **kwargs)


@dataclass
class World:
    demarche: Demarche
    centre_role: Role
    manager_role: Role
    head: Establishment  # the centre's SIRET
    sibling: Establishment  # another establishment of the same SIREN
    gestionnaire: User
    centre_user: User  # "Centre agréé" of the same company
    colleague: User  # same company, no habilitation yet
    foreign_head: Establishment  # another company
    foreign_gestionnaire: User
    foreign_colleague: User
    other_demarche_gestionnaire: User  # gestionnaire of another démarche, same company
    professional: User  # a professional without the démarche
    particulier: User


def build_world() -> World:
    demarche, centre_role, manager_role = ceres()
    head, sibling = company(101)
    (foreign_head,) = company(202, name="AUTRE CENTRE", sites=1)
    gestionnaire = person("Guy", "Duponttest", head, email="guy.duponttest@cfi.fr")
    habilitate(gestionnaire, manager_role, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    habilitate(gestionnaire, centre_role, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    centre_user = person("Claire", "Centre", head, email="claire.centre@cfi.fr")
    habilitate(centre_user, centre_role, head, granted_by=gestionnaire)
    colleague = person("Dominique", "Demandeur", head, email="dominique.demandeur@cfi.fr")
    foreign_gestionnaire = person("Fanny", "Ailleurs", foreign_head, email="fanny@autre.fr")
    habilitate(foreign_gestionnaire, manager_role, foreign_head)
    foreign_colleague = person("Dominique", "Dautre", foreign_head, email="dom@autre.fr")
    _other, other_manager = other_demarche()
    other_demarche_gestionnaire = person("Odile", "Autre", head, email="odile@cfi.fr")
    habilitate(other_demarche_gestionnaire, other_manager, head)
    professional = person("Paul", "Pro", email="paul.pro@exemple.fr")
    particulier = person(
        "Pia", "Particulier", email="pia@exemple.fr", account_type=User.AccountType.PARTICULIER
    )
    return World(
        demarche=demarche,
        centre_role=centre_role,
        manager_role=manager_role,
        head=head,
        sibling=sibling,
        gestionnaire=gestionnaire,
        centre_user=centre_user,
        colleague=colleague,
        foreign_head=foreign_head,
        foreign_gestionnaire=foreign_gestionnaire,
        foreign_colleague=foreign_colleague,
        other_demarche_gestionnaire=other_demarche_gestionnaire,
        professional=professional,
        particulier=particulier,
    )


def gestionnaire_of(demarche, establishment, user=None):
    """A user holding the démarche's managing role on `establishment`."""
    role = demarche.roles.filter(can_manage=True).first()
    return HabilitationFactory(
        user=user or UserFactory(with_establishment=False),
        role=role,
        establishment=establishment,
        origin=Habilitation.Origin.ACTIVATION_CODE,
    ).user


# --- The periodic access review ---


def backdate(months: int = 13) -> None:
    Habilitation.objects.update(granted_at=timezone.now() - timedelta(days=31 * months))


def item_of(review, user, role=None):
    items = review.items.filter(habilitation__user=user)
    if role is not None:
        items = items.filter(habilitation__role=role)
    return items.get()
