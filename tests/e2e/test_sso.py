"""Single sign-on as a person lives it: the portal's own login page, the CERES tile."""

import re

import pytest

from portail.centres.models import Centre, Region
from portail.demarches.models import Role
from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401
from tests.factories import PASSWORD, EstablishmentFactory, HabilitationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def centre_agree_user(ceres):
    establishment = EstablishmentFactory(name="CFI ATLANTIQUE")
    region, _ = Region.objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    Centre.objects.create(
        establishment=establishment, region=region, letter_name="CFI ATLANTIQUE", letter_address="x"
    )
    user = UserFactory(first_name="Claire", last_name="Martin")
    HabilitationFactory(
        user=user,
        role=Role.objects.get(demarche__code="ceres", code="centre-agree"),
        establishment=establishment,
    )
    return user


def log_in(page, user):
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_opening_ceres_asks_the_portal_login_then_lands_in_ceres(
    browser_session, live_server, ceres, centre_agree_user, axe_check
):
    session = browser_session("claire")
    page = session.open(ceres.url + "/")
    page.wait_for_url(re.compile(re.escape(live_server.url) + "/connexion/"))
    session.screenshot("sso-1-portal-login")

    log_in(page, centre_agree_user)

    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.url == ceres.url + "/"
    assert page.locator("#etablissement-nom").inner_text() == "CFI ATLANTIQUE"
    assert page.locator("#roles li").all_inner_texts() == ["Centre agréé"]
    axe_check(page, "CERES after the portal login")
    session.screenshot("sso-2-ceres")


def test_the_ceres_tile_opens_ceres_without_typing_anything(
    browser_session, live_server, ceres, centre_agree_user
):
    session = browser_session("claire")
    page = session.open("/connexion/")
    log_in(page, centre_agree_user)
    page.wait_for_url(re.compile("/demarches/"))

    page.get_by_role("link", name="Certifications Emplois — CERES").click()

    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.url == ceres.url + "/"
    assert "Claire Martin" in page.locator("main").inner_text()
    session.screenshot("sso-3-tile")
