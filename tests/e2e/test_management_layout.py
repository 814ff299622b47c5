"""The gestionnaire's page at 390 px and 1280 px (#17 items 6 and 14): each access request shows
the person and their message before "Accepter" / "Refuser"; on a phone the people are cards whose
actions are reached without scrolling sideways (each row of the one table shown as a card),
and the tab list scrolls with the active tab in
view."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from portail.habilitations import flows
from portail.habilitations.access_requests import request_access
from portail.habilitations.models import Habilitation
from tests.factories import PASSWORD
from tests.habilitations.factories import build_world, habilitate, person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_EMAIL = "marie-christine.delacroix-beaumont.responsable-formation@cfi-atlantique.example"
MESSAGE = "Je remplace Claire au service formation à partir de lundi."


@pytest.fixture
def world(mailbox):
    world = build_world()
    long = person("Marie-Christine", "Delacroix-Beaumont", world.head, email=LONG_EMAIL)
    habilitate(long, world.centre_role, world.head, granted_by=world.gestionnaire)
    third = person("Thierry", "Tiers-Délégataire", email="thierry.tiers@prestataire.example")
    habilitate(
        third,
        world.centre_role,
        world.head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.now() + timedelta(days=30),
    )
    request_access(
        user=world.colleague,
        demarche=world.demarche,
        siret=world.head.siret,
        role=world.centre_role,
        message=MESSAGE,
    )
    flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        email="nouvelle.recrue.service-formation@cfi-atlantique.example",
    )
    return world


def open_manage(session, world, viewport, tab=""):
    page = session.page
    page.set_viewport_size(viewport)
    page.goto(session.base_url + "/", timeout=60_000)
    if page.get_by_label("Adresse électronique").count():
        page.get_by_label("Adresse électronique").fill(world.gestionnaire.email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    url = reverse("habilitations:manage", kwargs={"code": world.demarche.code})
    page.goto(session.base_url + url + (f"?onglet={tab}" if tab else ""))
    return page


def in_tab_list(tab) -> bool:
    """The tab lies wholly inside the visible part of its (scrolling) tab list."""
    return tab.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " const l = e.closest('[role=tablist]').getBoundingClientRect();"
        " return r.left >= l.left && r.right <= l.right && r.right <= window.innerWidth; }"
    )


def box(locator):
    result = locator.bounding_box()
    assert result is not None, locator
    return result


def in_viewport(page, locator) -> bool:
    rect = locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }"
    )
    return rect[0] >= 0 and rect[1] <= page.viewport_size["width"]


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["390", "1280"])
def test_an_access_request_shows_the_person_and_message_before_the_decision(
    browser_session, axe_check, world, viewport
):
    session = browser_session("gestionnaire")
    page = open_manage(session, world, viewport)
    card = page.locator(".fr-card", has_text=MESSAGE)
    name = card.get_by_role("heading", name="Dominique Demandeur")
    message = card.get_by_text(MESSAGE)
    accept = card.get_by_role("button", name="Accepter")
    refuse = card.get_by_role("button", name="Refuser")
    expect(accept).to_be_visible()
    card.scroll_into_view_if_needed()
    assert box(name)["y"] < box(message)["y"] < box(accept)["y"]
    assert box(message)["y"] < box(refuse)["y"]
    axe_check(page, f"gestion — demandes d’accès à {viewport['width']} px")
    session.screenshot(f"manage-access-request-{viewport['width']}")


def test_on_a_phone_every_person_s_actions_are_reached_without_scrolling_sideways(
    browser_session, axe_check, world
):
    session = browser_session("gestionnaire")
    page = open_manage(session, world, MOBILE)
    expect(page.get_by_role("tab", name="Personnes habilitées pour mon entreprise")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    # The person with the long address: their actions are on screen, as links to click.
    change = page.get_by_role("link", name="Changer le rôle de Marie-Christine Delacroix-Beaumont")
    revoke = page.get_by_role("link", name="Révoquer Marie-Christine Delacroix-Beaumont")
    for link in (change, revoke):
        expect(link).to_be_visible()
        link.scroll_into_view_if_needed()
        assert in_viewport(page, link)
    # One table on both widths: its row, shown as a card, with the whole address.
    expect(page.get_by_role("row").get_by_text(LONG_EMAIL)).to_be_visible()
    # The invitation and the delegation too.
    for name in ("Renvoyer l’invitation", "Annuler l’invitation"):
        button = page.get_by_role("button", name=name)
        expect(button).to_be_visible()
        assert in_viewport(page, button)
    third = page.get_by_role("link", name="Révoquer Thierry Tiers-Délégataire")
    expect(third).to_be_visible()
    assert in_viewport(page, third)
    axe_check(page, "gestion à 390 px")
    session.screenshot("manage-people-390")

    revoke.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Révoquer")


def test_on_a_phone_the_tabs_scroll_and_the_active_one_is_in_view(
    browser_session, axe_check, world
):
    session = browser_session("gestionnaire")
    page = open_manage(session, world, MOBILE, tab="messages")
    active = page.get_by_role("tab", name="Historique des messages")
    expect(active).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name="Historique des messages")).to_be_visible()
    assert in_tab_list(active)
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    axe_check(page, "gestion — messages à 390 px")
    session.screenshot("manage-tabs-messages-390")

    # On the first tab, the three tabs fit: none starts off-screen.
    page = open_manage(session, world, MOBILE)
    for name in (
        "Personnes habilitées pour mon entreprise",
        "Caractéristiques",
        "Historique des messages",
    ):
        tab = page.get_by_role("tab", name=name)
        expect(tab).to_be_visible()
        assert in_tab_list(tab), (name, tab.bounding_box())
    session.screenshot("manage-tabs-390")


def test_the_management_page_at_1280_px(browser_session, axe_check, world):
    session = browser_session("gestionnaire")
    page = open_manage(session, world, DESKTOP)
    expect(page.get_by_role("region", name="Centre agréé — 3 Personnes")).to_be_visible()
    expect(
        page.get_by_role("link", name="Révoquer Marie-Christine Delacroix-Beaumont")
    ).to_be_visible()
    axe_check(page, "gestion à 1280 px")
    session.screenshot("manage-people-1280")
