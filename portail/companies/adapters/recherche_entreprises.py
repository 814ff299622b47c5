"""API Recherche d'entreprises (open, no token): `GET /search?q=<siret>`.

The answer lists companies (`results`), each with its name (`nom_raison_sociale`, or `nom_complet`
for a person), its head office (`siege`) and the establishments matching the query
(`matching_etablissements`: `siret`, `adresse`, `code_postal`, `libelle_commune`,
`etat_administratif` A/F, `est_siege`). Over 7 requests per second it answers 429 with
`Retry-After`. `adresse` is the whole postal line ("12 QUAI DE LA FOSSE 44000 NANTES"): the
postcode and commune are cut off it.
"""

from __future__ import annotations

from typing import Any

from portail.companies import conf
from portail.companies.adapters import http
from portail.companies.models import Establishment
from portail.companies.registry import EstablishmentData, RegistryUnavailable, UnknownSiret


class RechercheEntreprisesAdapter:
    source = Establishment.Source.RECHERCHE_ENTREPRISES
    cached = True

    def fetch(self, siret: str) -> EstablishmentData:
        response = http.get(
            f"{conf.recherche_entreprises_url()}/search",
            params={"q": siret, "page": 1, "per_page": 5},
            source=self.source,
            per_second=conf.recherche_entreprises_max_rate(),
        )
        if response.status_code == 404:
            raise UnknownSiret()
        if response.status_code != 200:
            raise RegistryUnavailable(detail=f"{self.source}: HTTP {response.status_code}")
        payload = http.json_body(response, source=self.source)
        try:
            return self._parse(siret, payload)
        except (AttributeError, KeyError, TypeError) as exc:
            raise RegistryUnavailable(detail=f"{self.source}: unexpected JSON") from exc

    def _parse(self, siret: str, payload: dict[str, Any]) -> EstablishmentData:
        results = payload["results"]
        if not isinstance(results, list):
            raise TypeError("results")
        for company in results:
            candidates = list(company.get("matching_etablissements") or [])
            if company.get("siege"):
                candidates.append(company["siege"])
            for etablissement in candidates:
                if http.text(etablissement.get("siret")) == siret:
                    return self._data(siret, company, etablissement)
        raise UnknownSiret()

    def _data(
        self, siret: str, company: dict[str, Any], etablissement: dict[str, Any]
    ) -> EstablishmentData:
        postcode = http.text(etablissement.get("code_postal"))
        commune = http.text(etablissement.get("libelle_commune"))
        address = http.text(etablissement.get("adresse"))
        suffix = f"{postcode} {commune}".strip()
        if suffix and address.endswith(suffix):
            address = address[: -len(suffix)].strip(" ,")
        company_closed = http.text(company.get("etat_administratif")) == "C"
        return EstablishmentData(
            siret=siret,
            siren=http.text(company.get("siren")) or siret[:9],
            name=http.text(company.get("nom_raison_sociale"))
            or http.text(company.get("nom_complet")),
            address=address,
            postcode=postcode,
            commune=commune,
            is_head_office=bool(etablissement.get("est_siege")),
            is_active=http.text(etablissement.get("etat_administratif")) != "F"
            and not company_closed,
            source=self.source,
        )
