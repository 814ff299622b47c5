"""Accounts never activated (#14 item 4): deleted RETENTION_UNACTIVATED_ACCOUNT_DAYS after their
sign-up, with their links; the activated, the young, the agents and the closed stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portail.accounts.flows import delete_account, resend_activation_to
from portail.accounts.models import AccountToken, User
from portail.accounts.retention import delete_unactivated_accounts
from portail.audit.models import AuditEvent
from portail.core import housekeeping
from portail.habilitations.flows import invite
from portail.habilitations.models import Invitation
from tests.backoffice.factories import AgentFactory
from tests.factories import EstablishmentFactory, UserFactory
from tests.habilitations.factories import ceres, habilitate

pytestmark = pytest.mark.django_db


def joined(user: User, days: float) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days))
    return user


def test_accounts_never_activated_go_after_thirty_days_the_others_stay():
    old = joined(UserFactory(email="oublie@exemple.fr", unverified=True), 31)
    resend_activation_to(old)  # a link row, which goes with the account
    young = joined(UserFactory(email="recent@exemple.fr", unverified=True), 29)
    activated = joined(UserFactory(email="actif@exemple.fr"), 400)
    agent = AgentFactory(user__email_verified_at=None)
    joined(agent.user, 400)
    closed = joined(UserFactory(email="ferme@exemple.fr", unverified=True), 400)
    delete_account(closed)

    assert housekeeping.run()["unactivated_accounts_deleted"] == 1

    assert not User.objects.filter(pk=old.pk).exists()
    assert not AccountToken.objects.filter(user_id=old.pk).exists()
    for kept in (young, activated, agent.user, closed):
        assert User.objects.filter(pk=kept.pk).exists()
    deleted = AuditEvent.objects.get(action="account.unactivated_deleted")
    assert deleted.data["account"] == old.pk
    assert "oublie@exemple.fr" not in str(deleted.data)
    assert delete_unactivated_accounts() == 0


def test_an_invitation_to_a_deleted_account_keeps_its_address():
    demarche, centre_role, manager = ceres()
    establishment = EstablishmentFactory()
    gestionnaire = UserFactory(email="gest@exemple.fr")
    habilitate(gestionnaire, manager, establishment)
    invitee = joined(UserFactory(email="invitee@exemple.fr", unverified=True), 31)
    invite(
        actor=gestionnaire,
        demarche=demarche,
        role=centre_role,
        establishment=establishment,
        email=invitee.email,
    )
    Invitation.objects.update(invited_user=invitee)  # as when chosen from the company's accounts

    assert delete_unactivated_accounts() == 1

    invitation = Invitation.objects.get()
    assert invitation.invited_user is None
    assert invitation.email == "invitee@exemple.fr"


def test_the_limit_is_a_setting(settings):
    settings.RETENTION_UNACTIVATED_ACCOUNT_DAYS = 3
    four_days = joined(UserFactory(unverified=True), 4)
    two_days = joined(UserFactory(unverified=True), 2)
    assert delete_unactivated_accounts() == 1
    assert not User.objects.filter(pk=four_days.pk).exists()
    assert User.objects.filter(pk=two_days.pk).exists()
