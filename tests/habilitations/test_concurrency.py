"""Races: two gestionnaires inviting the same person at once, two gestionnaires revoking each
other at once. On PostgreSQL the two run in parallel threads (row locks and the partial unique
constraint decide); SQLite serialises writers, so there they run one after the other."""

import threading

import pytest
from django.db import close_old_connections, connection

from portail.audit.models import AuditEvent
from portail.habilitations import flows
from portail.habilitations.grants import HabilitationError
from portail.habilitations.models import Habilitation, Invitation
from portail.notifications.models import OutboxEmail
from tests.habilitations.factories import build_world, habilitate, person

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*actions):
    """Run the actions at the same moment; return what each returned or raised."""
    results: list = [None] * len(actions)
    if connection.vendor != "postgresql":
        for i, action in enumerate(actions):
            try:
                results[i] = action()
            except Exception as error:
                results[i] = error
        return results
    barrier = threading.Barrier(len(actions))

    def worker(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except Exception as error:
            results[i] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_gestionnaires_inviting_the_same_person_at_once_make_one_invitation():
    world = build_world()
    second = person("Sophie", "Seconde", world.head, email="sophie@cfi.fr")
    habilitate(second, world.manager_role, world.head)

    def invite_by(actor):
        return lambda: flows.invite(
            actor=actor,
            demarche=world.demarche,
            role=world.centre_role,
            establishment=world.head,
            email="recrue@cfi.fr",
        )

    results = run_together(invite_by(world.gestionnaire), invite_by(second))
    assert sum(isinstance(r, flows.Sent) for r in results) == 1, results
    assert sum(isinstance(r, HabilitationError) for r in results) == 1, results
    assert Invitation.objects.filter(email="recrue@cfi.fr").count() == 1
    assert OutboxEmail.objects.filter(recipient="recrue@cfi.fr").count() == 1


def test_two_gestionnaires_revoking_each_other_at_once_leave_one():
    world = build_world()
    second = person("Sophie", "Seconde", world.head, email="sophie@cfi.fr")
    theirs = habilitate(second, world.manager_role, world.head)
    mine = Habilitation.objects.get(user=world.gestionnaire, role=world.manager_role)
    results = run_together(
        lambda: flows.revoke(actor=world.gestionnaire, habilitation=theirs),
        lambda: flows.revoke(actor=second, habilitation=mine),
    )
    # One wins; the other is refused cleanly (no deadlock): either it is no longer a
    # gestionnaire itself, or its target has become the last one.
    assert sum(isinstance(r, Habilitation) for r in results) == 1, results
    assert sum(isinstance(r, HabilitationError) for r in results) == 1, results
    assert (
        Habilitation.objects.active()
        .filter(establishment=world.head, role=world.manager_role)
        .count()
        == 1
    )


def test_an_agent_and_a_gestionnaire_revoking_at_once_end_it_once():
    """#17 item 1: the agent's revocation takes the same locks as the gestionnaire's: one
    revocation, one journal event, one email to the person, whoever wins."""
    world = build_world()
    agent = person("Agnès", "Agent", email="agnes@dreets.gouv.fr")
    target = Habilitation.objects.get(user=world.centre_user, role=world.centre_role)
    results = run_together(
        lambda: flows.revoke_by_agent(actor=agent, habilitation=target, reason="Départ"),
        lambda: flows.revoke(actor=world.gestionnaire, habilitation=target),
        lambda: flows.revoke_by_agent(actor=agent, habilitation=target, reason="Départ"),
    )
    assert sum(isinstance(r, Habilitation) for r in results) == 1, results
    assert sum(isinstance(r, HabilitationError) for r in results) == 2, results
    assert AuditEvent.objects.filter(action="habilitation.revoked").count() == 1
    assert OutboxEmail.objects.filter(recipient=world.centre_user.email).count() == 1
