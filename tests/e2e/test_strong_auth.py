"""Strong authentication in a real browser: a passkey enrolled and used through Chromium's
virtual authenticator (DevTools protocol, WebAuthn domain), TOTP enrolment and login with codes
computed as an app does, and a CERES gestionnaire made to enrol, then stepped up before an
invitation. axe checks on every new page."""

import time
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from portail.accounts import mfa
from portail.accounts.factor_models import Passkey
from portail.audit.models import AuditEvent
from portail.core.strong_auth import AUTH_KEY, STEP_UP_SECONDS
from portail.demarches.models import Demarche
from tests.accounts.mfa_helpers import code_at, key_from_secret, with_totp
from tests.factories import PASSWORD, UserFactory
from tests.habilitations.factories import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLOW = 20_000


@pytest.fixture
def relying_party(settings, live_server):
    """Passkeys are bound to the portal's address: here, the live server's."""
    settings.WEBAUTHN_RP_ID = urlsplit(live_server.url).hostname
    settings.WEBAUTHN_ORIGIN = live_server.url


def with_virtual_authenticator(session):
    """A platform authenticator that holds discoverable keys and verifies its user (as a
    fingerprint reader would), through the DevTools protocol."""
    cdp = session.page.context.new_cdp_session(session.page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def log_in_with_password(page, email):
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def log_out(page):
    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page.get_by_role("heading", name="Connectez-vous")).to_be_visible(timeout=SLOW)


def test_enrol_a_passkey_log_out_and_sign_in_with_it_alone(
    browser_session, live_server, relying_party, axe_check
):
    user = UserFactory(first_name="Alice", last_name="Martin")
    session = browser_session("alice")
    cdp, authenticator = with_virtual_authenticator(session)
    page = session.open("/")
    log_in_with_password(page, user.email)
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)

    page = session.open("/mon-compte/")
    page.get_by_role("link", name="Double authentification").click()
    expect(page.get_by_role("heading", name="Double authentification", level=1)).to_be_visible()
    axe_check(page, "Double authentification")
    page.get_by_label("Nom de la nouvelle clé d'accès").fill("Ordinateur du bureau")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    expect(page.get_by_role("cell", name="Ordinateur du bureau", exact=True)).to_be_visible(
        timeout=SLOW
    )
    expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    axe_check(page, "Double authentification, clé ajoutée")
    passkey = Passkey.objects.get(user=user)
    page.get_by_role("link", name="Supprimer Ordinateur du bureau").click()
    expect(
        page.get_by_role("heading", name="C'est votre dernier moyen de vérification")
    ).to_be_visible()
    axe_check(page, "Supprimer la dernière clé d'accès")
    page.get_by_role("link", name="Retour").click()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]

    log_out(page)
    page.get_by_role("link", name="Se connecter avec une clé d'accès").click()
    expect(page.get_by_role("heading", name="Se connecter avec une clé d'accès")).to_be_visible()
    axe_check(page, "Se connecter avec une clé d'accès")
    page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    used = AuditEvent.objects.filter(action="account.mfa.used", target_id=str(user.pk)).get()
    assert used.data["purpose"] == "passwordless"

    # With the password, the key is the second step.
    log_out(page)
    log_in_with_password(page, user.email)
    expect(page.get_by_role("heading", name="Vérification en deux étapes")).to_be_visible(
        timeout=SLOW
    )
    axe_check(page, "Vérification en deux étapes")
    page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)
    assert session.console_errors == []


def test_a_key_of_another_site_or_removed_is_refused(
    browser_session, live_server, relying_party, settings
):
    user = UserFactory()
    session = browser_session("alice")
    with_virtual_authenticator(session)
    page = session.open("/")
    log_in_with_password(page, user.email)
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)
    page = session.open("/mon-compte/double-authentification/")
    page.get_by_label("Nom de la nouvelle clé d'accès").fill("Clé")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    expect(page.get_by_role("cell", name="Clé", exact=True)).to_be_visible(timeout=SLOW)
    log_out(page)
    # The portal now expects another origin: the browser's assertion (for this one) is refused.
    settings.WEBAUTHN_ORIGIN = "https://portail.example"
    page = session.open("/connexion/cle-d-acces/")
    page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    expect(page.get_by_text("Cette clé d'accès n'a pas été reconnue.")).to_be_visible(timeout=SLOW)
    assert not AuditEvent.objects.filter(action="account.login", target_id=str(user.pk)).count() > 1
    failed = AuditEvent.objects.get(action="account.mfa.failed", target_id=str(user.pk))
    assert failed.data["reason"] == "InvalidAuthenticationResponse"


def test_totp_login_from_a_computed_code(browser_session, live_server, axe_check):
    user = UserFactory()
    key, _codes = with_totp(user)
    session = browser_session("bob")
    page = session.open("/")
    log_in_with_password(page, user.email)
    expect(page.get_by_role("heading", name="Vérification en deux étapes")).to_be_visible(
        timeout=SLOW
    )
    page.get_by_label("Code de vérification").fill("000000" if code_at(key) != "000000" else "1")
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_text("Code incorrect, expiré ou déjà utilisé.").first).to_be_visible()
    axe_check(page, "Vérification en deux étapes, code refusé")
    page.get_by_label("Code de vérification").fill(code_at(key))
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)


def test_a_ceres_gestionnaire_is_made_to_enrol_then_stepped_up_before_an_invitation(
    browser_session, live_server, axe_check
):
    world = build_world()
    Demarche.objects.filter(pk=world.demarche.pk).update(requires_mfa=True)
    session = browser_session("guy")
    page = session.open("/")
    log_in_with_password(page, world.gestionnaire.email)
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible(timeout=SLOW)
    page.get_by_role("link", name="Gérer les habilitations CERES").click()
    # No factor yet: led to enrol one before the management page opens.
    expect(page.get_by_text("Un second moyen de vérification est demandé")).to_be_visible(
        timeout=SLOW
    )
    page.get_by_role("link", name="Ajouter une application d'authentification").click()
    expect(
        page.get_by_role("heading", name="Ajouter une application d'authentification")
    ).to_be_visible()
    axe_check(page, "Ajouter une application d'authentification")
    key = key_from_secret(page.locator("#totp-secret").inner_text())
    page.get_by_label("Nom de ce moyen de vérification").fill("Téléphone")
    # The previous step's code (apps' clocks drift): the current one stays for the step-up.
    page.get_by_label("Code affiché par l'application").fill(code_at(key, -1))
    page.get_by_role("button", name="Ajouter cette application").click()
    expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible(timeout=SLOW)
    page.get_by_role("link", name="continuez vers la page demandée").click()
    expect(page.get_by_role("tab", name="Personnes habilitées pour mon entreprise")).to_be_visible(
        timeout=SLOW
    )
    assert mfa.has_second_factor(world.gestionnaire)

    # Sixteen minutes later (the session's last check moved back): inviting asks again.
    cookie = next(c for c in session.context.cookies() if c["name"] == "sessionid")
    store = SessionStore(session_key=cookie["value"])
    state = store[AUTH_KEY]
    state["factor_at"] = time.time() - STEP_UP_SECONDS - 60
    store[AUTH_KEY] = state
    store.save()
    page = session.open(f"/habilitations/{world.demarche.code}/inviter/")
    expect(page.get_by_role("heading", name="Confirmez votre identité")).to_be_visible(timeout=SLOW)
    axe_check(page, "Confirmez votre identité")
    page.get_by_label("Code de vérification").fill(code_at(key))
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("heading", name="Inviter un utilisateur")).to_be_visible(timeout=SLOW)
    assert AuditEvent.objects.filter(
        action="account.mfa.used", target_id=str(world.gestionnaire.pk), data__purpose="step_up"
    ).exists()
