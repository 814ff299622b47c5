"""The manual in a real browser: "Se créer un compte" (PROFESSIONNEL, SIRET prefilled, anti-robot
check) → activation email → "Activer mon compte" → "Accéder au portail" → login; and
"Mot de passe oublié ?". Accessibility is checked on every page of these flows."""

import re

import pytest
from playwright.sync_api import expect

from portail.accounts.models import User
from tests.accounts.helpers import registry_establishment
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Une phrase de passe pour le centre"


def test_sign_up_as_professional_activate_and_log_in(
    browser_session, axe_check, mailbox, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    siret = registry_establishment("CFI ATLANTIQUE")
    person = browser_session("gestionnaire")
    page = person.open("/")
    expect(page.get_by_role("heading", name="Connectez-vous")).to_be_visible()
    axe_check(page, "home")
    person.screenshot("accounts-home")

    # 1) « Se créer un compte »
    page.get_by_role("main").get_by_role("link", name="Se créer un compte").click()
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible()
    # 2) PROFESSIONNEL is selected by default
    expect(page.get_by_role("link", name="Professionnel", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    axe_check(page, "signup")

    # 3) the SIRET is looked up as soon as 14 digits are typed; 4) the fields are prefilled
    page.get_by_label("SIRET").press_sequentially(siret[:9] + " " + siret[9:])
    expect(page.get_by_label("Raison sociale")).to_have_value("CFI ATLANTIQUE", timeout=15_000)
    expect(page.get_by_label("Adresse", exact=True)).to_have_value("12 rue des Écoles")
    expect(page.get_by_label("Commune")).to_have_value("44000 NANTES")
    page.get_by_label("Raison sociale").fill("CFI Atlantique — Nantes")  # editable

    # 5) the required fields
    page.get_by_label("Email").fill("responsable@cfi-atlantique.fr")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmez votre mot de passe").fill(PASSWORD)
    page.get_by_text("Madame", exact=True).click()
    page.get_by_label("Nom *", exact=True).fill("Dupont")
    page.get_by_label("Prénom").fill("Guy")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")

    # 6) the anti-robot check: a real proof-of-work in the browser, under our CSP, started by the
    # first input in the form (#17 item 11): done by the time the person reaches it.
    expect(page.get_by_text("Vérifié", exact=True)).to_be_visible(timeout=20_000)
    expect(page.locator("input[name=altcha]")).not_to_have_value("")
    axe_check(page, "signup filled")
    person.screenshot("accounts-signup-filled")

    # 7) « Créer mon compte »
    page.get_by_role("button", name="Créer mon compte").click()
    # 8) an account activation message is shown
    expect(page.get_by_text("Un message d'activation de compte vous a été envoyé")).to_be_visible()
    axe_check(page, "signup done")
    user = User.objects.get(email="responsable@cfi-atlantique.fr")
    assert user.declared_company_name == "CFI Atlantique — Nantes"
    assert user.establishment.siret == siret

    # 9) the email and its link
    message = mailbox.wait_for("responsable@cfi-atlantique.fr", "Activez votre compte")
    page = person.open(mailbox.link(message, "/activation/"))
    # 10) « Activer mon compte »
    axe_check(page, "activate")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("heading", name="Votre compte est activé")).to_be_visible()
    axe_check(page, "activated")
    person.screenshot("accounts-activated")
    # 11) « Accéder au portail »
    page.get_by_role("link", name="Accéder au portail").click()

    page.get_by_label("Adresse électronique").fill("Responsable@CFI-Atlantique.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/demarches/$"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert person.console_errors == []


def test_signup_errors_are_shown_on_the_fields_and_are_accessible(
    browser_session, axe_check, live_server
):
    person = browser_session("visiteur")
    page = person.open("/inscription/?type=particulier")
    expect(page.get_by_text("Votre établissement")).to_have_count(0)
    page.get_by_label("Email").fill("visiteur@exemple.fr")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill("court")
    page.get_by_label("Confirmez votre mot de passe").fill("court")
    page.get_by_label("Nom *", exact=True).fill("Martin")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Ce mot de passe est trop court.")).to_be_visible()
    expect(page.get_by_text("Indiquez votre civilité.")).to_be_visible()
    expect(page.get_by_label("Nom *", exact=True)).to_have_value("Martin")
    expect(page.get_by_label(re.compile(r"^\s*Mot de passe"))).to_have_value("")
    axe_check(page, "signup with errors")


def test_forgotten_password(browser_session, axe_check, mailbox, settings, live_server):
    settings.PORTAL_BASE_URL = live_server.url
    UserFactory(email="oubli@exemple.fr")
    person = browser_session("oublieux")
    page = person.open("/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    axe_check(page, "password reset request")
    page.get_by_label("Adresse électronique").fill("oubli@exemple.fr")
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("heading", name="Vérifiez votre messagerie")).to_be_visible()
    axe_check(page, "password reset sent")

    message = mailbox.wait_for("oubli@exemple.fr", "Réinitialisation de votre mot de passe")
    page = person.open(mailbox.link(message, "/mot-de-passe-oublie/"))
    axe_check(page, "new password")
    page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
    page.get_by_label("Confirmez votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_text("Votre mot de passe a été modifié.")).to_be_visible()

    page.get_by_label("Adresse électronique").fill("oubli@exemple.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/demarches/$"))
    notice = mailbox.wait_for("oubli@exemple.fr", "Votre mot de passe a été modifié")
    assert "autres sessions" in notice.text
    assert person.console_errors == []


def test_mon_compte_is_accessible(browser_session, axe_check, live_server):
    from tests.factories import PASSWORD as FACTORY_PASSWORD

    UserFactory(email="compte@exemple.fr")
    person = browser_session("titulaire")
    page = person.open("/connexion/?next=/mon-compte/")
    page.get_by_label("Adresse électronique").fill("compte@exemple.fr")
    page.get_by_label("Mot de passe").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon compte")).to_be_visible()
    axe_check(page, "mon compte")
    page.get_by_label("Téléphone").fill("01 46 29 25 54")
    page.get_by_role("button", name="Enregistrer mes coordonnées").click()
    expect(page.get_by_text("Vos coordonnées ont été enregistrées.")).to_be_visible()
    for link, heading in [
        ("Changer mon mot de passe", "Changer mon mot de passe"),
        ("Changer mon adresse électronique", "Changer mon adresse électronique"),
        ("Supprimer mon compte", "Supprimer mon compte"),
    ]:
        person.open("/mon-compte/")
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        axe_check(page, heading)


def test_other_account_pages_are_accessible(browser_session, axe_check, live_server):
    person = browser_session("curieux")
    for path, heading in [
        ("/en-savoir-plus/", "En savoir plus"),
        ("/activation/renvoyer/", "Recevoir un nouveau lien d'activation"),
        ("/activation/lien-inconnu/", "Lien non valide"),
        ("/mot-de-passe-oublie/lien-inconnu/", "Lien non valide"),
        ("/inscription/?type=partenaire", "Créer votre compte"),
    ]:
        page = person.open(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe_check(page, path)
    assert person.console_errors == [] or all(
        "404" in e or "410" in e for e in person.console_errors
    )
