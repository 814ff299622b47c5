"""A new centre's region (DREETS), in a real browser: preselected from the establishment's
commune as the SIRET is typed, and still the agent's to change (#17 item 16)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from portail.centres.models import Region
from tests.backoffice.factories import AgentFactory
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.e2e.agent_session import signed_in_agent
from tests.e2e.test_backoffice import ceres  # noqa: F401 -- the fixture: catalogue and regions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_region_follows_the_commune_until_the_agent_chooses(
    browser_session,
    axe_check,
    ceres,  # noqa: F811
    live_server,
):
    nantes = SireneEtablissementFactory(
        unite=SireneUniteLegaleFactory(name="CFI ATLANTIQUE"), postcode="44000", commune="NANTES"
    )
    bastia = SireneEtablissementFactory(postcode="20200", commune="BASTIA")
    ajaccio = SireneEtablissementFactory(postcode="20000", commune="AJACCIO")
    regions = {r.code: str(r.pk) for r in Region.objects.all()}
    session, page = signed_in_agent(browser_session, AgentFactory(is_national=True))
    page.goto(live_server.url + reverse("backoffice:centre_create"))
    region = page.get_by_label("Région (DREETS)")
    expect(region).to_have_value("")

    page.get_by_label("SIRET du centre").fill(nantes.siret)
    expect(page.get_by_label("Nom du centre (destinataire du courrier)")).to_have_value(
        "CFI ATLANTIQUE"
    )
    expect(region).to_have_value(regions["52"])  # Pays de la Loire
    axe_check(page, "agents: nouveau centre, région pré-sélectionnée")
    session.screenshot("backoffice-new-centre-region")

    # Another SIRET typed: the region follows, as long as the agent did not choose it.
    page.get_by_label("SIRET du centre").fill(bastia.siret)
    expect(region).to_have_value(regions["94"])  # Corse
    region.select_option(label="DREETS Bretagne")
    page.get_by_label("SIRET du centre").fill(ajaccio.siret)
    expect(page.get_by_label("Adresse du centre (pour le courrier)")).to_have_value(
        re.compile("AJACCIO")
    )
    expect(region).to_have_value(regions["53"])  # the agent's choice stays
    assert session.console_errors == []
