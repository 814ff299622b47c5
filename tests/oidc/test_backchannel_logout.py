"""OpenID Connect Back-Channel Logout 1.0 on the provider: `sid` in the ID token, a logout token
queued when a portal session ends, POSTed by the worker with retries, checked here with PyJWT
(a library the portal's own signing code does not use)."""

from datetime import timedelta
from urllib.parse import parse_qs

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portail.accounts import flows
from portail.accounts.models import UserSession
from portail.habilitations.grants import grant_habilitation, revoke_habilitation
from portail.habilitations.models import Habilitation
from portail.oidc import backchannel
from portail.oidc.backchannel import EVENT, deliver_logouts
from portail.oidc.clients import register_demarche_client
from portail.oidc.models import BackchannelLogoutEndpoint, PendingLogout
from tests.factories import EstablishmentFactory, UserFactory
from tests.oidc.helpers import REDIRECT_URI, Flow
from tests.oidc.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

ISSUER = "http://127.0.0.1:8000/o"


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def listening(ceres, receiver):
    """CERES registered with a back-channel logout URI (the local receiver)."""
    return register_demarche_client(
        actor=None,
        demarche=ceres,
        redirect_uris=[REDIRECT_URI],
        backchannel_logout_uri=receiver.url,
    )


@pytest.fixture
def person():
    return UserFactory(email="anne@exemple.fr")


def signed_in(person) -> Client:
    browser = Client()
    browser.force_login(person)
    return browser


def verify(client: Client, token: str, audience: str) -> dict:
    """What a démarche does with the logout token (spec §2.6), with PyJWT and the JWKS."""
    keys = jwt.PyJWKSet.from_dict(client.get("/o/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=ISSUER,
        options={"require": ["iss", "aud", "iat", "exp", "jti", "sub", "sid", "events"]},
    )


def sign_in_demarche(browser: Client, registered) -> dict:
    """The démarche's code flow through `browser`'s portal session: the ID token's claims."""
    flow = Flow(registered.client_id, registered.client_secret)
    tokens = flow.token_request(Client(), flow.get_code(browser)).json()
    return jwt.decode(tokens["id_token"], options={"verify_signature": False})


def received_tokens(receiver: Receiver) -> list[str]:
    return [parse_qs(r["body"])["logout_token"][0] for r in receiver.received]


def test_discovery_advertises_backchannel_logout(client):
    document = client.get("/o/.well-known/openid-configuration").json()
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True


def test_the_id_token_carries_the_portal_session_id(person, listening):
    laptop, phone = signed_in(person), signed_in(person)
    on_laptop, on_phone = sign_in_demarche(laptop, listening), sign_in_demarche(phone, listening)
    row = UserSession.objects.get(session_id=laptop.session.session_key)
    assert on_laptop["sid"] == backchannel.session_id(row.pk)
    assert on_phone["sid"] != on_laptop["sid"]  # one per portal session
    assert str(row.pk) not in on_laptop["sid"]  # opaque


def test_logging_out_of_the_portal_sends_a_signed_logout_token(client, person, listening, receiver):
    browser = signed_in(person)
    id_token = sign_in_demarche(browser, listening)

    assert browser.post("/deconnexion/").status_code == 302
    assert PendingLogout.objects.count() == 1  # queued with the logout, sent by the worker
    assert deliver_logouts() == {"delivered": 1, "failed": 0, "dropped": 0}
    assert not PendingLogout.objects.exists()

    [token] = received_tokens(receiver)
    assert receiver.received[0]["content_type"] == "application/x-www-form-urlencoded"
    assert jwt.get_unverified_header(token)["typ"] == "logout+jwt"
    claims = verify(client, token, listening.client_id)
    assert claims["sub"] == str(person.public_id) == id_token["sub"]
    assert claims["sid"] == id_token["sid"]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120
    with pytest.raises(jwt.InvalidAudienceError):
        verify(client, token, "another-client")


def test_ending_a_session_from_mes_sessions_logs_out_that_session_only(
    client, person, listening, receiver
):
    laptop, phone = signed_in(person), signed_in(person)
    sign_in_demarche(laptop, listening)
    on_phone = sign_in_demarche(phone, listening)
    row = UserSession.objects.get(session_id=phone.session.session_key)

    response = laptop.post("/mon-compte/sessions/fermer/", {"session": str(row.pk)})
    assert response.status_code == 302
    deliver_logouts()

    [token] = received_tokens(receiver)
    assert verify(client, token, listening.client_id)["sid"] == on_phone["sid"]


def test_closing_the_account_logs_out_every_session(client, person, listening, receiver):
    laptop, phone = signed_in(person), signed_in(person)
    sids = {sign_in_demarche(b, listening)["sid"] for b in (laptop, phone)}
    flows.delete_account(person)
    assert deliver_logouts()["delivered"] == 2
    assert {verify(client, t, listening.client_id)["sid"] for t in received_tokens(receiver)} == (
        sids
    )


def test_a_client_without_a_logout_uri_is_not_told(person, ceres_client, receiver):
    browser = signed_in(person)
    sign_in_demarche(browser, ceres_client)
    browser.post("/deconnexion/")
    assert not PendingLogout.objects.exists()


def test_a_failed_delivery_is_tried_again_later_then_given_up(
    client, person, listening, receiver, settings
):
    settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS = 3
    browser = signed_in(person)
    sign_in_demarche(browser, listening)
    browser.post("/deconnexion/")
    receiver.fail_with = 503

    assert deliver_logouts() == {"delivered": 0, "failed": 1, "dropped": 0}
    pending = PendingLogout.objects.get()
    assert pending.attempts == 1
    assert pending.last_error == "HTTP 503"
    assert pending.next_attempt_at > timezone.now()
    assert deliver_logouts() == {"delivered": 0, "failed": 0, "dropped": 0}  # not due yet

    receiver.fail_with = 0
    PendingLogout.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_logouts() == {"delivered": 1, "failed": 0, "dropped": 0}
    assert len(received_tokens(receiver)) == 1

    # Another one never acknowledged: dropped after the last try.
    browser = signed_in(person)
    sign_in_demarche(browser, listening)
    browser.post("/deconnexion/")
    receiver.fail_with = 500
    for _ in range(2):
        assert deliver_logouts()["failed"] == 1
        PendingLogout.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_logouts() == {"delivered": 0, "failed": 0, "dropped": 1}
    assert not PendingLogout.objects.exists()


def test_the_command_registers_the_logout_uri(ceres, capsys):
    call_command(
        "register_demarche_client",
        "ceres",
        REDIRECT_URI,
        "--backchannel-logout-uri",
        "https://ceres.example/oidc/backchannel-logout/",
    )
    assert BackchannelLogoutEndpoint.objects.get().uri == (
        "https://ceres.example/oidc/backchannel-logout/"
    )


def test_losing_the_last_habilitation_for_the_demarche_logs_out_there(
    client, ceres, person, listening, receiver
):
    role = ceres.roles.get(can_manage=False)
    held = [
        grant_habilitation(
            actor=None,
            user=person,
            role=role,
            establishment=EstablishmentFactory(),
            origin=Habilitation.Origin.AGENT,
        )[0]
        for _ in range(2)
    ]
    browser = signed_in(person)
    id_token = sign_in_demarche(browser, listening)

    revoke_habilitation(actor=None, habilitation=held[0])
    assert not PendingLogout.objects.exists()  # one left: still habilitated
    revoke_habilitation(actor=None, habilitation=held[1])
    assert deliver_logouts()["delivered"] == 1
    [token] = received_tokens(receiver)
    assert verify(client, token, listening.client_id)["sid"] == id_token["sid"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_logout_tokens(person, listening, receiver, capsys):
    # The worker closes stale connections between polls: it needs real transactions.
    browser = signed_in(person)
    sign_in_demarche(browser, listening)
    browser.post("/deconnexion/")
    call_command("run_email_worker", "--once", "--housekeeping-every", "0")
    assert "backchannel_logout: delivered=1 failed=0 dropped=0" in capsys.readouterr().out
    assert len(received_tokens(receiver)) == 1
