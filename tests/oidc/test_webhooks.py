"""Pushing the feed to a démarche's webhook: signed, in order, at least once, through an outage."""

import json

import pytest
from django.core.management import call_command
from django.db import transaction
from jwcrypto import jwk, jwt

from portail.habilitations.grants import grant_habilitation, revoke_habilitation
from portail.habilitations.models import Habilitation
from portail.oidc.clients import ClientRegistrationError, register_demarche_client, set_webhook
from portail.oidc.models import WebhookSubscription
from portail.oidc.webhooks import backoff_seconds, deliver_webhooks
from tests.factories import EstablishmentFactory, UserFactory
from tests.oidc.helpers import REDIRECT_URI
from tests.oidc.test_feed import make_changes
from tests.oidc.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def subscribed(ceres, ceres_client, receiver):
    set_webhook(actor=None, demarche=ceres, url=receiver.url)
    return ceres_client


def verified(client, token, audience):
    keys = jwk.JWKSet.from_json(json.dumps(client.get("/o/.well-known/jwks.json").json()))
    return json.loads(
        jwt.JWT(
            jwt=token,
            key=keys,
            algs=["RS256"],
            check_claims={"iss": "http://127.0.0.1:8000/o", "aud": audience},
        ).claims
    )


def test_events_are_pushed_signed_in_order(
    client, ceres, subscribed, receiver, django_assert_num_queries
):
    people = make_changes(ceres, 3)
    assert deliver_webhooks() == {"delivered": 3, "failed": 0}
    with django_assert_num_queries(1):  # the worker's idle pass, every second
        assert deliver_webhooks() == {"delivered": 0, "failed": 0}  # nothing twice
    claims = [verified(client, r["body"], subscribed.client_id) for r in receiver.received]
    assert [c["event"]["sequence"] for c in claims] == [1, 2, 3]
    assert [c["jti"] for c in claims] == ["ceres:1", "ceres:2", "ceres:3"]
    assert [r["idempotency_key"] for r in receiver.received] == ["ceres:1", "ceres:2", "ceres:3"]
    assert {r["content_type"] for r in receiver.received} == {"application/jwt"}
    assert claims[0]["event"]["sub"] == str(people[0].public_id)
    assert claims[0]["event"]["type"] == "granted"
    subscription = WebhookSubscription.objects.get(demarche=ceres)
    assert subscription.delivered_sequence == 3
    assert subscription.last_delivered_at is not None


def test_a_forged_signature_does_not_verify(client, ceres, subscribed, receiver):
    make_changes(ceres, 1)
    deliver_webhooks()
    header, payload, signature = receiver.received[0]["body"].split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    with pytest.raises(Exception):  # noqa: B017,PT011 -- jwcrypto's errors have no common base
        verified(client, forged, subscribed.client_id)


def test_webhook_down_for_a_while_then_back_gets_the_50_events_once_in_order(
    client, ceres, subscribed, receiver, settings
):
    """The issue's "done when": the receiver stopped, 50 changes, the receiver back."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # retry at once: the test does not wait the back-off
    receiver.stop()
    people = make_changes(ceres, 25)
    for user in people:
        with transaction.atomic():
            revoke_habilitation(actor=None, habilitation=Habilitation.objects.get(user=user))
    for _ in range(5):  # the worker keeps trying, and keeps every event
        assert deliver_webhooks() == {"delivered": 0, "failed": 1}
    subscription = WebhookSubscription.objects.get(demarche=ceres)
    assert subscription.delivered_sequence == 0
    assert subscription.failures == 5
    assert "ceres:1" in subscription.last_error

    receiver.start()  # same port
    for _ in range(3):
        deliver_webhooks()
    sequences = [
        verified(client, r["body"], subscribed.client_id)["event"]["sequence"]
        for r in receiver.received
    ]
    assert sequences == list(range(1, 51))
    assert WebhookSubscription.objects.get(demarche=ceres).delivered_sequence == 50


def test_an_error_answer_holds_the_event_and_the_next_ones(ceres, subscribed, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    make_changes(ceres, 2)
    receiver.fail_with = 500
    assert deliver_webhooks() == {"delivered": 0, "failed": 1}
    assert WebhookSubscription.objects.get(demarche=ceres).last_error == "ceres:1 : HTTP 500"
    receiver.fail_with = 0
    assert deliver_webhooks() == {"delivered": 2, "failed": 0}
    assert [r["idempotency_key"] for r in receiver.received] == ["ceres:1", "ceres:2"]


def test_back_off_grows_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 2
    settings.WEBHOOK_MAX_BACKOFF_SECONDS = 300
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff_seconds(30) == 300


def test_a_failed_attempt_waits_its_back_off(ceres, subscribed, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    make_changes(ceres, 1)
    receiver.fail_with = 503
    assert deliver_webhooks()["failed"] == 1
    receiver.fail_with = 0
    assert deliver_webhooks() == {"delivered": 0, "failed": 0}  # not due yet
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_webhooks(ceres, subscribed, receiver, capsys):
    # The worker closes stale connections between polls: it needs real transactions.
    make_changes(ceres, 2)
    call_command("run_email_worker", "--once", "--housekeeping-every", "0")
    assert "webhooks: delivered=2 failed=0" in capsys.readouterr().out
    assert len(receiver.received) == 2


def test_registration_takes_a_webhook_url(ceres, catalogue):
    registered = register_demarche_client(
        actor=None,
        demarche=ceres,
        redirect_uris=[REDIRECT_URI],
        webhook_url="https://demarche.example/portail/evenements/",
    )
    assert registered.client_id
    assert (
        WebhookSubscription.objects.get(demarche=ceres).url
        == "https://demarche.example/portail/evenements/"
    )
    with pytest.raises(ClientRegistrationError):
        set_webhook(actor=None, demarche=ceres, url="ftp://demarche.example/x")
    with pytest.raises(ClientRegistrationError):
        set_webhook(actor=None, demarche=ceres, url="https://demarche.example/#frag")


def test_only_the_demarches_own_events_are_pushed(ceres, subscribed, receiver):
    from portail.demarches.models import Demarche

    other = Demarche.objects.exclude(code="ceres")[0]
    register_demarche_client(actor=None, demarche=other, redirect_uris=[REDIRECT_URI])
    with transaction.atomic():
        grant_habilitation(
            actor=None,
            user=UserFactory(),
            role=other.roles.first(),
            establishment=EstablishmentFactory(),
            origin=Habilitation.Origin.AGENT,
        )
    assert deliver_webhooks() == {"delivered": 0, "failed": 0}
    assert receiver.received == []
