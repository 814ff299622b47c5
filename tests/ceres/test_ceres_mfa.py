"""CERES' gestionnaire functions ask the portal for a second factor (acr_values), through its
real OIDC client library (mozilla-django-oidc), a real CERES server, a real browser."""

import pytest
from playwright.sync_api import expect

from tests.accounts.mfa_helpers import code_at, with_totp
from tests.ceres.test_ceres import ceres_role, logged_in_browser, make_centre
from tests.factories import HabilitationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLOW = 20_000


def gestionnaire(n: int):
    centre = make_centre("CFI Atlantique", n)
    user = UserFactory(first_name="Guy", last_name="Duponttest")
    HabilitationFactory(
        user=user, role=ceres_role("gestionnaire-centres"), establishment=centre.establishment
    )
    return user


def test_the_gestionnaire_page_asks_the_portal_for_the_second_factor(
    browser_session, live_server, ceres, axe_check
):
    user = gestionnaire(41)
    key, _codes = with_totp(user)
    # A portal session opened with the password only: CERES' landing page opens...
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/")
    page.get_by_text("Vous êtes dans Ceres").wait_for()
    page.get_by_role("link", name="Fonctions de gestionnaire").click()
    # ...its gestionnaire page sends to the portal, which asks for the factor first.
    expect(page.get_by_role("heading", name="Confirmez votre identité")).to_be_visible(timeout=SLOW)
    assert page.url.startswith(live_server.url + "/mon-compte/verification/")
    axe_check(page, "Confirmez votre identité (CERES)")
    page.get_by_label("Code de vérification").fill(code_at(key))
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("heading", name="Fonctions de gestionnaire")).to_be_visible(
        timeout=SLOW
    )
    assert page.url.startswith(ceres.url + "/gestion/")
    axe_check(page, "CERES — fonctions de gestionnaire")


def test_ceres_refuses_its_gestionnaire_page_without_the_factor(
    browser_session, live_server, ceres, axe_check
):
    user = gestionnaire(42)  # no factor
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/gestion/")
    # The portal leads to the enrolment; CERES shows nothing of its gestionnaire page.
    expect(page.get_by_role("heading", name="Double authentification")).to_be_visible(timeout=SLOW)
    assert page.url.startswith(live_server.url + "/mon-compte/double-authentification/")
    # Back at CERES without it (the portal did not confirm a factor): refused, 403.
    response = page.goto(ceres.url + "/gestion/?verifie=1")
    assert response.status == 403
    expect(
        page.get_by_text("Les fonctions de gestionnaire demandent une double authentification.")
    ).to_be_visible()
    axe_check(page, "CERES — fonctions de gestionnaire refusées")
