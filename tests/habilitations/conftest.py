import pytest

from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from tests.habilitations.factories import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def ceres(db):
    """The CERES démarche of the catalogue (re-created after a flush by transactional tests)."""
    install_catalogue(Demarche, Role)
    # Its gestionnaires' second factor is test_strong_auth.py's subject, off elsewhere.
    Demarche.objects.filter(code=CERES).update(requires_mfa=False)
    return Demarche.objects.get(code=CERES)
