"""The feed of habilitation changes: every path writes its event, numbered per démarche, in the
change's transaction."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from portail.habilitations import flows
from portail.habilitations.feed import record_establishment_closed
from portail.habilitations.grants import end_ended_delegations, grant_habilitation
from portail.habilitations.models import Habilitation, HabilitationChange, HabilitationFeed
from tests.habilitations.factories import build_world, habilitate, other_demarche, person

Kind = HabilitationChange.Kind


def events(demarche):
    return list(HabilitationChange.objects.filter(demarche=demarche).order_by("sequence"))


@pytest.mark.django_db
def test_invitation_revocation_and_role_change_each_write_one_event(world):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    habilitation = flows.accept_invitation(user=world.colleague, token=sent.token)
    new = flows.change_role(
        actor=world.gestionnaire, habilitation=habilitation, role=world.manager_role
    )
    flows.revoke(actor=world.gestionnaire, habilitation=new)

    granted, changed, revoked = events(world.demarche)
    assert [e.sequence for e in (granted, changed, revoked)] == [1, 2, 3]
    assert (granted.kind, granted.roles_before, granted.roles_after) == (
        Kind.GRANTED,
        [],
        [world.centre_role.code],
    )
    assert (changed.kind, changed.roles_before, changed.roles_after) == (
        Kind.ROLE_CHANGED,
        [world.centre_role.code],
        [world.manager_role.code],
    )
    assert (revoked.kind, revoked.roles_before, revoked.roles_after) == (
        Kind.REVOKED,
        [world.manager_role.code],
        [],
    )
    assert {e.user for e in (granted, changed, revoked)} == {world.colleague}
    assert {e.siret for e in (granted, changed, revoked)} == {world.head.siret}
    assert HabilitationFeed.objects.get(demarche=world.demarche).last_sequence == 3


@pytest.mark.django_db
def test_a_second_role_on_the_same_establishment_is_a_role_change(world):
    with transaction.atomic():
        grant_habilitation(
            actor=None,
            user=world.centre_user,
            role=world.manager_role,
            establishment=world.head,
            origin=Habilitation.Origin.AGENT,
        )
    (event,) = events(world.demarche)
    assert event.kind == Kind.ROLE_CHANGED
    assert event.roles_before == [world.centre_role.code]
    assert event.roles_after == sorted([world.centre_role.code, world.manager_role.code])


@pytest.mark.django_db
def test_each_demarche_has_its_own_numbers(world):
    other, other_manager = other_demarche()
    for _demarche, role in ((world.demarche, world.centre_role), (other, other_manager)):
        with transaction.atomic():
            grant_habilitation(
                actor=None,
                user=world.colleague,
                role=role,
                establishment=world.head,
                origin=Habilitation.Origin.AGENT,
            )
    assert [e.sequence for e in events(world.demarche)] == [1]
    assert [e.sequence for e in events(other)] == [1]


@pytest.mark.django_db
def test_a_change_rolled_back_leaves_no_event_and_no_number(world):
    def grant_then_fail():
        with transaction.atomic():
            grant_habilitation(
                actor=None,
                user=world.colleague,
                role=world.centre_role,
                establishment=world.head,
                origin=Habilitation.Origin.AGENT,
            )
            raise RuntimeError("la suite échoue")

    with pytest.raises(RuntimeError):
        grant_then_fail()
    assert events(world.demarche) == []
    assert not HabilitationFeed.objects.filter(last_sequence__gt=0).exists()


@pytest.mark.django_db
def test_the_chore_ends_past_delegations_dated_at_their_end(world):
    ends_at = timezone.now() - timedelta(minutes=5)
    tiers = person("Tom", "Tiers", email="tom@tiers.fr")
    delegation = habilitate(
        tiers,
        world.centre_role,
        world.head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=ends_at,
    )
    still = habilitate(
        person("Ana", "Encore", email="ana@tiers.fr"),
        world.centre_role,
        world.head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert end_ended_delegations() == 1
    assert end_ended_delegations() == 0  # closed once
    (event,) = events(world.demarche)
    assert event.kind == Kind.DELEGATION_EXPIRED
    assert event.user == tiers
    assert event.occurred_at == ends_at
    assert (event.roles_before, event.roles_after) == ([world.centre_role.code], [])
    delegation.refresh_from_db()
    still.refresh_from_db()
    assert delegation.revoked_at is not None
    assert still.revoked_at is None


@pytest.mark.django_db
def test_closing_an_establishment_tells_each_holder(world):
    with transaction.atomic():
        assert record_establishment_closed(world.demarche, world.head) == 2
    kinds = {(e.kind, e.user_id) for e in events(world.demarche)}
    assert kinds == {
        (Kind.ESTABLISHMENT_CLOSED, world.gestionnaire.pk),
        (Kind.ESTABLISHMENT_CLOSED, world.centre_user.pk),
    }


@pytest.mark.postgres_only(
    reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_get_distinct_numbers_in_commit_order():
    """Threads granting at once: numbers 1..N without gap or twin, and each commit sees every
    smaller number already committed (the feed row is locked until commit)."""
    world = build_world()
    people = [person(f"P{i}", "Parallele", email=f"p{i}@cfi.fr") for i in range(8)]
    barrier = threading.Barrier(len(people))
    seen_gaps = []

    def grant(user):
        try:
            barrier.wait()
            with transaction.atomic():
                grant_habilitation(
                    actor=None,
                    user=user,
                    role=world.centre_role,
                    establishment=world.head,
                    origin=Habilitation.Origin.AGENT,
                )
            # Once committed, every smaller number of the feed is visible.
            numbers = set(
                HabilitationChange.objects.filter(demarche=world.demarche).values_list(
                    "sequence", flat=True
                )
            )
            if numbers != set(range(1, max(numbers) + 1)):
                seen_gaps.append(sorted(numbers))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=grant, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.sequence for e in events(world.demarche)] == list(range(1, len(people) + 1))
    assert seen_gaps == []
