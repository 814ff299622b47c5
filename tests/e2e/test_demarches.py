"""The manual's "Rattacher le service Ceres au compte" and an access request, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from tests.demarches.factories import issued_code
from tests.factories import PASSWORD, EstablishmentFactory, UserFactory
from tests.habilitations.factories import gestionnaire_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ceres():
    install_catalogue(Demarche, Role)  # transactional tests start from a flushed database
    # The gestionnaire's second factor is tests/e2e/test_strong_auth.py's subject.
    Demarche.objects.filter(code=CERES).update(requires_mfa=False)
    return Demarche.objects.get(code=CERES)


def log_in(session, user):
    page = session.open("/")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    return page


def open_add_dialog(page, code="ceres", name="CERES"):
    page.get_by_role("button", name=re.compile(name)).click()
    page.locator(f"#demarche-{code}").get_by_role("button", name="Ajouter").click()
    dialog = page.get_by_role("dialog", name="Ajouter une démarche")
    expect(dialog).to_be_visible()
    # DSFR fades the dialog in: let it end before looking at colours (axe) on a loaded machine.
    expect(dialog).to_have_css("opacity", "1")
    return dialog


def test_first_gestionnaire_activates_ceres_with_the_letters_code(  # noqa: PLR0917
    browser_session, axe_check, mailbox, ceres, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    centre = EstablishmentFactory(name="CFI ATLANTIQUE")
    _, code = issued_code(ceres, centre)
    user = UserFactory(with_establishment=True, first_name="Guy", last_name="Duponttest")
    person = browser_session("gestionnaire")

    page = log_in(person, user)
    expect(
        page.get_by_text("Ajoutez votre première démarche depuis la liste ci-dessous")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Les autres démarches")).to_be_visible()
    axe_check(page, "Mes démarches (vide)")

    dialog = open_add_dialog(page)
    expect(dialog.get_by_role("link", name="DEMANDER L'ACCÈS À UN GESTIONNAIRE")).to_be_visible()
    axe_check(page, "Ajouter une démarche (dialogue)")
    person.screenshot("demarches-add-dialog")
    dialog.get_by_role("link", name="SAISIR LE CODE D'ACTIVATION").click()

    expect(
        page.get_by_text("Pour valider votre accès à la démarche, veuillez préciser :")
    ).to_be_visible()
    expect(
        page.get_by_text(
            "Si vous ne trouvez pas votre code d'activation, veuillez contacter le service en charge de la démarche."
        )
    ).to_be_visible()
    axe_check(page, "code d'activation")
    page.get_by_label("SIRET Enregistré").fill(centre.siret)
    page.get_by_label("Code d'activation").fill(code.replace("-", "").lower())
    person.screenshot("demarches-activation-form")
    page.get_by_role("button", name="VALIDER MON ACCÈS").click()

    tile = page.get_by_role("link", name="Certifications Emplois — CERES")
    expect(tile).to_be_visible()
    expect(tile).to_have_attribute("href", ceres.url)
    expect(page.get_by_text("Vous disposez désormais de la démarche CERES.")).to_be_visible()
    expect(page.get_by_role("link", name="Gérer les habilitations CERES")).to_be_visible()
    expect(page.get_by_text("Ajoutez votre première démarche")).to_have_count(0)
    axe_check(page, "Mes démarches (CERES)")
    person.screenshot("demarches-ceres-tile")
    assert person.console_errors == []

    message = mailbox.wait_for(user.email, "CERES")
    assert "est activé" in message.subject
    assert centre.siret in message.text
    assert "Ce message est envoyé par un automate" in message.text


def test_a_wrong_code_shows_the_message_and_keeps_the_siret(browser_session, ceres):
    centre = EstablishmentFactory()
    issued_code(ceres, centre)
    person = browser_session("someone")
    page = log_in(person, UserFactory())
    open_add_dialog(page).get_by_role("link", name="SAISIR LE CODE D'ACTIVATION").click()
    page.get_by_label("SIRET Enregistré").fill(centre.siret)
    page.get_by_label("Code d'activation").fill("ABCD-EFGH-JKMN")
    page.get_by_role("button", name="VALIDER MON ACCÈS").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Le SIRET ou le code d'activation est incorrect"
    )
    expect(page.get_by_label("SIRET Enregistré")).to_have_value(centre.siret)
    page.get_by_role("link", name="ABANDONNER").click()
    expect(
        page.get_by_text("Ajoutez votre première démarche depuis la liste ci-dessous")
    ).to_be_visible()


def test_the_dialog_closes_and_the_page_works_without_javascript(browser, live_server, ceres):
    user = UserFactory()
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.get_by_label("Adresse électronique").fill(user.email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        # Without JavaScript DSFR cannot unfold the accordion: its content is shown unfolded.
        page.get_by_role("link", name="Ajouter Certifications Emplois").click()
        expect(page).to_have_url(live_server.url + "/demarches/ceres/ajouter/")
        expect(page.get_by_role("heading", name="Ajouter une démarche")).to_be_visible()
        page.get_by_role("link", name="SAISIR LE CODE D'ACTIVATION").click()
        expect(page.get_by_role("button", name="VALIDER MON ACCÈS")).to_be_visible()
    finally:
        context.close()


def test_access_request_accepted_by_the_gestionnaire(  # noqa: PLR0917
    browser_session, axe_check, mailbox, ceres, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    centre = EstablishmentFactory(name="CFI ATLANTIQUE")
    manager = gestionnaire_of(
        ceres, centre, user=UserFactory(first_name="Guy", last_name="Duponttest")
    )
    requester = UserFactory(first_name="Anne", last_name="Formatrice")

    asking = browser_session("demandeur")
    page = log_in(asking, requester)
    dialog = open_add_dialog(page)
    dialog.get_by_role("link", name="DEMANDER L'ACCÈS À UN GESTIONNAIRE").click()
    page.get_by_label("SIRET de l'établissement").fill(centre.siret)
    page.locator("label").filter(has_text="Centre agréé").click()
    expect(page.get_by_label("Centre agréé")).to_be_checked()
    page.get_by_label("Message au gestionnaire").fill("Je prépare les sessions d'examen.")
    axe_check(page, "demande d'accès")
    page.get_by_role("button", name="ENVOYER MA DEMANDE").click()
    expect(page.get_by_text("Votre demande d'accès a été transmise")).to_be_visible()
    expect(page.get_by_text("Vos demandes d'accès en attente")).to_be_visible()

    received = mailbox.wait_for(manager.email, "Demande d'accès")
    assert "Anne Formatrice" in received.text
    assert "Je prépare les sessions d'examen." in received.text

    managing = browser_session("gestionnaire")
    log_in(managing, manager)
    page = managing.open(mailbox.link(received, "/habilitations/"))
    accept = page.get_by_role("button", name=f"Accepter la demande de {requester.email}")
    expect(accept).to_be_visible()
    managing.screenshot("demarches-access-request-pending")
    accept.click()
    expect(page.get_by_text("La demande d'accès de Anne Formatrice est acceptée.")).to_be_visible()

    accepted = mailbox.wait_for(requester.email, "acceptée")
    page = asking.open(mailbox.link(accepted, "/demarches/"))
    expect(page.get_by_role("link", name="Certifications Emplois — CERES")).to_be_visible()
    expect(page.get_by_role("link", name="Gérer les habilitations CERES")).to_have_count(0)
    asking.screenshot("demarches-access-granted")
