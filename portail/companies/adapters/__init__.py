"""Registry adapters. Each one has `source` (an `Establishment.Source`), `cached` (whether
`lookup` keeps its answers in `RegistryRecord`) and `fetch(siret) -> EstablishmentData`, which
raises `UnknownSiret` or `RegistryUnavailable` (see `portail.companies.registry`).
"""

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from portail.companies.conf import REGISTRY_CHOICES

if TYPE_CHECKING:  # the registry imports this package (see get_adapter)
    from portail.companies.registry import Adapter


def get_adapter(name: str) -> "Adapter":
    # Each adapter is imported when chosen, not at the top: each one imports
    # `portail.companies.registry`, which imports this package (a cycle at import time), and only
    # the configured one is loaded (the HTTP ones bring `requests`).
    if name == "sirene_local":
        from portail.companies.adapters.sirene_local import SireneLocalAdapter  # noqa: PLC0415 (see above)

        return SireneLocalAdapter()
    if name == "recherche_entreprises":
        from portail.companies.adapters.recherche_entreprises import RechercheEntreprisesAdapter  # noqa: PLC0415 (see above)

        return RechercheEntreprisesAdapter()
    if name == "api_entreprise":
        from portail.companies.adapters.api_entreprise import ApiEntrepriseAdapter  # noqa: PLC0415 (see above)

        return ApiEntrepriseAdapter()
    raise ImproperlyConfigured(
        f"COMPANIES_REGISTRY must be one of {', '.join(REGISTRY_CHOICES)}, not {name!r}."
    )
