"""What the person's own ways into a démarche check first (an activation code, an access request).

The démarche may be reserved to professional accounts; the SIRET must name an establishment the
portal knows or the company registry finds, and an open one. Refusals are `Refusal`s whose
message is for the person, in French.
"""

from typing import TYPE_CHECKING

from portail.companies import registry
from portail.companies.models import Establishment
from portail.core.refusals import Refusal
from portail.demarches.models import Demarche

if TYPE_CHECKING:
    from portail.accounts.models import User

CLOSED = (
    "Cet établissement est fermé selon le répertoire des entreprises : la démarche ne peut "
    "pas être activée pour ce SIRET."
)
UNKNOWN_ESTABLISHMENT = "Ce SIRET est inconnu du répertoire des entreprises."
REGISTRY_DOWN = (
    "Le répertoire des entreprises ne répond pas pour le moment : réessayez dans quelques minutes."
)
PROFESSIONALS_ONLY = (
    "La démarche {name} est réservée aux comptes professionnels. Votre compte est un compte "
    "particulier : pour accéder à cette démarche, créez un compte professionnel avec le SIRET "
    "de votre établissement."
)


def refused_to(user: "User", demarche: Demarche) -> bool:
    """A particulier account asking for a démarche reserved to professionals."""
    return demarche.professional_only and not user.is_professional


def ensure_professional(user: "User", demarche: Demarche) -> None:
    if refused_to(user, demarche):
        raise Refusal(PROFESSIONALS_ONLY.format(name=demarche.short_label))


def resolve_establishment(siret: str) -> Establishment:
    """The Establishment of `siret`: the portal's row, else the company registry's answer."""
    establishment = Establishment.objects.filter(siret=siret).first()
    if establishment is not None:
        return establishment
    try:
        return registry.establishment_from_registry(siret)
    except registry.RegistryUnavailable as exc:
        raise Refusal(REGISTRY_DOWN, field="siret") from exc
    except registry.RegistryError as exc:
        raise Refusal(exc.message or UNKNOWN_ESTABLISHMENT, field="siret") from exc


def user_key(user: "User") -> str:
    """The person's key in the rate limits of these flows."""
    return f"user:{user.pk}"
