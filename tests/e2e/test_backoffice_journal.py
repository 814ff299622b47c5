"""The agents' journal in a real browser (#17 items 1 and 8): an agent revokes a habilitation
from the support page, the journal shows it once, marked "assistance"; filters refuse bad input
in French and keep it; the table scrolls by keyboard; the export downloads what is filtered."""

import csv
import io

import pytest
from playwright.sync_api import expect

from portail.audit.journal import record
from portail.centres.models import Region
from portail.notifications.models import OutboxEmail
from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.e2e.agent_session import signed_in_agent
from tests.e2e.test_backoffice import ceres  # noqa: F401 -- the fixture: catalogue and regions
from tests.factories import HabilitationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_revoke_then_find_it_once_in_the_journal_and_export_it(
    browser_session,
    axe_check,
    ceres,  # noqa: F811
    live_server,
):
    nantes = CentreFactory(letter_name="Centre nantais")
    paris = CentreFactory(region=Region.objects.get(code="11"))
    gestionnaire = HabilitationFactory(
        role=ceres.roles.get(code="gestionnaire-centres"), establishment=nantes.establishment
    ).user
    claire = UserFactory(first_name="Claire", last_name="Martin", email="claire@centre.example")
    HabilitationFactory(
        user=claire, role=ceres.roles.get(code="centre-agree"), establishment=nantes.establishment
    )
    record("paris.event", target=paris, establishment=paris.establishment)
    session, page = signed_in_agent(browser_session, AgentFactory(regions=["52"]))

    # The support revokes: the person and the centre's gestionnaire are told.
    page.get_by_role("link", name="Assistance").first.click()
    page.get_by_label("Adresse électronique, nom ou SIRET").fill("Claire Martin")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Claire Martin").click()
    page.get_by_label("Motif de la révocation").fill("Départ du centre")
    page.get_by_role("button", name="Révoquer").click()
    expect(page.get_by_text("L’habilitation est révoquée.")).to_be_visible()
    assert OutboxEmail.objects.filter(recipient=claire.email).count() == 1
    assert OutboxEmail.objects.filter(recipient=gestionnaire.email).count() == 1

    # The journal: one event for the revocation, the support's, with its reason.
    page.locator("#backoffice-menu").get_by_role("link", name="Journal").click()
    expect(page.get_by_role("heading", name="Journal", level=1)).to_be_visible()
    revoked = page.get_by_role("row", name="Habilitation révoquée")
    expect(revoked).to_have_count(1)
    expect(revoked).to_contain_text("assistance")
    expect(revoked).to_contain_text("Départ du centre")
    expect(revoked).to_contain_text(nantes.establishment.siret)
    expect(page.get_by_text("paris.event")).to_have_count(0)  # another region's
    axe_check(page, "agents: journal")
    session.screenshot("backoffice-journal")

    # The table's scroll area is reachable by keyboard, and named.
    scroller = page.get_by_role("region", name="Événements du journal")
    scroller.focus()
    expect(scroller).to_be_focused()

    # Bad input: said in French on its field, the typed values kept, no events shown.
    page.get_by_label("SIRET ou SIREN").fill("1234")
    page.get_by_label("Compte (adresse électronique)").fill("claire@centre.example")
    page.get_by_role("button", name="Filtrer").click()
    expect(
        page.get_by_text("Saisissez un SIRET (14 chiffres) ou un SIREN (9 chiffres).")
    ).to_be_visible()
    expect(page.get_by_label("Compte (adresse électronique)")).to_have_value(
        "claire@centre.example"
    )
    expect(page.get_by_role("region", name="Événements du journal")).to_have_count(0)
    axe_check(page, "agents: journal, filtres refusés")

    page.get_by_label("SIRET ou SIREN").fill(nantes.establishment.siret)
    page.get_by_label("Action", exact=True).select_option(label="Habilitation révoquée")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("1 événement", exact=True)).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exporter ces événements (CSV)").click()
    download = download_info.value
    content = open(download.path(), "rb").read()  # noqa: PTH123, SIM115 -- the downloaded file
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert [row[2] for row in rows[1:]] == ["Habilitation révoquée"]
    assert rows[1][3:] == [
        "oui",
        rows[1][4],
        nantes.establishment.siret,
        "Départ du centre",
    ]
    assert session.console_errors == []
