"""CERES signing in through the portal: a real CERES server, a real browser, the live portal."""

import re
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.signals import request_started
from django.db import transaction

from ceres import __version__ as ceres_version
from portail.centres.models import Centre, LinkedSite, Region
from portail.demarches.models import Role
from portail.habilitations.grants import revoke_habilitation, suspend_habilitation
from portail.habilitations.models import Habilitation
from tests.ceres.fixtures import portal_session_cookie, register_ceres
from tests.ceres.server import CeresServer
from tests.factories import (
    EstablishmentFactory,
    HabilitationFactory,
    UserFactory,
    make_siren,
    make_siret,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def ceres_role(code: str) -> Role:
    return Role.objects.get(demarche__code="ceres", code=code)


def make_centre(name: str, n: int) -> Centre:
    establishment = EstablishmentFactory(name=name, siren=make_siren(5000 + n))
    region, _ = Region.objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    centre = Centre.objects.create(
        establishment=establishment, region=region, letter_name=name, letter_address="x"
    )
    site = EstablishmentFactory(
        siren=establishment.siren,
        siret=make_siret(establishment.siren, 2),
        name=f"{name} — site de Saint-Nazaire",
    )
    LinkedSite.objects.create(centre=centre, establishment=site)
    return centre


def logged_in_browser(browser_session, live_server, user, name="user"):
    session = browser_session(name)
    session.context.add_cookies([portal_session_cookie(user, live_server.url)])
    return session


def test_from_the_portal_session_straight_into_ceres(
    browser_session, live_server, ceres, axe_check
):
    centre = make_centre("CFI Atlantique", 1)
    user = UserFactory(first_name="Guy", last_name="Duponttest")
    HabilitationFactory(
        user=user, role=ceres_role("gestionnaire-centres"), establishment=centre.establishment
    )
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.url == ceres.url + "/"
    assert page.locator("h1").inner_text() == "CERES — Certifications Emplois"
    assert "Guy Duponttest" in page.locator("main").inner_text()
    assert page.locator("#etablissement-nom").inner_text() == "CFI Atlantique"
    assert page.locator("#etablissement-siret").inner_text() == centre.establishment.siret
    assert "CFI Atlantique — site de Saint-Nazaire" in page.locator("#sites-lies").inner_text()
    assert page.locator("#roles li").all_inner_texts() == ["Centre agréé", "Gestionnaire CENTRES"]
    manage = page.get_by_role("link", name="Gérer les habilitations de mon centre sur le portail")
    assert manage.get_attribute("href") == f"{live_server.url}/habilitations/ceres/"
    assert f"CERES v {ceres_version}" in page.locator("footer").inner_text()
    axe_check(page, "CERES — accueil")
    session.screenshot("ceres-landing")


def test_the_claims_come_from_the_id_token_without_a_userinfo_request(
    browser_session, live_server, ceres
):
    """The portal's ID token carries every claim CERES keeps (signed, checked): asking userinfo
    for the same claims was a second request to the portal at every sign-in."""
    centre = make_centre("CFI Estuaire", 4)
    user = UserFactory(first_name="Ida", last_name="Jetonid")
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    paths: list[str] = []

    def seen(sender, environ, **kwargs):
        paths.append(environ["PATH_INFO"])

    request_started.connect(seen)
    try:
        page = logged_in_browser(browser_session, live_server, user).open(ceres.url + "/")
        page.get_by_text("Vous êtes dans Ceres").wait_for()
    finally:
        request_started.disconnect(seen)

    assert "Ida Jetonid" in page.locator("main").inner_text()
    assert page.locator("#etablissement-nom").inner_text() == "CFI Estuaire"
    assert "/o/token/" in paths
    assert "/o/userinfo/" not in paths


def test_several_establishments_choose_one(browser_session, live_server, ceres, axe_check):
    first, second = make_centre("Centre Nord", 2), make_centre("Centre Sud", 3)
    second.establishment.commune = "Saint-Nazaire"
    second.establishment.postcode = "44600"
    second.establishment.save()
    user = UserFactory()
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=first.establishment
    )
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=second.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_role("heading", name="Choisir l'établissement").wait_for()
    axe_check(page, "CERES — choisir l'établissement")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_text("Choisissez l’un de vos établissements.").wait_for()
    # Each choice says which site it is: its commune, its SIRET as printed, its address.
    siret = second.establishment.siret
    label = " ".join(page.locator(f'label[for="siret-{siret}"]').inner_text().split())
    assert label.startswith("Centre Sud — Saint-Nazaire SIRET ")
    assert f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}" in label
    assert f"{second.establishment.address}, 44600 Saint-Nazaire" in label
    page.locator("label", has_text="Centre Sud").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.locator("#etablissement-nom").inner_text() == "Centre Sud"
    assert page.locator("#etablissement-adresse").inner_text() == (
        f"{second.establishment.address}, 44600 Saint-Nazaire"
    )
    # A centre agréé is not a gestionnaire: no link to the management page.
    assert page.get_by_role("link", name=re.compile("Gérer les habilitations")).count() == 0
    page.get_by_role("link", name="Changer d'établissement").click()
    page.locator("label", has_text="Centre Nord").click()
    page.get_by_role("button", name="Continuer").click()
    assert page.locator("#etablissement-nom").inner_text() == "Centre Nord"


def test_a_delegated_role_says_when_it_ends(browser_session, live_server, ceres):
    centre = make_centre("Cabinet Expert", 4)
    user = UserFactory()
    HabilitationFactory(
        user=user,
        role=ceres_role("centre-agree"),
        establishment=centre.establishment,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Paris")),
    )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.locator("#roles li").all_inner_texts() == [
        "Centre agréé — Délégation jusqu'au 31/12/2099"
    ]


def test_no_ceres_habilitation_is_refused_with_a_way_back(
    browser_session, live_server, ceres, axe_check
):
    user = UserFactory()
    centre = make_centre("Centre Ouest", 4)
    HabilitationFactory(  # another démarche's habilitation does not open CERES
        user=user,
        role=Role.objects.get(demarche__code="mon-activite-formation", code="declarant"),
        establishment=centre.establishment,
    )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_text("Vous n’avez pas d’habilitation pour CERES.").wait_for()
    assert "Vous êtes dans Ceres" not in page.content()
    back = page.get_by_role("link", name="Retour à « Mes démarches »")
    assert back.get_attribute("href") == f"{live_server.url}/demarches/"
    axe_check(page, "CERES — accès refusé")
    session.screenshot("ceres-refused")


def test_a_suspended_habilitation_is_refused_with_its_reason(
    browser_session, live_server, ceres, axe_check
):
    user = UserFactory(first_name="Inès", last_name="Morel")
    centre = make_centre("Centre Loire", 7)
    held = HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    with transaction.atomic():
        suspend_habilitation(
            actor=None, habilitation=held, reason=Habilitation.Suspension.REVIEW_OVERDUE
        )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_text("Votre accès à CERES est suspendu.").wait_for()
    reason = page.locator(".fr-alert li").inner_text()
    assert reason == (
        f"Centre agréé pour Centre Loire (SIRET {centre.establishment.siret}) : "
        "Accès non confirmé lors de la revue des accès."
    )
    assert "Vous êtes dans Ceres" not in page.content()
    axe_check(page, "CERES — accès suspendu")


def test_someone_not_logged_in_is_sent_to_the_portal_login(browser_session, live_server, ceres):
    session = browser_session("anonymous")
    page = session.open(ceres.url + "/")
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/connexion/"))
    next_url = parse_qs(urlsplit(page.url).query)["next"][0]
    assert next_url.startswith("/o/authorize/?")
    assert "code_challenge_method=S256" in next_url


def test_logout_from_ceres_ends_the_portal_session(browser_session, live_server, ceres, axe_check):
    centre = make_centre("Centre Est", 5)
    user = UserFactory()
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/")
    page.get_by_text("Vous êtes dans Ceres").wait_for()

    page.get_by_role("button", name="Se déconnecter").click()

    page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()
    assert page.url == ceres.logged_out_url
    axe_check(page, "CERES — déconnecté")
    # The portal session is over too: the portal asks for a login again.
    session.open(live_server.url + "/demarches/")
    assert urlsplit(page.url).path == "/connexion/"
    # And CERES has no session left either.
    session.open(ceres.url + "/")
    assert urlsplit(page.url).path == "/connexion/"


def test_revocation_is_seen_at_the_next_recheck(browser_session, live_server, ceres, tmp_path):
    """CERES re-reads the habilitations at the portal every CERES_RECHECK_SECONDS (600 by
    default; 2 here so the test does not wait ten minutes)."""
    quick = CeresServer(live_server.url, tmp_path, CERES_RECHECK_SECONDS="2").start()
    try:
        register_ceres(quick)
        centre = make_centre("Centre Rapide", 6)
        user = UserFactory()
        habilitation = HabilitationFactory(
            user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
        )
        session = logged_in_browser(browser_session, live_server, user)
        page = session.open(quick.url + "/")
        page.get_by_text("Vous êtes dans Ceres").wait_for()

        with transaction.atomic():
            revoke_habilitation(actor=None, habilitation=habilitation, reason="test")
        time.sleep(2.5)
        page.reload()

        page.get_by_text("Vous n’avez pas d’habilitation pour CERES.").wait_for()
        assert page.url == quick.url + "/"
    finally:
        quick.stop()


# -- bad input at CERES: state mismatch, tampered ID token ---------------------------------------


def test_state_mismatch_is_refused_without_session(live_server, ceres):
    with requests.Session() as http:
        start = http.get(f"{ceres.url}/oidc/authenticate/", allow_redirects=False, timeout=10)
        assert start.status_code == 302
        assert parse_qs(urlsplit(start.headers["Location"]).query)["state"]

        answer = http.get(
            f"{ceres.url}/oidc/callback/",
            params={"code": "abc", "state": "not-the-one"},
            timeout=10,
        )

        assert answer.status_code == 400
        assert "Connexion impossible" in answer.text
        assert "state not found in session" in ceres.log.read_text()
        home = http.get(f"{ceres.url}/", allow_redirects=False, timeout=10)
        assert home.status_code == 302
        assert home.headers["Location"].startswith(f"{live_server.url}/o/authorize/?")


def test_callback_without_a_started_login_is_refused(live_server, ceres):
    answer = requests.get(
        f"{ceres.url}/oidc/callback/", params={"code": "abc", "state": "xyz"}, timeout=10
    )
    assert answer.url == f"{ceres.url}/connexion/echec/"
    assert answer.status_code == 400


def test_tampered_id_token_is_refused_without_session(
    browser_session, live_server, ceres, tmp_path
):
    from tests.ceres.tamper import TamperingTokenProxy

    proxy = TamperingTokenProxy(f"{live_server.url}/o/token/").start()
    tampered = CeresServer(live_server.url, tmp_path, CERES_OIDC_TOKEN_ENDPOINT=proxy.url).start()
    try:
        register_ceres(tampered)
        centre = make_centre("Centre Falsifié", 7)
        user = UserFactory()
        HabilitationFactory(
            user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
        )
        session = logged_in_browser(browser_session, live_server, user)

        page = session.open(tampered.url + "/")

        page.get_by_role("heading", name="Connexion impossible").wait_for()
        assert proxy.tampered >= 1
        assert "ID token rejected: InvalidSignatureError" in tampered.log.read_text()
        assert "Vous êtes dans Ceres" not in page.content()
        # No CERES session: the next visit starts a new sign-in at the portal.
        response = requests.get(
            f"{tampered.url}/",
            cookies={c["name"]: c["value"] for c in session.context.cookies(tampered.url)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"{live_server.url}/o/authorize/?")
    finally:
        tampered.stop()
        proxy.stop()


def test_expired_id_token_is_refused_without_session(browser_session, live_server, ceres, settings):
    # The portal (same process as the live server) signs ID tokens already expired.
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ID_TOKEN_EXPIRE_SECONDS": -120}
    centre = make_centre("Centre Expiré", 8)
    user = UserFactory()
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)

    page = session.open(ceres.url + "/")

    page.get_by_role("heading", name="Connexion impossible").wait_for()
    assert "Vous êtes dans Ceres" not in page.content()
    assert "ID token rejected: ExpiredSignatureError" in ceres.log.read_text()
