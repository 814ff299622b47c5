"""API Entreprise v3 (DINUM; a token, granted per use): `GET /v3/insee/sirene/etablissements/{siret}`.

Authorization: `Bearer <token>`; every call states `context`, `recipient` (the SIRET of the
administration receiving the data) and `object`. The answer is `{"data": {...}, "links", "meta"}`
with `data.siret`, `data.siege_social`, `data.etat_administratif` (A/F), `data.unite_legale`
(`siren`, `etat_administratif` A/C, `personne_morale_attributs.raison_sociale`,
`personne_physique_attributs.prenom_usuel/nom_usage/nom_naissance`) and `data.adresse`
(`numero_voie`, `indice_repetition_voie`, `type_voie`, `libelle_voie`, `complement_adresse`,
`distribution_speciale`, `code_postal`, `libelle_commune`, `libelle_commune_etranger`). An unknown
SIRET is a 404; errors come as `{"errors": [{"code", "title", "detail"}]}`.
"""

from __future__ import annotations

import logging
from typing import Any

from portail.companies import conf
from portail.companies.adapters import http
from portail.companies.models import Establishment
from portail.companies.registry import EstablishmentData, RegistryUnavailable, UnknownSiret

logger = logging.getLogger("portail.companies.registry")

CONTEXT = "Inscription au Portail de services Mes Démarches"
OBJECT = "Pré-remplissage de l'établissement d'un compte professionnel"


class ApiEntrepriseAdapter:
    source = Establishment.Source.API_ENTREPRISE
    cached = True

    def fetch(self, siret: str) -> EstablishmentData:
        token = conf.api_entreprise_token()
        if not token:
            logger.error(
                "COMPANIES_API_ENTREPRISE_TOKEN is not set: API Entreprise cannot be asked"
            )
            raise RegistryUnavailable(detail=f"{self.source}: no token")
        response = http.get(
            f"{conf.api_entreprise_url()}/v3/insee/sirene/etablissements/{siret}",
            params={
                "context": CONTEXT,
                "recipient": conf.api_entreprise_recipient(),
                "object": OBJECT,
            },
            headers={"Authorization": f"Bearer {token}"},
            source=self.source,
        )
        if response.status_code == 404:
            raise UnknownSiret()
        if response.status_code != 200:
            if response.status_code in (401, 403, 422):  # our configuration, not the person's input
                logger.error("API Entreprise refused the request: HTTP %s", response.status_code)
            raise RegistryUnavailable(detail=f"{self.source}: HTTP {response.status_code}")
        payload = http.json_body(response, source=self.source)
        try:
            return self._parse(siret, payload["data"])
        except (AttributeError, KeyError, TypeError) as exc:
            raise RegistryUnavailable(detail=f"{self.source}: unexpected JSON") from exc

    def _parse(self, siret: str, data: dict[str, Any]) -> EstablishmentData:
        if http.text(data["siret"]) != siret:
            raise KeyError("siret")
        unite = data.get("unite_legale") or {}
        morale = unite.get("personne_morale_attributs") or {}
        physique = unite.get("personne_physique_attributs") or {}
        name = http.text(morale.get("raison_sociale"))
        if not name:
            first_name = http.text(physique.get("prenom_usuel")) or http.text(
                physique.get("prenom_1")
            )
            last_name = http.text(physique.get("nom_usage")) or http.text(
                physique.get("nom_naissance")
            )
            name = " ".join(part for part in (first_name, last_name) if part)
        adresse = data.get("adresse") or {}
        street = " ".join(
            part
            for part in (
                http.text(adresse.get("numero_voie")),
                http.text(adresse.get("indice_repetition_voie")),
                http.text(adresse.get("type_voie")),
                http.text(adresse.get("libelle_voie")),
            )
            if part
        )
        address = ", ".join(
            part
            for part in (
                street,
                http.text(adresse.get("complement_adresse")),
                http.text(adresse.get("distribution_speciale")),
            )
            if part
        )
        return EstablishmentData(
            siret=siret,
            siren=http.text(unite.get("siren")) or siret[:9],
            name=name,
            address=address,
            postcode=http.text(adresse.get("code_postal")),
            commune=http.text(adresse.get("libelle_commune"))
            or http.text(adresse.get("libelle_commune_etranger")),
            is_head_office=bool(data.get("siege_social")),
            is_active=http.text(data.get("etat_administratif")) != "F"
            and http.text(unite.get("etat_administratif")) != "C",
            source=self.source,
        )
