"""Tables wider than the screen are regions the keyboard reaches (#17 item 15): an agent's centre
page, whose people have long email addresses, at 390 px and at 1280 px."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from portail.centres.models import Region
from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.codes import issue_activation_code
from portail.demarches.models import ActivationCode, Demarche, Role
from tests.backoffice.conftest import REGIONS
from tests.backoffice.factories import AgentFactory, CentreFactory, current_code
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def log_in_agent(session, agent):
    page = session.page
    page.goto(session.base_url + reverse("backoffice:login"), timeout=60_000)
    page.get_by_label("Adresse électronique").fill(agent.user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(
        current_code(TOTPDevice.objects.get(user=agent.user))
    )
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Espace agents", level=1)).to_be_visible()
    return page


def scrollable_region_rule(page):
    """axe's `scrollable-region-focusable` alone: (nodes passed, violations)."""
    options = {
        "runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]},
        "resultTypes": ["passes", "violations"],
    }
    response = Axe().run(page, options=options).response
    passed = sum(len(rule["nodes"]) for rule in response["passes"])
    return passed, response["violations"]


def test_a_centre_table_with_long_emails_is_a_named_region_the_keyboard_scrolls(
    browser_session, axe_check
):
    install_catalogue(Demarche, Role)  # transactional tests start from a flushed database
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    agent = AgentFactory(
        regions=["52"],
        user=UserFactory(
            email="marie-christine.delacroix-beaumont.instructrice@dreets-pays-de-la-loire.gouv.fr",
            account_type="partenaire",
        ),
    )
    centre = CentreFactory()
    user = UserFactory(
        first_name="Jean-Baptiste",
        last_name="Montgolfier-Lagrange",
        email="jean-baptiste.montgolfier-lagrange.responsable-formation@centre-atlantique.example",
    )
    code, _ = issue_activation_code(
        actor=agent.user,
        demarche=Demarche.objects.get(code=CERES),
        siret=centre.establishment.siret,
        establishment=centre.establishment,
    )
    ActivationCode.objects.filter(pk=code.pk).update(used_by=user, used_at=code.issued_at)

    session = browser_session("agent")
    page = log_in_agent(session, agent)
    page.set_viewport_size(MOBILE)
    page.goto(session.base_url + reverse("backoffice:centre", kwargs={"pk": centre.pk}))
    region = page.get_by_role("region", name="Codes d’activation CERES (les plus récents)")
    expect(region).to_be_visible()
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")  # it does scroll sideways
    passed, violations = scrollable_region_rule(page)
    assert violations == []
    assert passed >= 1  # the rule met the scrolling region and found it focusable
    axe_check(page, "centre à 390 px")

    # The keyboard reaches the region and scrolls it.
    for _ in range(80):
        page.keyboard.press("Tab")
        if region.evaluate("e => e === document.activeElement"):
            break
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    for _ in range(50):  # smooth scrolling takes a moment (no string eval under our CSP)
        if region.evaluate("e => e.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert region.evaluate("e => e.scrollLeft") > 0
    session.screenshot("tables-centre-390")

    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(region).to_be_visible()
    axe_check(page, "centre à 1280 px")
    session.screenshot("tables-centre-1280")

    # Every other agents' page with a table, on a phone: each table a named, focusable region.
    page.set_viewport_size(MOBILE)
    pages = {
        reverse("backoffice:home"): ["Activation de CERES par région"],
        reverse("backoffice:centres"): ["Centres agréés"],
        reverse("backoffice:letters"): ["Lots de courriers"],
        reverse("backoffice:followup"): ["Activation de CERES par région"],
        reverse("backoffice:journal"): [],
        reverse("backoffice:support") + "?q=montgolfier": ["Comptes trouvés"],
        reverse("backoffice:support_account", kwargs={"public_id": user.public_id}): [
            "Habilitations",
            "Événements",
        ],
    }
    for path, regions in pages.items():
        page.goto(session.base_url + path)
        for name in regions:
            expect(page.get_by_role("region", name=name, exact=True)).to_be_visible()
        containers = page.locator(".fr-table__container")
        for n in range(containers.count()):
            container = containers.nth(n)
            expect(container).to_have_attribute("tabindex", "0")
            expect(container).to_have_attribute("role", "region")
            assert container.get_attribute("aria-label")
        axe_check(page, f"{path} à 390 px")
    assert session.console_errors == []
