"""Support: find an account, see it, resend its activation email, lift a wait, revoke."""

import html
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.accounts.views import LOGIN_PER_ACCOUNT
from portail.audit.models import AuditEvent
from portail.backoffice.agent_auth import OTP_LIMITER
from portail.backoffice.support import known_limiters
from portail.core.ratelimit import format_remaining
from portail.habilitations.admission import user_key
from portail.habilitations.models import Habilitation
from portail.habilitations.redemption import activation_user_limiter
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
    # One event for the action, marked as the support's (#17 item 8).
    event = AuditEvent.objects.get()
    assert event.action == "account.activation_resent"
    assert event.actor == national_agent.user
    assert event.data == {"support": True}
    # An activated account gets nothing.
    active = UserFactory()
    response = agent_client.post(account_url(active, "backoffice:support_resend"), follow=True)
    assert "Ce compte est déjà activé." in response.content.decode()
    assert not OutboxEmail.objects.filter(recipient=active.email).exists()


def test_lift_a_rate_limit_wait(limits_store, agent_client, national_agent):
    user = UserFactory()
    subject = str(user.pk)
    for _ in range(OTP_LIMITER.limit):
        OTP_LIMITER.fail(subject)
    assert OTP_LIMITER.is_blocked(subject)
    html = agent_client.get(account_url(user)).content.decode()
    assert "Connexion agent suspendue après plusieurs codes de vérification erronés" in html
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
    # One event for the action, the support's context a field of it (#17 item 8).
    event = AuditEvent.objects.get()
    assert event.action == "habilitation.revoked"
    assert event.actor == national_agent.user
    assert event.data["support"] is True
    assert event.data["reason"] == "Départ du centre signalé par téléphone"


def test_an_agents_revocation_tells_the_person_and_the_gestionnaires(
    agent_client, national_agent, ceres
):
    """#17 item 1: what a gestionnaire's revocation does, and a notice to the gestionnaires."""
    centre = CentreFactory()
    gestionnaire_role = ceres.roles.get(code="gestionnaire-centres")
    first = HabilitationFactory(role=gestionnaire_role, establishment=centre.establishment)
    second = HabilitationFactory(role=gestionnaire_role, establishment=centre.establishment)
    person = HabilitationFactory(
        role=ceres.roles.get(code="centre-agree"), establishment=centre.establishment
    )
    url = account_url(person.user, "backoffice:support_revoke", habilitation_pk=person.pk)
    response = agent_client.post(url, {"reason": "Départ signalé par le centre"}, follow=True)
    assert "L’habilitation est révoquée." in response.content.decode()

    told = OutboxEmail.objects.get(recipient=person.user.email)
    assert told.subject.endswith("Votre accès à la démarche CERES a été révoqué")
    assert "Un agent du ministère du Travail" in told.body_text
    assert "Motif : Départ signalé par le centre" in told.body_text
    for gestionnaire in (first.user, second.user):
        notice = OutboxEmail.objects.get(recipient=gestionnaire.email)
        assert "révoquée par un agent du ministère" in notice.subject
        assert person.user.email in notice.body_text
        assert "Motif : Départ signalé par le centre" in notice.body_text
    assert OutboxEmail.objects.count() == 3
    # The account page lists the revocation among the person's events.
    html = agent_client.get(account_url(person.user)).content.decode()
    assert "Habilitation révoquée" in html


def test_an_agent_may_revoke_the_last_gestionnaire(agent_client, ceres):
    centre = CentreFactory()
    only = HabilitationFactory(
        role=ceres.roles.get(code="gestionnaire-centres"), establishment=centre.establishment
    )
    url = account_url(only.user, "backoffice:support_revoke", habilitation_pk=only.pk)
    agent_client.post(url, {"reason": "Le gestionnaire a quitté le centre"})
    only.refresh_from_db()
    assert only.revoked_at is not None
    assert OutboxEmail.objects.filter(recipient=only.user.email).count() == 1
    assert OutboxEmail.objects.count() == 1  # nobody else manages it


def test_an_ended_habilitation_is_not_revoked_twice(agent_client, ceres):
    habilitation = HabilitationFactory(role=ceres.roles.get(code="centre-agree"))
    url = account_url(
        habilitation.user, "backoffice:support_revoke", habilitation_pk=habilitation.pk
    )
    agent_client.post(url, {"reason": "Premier motif"})
    response = agent_client.post(url, {"reason": "Second motif"}, follow=True)
    assert "Cette habilitation a déjà pris fin." in response.content.decode()
    assert AuditEvent.objects.filter(action="habilitation.revoked").count() == 1
    assert OutboxEmail.objects.count() == 1


def test_support_actions_need_post(agent_client):
    user = UserFactory(unverified=True)
    assert agent_client.get(account_url(user, "backoffice:support_resend")).status_code == 405
    assert agent_client.get(account_url(user, "backoffice:support_lift")).status_code == 405


def test_a_wait_is_said_in_french_for_a_person(limits_store, agent_client):
    user = UserFactory(email="bloquee@example.com")
    for _ in range(LOGIN_PER_ACCOUNT.limit):
        LOGIN_PER_ACCOUNT.fail(user.email)
    for _ in range(activation_user_limiter.limit):
        activation_user_limiter.fail(user_key(user))
    text = " ".join(html.unescape(agent_client.get(account_url(user)).content.decode()).split())
    assert "Connexion suspendue après plusieurs mots de passe erronés, encore 1 minute" in text
    assert (
        "Saisie de codes d'activation suspendue après plusieurs codes erronés, encore 1 minute"
        in text
    )
    assert "login-account" not in text
    assert "activation-user" not in text
    assert " s)" not in text


def test_every_limiter_has_a_label_for_the_agents():
    limiters = known_limiters()
    assert {"login-account", "activation-user", "account-email", "agent-otp"} <= set(limiters)
    for name, limiter in limiters.items():
        assert limiter.label, name
        assert limiter.label[0].isupper(), name


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 seconde"),
        (49, "49 secondes"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (3600, "1 heure"),
        (5400, "2 heures"),
    ],
)
def test_remaining_time_in_words(seconds, words):
    assert format_remaining(seconds) == words


def test_the_account_page_says_a_dormancy_warning_and_a_deactivation(agent_client):
    warned = UserFactory(email="prevenu@exemple.fr")
    warned.dormancy_warned_at = timezone.now()
    warned.save(update_fields=["dormancy_warned_at"])
    asleep = UserFactory(email="endormi@exemple.fr", is_active=False)
    asleep.deactivated_at = timezone.now()
    asleep.save(update_fields=["deactivated_at"])

    page = html.unescape(agent_client.get(account_url(warned)).content.decode())
    assert "d’une désactivation faute d’utilisation (une connexion l’annule)" in page
    page = html.unescape(agent_client.get(account_url(asleep)).content.decode())
    assert "désactivé le" in page
    assert "faute d’utilisation (la personne peut le réactiver" in page
