"""Support: an agent resets a person's second factors, only with a reason; journaled; the person
is emailed; nobody else than an agent may do it."""

import pytest
from django.urls import reverse

from portail.accounts import mfa
from portail.accounts.factor_models import Passkey, RecoveryCode
from portail.audit.models import AuditEvent
from portail.notifications.models import OutboxEmail
from tests.accounts.mfa_helpers import password_step, with_totp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def reset_url(user):
    return reverse("backoffice:support_reset_factors", kwargs={"public_id": user.public_id})


def test_reset_a_persons_factors_with_a_reason(agent_client, national_agent, client):
    user = UserFactory()
    with_totp(user)
    Passkey.objects.create(user=user, name="Clé", credential_id="id-1", public_key=b"k")
    page = agent_client.get(
        reverse("backoffice:support_account", kwargs={"public_id": user.public_id})
    ).content.decode()
    assert "1 application d’authentification, 1 clé d’accès, 10 codes de secours" in page
    response = agent_client.post(reset_url(user), {"reason": ""}, follow=True)
    assert "Indiquez le motif de la réinitialisation." in response.content.decode()
    assert mfa.has_second_factor(user)
    response = agent_client.post(reset_url(user), {"reason": "Téléphone perdu, rappel au 06…"})
    assert response.status_code == 302
    assert not mfa.has_second_factor(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="account.mfa.reset")
    assert event.actor == national_agent.user
    assert event.target_id == str(user.pk)
    assert event.data == {"reason": "Téléphone perdu, rappel au 06…", "factors": 2}
    email = OutboxEmail.objects.get(recipient=user.email)
    assert email.subject.endswith("Vos moyens de vérification ont été réinitialisés")
    # The person signs in with the password alone again.
    assert password_step(client, user)["Location"] == "/demarches/"


def test_only_agents_reset_factors(client):
    user = UserFactory()
    with_totp(user)
    client.force_login(UserFactory())
    response = client.post(reset_url(user), {"reason": "Je le veux"})
    assert response.status_code in (302, 403, 404)
    assert mfa.has_second_factor(user)
    assert not AuditEvent.objects.filter(action="account.mfa.reset").exists()
