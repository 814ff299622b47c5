"""Suspending a habilitation: it stays live (it may be resumed) but gives no access; the
démarche learns it from the feed and the claims, the person sees why in "Mes démarches"."""

import pytest
from django.db import transaction
from django.urls import reverse

from portail.audit.models import AuditEvent
from portail.demarches.models import Role
from portail.habilitations.grants import (
    grant_habilitation,
    resume_habilitation,
    revoke_habilitation,
    suspend_habilitation,
)
from portail.habilitations.models import Habilitation, HabilitationChange
from tests.factories import EstablishmentFactory, HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db

CLOSED = Habilitation.Suspension.ESTABLISHMENT_CLOSED
OVERDUE = Habilitation.Suspension.REVIEW_OVERDUE


def ceres_role(code: str) -> Role:
    return Role.objects.get(demarche__code="ceres", code=code)


@pytest.fixture
def held():
    return HabilitationFactory(
        role=ceres_role("centre-agree"), establishment=EstablishmentFactory(name="CFA Loire")
    )


def suspend(habilitation, reason=OVERDUE):
    with transaction.atomic():
        return suspend_habilitation(actor=None, habilitation=habilitation, reason=reason)


def test_a_suspended_habilitation_is_live_but_not_active(held):
    suspend(held)

    assert list(Habilitation.objects.active()) == []
    assert list(Habilitation.objects.live()) == [held]
    assert list(Habilitation.objects.suspended()) == [held]
    held.refresh_from_db()
    assert held.is_suspended
    assert held.suspension_reason == OVERDUE


def test_suspending_is_journaled_and_fed_once_and_keeps_the_first_reason(held):
    suspend(held, OVERDUE)
    suspend(held, CLOSED)  # already suspended: nothing changes

    held.refresh_from_db()
    assert held.suspension_reason == OVERDUE
    events = AuditEvent.objects.filter(action="habilitation.suspended")
    assert [e.data["reason"] for e in events] == [OVERDUE]
    change = HabilitationChange.objects.get(kind=HabilitationChange.Kind.SUSPENDED)
    assert change.roles_before == ["centre-agree"]
    assert change.roles_after == []
    assert change.siret == held.establishment.siret


def test_resuming_gives_the_access_back_and_tells_the_demarche(held):
    suspend(held)
    with transaction.atomic():
        resume_habilitation(actor=None, habilitation=held)

    held.refresh_from_db()
    assert not held.is_suspended
    assert held.suspension_reason == ""
    assert list(Habilitation.objects.active()) == [held]
    change = HabilitationChange.objects.get(kind=HabilitationChange.Kind.RESUMED)
    assert (change.roles_before, change.roles_after) == ([], ["centre-agree"])
    assert AuditEvent.objects.filter(action="habilitation.resumed").count() == 1


def test_a_revoked_habilitation_is_neither_suspended_nor_resumed(held):
    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=held)
    suspend(held)
    held.refresh_from_db()
    assert held.suspended_at is None


def test_an_unknown_reason_is_refused(held):
    with transaction.atomic(), pytest.raises(ValueError, match="unknown suspension reason"):
        suspend_habilitation(actor=None, habilitation=held, reason="because")


def test_granting_again_does_not_lift_a_suspension(held):
    suspend(held)
    with transaction.atomic():
        again, created = grant_habilitation(
            actor=None,
            user=held.user,
            role=held.role,
            establishment=held.establishment,
            origin=Habilitation.Origin.INVITATION,
        )
    assert (again.pk, created, again.is_suspended) == (held.pk, False, True)


def test_a_suspended_gestionnaire_manages_nothing(client, held):
    manager = HabilitationFactory(
        role=ceres_role("gestionnaire-centres"), establishment=held.establishment
    )
    suspend(manager, CLOSED)
    client.force_login(manager.user)

    page = client.get(reverse("demarches:mes_demarches"))
    assert "Gérer les habilitations" not in page.content.decode()
    assert client.get(reverse("habilitations:manage", args=["ceres"])).status_code in (403, 404)


def test_mes_demarches_shows_the_suspension_and_its_reason(client, held):
    suspend(held, CLOSED)
    other = HabilitationFactory(user=UserFactory(), role=held.role)
    suspend(other, OVERDUE)  # someone else's suspension is not shown
    client.force_login(held.user)

    html = client.get(reverse("demarches:mes_demarches")).content.decode()

    assert "Accès suspendu" in html
    assert "Centre agréé pour CFA Loire : Établissement fermé (répertoire Sirene)" in html
    assert "revue des accès" not in html
