"""Helpers of the accounts tests: real ALTCHA solutions, registry rows, sign-up form data."""

import re

from portail.accounts import altcha
from portail.companies.models import SireneEtablissement, SireneUniteLegale
from tests.factories import make_siren, make_siret

PASSWORD = "Une phrase de passe assez longue"
_counter = iter(range(500, 10_000))


def solved_altcha(client) -> str:
    """Fetch a challenge from the portal and solve it, as the widget does in the browser."""
    response = client.get("/inscription/anti-robot/")
    assert response.status_code == 200
    return altcha.solve(response.json())


def registry_establishment(
    name: str = "CFI ATLANTIQUE", *, active: bool = True, company_active: bool = True
) -> str:
    """A SIRET the local Sirene table (the demo and test registry) knows. Returns the SIRET."""
    siren = make_siren(next(_counter) + 7_000_000)
    siret = make_siret(siren, 17)
    SireneUniteLegale.objects.create(siren=siren, name=name, is_active=company_active)
    SireneEtablissement.objects.create(
        siret=siret,
        siren=siren,
        address="12 rue des Écoles",
        postcode="44000",
        commune="NANTES",
        is_head_office=True,
        is_active=active,
    )
    return siret


def signup_data(client, **overrides) -> dict:
    data = {
        "account_type": "professionnel",
        "siret": "",
        "company_name": "",
        "address": "",
        "commune": "",
        "email": "nouvelle.personne@exemple.fr",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "civilite": "MME",
        "last_name": "Durand",
        "first_name": "Alice",
        "phone": "06 12 34 56 78",
        "action": "create",
    }
    data.update(overrides)
    if "altcha" not in data:
        data["altcha"] = solved_altcha(client)
    return data


def link_in(body: str, path_prefix: str) -> str:
    match = re.search(rf"https?://[^\s\"<]+{re.escape(path_prefix)}[^\s\"<]+", body)
    assert match, f"no link with {path_prefix!r} in: {body}"
    return match.group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
