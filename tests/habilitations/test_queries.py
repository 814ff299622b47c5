import pytest
from django.utils import timezone

from portail.habilitations.queries import gestionnaire_demarche_ids
from portail.habilitations.scope import is_gestionnaire
from tests.factories import HabilitationFactory, RoleFactory

pytestmark = pytest.mark.django_db


def test_gestionnaire_helpers(ceres):
    manager_role = ceres.roles.get(code="gestionnaire-centres")
    plain_role = ceres.roles.get(code="centre-agree")
    manager = HabilitationFactory(role=manager_role).user
    plain = HabilitationFactory(role=plain_role).user
    revoked = HabilitationFactory(role=manager_role, revoked_at=timezone.now()).user
    other = RoleFactory(can_manage=True)
    HabilitationFactory(user=plain, role=other)
    assert is_gestionnaire(manager, ceres)
    assert not is_gestionnaire(plain, ceres)
    assert not is_gestionnaire(revoked, ceres)
    assert gestionnaire_demarche_ids(manager) == {ceres.pk}
    assert gestionnaire_demarche_ids(plain) == {other.demarche_id}
