"""Two people typing the same code at the same moment: exactly one becomes gestionnaire.

Real concurrent transactions, each thread on its own database connection. Only PostgreSQL has
the row locks (`select_for_update`) this is about; CI runs the suite on PostgreSQL too.
"""

import threading

import pytest
from django.db import connection

from portail.demarches.models import ActivationCode
from portail.habilitations import redemption
from portail.habilitations.models import Habilitation
from tests.demarches.factories import issued_code
from tests.factories import EstablishmentFactory, UserFactory

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 6
CONTENDERS = 3


def race(ceres, establishment, code, users):
    barrier = threading.Barrier(len(users))
    outcomes: dict[int, str] = {}

    def attempt(user):
        try:
            barrier.wait(timeout=10)
            redemption.activate_with_code(
                user=user, demarche=ceres, siret=establishment.siret, code=code
            )
            outcomes[user.pk] = "activated"
        except redemption.ActivationRefusedError:
            outcomes[user.pk] = "refused"
        except Exception as exc:
            outcomes[user.pk] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_same_code_at_the_same_moment_exactly_one_wins(ceres):
    for _ in range(ROUNDS):
        establishment = EstablishmentFactory()
        row, code = issued_code(ceres, establishment)
        users = [UserFactory() for _ in range(CONTENDERS)]

        outcomes = race(ceres, establishment, code, users)

        assert sorted(outcomes.values()) == ["activated"] + ["refused"] * (CONTENDERS - 1)
        winner = next(pk for pk, outcome in outcomes.items() if outcome == "activated")
        managing = Habilitation.objects.active().managing().filter(establishment=establishment)
        assert list(managing.values_list("user_id", flat=True)) == [winner]
        assert Habilitation.objects.filter(establishment=establishment).count() == 2
        row = ActivationCode.objects.get(pk=row.pk)
        assert row.used_by_id == winner
