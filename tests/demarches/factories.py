"""Helpers to build démarche situations: a code issued for an establishment."""

from portail.demarches.codes import issue_activation_code
from tests.factories import EstablishmentFactory


def issued_code(demarche, establishment=None, **kwargs):
    """(row, clear code) for `establishment` (a new one by default)."""
    establishment = establishment or EstablishmentFactory()
    return issue_activation_code(
        actor=None, demarche=demarche, siret=establishment.siret, establishment=establishment
    )
