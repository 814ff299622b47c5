""" "Mes sessions et appareils" in a real browser: two browser contexts signed in as the same
person; one ends the other, which is logged out at its next request. Axe checks and screenshots
at 390 and 1280 px."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(person, email: str):
    page = person.open("/connexion/?next=/mon-compte/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon compte")).to_be_visible()
    return page


def test_one_browser_ends_the_session_of_another(browser_session, axe_check, live_server):
    UserFactory(email="sessions@exemple.fr")
    desk = browser_session("bureau")
    phone = browser_session("telephone")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    log_in(phone, "sessions@exemple.fr")
    page = log_in(desk, "sessions@exemple.fr")

    page.get_by_role("link", name="Mes sessions et appareils").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes sessions et appareils")
    expect(page.get_by_text("Cette session", exact=True)).to_have_count(1)
    expect(page.get_by_role("heading", level=2)).to_have_count(2)
    expect(page.get_by_text("127.0.0.xxx").first).to_be_visible()
    axe_check(page, "mes sessions (1280)")
    desk.screenshot("accounts-sessions-1280")

    phone_page = phone.open("/mon-compte/sessions/")
    expect(phone_page.get_by_text("Cette session", exact=True)).to_have_count(1)
    axe_check(phone_page, "mes sessions (390)")
    phone.screenshot("accounts-sessions-390")

    # The desk ends the other session (the one not marked "Cette session").
    page.get_by_role("button", name="Fermer la session").click()
    expect(page.get_by_text("La session a été fermée")).to_be_visible()
    expect(page.get_by_role("heading", level=2)).to_have_count(1)
    expect(page.get_by_role("button", name="Fermer toutes les autres sessions")).to_have_count(0)
    axe_check(page, "mes sessions après fermeture")

    # The phone is logged out at its next request.
    phone_page = phone.open("/mon-compte/")
    expect(phone_page.get_by_role("heading", name="Connectez-vous")).to_be_visible()
    assert "/connexion/" in phone_page.url
    # The desk goes on.
    expect(desk.open("/mon-compte/").get_by_role("heading", name="Mon compte")).to_be_visible()
    assert desk.console_errors == []
    assert phone.console_errors == []
