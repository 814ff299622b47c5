"""CERES receives the portal's logout tokens (OpenID Connect Back-Channel Logout 1.0): a logout
at the portal ends the CERES session opened through it; a forged, foreign, replayed, expired or
nonce-bearing token is refused (400) and ends nothing."""

import sqlite3
import threading
import time
import uuid

import pytest
import requests
from oauth2_provider.models import Application

from portail.oidc import backchannel
from portail.oidc.backchannel import EVENT, deliver_logouts
from portail.oidc.keys import generate_private_key
from portail.oidc.models import UsedAuthorizationCode
from portail.oidc.webhooks import SigningKey, issuer, signed_jwt, signing_key
from tests.ceres.fixtures import register_ceres
from tests.ceres.server import CLIENT_ID, CeresServer
from tests.ceres.test_ceres import ceres_role, logged_in_browser, make_centre
from tests.factories import HabilitationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listening(ceres, live_server, settings):
    """CERES' back-channel logout URI registered; tokens say the live server's issuer."""
    settings.PORTAL_BASE_URL = live_server.url
    url = f"{ceres.url}/portail/deconnexion/"
    backchannel.set_endpoint(Application.objects.get(client_id=CLIENT_ID), url)
    return url


def signed_in_ceres(browser_session, live_server, ceres, n):
    centre = make_centre(f"Centre Déconnexion {n}", 40 + n)
    user = UserFactory()
    HabilitationFactory(
        user=user, role=ceres_role("gestionnaire-centres"), establishment=centre.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/")
    page.get_by_text("Vous êtes dans Ceres").wait_for()
    return user, session, page


def ceres_rows(ceres, sql: str) -> list[tuple]:
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        return db.execute(sql).fetchall()


def portal_sid(ceres) -> str:
    """The `sid` CERES kept from the ID token (its only session in these tests)."""
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        [(sid,)] = db.execute("select sid from ceres_web_portalsession").fetchall()
    return sid


def ceres_sessions(ceres) -> int:
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        [(count,)] = db.execute("select count(*) from ceres_web_portalsession").fetchall()
    return count


@pytest.fixture
def clean_ceres(ceres):
    # The CERES server's database outlives each test; its session index starts empty.
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        db.execute("delete from ceres_web_portalsession")
    return ceres


def token(sub: str, sid: str, *, key: SigningKey | None = None, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer(),
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "sid": sid,
        "events": {EVENT: {}},
        **changes,
    }
    return signed_jwt(claims, key or signing_key(), typ="logout+jwt")


def test_a_logout_at_the_portal_ends_the_open_ceres_page(
    browser_session, live_server, clean_ceres, listening, axe_check
):
    ceres = clean_ceres
    _user, session, page = signed_in_ceres(browser_session, live_server, ceres, 1)
    # The same person, same browser, logs out of the portal in another tab.
    portal = session.context.new_page()
    portal.goto(live_server.url + "/")
    portal.get_by_role("button", name="Se déconnecter").click()
    portal.get_by_text("Vous êtes déconnecté.").wait_for()

    assert deliver_logouts() == {"delivered": 1, "failed": 0, "dropped": 0}  # the worker's pass

    page.get_by_role("link", name="Fonctions de gestionnaire").click()
    page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()
    assert page.url == ceres.url + "/deconnexion/terminee/"
    axe_check(page, "CERES — déconnecté par le portail")
    page.goto(ceres.url + "/deconnexion/terminee/")  # the mark is gone: a plain signed-out page
    assert ceres_sessions(ceres) == 0


def test_bad_logout_tokens_are_refused_and_end_nothing(
    browser_session, live_server, clean_ceres, listening
):
    ceres = clean_ceres
    user, _session, page = signed_in_ceres(browser_session, live_server, ceres, 2)
    sub, sid = str(user.public_id), portal_sid(ceres)
    other_key = signing_key(generate_private_key())
    now = int(time.time())
    replayed = token(sub, "another-portal-session")
    assert requests.post(listening, data={"logout_token": replayed}, timeout=10).status_code == 200
    bad = {
        "another key": token(sub, sid, key=other_key),
        "same kid, another key": token(
            sub, sid, key=SigningKey(other_key.private_key, signing_key().kid)
        ),
        "another audience": token(sub, sid, aud="un-autre-client"),
        "another issuer": token(sub, sid, iss="https://faux.example/o"),
        "a nonce": token(sub, sid, nonce="abc"),
        "expired": token(sub, sid, iat=now - 600, exp=now - 300),
        "no event": token(sub, sid, events={}),
        "replayed jti": replayed,
        "not a JWT": "pas un jeton",
        "none": "",
    }
    for why, bad_token in bad.items():
        answer = requests.post(listening, data={"logout_token": bad_token}, timeout=10)
        assert answer.status_code == 400, why
        assert answer.json()["error"] == "invalid_request", why
        assert "no-store" in answer.headers["Cache-Control"], why
    assert requests.get(listening, timeout=10).status_code == 405

    assert ceres_sessions(ceres) == 1
    page.reload()
    page.get_by_text("Vous êtes dans Ceres").wait_for()  # still signed in
    assert page.url == ceres.url + "/"

    # The right one, once: 200, no-store, and the session is over.
    good = token(sub, sid)
    answer = requests.post(listening, data={"logout_token": good}, timeout=10)
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    assert ceres_sessions(ceres) == 0
    page.goto(ceres.url + "/")
    page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()


def test_after_the_recheck_the_new_ceres_session_is_the_one_ended(
    browser_session, live_server, ceres, tmp_path, settings
):
    """The 10-minute re-check (2 s here) signs in again through the same portal session: the same
    `sid`, one row in the index, and a portal logout still ends the session."""
    settings.PORTAL_BASE_URL = live_server.url
    quick = CeresServer(live_server.url, tmp_path, CERES_RECHECK_SECONDS="2").start()
    try:
        register_ceres(quick)
        backchannel.set_endpoint(
            Application.objects.get(client_id=CLIENT_ID), f"{quick.url}/portail/deconnexion/"
        )
        _user, session, page = signed_in_ceres(browser_session, live_server, quick, 3)
        [(sid, first_key)] = ceres_rows(
            quick, "select sid, session_key from ceres_web_portalsession"
        )
        time.sleep(2.5)
        page.reload()
        page.get_by_text("Vous êtes dans Ceres").wait_for()
        [(same_sid, new_key)] = ceres_rows(
            quick, "select sid, session_key from ceres_web_portalsession"
        )
        assert (same_sid, new_key) == (sid, first_key)  # Django keeps the key for the same user
        assert UsedAuthorizationCode.objects.count() == 2  # signed in again: a second code

        portal = session.context.new_page()
        portal.goto(live_server.url + "/")
        portal.get_by_role("button", name="Se déconnecter").click()
        portal.get_by_text("Vous êtes déconnecté.").wait_for()
        assert deliver_logouts()["delivered"] == 1
        page.reload()
        page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()
    finally:
        quick.stop()


def test_the_same_logout_token_sent_at_once_is_accepted_once(clean_ceres, listening):
    same = token("someone", "some-portal-session")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def send():
        barrier.wait(timeout=10)
        statuses.append(
            requests.post(listening, data={"logout_token": same}, timeout=10).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 400, 400, 400]
