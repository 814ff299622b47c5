import pytest
from django.utils import timezone

from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from portail.habilitations import access_review as reviews
from portail.habilitations.models import AccessReview
from tests.habilitations.factories import backdate, build_world, habilitate, person


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


@pytest.fixture
def reviewed(db):
    """CERES reviewed every 12 months; company 101 (Guy, gestionnaire and centre agréé; Claire,
    centre agréé; Bernard, centre agréé on the sibling establishment) and company 202 (Fanny)
    hold their accesses for 13 months: the job opens one review each."""
    world = build_world()
    world.demarche.access_review_months = 12
    world.demarche.save(update_fields=["access_review_months"])
    bernard = person("Bernard", "Site", world.sibling, email="bernard@cfi.fr")
    habilitate(bernard, world.centre_role, world.sibling, granted_by=world.gestionnaire)
    backdate()
    world.bernard = bernard
    world.now = timezone.now()
    done = reviews.run_access_reviews(now=world.now)
    assert done["opened"] == 2
    world.review = AccessReview.objects.get(siren=world.head.siren)
    world.foreign_review = AccessReview.objects.get(siren=world.foreign_head.siren)
    return world
