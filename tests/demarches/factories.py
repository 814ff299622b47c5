"""Helpers to build démarche situations: a code issued for an establishment, a gestionnaire."""

from portail.demarches.codes import issue_activation_code
from portail.habilitations.models import Habilitation
from tests.factories import EstablishmentFactory, HabilitationFactory, UserFactory


def issued_code(demarche, establishment=None, **kwargs):
    """(row, clear code) for `establishment` (a new one by default)."""
    establishment = establishment or EstablishmentFactory()
    return issue_activation_code(
        actor=None, demarche=demarche, siret=establishment.siret, establishment=establishment
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
