"""Real concurrent transactions (PostgreSQL, like CI's second run): two gestionnaires of the same
establishment deleting their accounts at the same moment — one must stay; two sign-ups with the
same address at the same moment — one account."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portail.accounts import dormancy, flows
from portail.accounts.models import User
from portail.habilitations.models import Habilitation
from tests.factories import EstablishmentFactory, HabilitationFactory, RoleFactory, UserFactory

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]


def together(function, arguments) -> list[str]:
    barrier = threading.Barrier(len(arguments))
    outcomes: list[str] = []

    def run(argument):
        try:
            barrier.wait(timeout=10)
            outcomes.append(function(argument))
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_gestionnaires_leaving_at_once_leave_one(db):
    for _ in range(4):
        role = RoleFactory(can_manage=True)
        establishment = EstablishmentFactory()
        users = [UserFactory() for _ in range(2)]
        for user in users:
            HabilitationFactory(user=user, role=role, establishment=establishment)

        def delete(user):
            try:
                flows.delete_account(user)
            except flows.AccountDeletionRefusedError:
                return "refused"
            return "deleted"

        outcomes = together(delete, users)
        assert sorted(outcomes) == ["deleted", "refused"], outcomes
        assert (
            Habilitation.objects.active().managing().filter(establishment=establishment).count()
            == 1
        )


def test_two_sign_ups_with_one_address_make_one_account(db):
    def sign_up(first_name):
        user = flows.sign_up(
            flows.SignupData(
                email="meme.adresse@exemple.fr",
                password="Une phrase de passe assez longue",
                account_type=User.AccountType.PARTICULIER,
                civilite=User.Civilite.MADAME,
                last_name="Course",
                first_name=first_name,
                phone="+33612345678",
            )
        )
        return "created" if user else "same page"

    outcomes = together(sign_up, ["Une", "Deux", "Trois"])
    assert sorted(outcomes) == ["created", "same page", "same page"], outcomes
    assert User.objects.filter(email="meme.adresse@exemple.fr").count() == 1


def test_two_dormant_gestionnaires_of_one_site_deactivated_at_once_leave_one_warning(db):
    """Two workers run the dormancy chore at the same moment for the two gestionnaires of an
    establishment, both dormant and warned a month ago: one is deactivated, and the other, left
    the only active one, waits for the agents to be warned."""
    role = RoleFactory(can_manage=True)
    establishment = EstablishmentFactory()
    users = [UserFactory() for _ in range(2)]
    for user in users:
        HabilitationFactory(user=user, role=role, establishment=establishment)
    User.objects.filter(pk__in=[u.pk for u in users]).update(
        last_login=timezone.now() - timedelta(days=400),
        date_joined=timezone.now() - timedelta(days=500),
        dormancy_warned_at=timezone.now() - timedelta(days=31),
    )

    outcomes = together(dormancy.deactivate_if_due, users)

    assert sorted(outcomes) == ["agents_warned", "deactivated"], outcomes
    assert User.objects.filter(pk__in=[u.pk for u in users], is_active=True).count() == 1


def test_two_accounts_closing_at_once_in_two_demarches_both_close(db):
    """Each revocation locks its démarche's feed row until commit: two closures touching two
    démarches in opposite orders would wait for each other (a deadlock) unless both take the
    démarches in one order."""
    first, second = RoleFactory(), RoleFactory()
    for round_ in range(5):
        ann, bob = UserFactory(), UserFactory()
        establishment = EstablishmentFactory()
        # Listed newest first: Ann's revocations go second → first, Bob's first → second.
        for user, roles in ((ann, (first, second)), (bob, (second, first))):
            for role in roles:
                HabilitationFactory(user=user, role=role, establishment=establishment)

        def close(user):
            flows.delete_account(user)
            return "deleted"

        outcomes = together(close, [ann, bob])
        assert outcomes == ["deleted", "deleted"], (round_, outcomes)
    assert not Habilitation.objects.active().exists()
