"""The mode opératoire, end to end, in one browser test: only what a person sees and the mailbox.

Part A: an agent of the DREETS records a new centre agréé and generates its letter; the centre's
manager signs up (PROFESSIONNEL, SIRET prefilled), activates the account from the email, logs in
and adds CERES with the SIRET and the code read from the PDF. Part B: from the gear, the
gestionnaire invites a colleague by email with the role "Centre agréé"; the colleague signs up,
activates, follows the invitation link, "Accepter", clicks CERES and reads "Vous êtes dans Ceres"
with the centre's name and the role. Then the gestionnaire revokes the colleague, whose next
CERES login is refused. A screenshot of each step lands in var/test-artifacts/ (manual-*.png);
accessibility is checked on every page, CERES included.
"""

import io
import re
from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from pypdf import PdfReader

from portail.centres.models import Region
from portail.demarches.models import Demarche
from tests.backoffice.conftest import REGIONS
from tests.backoffice.factories import AgentFactory, current_code
from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.factories import PASSWORD as AGENT_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GUY = ("guy.duponttest@cfi-atlantique.fr", "Guy", "Duponttest", "Une phrase de passe du centre")
DOMINIQUE = (
    "dominique.demandeur@cfi-atlantique.fr",
    "Dominique",
    "Demandeur",
    "Une autre phrase de passe assez longue",
)
SLOW = 30_000  # the first page of a live server, a proof-of-work, a busy CI machine


class Steps:
    """Numbered screenshots and an accessibility check of the page at each step."""

    def __init__(self, axe_check):
        self.axe_check = axe_check
        self.count = 0

    def __call__(self, session, name: str) -> None:
        self.count += 1
        # DSFR dialogs fade in: let transitions end, or contrast is measured half-way.
        session.page.wait_for_function(
            "() => document.getAnimations().every(a => a.playState !== 'running')"
        )
        self.axe_check(session.page, name)
        session.screenshot(f"manual-{self.count:02d}-{name}")


def sign_up(session, step, mailbox, siret: str, who: tuple[str, str, str, str]) -> None:
    """« Se créer un compte » (PROFESSIONNEL) → activation email → « Activer mon compte »."""
    email, first, last, password = who
    page = session.open("/")
    expect(page.get_by_role("heading", name="Connectez-vous")).to_be_visible(timeout=SLOW)
    step(session, f"{first}-accueil")
    page.get_by_role("main").get_by_role("link", name="Se créer un compte").click()
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("link", name="Professionnel", exact=True)).to_have_attribute(
        "aria-current", "page", timeout=SLOW
    )
    page.get_by_label("SIRET").press_sequentially(siret)
    expect(page.get_by_label("Raison sociale")).to_have_value("CFI ATLANTIQUE", timeout=SLOW)
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(password)
    page.get_by_label("Confirmez votre mot de passe").fill(password)
    page.get_by_text("Monsieur", exact=True).click()
    page.get_by_label("Nom *", exact=True).fill(last)
    page.get_by_label("Prénom").fill(first)
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    # The anti-robot check started with the first input in the form (#17 item 11).
    expect(page.get_by_text("Vérifié", exact=True)).to_be_visible(timeout=SLOW)
    step(session, f"{first}-inscription")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Un message d'activation de compte vous a été envoyé")).to_be_visible(
        timeout=SLOW
    )
    step(session, f"{first}-inscription-envoyee")

    message = mailbox.wait_for(email, "Activez votre compte")
    page = session.open(mailbox.link(message, "/activation/"))
    step(session, f"{first}-activation")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("heading", name="Votre compte est activé")).to_be_visible(timeout=SLOW)
    step(session, f"{first}-compte-active")


def log_in(page, who: tuple[str, str, str, str]) -> None:
    email, _, _, password = who
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_the_mode_operatoire_end_to_end(  # noqa: PLR0917
    browser_session, axe_check, mailbox, settings, live_server, ceres
):
    settings.PORTAL_BASE_URL = live_server.url
    # The manual walks without the second factor CERES asks of its gestionnaires; the journey
    # with it (enrolment, step-up before an invitation) is tests/e2e/test_strong_auth.py.
    Demarche.objects.filter(code="ceres").update(requires_mfa=False)
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    agent = AgentFactory(regions=["52"])
    registry = SireneEtablissementFactory(
        unite=SireneUniteLegaleFactory(name="CFI ATLANTIQUE"),
        address="12 QUAI DE LA FOSSE",
        postcode="44000",
        commune="NANTES",
    )
    siret = registry.siret
    step = Steps(axe_check)

    # -- A. The agent records the centre and generates its letter -------------------------------
    agnes = browser_session("agent")
    page = agnes.open("/")
    page.get_by_role("link", name="Agent du ministère ?").first.click()
    page.get_by_label("Adresse électronique").fill(agent.user.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Code de vérification")).to_be_visible(timeout=SLOW)
    page.get_by_label("Code à 6 chiffres").fill(
        current_code(TOTPDevice.objects.get(user=agent.user))
    )
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Espace agents", level=1)).to_be_visible(timeout=SLOW)
    step(agnes, "agent-espace")
    page.get_by_role("link", name="Nouveau centre agréé").click()
    page.get_by_label("SIRET du centre").fill(siret)
    expect(page.get_by_label("Nom du centre (destinataire du courrier)")).to_have_value(
        "CFI ATLANTIQUE", timeout=SLOW
    )
    page.get_by_label("Région (DREETS)").select_option(label="DREETS Pays de la Loire")
    page.get_by_label("Référence de l’agrément").fill("AGR-52-2018-001")
    page.get_by_label("Date de l’agrément").fill("2018-10-15")
    step(agnes, "agent-nouveau-centre")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="CFI ATLANTIQUE", level=1)).to_be_visible(timeout=SLOW)
    step(agnes, "agent-centre")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Générer le courrier").click()
    letter = PdfReader(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    text = letter.pages[0].extract_text()
    assert "Objet : Modalités d'accès à l'applicatif CERES" in text
    assert f"SIRET : {siret}" in text
    code = re.search(r"Code d'activation : ([0-9A-Z-]+)", text).group(1)

    # -- A. The centre's manager: account, activation, login, CERES with the letter's code ------
    guy = browser_session("gestionnaire")
    sign_up(guy, step, mailbox, siret, GUY)
    page = guy.page
    page.get_by_role("link", name="Accéder au portail").click()
    log_in(page, GUY)
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)
    expect(
        page.get_by_text("Ajoutez votre première démarche depuis la liste ci-dessous")
    ).to_be_visible(timeout=SLOW)
    step(guy, "gestionnaire-mes-demarches")
    page.get_by_role("button", name=re.compile("CERES")).click()
    page.locator("#demarche-ceres").get_by_role("button", name="Ajouter").click()
    dialog = page.get_by_role("dialog", name="Ajouter une démarche")
    expect(dialog.get_by_role("link", name="DEMANDER L'ACCÈS À UN GESTIONNAIRE")).to_be_visible(
        timeout=SLOW
    )
    step(guy, "gestionnaire-ajouter-une-demarche")
    dialog.get_by_role("link", name="SAISIR LE CODE D'ACTIVATION").click()
    page.get_by_label("SIRET Enregistré").fill(siret)
    page.get_by_label("Code d'activation").fill(code)
    step(guy, "gestionnaire-code-activation")
    page.get_by_role("button", name="VALIDER MON ACCÈS").click()
    expect(page.get_by_role("link", name="Certifications Emplois — CERES")).to_be_visible(
        timeout=SLOW
    )
    step(guy, "gestionnaire-tuile-ceres")

    # -- B. The gear: invite a colleague by email with the role "Centre agréé" -----------------
    page.get_by_role("link", name="Gérer les habilitations CERES").click()
    expect(page.get_by_role("tab", name="Personnes habilitées pour mon entreprise")).to_be_visible(
        timeout=SLOW
    )
    step(guy, "gestionnaire-personnes-habilitees")
    invite = page.get_by_role("button", name="Inviter un utilisateur")
    # DSFR marks a modal's button once its script has bound it: a click before opens nothing.
    expect(invite).to_have_attribute("data-fr-js-modal-button", "true", timeout=SLOW)
    invite.click()
    dialog = page.get_by_role("dialog", name="Inviter un utilisateur")
    dialog.get_by_text("Ajouter son adresse email").click()
    dialog.get_by_label("Adresse électronique").fill(DOMINIQUE[0])
    dialog.locator("label.fr-label", has_text=re.compile(r"^Centre agréé")).click()
    dialog.get_by_label("SIRET de l’habilitation *").select_option(siret)
    expect(dialog.locator("#recapitulatif")).to_contain_text(
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé "
        "pour l'entreprise CFI ATLANTIQUE.",
        timeout=SLOW,
    )
    step(guy, "gestionnaire-inviter")
    dialog.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Email d'invitation transmis")).to_be_visible(timeout=SLOW)
    step(guy, "gestionnaire-invitation-transmise")

    # -- B. The colleague: account, activation, the invitation link, "Accepter", CERES ---------
    dominique = browser_session("collaborateur")
    sign_up(dominique, step, mailbox, siret, DOMINIQUE)
    invitation = mailbox.wait_for(DOMINIQUE[0], "Invitation à rejoindre la démarche CERES")
    assert (
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé pour "
        "l'entreprise CFI ATLANTIQUE." in invitation.text
    )
    page = dominique.open(mailbox.link(invitation, "/habilitations/invitations/"))
    log_in(page, DOMINIQUE)
    expect(
        page.get_by_role("heading", name="Invitation à rejoindre la démarche CERES")
    ).to_be_visible(timeout=SLOW)
    step(dominique, "collaborateur-invitation")
    page.get_by_role("button", name="Accepter").click()
    tile = page.get_by_role("link", name="Certifications Emplois — CERES")
    expect(tile).to_be_visible(timeout=SLOW)
    step(dominique, "collaborateur-mes-demarches")
    tile.click()
    expect(page.get_by_text("Vous êtes dans Ceres")).to_be_visible(timeout=SLOW)
    assert page.url == ceres.url + "/"
    expect(page.locator("#etablissement-nom")).to_have_text("CFI ATLANTIQUE", timeout=SLOW)
    expect(page.locator("#etablissement-siret")).to_have_text(siret, timeout=SLOW)
    expect(page.locator("#roles li")).to_have_text(["Centre agréé"], timeout=SLOW)
    step(dominique, "collaborateur-dans-ceres")

    # -- The gestionnaire revokes the colleague; the colleague's next CERES login is refused ---
    page = guy.open("/habilitations/ceres/")
    page.get_by_role(
        "link", name=re.compile(r"Révoquer Dominique Demandeur \(Centre agréé\)")
    ).click()
    expect(page.get_by_role("heading", name="Révoquer une habilitation")).to_be_visible(
        timeout=SLOW
    )
    step(guy, "gestionnaire-revoquer")
    page.get_by_role("button", name="Confirmer la révocation").click()
    expect(page.get_by_role("tab", name="Personnes habilitées pour mon entreprise")).to_be_visible(
        timeout=SLOW
    )
    step(guy, "gestionnaire-apres-revocation")

    page = dominique.page
    page.get_by_role("button", name="Se déconnecter").click()  # CERES, and the portal with it
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible(timeout=SLOW)
    step(dominique, "collaborateur-deconnecte")
    page.get_by_role("link", name="Se reconnecter").click()
    expect(page.get_by_role("heading", name="Connectez-vous")).to_be_visible(timeout=SLOW)
    log_in(page, DOMINIQUE)
    expect(page.get_by_text("Vous n’avez pas d’habilitation pour CERES.")).to_be_visible(
        timeout=SLOW
    )
    expect(page.get_by_text("Vous êtes dans Ceres")).to_have_count(0)
    step(dominique, "collaborateur-refuse")
    assert agnes.console_errors == []
    assert guy.console_errors == []
    # The refusal page answers 403 on purpose; Chromium reports it. Nothing else.
    assert all("status of 403" in error for error in dominique.console_errors)
