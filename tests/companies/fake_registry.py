"""A local HTTP server standing in for the company registry's APIs (the only faked outside thing).

`FakeRegistry.reply(path, *replies)`: the replies are served in turn to requests on `path`
(the last one again and again). A reply is `Reply(status, body, headers, delay)`; a dict body is
sent as JSON, a str body as is (for malformed JSON).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.local_http import Answer, LocalHTTPServer, Request


@dataclass
class Reply:
    status: int = 200
    body: dict | str = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict
    headers: dict
    at: float


class FakeRegistry:
    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.server = LocalHTTPServer(self.answer)

    @property
    def url(self) -> str:
        return self.server.url

    def answer(self, request: Request) -> Answer:
        url = urlsplit(request.path)
        self.requests.append(Seen(url.path, parse_qs(url.query), request.headers, time.monotonic()))
        replies = self.routes.get(url.path)
        reply = (
            (replies.pop(0) if len(replies) > 1 else replies[0])
            if replies
            else Reply(404, {"errors": []})
        )
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        return Answer(reply.status, body.encode(), "application/json", dict(reply.headers))

    def reply(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()


def recherche_company(
    siren: str,
    name: str,
    etablissements: list[dict],
    *,
    siege: dict | None = None,
    etat: str = "A",
    person: bool = False,
) -> dict:
    """One item of `results` as the API Recherche d'entreprises documents it."""
    return {
        "siren": siren,
        "nom_complet": name if not person else name.upper(),
        "nom_raison_sociale": None if person else name,
        "sigle": None,
        "nombre_etablissements": len(etablissements),
        "nombre_etablissements_ouverts": sum(
            e["etat_administratif"] == "A" for e in etablissements
        ),
        "siege": siege or etablissements[0],
        "activite_principale": "85.59A",
        "etat_administratif": etat,
        "nature_juridique": "1000" if person else "5710",
        "matching_etablissements": etablissements,
    }


def recherche_etablissement(
    siret: str,
    street: str,
    postcode: str,
    commune: str,
    *,
    etat: str = "A",
    siege: bool = True,
) -> dict:
    return {
        "siret": siret,
        "activite_principale": "85.59A",
        "adresse": f"{street} {postcode} {commune}",
        "code_postal": postcode,
        "commune": "44109",
        "libelle_commune": commune,
        "est_siege": siege,
        "etat_administratif": etat,
        "date_creation": "2012-03-01",
        "latitude": "47.21",
        "longitude": "-1.55",
        "liste_enseignes": None,
    }


def recherche_page(*companies: dict) -> dict:
    return {
        "results": list(companies),
        "total_results": len(companies),
        "page": 1,
        "per_page": 5,
        "total_pages": 1 if companies else 0,
    }


def api_entreprise_etablissement(
    siret: str,
    *,
    raison_sociale: str | None = "CFI ATLANTIQUE",
    person: tuple[str, str] | None = None,
    etat: str = "A",
    etat_unite: str = "A",
    siege: bool = True,
) -> dict:
    """The documented answer of `/v3/insee/sirene/etablissements/{siret}`."""
    return {
        "data": {
            "siret": siret,
            "siege_social": siege,
            "etat_administratif": etat,
            "date_fermeture": None if etat == "A" else 1704063600,
            "enseigne": None,
            "activite_principale": {
                "code": "85.59A",
                "nomenclature": "NAFRev2",
                "libelle": "Formation",
            },
            "diffusable_commercialement": True,
            "status_diffusion": "diffusible",
            "date_creation": 1330556400,
            "unite_legale": {
                "siren": siret[:9],
                "rna": None,
                "siret_siege_social": siret,
                "type": "personne_physique" if person else "personne_morale",
                "personne_morale_attributs": {
                    "raison_sociale": None if person else raison_sociale,
                    "sigle": None,
                },
                "personne_physique_attributs": {
                    "pseudonyme": None,
                    "prenom_usuel": person[0] if person else None,
                    "prenom_1": person[0] if person else None,
                    "nom_usage": None,
                    "nom_naissance": person[1] if person else None,
                    "sexe": None,
                },
                "etat_administratif": etat_unite,
            },
            "adresse": {
                "status_diffusion": "diffusible",
                "complement_adresse": "BATIMENT C",
                "numero_voie": "12",
                "indice_repetition_voie": "BIS",
                "type_voie": "QUAI",
                "libelle_voie": "DE LA FOSSE",
                "code_postal": "44000",
                "libelle_commune": "NANTES",
                "libelle_commune_etranger": None,
                "distribution_speciale": None,
                "code_commune": "44109",
                "code_cedex": None,
                "libelle_cedex": None,
                "code_pays_etranger": None,
                "libelle_pays_etranger": None,
                "acheminement_postal": {
                    "l1": raison_sociale or "",
                    "l2": "",
                    "l3": "BATIMENT C",
                    "l4": "12 BIS QUAI DE LA FOSSE",
                    "l5": "",
                    "l6": "44000 NANTES",
                    "l7": "FRANCE",
                },
            },
        },
        "links": {
            "unite_legale": f"https://entreprise.api.gouv.fr/v3/insee/sirene/unites_legales/{siret[:9]}"
        },
        "meta": {"date_derniere_mise_a_jour": 1704063600, "redirect_from_siret": None},
    }
