"""The manual's part B in a real browser, with two people: the gestionnaire invites, the
email arrives, the invitee logs in and clicks "Accepter", the CERES tile appears."""

import re

import pytest
from playwright.sync_api import expect

from portail.companies.models import SireneEtablissement, SireneUniteLegale
from tests.factories import PASSWORD
from tests.habilitations.factories import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(session, email, path="/"):
    page = session.page
    # The live server's first page (static files found on the fly) can be slow on a busy machine.
    page.goto(session.base_url + path, timeout=60_000)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    return page


def open_management_page(session, axe_check):
    page = session.page
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    page.get_by_role("link", name="Gérer les habilitations CERES").click()
    expect(page.get_by_role("tab", name="Personnes habilitées pour mon entreprise")).to_be_visible()
    expect(page.get_by_text("1 Personne", exact=True).first).to_be_visible()
    axe_check(page, "gestion CERES")
    page.get_by_role("tab", name="Caractéristiques").click()
    expect(page.get_by_text("Certification professionnelle").last).to_be_visible()
    page.get_by_role("tab", name="Personnes habilitées pour mon entreprise").click()
    invite = page.get_by_role("button", name="Inviter un utilisateur")
    # DSFR marks a modal's button once its script has bound it: a click before opens nothing
    # (seen on a loaded machine).
    expect(invite).to_have_attribute("data-fr-js-modal-button", "true", timeout=15_000)
    invite.click()
    dialog = page.get_by_role("dialog", name="Inviter un utilisateur")
    expect(dialog.get_by_role("heading", name="Inviter un utilisateur")).to_be_visible()
    return page, dialog


def choose_role_and_siret(page, world):
    """`page`: the page or the dialog holding the form."""
    page.locator("label.fr-label", has_text=re.compile(r"^Centre agréé")).click()
    page.get_by_label("SIRET de l’habilitation *").select_option(world.head.siret)
    summary = page.locator("#recapitulatif")
    expect(summary).to_contain_text("Invitation à rejoindre la démarche CERES")
    expect(summary).to_contain_text(
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé "
        "pour l'entreprise CFI ATLANTIQUE."
    )


def test_gestionnaire_invites_a_colleague_found_by_name_who_accepts(
    browser_session, axe_check, mailbox, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    world = build_world()
    guy = browser_session("gestionnaire")
    log_in(guy, world.gestionnaire.email)
    page, dialog = open_management_page(guy, axe_check)

    combobox = dialog.get_by_role("combobox", name="Utilisateur")
    combobox.press_sequentially("Domin", delay=30)
    listbox = dialog.get_by_role("listbox", name="Comptes proposés")
    option = listbox.get_by_role("option", name=re.compile("Dominique Demandeur"))
    expect(option).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_count(1)  # not the other company's Dominique
    axe_check(page, "inviter — autocomplétion")
    option.click()
    expect(combobox).to_have_value("Dominique Demandeur")
    choose_role_and_siret(dialog, world)
    axe_check(page, "inviter — récapitulatif")
    guy.screenshot("habilitations-inviter")
    dialog.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Email d'invitation transmis")).to_be_visible()
    expect(page.locator("#invitations").locator("xpath=..")).to_contain_text(
        "dominique.demandeur@cfi.fr"
    )
    assert guy.console_errors == []

    message = mailbox.wait_for(
        "dominique.demandeur@cfi.fr", "Invitation à rejoindre la démarche CERES"
    )
    assert "no-reply@emploi.gouv.fr" in message.sender
    assert (
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé pour "
        "l'entreprise CFI ATLANTIQUE." in message.text
    )
    assert "Si vous n'avez pas de compte sur le Portail de Services" in message.text
    link = mailbox.link(message, "/habilitations/invitations/")

    dominique = browser_session("invitee")
    page = dominique.open(link)  # not logged in: the login form, then back to the invitation
    page.get_by_label("Adresse électronique").fill("dominique.demandeur@cfi.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(
        page.get_by_role("heading", name="Invitation à rejoindre la démarche CERES")
    ).to_be_visible()
    expect(page.get_by_text("CFI ATLANTIQUE").first).to_be_visible()
    axe_check(page, "invitation")
    page.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    expect(page.get_by_text("Certifications Emplois — CERES").first).to_be_visible()
    axe_check(page, "mes démarches après acceptation")
    dominique.screenshot("habilitations-accepte")
    assert dominique.console_errors == []

    # Back on the gestionnaire's page: two people have the role "Centre agréé" now... plus Guy.
    page = guy.open(f"/habilitations/{world.demarche.code}/")
    expect(page.get_by_text("3 Personnes", exact=True).first).to_be_visible()
    page.get_by_role("tab", name="Historique des messages").click()
    expect(page.get_by_role("tabpanel", name="Historique des messages")).to_contain_text(
        "dominique.demandeur@cfi.fr"
    )
    axe_check(page, "historique des messages")


def test_invitation_by_email_for_someone_without_an_account(
    browser_session, axe_check, mailbox, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    world = build_world()
    guy = browser_session("gestionnaire")
    log_in(guy, world.gestionnaire.email)
    page, dialog = open_management_page(guy, axe_check)
    dialog.get_by_text("Ajouter son adresse email").click()
    dialog.get_by_label("Adresse électronique").fill("nouvelle.recrue@cfi.fr")
    choose_role_and_siret(dialog, world)
    # A double click on "CONTINUER" still makes one invitation.
    dialog.get_by_role("button", name="Continuer").dblclick()
    expect(page.get_by_text("Email d'invitation transmis")).to_be_visible()

    message = mailbox.wait_for("nouvelle.recrue@cfi.fr", "Invitation à rejoindre la démarche CERES")
    assert len(mailbox.messages("nouvelle.recrue@cfi.fr")) == 1
    link = mailbox.link(message, "/habilitations/invitations/")

    newcomer = browser_session("newcomer")
    page = newcomer.open(link)
    # She has no account: "Se créer un compte" with the SIRET given by the gestionnaire
    # (manual, part B, 1/4 to 4/4), the activation link, then the login.
    SireneUniteLegale.objects.create(siren=world.head.siren, name="CFI ATLANTIQUE")
    SireneEtablissement.objects.create(
        siret=world.head.siret,
        siren=world.head.siren,
        address="12 rue des Écoles",
        postcode="44000",
        commune="NANTES",
        is_head_office=True,
    )
    page.get_by_role("main").get_by_role("link", name="Se créer un compte").click()
    page.get_by_label("SIRET").press_sequentially(world.head.siret)
    expect(page.get_by_label("Raison sociale")).to_have_value("CFI ATLANTIQUE", timeout=15_000)
    page.get_by_label("Email").fill("nouvelle.recrue@cfi.fr")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmez votre mot de passe").fill(PASSWORD)
    page.get_by_text("Madame", exact=True).click()
    page.get_by_label("Nom *", exact=True).fill("Recrue")
    page.get_by_label("Prénom").fill("Nina")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    # The anti-robot check started with the first input in the form (#17 item 11).
    expect(page.get_by_text("Vérifié", exact=True)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Créer mon compte").click()
    activation = mailbox.wait_for("nouvelle.recrue@cfi.fr", "Activez votre compte")
    page = newcomer.open(mailbox.link(activation, "/activation/"))
    page.get_by_role("button", name="Activer mon compte").click()
    page.get_by_role("link", name="Accéder au portail").click()
    page.get_by_label("Adresse électronique").fill("nouvelle.recrue@cfi.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Sign-up, activation and login lead back to the invitation.
    expect(
        page.get_by_role("heading", name="Invitation à rejoindre la démarche CERES")
    ).to_be_visible()
    expect(page).to_have_url(re.compile(r"/habilitations/invitations/"))
    # Should the link be lost, "Mes démarches" shows the invitation too.
    page = newcomer.open("/demarches/")
    expect(page.get_by_text("Invitations en attente")).to_be_visible()
    axe_check(page, "mes démarches — invitation en attente")
    page.get_by_role("link", name=re.compile("Voir l’invitation")).click()
    page.get_by_role("button", name="Accepter").click()
    expect(page.get_by_text("Certifications Emplois — CERES").first).to_be_visible()
    assert newcomer.console_errors == []


def test_the_other_pages_are_accessible_and_work_without_the_modal(
    browser_session, axe_check, settings, live_server
):
    world = build_world()
    guy = browser_session("gestionnaire")
    log_in(guy, world.gestionnaire.email)
    code = world.demarche.code
    centre = world.centre_user.habilitations.get()
    mine = world.gestionnaire.habilitations.get(role=world.manager_role)

    # The plain page of "Inviter un utilisateur", searching without the autocomplete.
    page = guy.open(f"/habilitations/{code}/inviter/")
    axe_check(page, "inviter (page)")
    page.get_by_role("button", name="Continuer").click()
    expect(
        page.get_by_text("Choisissez un utilisateur ou ajoutez son adresse électronique.")
    ).to_be_visible()
    axe_check(page, "inviter (erreurs)")

    page = guy.open(f"/habilitations/{code}/deleguer/")
    expect(page.get_by_role("heading", name="Déléguer une habilitation à un tiers")).to_be_visible()
    axe_check(page, "déléguer")

    page = guy.open(f"/habilitations/{code}/habilitations/{centre.pk}/role/")
    axe_check(page, "changer le rôle")
    page = guy.open(f"/habilitations/{code}/habilitations/{centre.pk}/revoquer/")
    expect(page.get_by_role("button", name="Confirmer la révocation")).to_be_visible()
    axe_check(page, "révoquer")
    page = guy.open(f"/habilitations/{code}/habilitations/{mine.pk}/revoquer/")
    expect(page.get_by_text("Révocation impossible")).to_be_visible()
    expect(page.get_by_text("dernier gestionnaire").first).to_be_visible()
    axe_check(page, "révoquer le dernier gestionnaire")
    assert guy.console_errors == []

    page = guy.open("/habilitations/invitations/lien-inconnu/")  # a 404 page, on purpose
    expect(page.get_by_role("heading", name="Invitation introuvable")).to_be_visible()
    axe_check(page, "invitation introuvable")
