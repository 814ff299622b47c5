"""CERES follows the portal's feed of habilitation changes: its webhook (signed events, applied
once), the catch-up with the cursor, its landing page without a new login, and the revocation of
its refresh token at logout."""

import sqlite3
import subprocess
import sys
import time

import pytest
import requests
from django.db import transaction
from oauth2_provider.models import RefreshToken

from portail.demarches.models import Demarche
from portail.habilitations import flows
from portail.habilitations.grants import grant_habilitation, revoke_habilitation
from portail.habilitations.models import HabilitationChange
from portail.oidc.clients import set_webhook
from portail.oidc.feed import event_payload
from portail.oidc.keys import generate_private_key
from portail.oidc.models import WebhookSubscription
from portail.oidc.webhooks import SigningKey, deliver_webhooks, signed_event, signing_key
from tests.ceres.server import ROOT
from tests.ceres.test_ceres import ceres_role, logged_in_browser, make_centre
from tests.factories import EstablishmentFactory, HabilitationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def following(ceres, live_server, settings):
    """CERES' webhook registered; the portal's events say the live server's issuer."""
    settings.PORTAL_BASE_URL = live_server.url
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    demarche = Demarche.objects.get(code="ceres")
    set_webhook(actor=None, demarche=demarche, url=f"{ceres.url}/portail/evenements/")
    # The portal's database starts empty for each test, the CERES server's does not: its tables
    # start empty too, as for a CERES that never followed the feed.
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        db.execute("delete from ceres_web_receivedevent")
        db.execute("delete from ceres_web_portalroles")
    return demarche


def ceres_rows(ceres, sql, *params):
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def grant(user, role, establishment):
    with transaction.atomic():
        habilitation, _ = grant_habilitation(
            actor=None, user=user, role=role, establishment=establishment, origin="agent"
        )
    return habilitation


def test_the_landing_page_follows_a_role_change_and_a_revocation_without_login(
    browser_session, live_server, ceres, following
):
    centre = make_centre("Centre Flux", 21)
    gestionnaire = UserFactory()
    HabilitationFactory(
        user=gestionnaire,
        role=ceres_role("gestionnaire-centres"),
        establishment=centre.establishment,
    )
    user = UserFactory()
    habilitation = grant(user, ceres_role("centre-agree"), centre.establishment)
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/")
    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert page.locator("#roles li").all_inner_texts() == ["Centre agréé"]

    new = flows.change_role(
        actor=gestionnaire, habilitation=habilitation, role=ceres_role("gestionnaire-centres")
    )
    assert deliver_webhooks()["failed"] == 0
    page.reload()
    assert page.locator("#roles li").all_inner_texts() == ["Gestionnaire CENTRES"]
    assert page.get_by_role(
        "link", name="Gérer les habilitations de mon centre sur le portail"
    ).is_visible()

    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=new, reason="départ")
    assert deliver_webhooks()["failed"] == 0
    page.reload()
    page.get_by_text("Vous n’avez pas d’habilitation pour CERES.").wait_for()
    rows = ceres_rows(
        ceres, "select roles from ceres_web_portalroles where sub = ?", str(user.public_id)
    )
    assert rows == [("[]",)]


def test_a_webhook_event_is_applied_once_and_forgeries_are_refused(ceres, following):
    user = UserFactory()
    grant(user, ceres_role("centre-agree"), EstablishmentFactory())
    # Delivered once by the worker, then the same event again (a retry after a lost answer).
    assert deliver_webhooks() == {"delivered": 1, "failed": 0}
    subscription = WebhookSubscription.objects.get()
    change = HabilitationChange.objects.get(sequence=subscription.delivered_sequence)
    event = event_payload(following, change)
    token = signed_event(following, event)
    url = f"{ceres.url}/portail/evenements/"
    again = requests.post(url, data=token, headers={"Idempotency-Key": event["id"]}, timeout=10)
    assert again.status_code == 204
    applied = ceres_rows(
        ceres, "select count(*) from ceres_web_receivedevent where event_id = ?", event["id"]
    )
    assert applied == [(1,)]

    # Signed by another key, for another audience, tampered, or not a JWT: 400, nothing applied.
    other_key = signing_key(generate_private_key())
    same_kid_other_key = SigningKey(other_key.private_key, signing_key().kid)
    for key in (other_key, same_kid_other_key):
        forged = signed_event(following, event, key)
        assert requests.post(url, data=forged, timeout=10).status_code == 400
    following.oidc_client_id = "un-autre-client"
    assert requests.post(url, data=signed_event(following, event), timeout=10).status_code == 400
    header, payload, signature = token.split(".")
    assert (
        requests.post(url, data=f"{header}.{payload}x.{signature}", timeout=10).status_code == 400
    )
    assert requests.post(url, data="pas un jeton", timeout=10).status_code == 400
    assert (
        requests.post(url, data=token, headers={"Idempotency-Key": "autre"}, timeout=10).status_code
        == 400
    )
    assert requests.get(url, timeout=10).status_code == 405


def test_after_an_outage_ceres_catches_up_with_the_cursor(ceres, following):
    """Events made while CERES could not receive them: the catch-up command reads them in
    order; the next webhook event finds no gap."""
    WebhookSubscription.objects.all().delete()  # CERES unreachable: nothing pushed
    people = [UserFactory() for _ in range(3)]
    for user in people:
        grant(user, ceres_role("centre-agree"), EstablishmentFactory())
    result = subprocess.run(
        [sys.executable, str(ROOT / "ceres" / "manage.py"), "follow_portal_feed"],
        env=ceres.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "événement(s) appliqué(s)" in result.stdout
    for user in people:
        rows = ceres_rows(
            ceres, "select roles from ceres_web_portalroles where sub = ?", str(user.public_id)
        )
        assert rows == [('["centre-agree"]',)]


def test_the_catch_up_forgets_event_ids_older_than_30_days_but_the_last(ceres, following):
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        db.executemany(
            "insert into ceres_web_receivedevent (event_id, sequence, received_at) values (?, ?, ?)",
            [
                ("ancien-1", 1, "2026-01-01 00:00:00"),
                ("ancien-2", 2, "2026-01-02 00:00:00"),
                ("recent-3", 3, "2099-01-01 00:00:00"),
            ],
        )
    WebhookSubscription.objects.all().delete()
    for _ in range(3):  # the portal's events 1 to 3, which CERES has applied
        grant(UserFactory(), ceres_role("centre-agree"), EstablishmentFactory())
    follow = [sys.executable, str(ROOT / "ceres" / "manage.py"), "follow_portal_feed"]
    run = subprocess.run(
        follow, env=ceres.env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 identifiant(s) d’événement de plus de 30 jours oublié(s)." in run.stdout
    assert ceres_rows(ceres, "select event_id from ceres_web_receivedevent") == [("recent-3",)]

    # Only old ones left: the newest (the cursor) stays whatever its age.
    with sqlite3.connect(ceres.workdir / "ceres.sqlite3") as db:
        db.execute("update ceres_web_receivedevent set received_at = '2026-01-03 00:00:00'")
    subprocess.run(
        follow, env=ceres.env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert ceres_rows(ceres, "select event_id, sequence from ceres_web_receivedevent") == [
        ("recent-3", 3)
    ]


def test_logout_revokes_the_refresh_token(browser_session, live_server, ceres):
    centre = make_centre("Centre Sortie", 22)
    user = UserFactory()
    HabilitationFactory(
        user=user, role=ceres_role("centre-agree"), establishment=centre.establishment
    )
    session = logged_in_browser(browser_session, live_server, user)
    page = session.open(ceres.url + "/")
    page.get_by_text("Vous êtes dans Ceres").wait_for()
    assert RefreshToken.objects.filter(user=user, revoked__isnull=True).count() == 1
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("heading", name="Vous êtes déconnecté").wait_for()
    deadline = time.monotonic() + 5
    while RefreshToken.objects.filter(user=user, revoked__isnull=True).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_webhook_event_after_a_gap_makes_ceres_read_what_it_missed_first(ceres, following):
    """CERES lost events 1 and 2 (restored from an old backup): event 3 arrives by the webhook,
    CERES reads 1 and 2 from the feed, then applies 3."""
    people = [UserFactory() for _ in range(3)]
    for user in people:
        grant(user, ceres_role("centre-agree"), EstablishmentFactory())
    WebhookSubscription.objects.update(delivered_sequence=2)
    assert deliver_webhooks() == {"delivered": 1, "failed": 0}
    applied = ceres_rows(ceres, "select event_id from ceres_web_receivedevent order by sequence")
    assert applied == [("ceres:1",), ("ceres:2",), ("ceres:3",)]
