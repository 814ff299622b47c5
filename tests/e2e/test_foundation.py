"""The foundation in a real browser: home page, accessibility, an email read from the mailbox."""

import pytest

from portail.notifications.emails import send_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_is_accessible_and_an_email_reaches_the_mailbox(
    browser_session, axe_check, mailbox, settings, live_server
):
    person = browser_session("visitor")
    page = person.open("/")
    assert "Mes Démarches Emploi et Formation Professionnelle" in page.title()
    assert page.locator(".fr-header").is_visible()
    axe_check(page, "home")
    person.screenshot("foundation-home")
    assert person.console_errors == []

    settings.PORTAL_BASE_URL = live_server.url
    send_email("notifications/emails/smoke", "visiteur@exemple.fr", {}, category="test")
    message = mailbox.wait_for("visiteur@exemple.fr", "Essai")
    page = person.open(mailbox.link(message, live_server.url))
    assert page.locator("h1").first.inner_text() == "Mentions légales"
