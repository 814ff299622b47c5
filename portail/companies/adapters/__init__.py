"""Registry adapters. Each one has `source` (an `Establishment.Source`), `cached` (whether
`lookup` keeps its answers in `RegistryRecord`) and `fetch(siret) -> EstablishmentData`, which
raises `UnknownSiret` or `RegistryUnavailable` (see `portail.companies.registry`).
"""

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from portail.companies.conf import REGISTRY_CHOICES

if TYPE_CHECKING:  # the registry imports this package when asked for an adapter
    from portail.companies.registry import Adapter


def get_adapter(name: str) -> "Adapter":
    if name == "sirene_local":
        from portail.companies.adapters.sirene_local import SireneLocalAdapter

        return SireneLocalAdapter()
    if name == "recherche_entreprises":
        from portail.companies.adapters.recherche_entreprises import RechercheEntreprisesAdapter

        return RechercheEntreprisesAdapter()
    if name == "api_entreprise":
        from portail.companies.adapters.api_entreprise import ApiEntrepriseAdapter

        return ApiEntrepriseAdapter()
    raise ImproperlyConfigured(
        f"COMPANIES_REGISTRY must be one of {', '.join(REGISTRY_CHOICES)}, not {name!r}."
    )
