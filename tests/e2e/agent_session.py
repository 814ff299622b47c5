"""An agent signed in through the real pages (password, then the TOTP code), for browser tests."""

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.backoffice.factories import current_code
from tests.factories import PASSWORD


def signed_in_agent(browser_session, agent, name="agent"):
    """(session, page) of `agent` on "Espace agents"."""
    session = browser_session(name)
    page = session.open(reverse("backoffice:login"))
    page.get_by_label("Adresse électronique").fill(agent.user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(
        current_code(TOTPDevice.objects.get(user=agent.user))
    )
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Espace agents", level=1)).to_be_visible()
    return session, page
