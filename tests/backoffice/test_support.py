"""Support: find an account, see it, resend its activation email, lift a wait, revoke."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.backoffice.agent_auth import OTP_LIMITER
from portail.habilitations.models import Habilitation
from portail.notifications.models import OutboxEmail
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("backoffice:support")


def account_url(user, name="backoffice:support_account", **kwargs):
    return reverse(name, kwargs={"public_id": user.public_id, **kwargs})


def test_find_an_account_by_email_name_or_siret(agent_client, ceres):
    centre = CentreFactory()
    guy = UserFactory(first_name="Guy", last_name="Duponttest", email="guy@cfi.example")
    HabilitationFactory(
        user=guy, role=ceres.roles.get(code="centre-agree"), establishment=centre.establishment
    )
    UserFactory(first_name="Autre", last_name="Personne")
    for query in ("guy@cfi", "Duponttest", "Guy Duponttest", centre.establishment.siret):
        html = agent_client.get(SEARCH, {"q": query}).content.decode()
        assert "guy@cfi.example" in html, query
        assert "Personne" not in html, query
    html = agent_client.get(SEARCH, {"q": "ab"}).content.decode()
    assert "Saisissez au moins 3 caractères." in html


def test_the_account_page_shows_demarches_habilitations_and_events(agent_client, ceres):
    centre = CentreFactory()
    user = UserFactory()
    HabilitationFactory(
        user=user,
        role=ceres.roles.get(code="gestionnaire-centres"),
        establishment=centre.establishment,
    )
    from portail.audit.journal import record

    record("account.login", actor=user, target=user)
    html = agent_client.get(account_url(user)).content.decode()
    assert "Certifications Emplois" in html
    assert "Gestionnaire CENTRES" in html
    assert centre.establishment.siret in html
    assert "<td>Connexion</td>" in html  # the journal speaks French, not action codes


def test_the_account_page_says_when_a_delegation_ends(agent_client, ceres):
    day = timezone.localdate() + timedelta(days=30)
    user = UserFactory()
    HabilitationFactory(
        user=user,
        role=ceres.roles.get(code="centre-agree"),
        establishment=CentreFactory().establishment,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.make_aware(datetime.combine(day, time.max)),
    )
    html = agent_client.get(account_url(user)).content.decode()
    assert f"Active — Délégation jusqu'au {day:%d/%m/%Y}" in html


def test_resend_the_activation_email(agent_client, national_agent):
    user = UserFactory(unverified=True)
    response = agent_client.post(account_url(user, "backoffice:support_resend"))
    assert response.status_code == 302
    email = OutboxEmail.objects.get(recipient=user.email)
    assert "Activez votre compte" in email.subject
    event = AuditEvent.objects.get(action="backoffice.support.activation_resent")
    assert event.actor == national_agent.user
    # An activated account gets nothing.
    active = UserFactory()
    response = agent_client.post(account_url(active, "backoffice:support_resend"), follow=True)
    assert "Ce compte est déjà activé." in response.content.decode()
    assert not OutboxEmail.objects.filter(recipient=active.email).exists()


def test_lift_a_rate_limit_wait(agent_client, national_agent):
    user = UserFactory()
    subject = str(user.pk)
    for _ in range(OTP_LIMITER.limit):
        OTP_LIMITER.fail(subject)
    assert OTP_LIMITER.is_blocked(subject)
    html = agent_client.get(account_url(user)).content.decode()
    assert "agent-otp" in html
    agent_client.post(account_url(user, "backoffice:support_lift"))
    assert not OTP_LIMITER.is_blocked(subject)
    event = AuditEvent.objects.get(action="backoffice.support.ratelimit_lifted")
    assert event.actor == national_agent.user
    assert event.data["limiters"] == ["agent-otp"]


def test_revoke_a_habilitation_with_a_reason(agent_client, national_agent, ceres):
    habilitation = HabilitationFactory(role=ceres.roles.get(code="centre-agree"))
    url = account_url(
        habilitation.user, "backoffice:support_revoke", habilitation_pk=habilitation.pk
    )
    response = agent_client.post(url, {"reason": ""}, follow=True)
    assert "Indiquez le motif de la révocation." in response.content.decode()
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is None
    agent_client.post(url, {"reason": "Départ du centre signalé par téléphone"})
    habilitation = Habilitation.objects.get(pk=habilitation.pk)
    assert habilitation.revoked_at is not None
    assert habilitation.revoked_by == national_agent.user
    assert habilitation.revoke_reason == "Agent : Départ du centre signalé par téléphone"
    assert AuditEvent.objects.get(action="habilitation.revoked").actor == national_agent.user
    assert AuditEvent.objects.get(action="backoffice.support.habilitation_revoked").data[
        "reason"
    ] == ("Départ du centre signalé par téléphone")


def test_support_actions_need_post(agent_client):
    user = UserFactory(unverified=True)
    assert agent_client.get(account_url(user, "backoffice:support_resend")).status_code == 405
    assert agent_client.get(account_url(user, "backoffice:support_lift")).status_code == 405
