"""A whole account flow with every log record captured: no password, token or code in any."""

import logging

import pytest
from django.test import Client

from portail.audit.models import AuditEvent
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, link_in, path_of, signup_data

pytestmark = pytest.mark.django_db

NEW = "Encore un autre mot de passe"


def test_no_password_or_token_in_logs_or_journal(client, caplog, settings, mailbox):
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [PASSWORD, NEW]

    data = signup_data(client, account_type="particulier", email="secret@exemple.fr")
    secrets.append(data["altcha"])
    assert client.post("/inscription/", data).status_code == 302
    activation = path_of(link_in(OutboxEmail.objects.latest("id").body_text, "/activation/"))
    secrets.append(activation.rstrip("/").rsplit("/", 1)[1])
    client.get(activation)
    client.post(activation)
    client.post(activation)  # used: logged as a refusal, still without the token

    client.post("/", {"email": "secret@exemple.fr", "password": "mauvais " + PASSWORD})
    secrets.append("mauvais " + PASSWORD)
    assert client.post("/", {"email": "secret@exemple.fr", "password": PASSWORD}).status_code == 302
    client.post("/deconnexion/")

    client.post("/mot-de-passe-oublie/", {"email": "secret@exemple.fr"})
    reset = path_of(link_in(OutboxEmail.objects.latest("id").body_text, "/mot-de-passe-oublie/"))
    secrets.append(reset.rstrip("/").rsplit("/", 1)[1])
    client.post(reset, {"password1": NEW, "password2": NEW + "x"})  # an error page too
    assert client.post(reset, {"password1": NEW, "password2": NEW}).status_code == 302
    client.get("/activation/not-a-real-token-but-secret-looking/")
    secrets.append("not-a-real-token-but-secret-looking")

    other = Client()
    assert other.post("/", {"email": "secret@exemple.fr", "password": NEW}).status_code == 302
    other.post("/mon-compte/adresse/", {"new_email": "s2@exemple.fr", "current_password": NEW})
    change = path_of(
        link_in(
            OutboxEmail.objects.filter(recipient="s2@exemple.fr").latest("id").body_text,
            "/mon-compte/adresse/",
        )
    )
    secrets.append(change.rstrip("/").rsplit("/", 1)[1])
    other.post(change)

    # The worker delivers (and logs) the emails too: its log lines are checked as well.
    delivered = mailbox.deliver()
    assert delivered

    assert caplog.records, "nothing was logged: the test would prove nothing"
    # aiosmtpd ("mail.log") is the receiving mailbox of the test, not the portal: at DEBUG it
    # prints the messages it receives, which of course hold their links.
    portal_records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert portal_records
    for record in portal_records:
        text = record.getMessage() + " " + str(getattr(record, "args", "")) + str(record.__dict__)
        for secret in secrets:
            assert secret not in text, f"secret in log record {record.name}: {record.getMessage()}"
    for event in AuditEvent.objects.all():
        dumped = str(event.data) + event.target_label
        for secret in secrets:
            assert secret not in dumped
