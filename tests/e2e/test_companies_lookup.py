"""siret-lookup.js in a real browser: typing 14 digits fills the establishment's fields.

The module is exercised on a form injected into a page of the portal (the sign-up page, which
uses it for real, has its own browser test in test_accounts*).
"""

import pytest
from playwright.sync_api import expect

from portail.companies import demo
from portail.companies.lookup import lookup_url_template
from portail.companies.views import LOOKUP_LIMITER
from tests.companies.fake_registry import FakeRegistry, Reply

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FORM = """
<form id="f" class="fr-my-4w">
  <div class="fr-input-group">
    <label class="fr-label" for="siret">SIRET *</label>
    <input class="fr-input" id="siret" name="siret" data-siret-lookup
           data-siret-lookup-url="{url}" aria-describedby="siret-messages">
    <div class="fr-messages-group" id="siret-messages" data-siret-status></div>
  </div>
  <div class="fr-input-group"><label class="fr-label" for="name">Raison sociale</label>
    <input class="fr-input" id="name" data-siret-fill="name"></div>
  <div class="fr-input-group"><label class="fr-label" for="address">Adresse</label>
    <input class="fr-input" id="address" data-siret-fill="address"></div>
  <div class="fr-input-group"><label class="fr-label" for="commune">Commune</label>
    <input class="fr-input" id="commune" data-siret-fill="commune_line"></div>
</form>
"""


def _page_with_form(session, live_server):
    page = session.open("/mentions-legales/")
    page.evaluate(
        "html => document.querySelector('main').insertAdjacentHTML('afterbegin', html)",
        FORM.format(url=lookup_url_template()),
    )
    page.add_script_tag(url=f"{live_server.url}/static/companies/js/siret-lookup.js", type="module")
    expect(page.locator("#siret")).to_have_attribute("data-siret-lookup-ready", "true")
    return page


def test_typing_a_siret_fills_the_fields_and_announces_it(
    browser_session, live_server, settings, axe_check
):
    settings.COMPANIES_REGISTRY = "sirene_local"
    demo.load()
    session = browser_session("visitor")
    page = _page_with_form(session, live_server)
    status = page.locator("[data-siret-status]")
    assert status.get_attribute("aria-live") == "polite"

    page.locator("#siret").press_sequentially("903 100 006 00027")

    expect(page.locator("#name")).to_have_value("CFI ATLANTIQUE")
    assert page.locator("#address").input_value() == "5 BIS BOULEVARD DE L'UNIVERSITE"
    assert page.locator("#commune").input_value() == "44600 SAINT-NAZAIRE"
    assert "Établissement trouvé : CFI ATLANTIQUE, 44600 SAINT-NAZAIRE" in status.inner_text()
    assert page.locator("#siret").get_attribute("data-siret-verified") == "true"
    axe_check(page, "siret lookup: found")

    # Data INSEE does not publish clears what the previous lookup filled.
    page.locator("#siret").fill("90313425200019")
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#commune")).to_have_value("")
    expect(status).to_contain_text("Établissement trouvé. Les champs sont pré-remplis")
    page.locator("#siret").fill(demo.CFI_ATLANTIQUE_SIRET)
    expect(page.locator("#commune")).to_have_value("44000 NANTES")

    # The fields stay editable.
    page.locator("#name").fill("CFI ATLANTIQUE ESTUAIRE")
    assert page.locator("#name").input_value() == "CFI ATLANTIQUE ESTUAIRE"

    # A closed establishment is refused with an explanation, on the field.
    page.locator("#siret").fill(demo.CFI_ATLANTIQUE_CLOSED_SITE)
    expect(status.locator(".fr-message--error")).to_be_visible()
    assert "Cet établissement est fermé" in status.inner_text()
    assert page.locator("#siret").get_attribute("aria-invalid") == "true"

    # A wrong check digit and an unknown SIRET: the server's French messages.
    page.locator("#siret").fill("90310000600018")
    expect(status).to_have_text("Ce numéro SIRET n'est pas valide.")
    page.locator("#siret").fill("90310000600068")
    expect(status).to_have_text("Ce SIRET est inconnu du répertoire des entreprises.")

    # Too short, on leaving the field.
    page.locator("#siret").fill("9031000")
    page.locator("#name").focus()
    expect(status).to_have_text("Le numéro SIRET doit comporter 14 chiffres.")
    # The browser reports the 400/404 answers as failed resources; nothing else went wrong.
    assert all("status of 40" in error for error in session.console_errors), session.console_errors


def test_registry_down_lets_the_person_type_by_hand(browser_session, live_server, settings):
    registry = FakeRegistry().start()
    try:
        settings.COMPANIES_REGISTRY = "recherche_entreprises"
        settings.COMPANIES_RECHERCHE_ENTREPRISES_URL = registry.url
        registry.reply("/search", Reply(503, "down"))
        session = browser_session("visitor")
        page = _page_with_form(session, live_server)
        page.locator("#siret").fill(demo.CFI_ATLANTIQUE_SIRET)
        expect(page.locator("[data-siret-status]")).to_have_text(
            "Le répertoire des entreprises ne répond pas : vous pouvez saisir les informations à la main."
        )
        assert page.locator("#name").is_editable()
        assert page.locator("#siret").get_attribute("data-siret-verified") is None
    finally:
        registry.stop()
    assert LOOKUP_LIMITER.limit == 30
