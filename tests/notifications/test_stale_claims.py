"""OUTBOX_STALE_CLAIM_SECONDS: how long a row left "sending" by a dead worker waits before it
goes again (the fault scripts of bench/faults/ shorten it; production keeps 10 minutes)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portail.notifications.delivery import deliver_pending
from portail.notifications.emails import send_email
from portail.notifications.models import OutboxEmail

pytestmark = pytest.mark.django_db(transaction=True)


def claimed_seconds_ago(seconds: int) -> OutboxEmail:
    email = send_email("notifications/emails/smoke", "alice@exemple.fr", {}, category="test")
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=OutboxEmail.Status.SENDING, claimed_at=timezone.now() - timedelta(seconds=seconds)
    )
    return email


def test_the_default_waits_ten_minutes(mailbox, settings):
    assert settings.OUTBOX_STALE_CLAIM_SECONDS == 600
    claimed_seconds_ago(120)
    assert deliver_pending()["sent"] == 0
    assert mailbox.messages() == []


def test_a_shorter_delay_sends_it_again_sooner_exactly_once(mailbox, settings):
    settings.OUTBOX_STALE_CLAIM_SECONDS = 30
    recent = claimed_seconds_ago(10)
    stale = claimed_seconds_ago(45)
    assert deliver_pending()["sent"] == 1
    assert [m.recipients for m in mailbox.messages()] == [["alice@exemple.fr"]]
    assert OutboxEmail.objects.get(pk=stale.pk).status == OutboxEmail.Status.SENT
    assert OutboxEmail.objects.get(pk=recent.pk).status == OutboxEmail.Status.SENDING
