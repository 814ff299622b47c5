"""The outbox: transactional writes, delivery over real SMTP, retries, exactly-once."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portail.notifications.delivery import backoff_seconds, deliver_pending, scrub_links
from portail.notifications.emails import send_email
from portail.notifications.models import OutboxEmail
from tests.factories import DemarcheFactory, EstablishmentFactory
from tests.mailbox import TestMailbox, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _send(to="alice@exemple.fr"):
    return send_email("notifications/emails/smoke", to, {}, category="test")


def test_send_email_renders_three_templates_and_waits_in_the_outbox():
    email = _send()
    assert email.status == OutboxEmail.Status.PENDING
    assert email.subject == "[TEST] Essai d’envoi du portail"
    assert "Les mentions légales : http://127.0.0.1:8000/mentions-legales/" in email.body_text
    assert "Ce message est envoyé par un automate" in email.body_text
    assert "<a href=" in email.body_html


def test_the_email_keeps_the_ids_of_its_demarche_and_establishment_after_they_are_gone():
    demarche, establishment, elsewhere = (
        DemarcheFactory(),
        EstablishmentFactory(),
        EstablishmentFactory(),
    )
    ids = (demarche.pk, establishment.pk)
    email = send_email(
        "notifications/emails/smoke",
        "alice@exemple.fr",
        {},
        category="test",
        demarche=demarche,
        establishment=establishment,
    )
    send_email(
        "notifications/emails/smoke",
        "bob@exemple.fr",
        {},
        category="test",
        demarche=demarche,
        establishment=elsewhere,
    )
    establishment.delete()
    demarche.delete()
    email.refresh_from_db()
    assert (email.demarche_id, email.establishment_id) == ids
    assert list(OutboxEmail.objects.about(ids[0], [ids[1]])) == [email]
    assert _send().demarche_id is None


def test_a_rolled_back_change_sends_nothing(mailbox):
    class BoomError(Exception):
        pass

    def change_that_fails():
        with transaction.atomic():
            _send()
            raise BoomError

    with pytest.raises(BoomError):
        change_that_fails()
    assert OutboxEmail.objects.count() == 0
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}
    assert mailbox.messages() == []


def test_worker_delivers_over_smtp_once(mailbox):
    _send("alice@exemple.fr")
    _send("bob@exemple.fr")
    assert deliver_pending() == {"sent": 2, "retry": 0, "failed": 0}
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}
    messages = mailbox.messages()
    assert sorted(m.recipients[0] for m in messages) == ["alice@exemple.fr", "bob@exemple.fr"]
    alice = mailbox.messages("alice@exemple.fr")[0]
    assert alice.subject == "[TEST] Essai d’envoi du portail"
    assert alice.html
    assert "Les mentions légales" in alice.html
    assert mailbox.link(alice, "/mentions") == "http://127.0.0.1:8000/mentions-legales/"
    email = OutboxEmail.objects.get(recipient="alice@exemple.fr")
    assert email.status == OutboxEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None


def test_smtp_down_then_back_delivers_exactly_once(tmp_path, settings):
    port = free_port()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    email = _send()

    # The server is down: the email stays pending, with the error and a growing back-off.
    assert deliver_pending() == {"sent": 0, "retry": 1, "failed": 0}
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.PENDING
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    first_wait = email.next_attempt_at - timezone.now()
    assert timedelta(seconds=0) < first_wait <= timedelta(seconds=backoff_seconds(1))

    # Not due yet: nothing is tried.
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}

    # Due again, still down: the wait doubles.
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert deliver_pending()["retry"] == 1
    email.refresh_from_db()
    assert email.attempts == 2
    assert backoff_seconds(2) == 2 * backoff_seconds(1)

    # The server comes back on the same port: delivered once, and never again.
    box = TestMailbox(tmp_path / "box", port=port)
    box.catcher.start()
    try:
        OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        assert deliver_pending() == {"sent": 1, "retry": 0, "failed": 0}
        assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}
        assert len(box.messages()) == 1
    finally:
        box.catcher.stop()
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT
    assert email.attempts == 3
    assert email.last_error == ""


def test_gives_up_after_max_attempts(settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.OUTBOX_MAX_ATTEMPTS = 2
    email = _send()
    deliver_pending()
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 1}
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.FAILED
    assert OutboxEmail.objects.failed().count() == 1


def test_a_row_claimed_by_another_worker_is_not_sent_twice(mailbox):
    email = _send()
    # Another worker claimed it a moment ago.
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=OutboxEmail.Status.SENDING, claimed_at=timezone.now()
    )
    assert deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}
    assert mailbox.messages() == []


def test_a_claim_abandoned_by_a_dead_worker_is_retried(mailbox):
    email = _send()
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=OutboxEmail.Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert deliver_pending()["sent"] == 1
    assert len(mailbox.messages()) == 1


def test_worker_command_once(mailbox):
    from django.core.management import call_command

    _send()
    call_command("run_email_worker", "--once")
    assert len(mailbox.messages()) == 1


def test_personal_links_are_delivered_then_masked_in_the_outbox(mailbox):
    token = "Zq3" + "x" * 40
    email = _send()
    link = f"http://127.0.0.1:8000/habilitations/invitations/{token}/"
    OutboxEmail.objects.filter(pk=email.pk).update(
        body_text=f"Suivez le lien : {link}\n", body_html=f'<a href="{link}">lien</a>'
    )
    assert deliver_pending()["sent"] == 1
    assert token in mailbox.messages()[0].text  # the person got the working link
    email.refresh_from_db()
    assert token not in email.body_text
    assert token not in email.body_html
    assert (
        "http://127.0.0.1:8000/habilitations/invitations/[lien-personnel-masqué]/"
        in email.body_text
    )
    # Ordinary links stay as they are.
    assert scrub_links("Voir http://127.0.0.1:8000/mentions-legales/") == (
        "Voir http://127.0.0.1:8000/mentions-legales/"
    )
