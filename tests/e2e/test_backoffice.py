"""The manual's part A from the ministry's side, in a real browser: the agent signs in with a
TOTP code, records a centre agréé, clicks "Générer le courrier" and gets the PDF; the letter is
the only channel: the test reads the code from the PDF text, and the centre's first user
activates CERES with it."""

import io
import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from pypdf import PdfReader

from portail.centres.models import Centre, Region
from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation
from portail.oidc.clients import set_webhook
from portail.oidc.webhooks import deliver_webhooks
from tests.backoffice.conftest import REGIONS
from tests.backoffice.factories import AgentFactory, current_code
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ceres():
    install_catalogue(Demarche, Role)  # transactional tests start from a flushed database
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    return Demarche.objects.get(code=CERES)


def test_agent_letter_then_the_centre_activates_ceres_with_its_code(
    browser_session, axe_check, ceres, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    agent = AgentFactory(regions=["52"])
    unite = SireneUniteLegaleFactory(name="CFI ATLANTIQUE")
    sirene = SireneEtablissementFactory(
        unite=unite, address="12 QUAI DE LA FOSSE", postcode="44000", commune="NANTES"
    )

    # "Agent du ministère ?" → email, password, then the code of the authenticator.
    agnes = browser_session("agent")
    page = agnes.open("/")
    page.get_by_role("link", name="Agent du ministère ?").first.click()
    expect(page.get_by_role("heading", name="Connexion des agents du ministère")).to_be_visible()
    axe_check(page, "agents: connexion")
    page.get_by_label("Adresse électronique").fill(agent.user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Code de vérification")).to_be_visible()
    axe_check(page, "agents: code")
    page.get_by_label("Code à 6 chiffres").fill(
        current_code(TOTPDevice.objects.get(user=agent.user))
    )
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Espace agents", level=1)).to_be_visible()
    axe_check(page, "agents: accueil")

    # A new centre: the registry prefills the letter's name and address as the SIRET is typed.
    page.get_by_role("link", name="Nouveau centre agréé").click()
    page.get_by_label("SIRET du centre").fill(sirene.siret)
    expect(page.get_by_label("Nom du centre (destinataire du courrier)")).to_have_value(
        "CFI ATLANTIQUE"
    )
    expect(page.get_by_label("Adresse du centre (pour le courrier)")).to_have_value(
        "12 QUAI DE LA FOSSE\n44000 NANTES"
    )
    page.get_by_label("Région (DREETS)").select_option(label="DREETS Pays de la Loire")
    page.get_by_label("Référence de l’agrément").fill("AGR-52-2018-001")
    page.get_by_label("Date de l’agrément").fill("2018-10-15")
    axe_check(page, "agents: nouveau centre")
    agnes.screenshot("backoffice-new-centre")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="CFI ATLANTIQUE", level=1)).to_be_visible()
    expect(page.get_by_text("Le centre CFI ATLANTIQUE est enregistré.")).to_be_visible()
    axe_check(page, "agents: centre")
    centre = Centre.objects.get(establishment__siret=sirene.siret)

    # "Générer le courrier" → a PDF download.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Générer le courrier").click()
    download = download_info.value
    assert download.suggested_filename == f"courrier-ceres-{sirene.siret}.pdf"
    pdf = PdfReader(io.BytesIO(open(download.path(), "rb").read()))  # noqa: PTH123, SIM115
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Objet : Modalités d'accès à l'applicatif CERES" in text
    assert f"SIRET : {sirene.siret}" in text
    code = re.search(r"Code d'activation : ([0-9A-Z-]+)", text).group(1)

    # The follow-up shows the code waiting.
    page.reload()
    expect(page.get_by_text("Code en attente").first).to_be_visible()

    # The centre's manager, with the letter in hand, activates CERES ("SAISIR LE CODE D'ACTIVATION").
    manager = UserFactory(with_establishment=True, first_name="Guy", last_name="Duponttest")
    guy = browser_session("gestionnaire")
    page2 = guy.open("/")
    page2.get_by_label("Adresse électronique").fill(manager.email)
    page2.get_by_label("Mot de passe").fill(PASSWORD)
    page2.get_by_role("button", name="Se connecter").click()
    expect(page2.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    page2.get_by_role("button", name=re.compile("CERES")).click()
    page2.locator("#demarche-ceres").get_by_role("button", name="Ajouter").click()
    dialog = page2.get_by_role("dialog", name="Ajouter une démarche")
    dialog.get_by_role("link", name="SAISIR LE CODE D'ACTIVATION").click()
    page2.get_by_label("SIRET Enregistré").fill(sirene.siret)
    page2.get_by_label("Code d'activation").fill(code)
    page2.get_by_role("button", name="VALIDER MON ACCÈS").click()
    expect(page2.get_by_role("link", name="Certifications Emplois — CERES")).to_be_visible()
    assert (
        Habilitation.objects.active()
        .filter(user=manager, establishment=centre.establishment, role__can_manage=True)
        .exists()
    )

    # The agent sees the centre activated, by whom, and one gestionnaire.
    page.goto(live_server.url + reverse("backoffice:centre", kwargs={"pk": centre.pk}))
    expect(page.get_by_text("Activé").first).to_be_visible()
    expect(page.get_by_role("cell", name=f"Guy Duponttest ({manager.email})")).to_be_visible()
    expect(page.get_by_role("row", name="Gestionnaire CENTRES 1")).to_be_visible()
    agnes.screenshot("backoffice-centre-activated")
    assert agnes.console_errors == []


def test_agents_pages_are_not_found_for_a_portal_user(browser_session, ceres, live_server):
    user = UserFactory()
    person = browser_session("portal-user")
    page = person.open("/")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    response = page.goto(live_server.url + reverse("backoffice:centres"))
    assert response.status == 404


def test_first_login_enrolment_import_bulk_letters_and_support(  # noqa: PLR0917
    browser_session, axe_check, ceres, settings, live_server, tmp_path
):
    import base64

    from django_otp.oath import TOTP

    from portail.backoffice.models import LetterBatch
    from tests.factories import HabilitationFactory, make_siren, make_siret

    settings.PORTAL_BASE_URL = live_server.url
    agent = AgentFactory(is_national=True, totp=False)
    agnes = browser_session("new-agent")
    page = agnes.open(reverse("backoffice:login"))
    page.get_by_label("Adresse électronique").fill(agent.user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(
        page.get_by_role("heading", name="Enregistrer votre application d’authentification")
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Code QR"))).to_be_visible()
    axe_check(page, "agents: enrôlement TOTP")
    agnes.screenshot("backoffice-totp-enrolment")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code à 6 chiffres").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Valider").click()
    expect(
        page.get_by_text("Votre application d’authentification est enregistrée.")
    ).to_be_visible()

    # Import centres already approved (Windows-1252, as a spreadsheet saves it).
    page.get_by_role("link", name="Importer des centres").click()
    sirets = [make_siret(make_siren(880000 + n), 1) for n in range(3)]
    lines = ["siret;nom;adresse;region"] + [
        f"{s};Centre Éloïse {n};{n} rue de l'Église 44000 Nantes;52" for n, s in enumerate(sirets)
    ]
    csv_file = tmp_path / "centres.csv"
    csv_file.write_bytes("\r\n".join(lines).encode("cp1252"))
    bad_file = tmp_path / "mauvais.csv"
    bad_file.write_bytes(("\r\n".join([*lines, f"{sirets[0]};Doublon;1 rue;52"])).encode("cp1252"))
    page.get_by_label("Fichier CSV des centres agréés").set_input_files(str(bad_file))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text(f"Ligne 5 : SIRET {sirets[0]} déjà présent ligne 2.")).to_be_visible()
    axe_check(page, "agents: import en erreur")
    page.get_by_label("Fichier CSV des centres agréés").set_input_files(str(csv_file))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("3 centres importés.")).to_be_visible()
    expect(page.get_by_text("3 centres sélectionnés.")).to_be_visible()
    axe_check(page, "agents: courriers en nombre")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Générer les courriers").click()
    pdf = PdfReader(download_info.value.path())
    assert len(pdf.pages) == 3
    assert "Centre Éloïse 0" in pdf.pages[0].extract_text()
    batch = LetterBatch.objects.get()
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Synthèse du lot {batch.pk} (CSV)").click()
    summary = open(download_info.value.path(), encoding="utf-8").read()  # noqa: PTH123, SIM115
    assert all(s in summary for s in sirets)

    # Follow-up and support.
    page.get_by_role("link", name="Suivi des activations").click()
    expect(
        page.get_by_role("row", name=re.compile(r"DREETS Pays de la Loire 3 0 3 0"))
    ).to_be_visible()
    axe_check(page, "agents: suivi")
    habilitation = HabilitationFactory(
        role=ceres.roles.get(code="centre-agree"),
        user=UserFactory(first_name="Claire", last_name="Martin", email="claire@centre.example"),
    )
    page.get_by_role("link", name="Assistance").click()
    page.get_by_label("Adresse électronique, nom ou SIRET").fill("Claire Martin")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Claire Martin").click()
    expect(page.get_by_role("heading", name="Claire Martin", level=1)).to_be_visible()
    axe_check(page, "agents: assistance, compte")
    page.get_by_label("Motif de la révocation").fill("Départ du centre")
    page.get_by_role("button", name="Révoquer").click()
    expect(page.get_by_text("L’habilitation est révoquée.")).to_be_visible()
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is not None

    # The revocation is an event of CERES' feed; its webhook does not answer.
    set_webhook(actor=None, demarche=ceres, url="http://127.0.0.1:9/injoignable/")
    deliver_webhooks()
    page.get_by_role("link", name="Flux des habilitations").click()
    expect(page.get_by_role("heading", name="Flux des habilitations", level=1)).to_be_visible()
    expect(page.get_by_text("1 événement")).to_be_visible()
    axe_check(page, "agents: flux des habilitations")
    assert agnes.console_errors == []
