import pytest

from portail.demarches.models import Demarche

pytestmark = pytest.mark.django_db


def test_migration_loads_ceres_with_its_roles():
    ceres = Demarche.objects.get(code="ceres")
    assert (ceres.short_label, ceres.long_name, ceres.service_type) == (
        "CERES",
        "Certifications Emplois",
        "Certification professionnelle",
    )
    assert ceres.accepts_activation_codes
    assert ceres.url == "http://127.0.0.1:8001/"
    roles = {r.label: r for r in ceres.roles.all()}
    assert roles["Centre agréé"].description == "Centres de formation"
    assert roles["Gestionnaire CENTRES"].description == "Gestionnaire des comptes CENTRES"
    assert roles["Gestionnaire CENTRES"].can_manage
    assert not roles["Centre agréé"].can_manage
    assert all(r.granted_on_activation for r in roles.values())


def test_the_other_demarches_of_the_manual_exist_with_their_own_roles():
    names = set(Demarche.objects.values_list("long_name", flat=True))
    assert {"Mon Activité Formation", "Mes collectes formation", "Mon suivi du contrôle"} <= names
    for demarche in Demarche.objects.exclude(code="ceres"):
        assert demarche.roles.filter(can_manage=True).exists()
        assert demarche.roles.filter(can_manage=False).exists()
