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
    return Demarche.objects.get(code=CERES)
