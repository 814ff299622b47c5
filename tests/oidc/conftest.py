import pytest

from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from portail.oidc.clients import register_demarche_client
from tests.factories import UserFactory
from tests.oidc.helpers import POST_LOGOUT_URI, REDIRECT_URI, Flow


@pytest.fixture
def catalogue(db):
    install_catalogue(Demarche, Role)


@pytest.fixture
def ceres(catalogue):
    return Demarche.objects.get(code=CERES)


@pytest.fixture
def ceres_client(ceres):
    """CERES registered as the portal's client (credentials in clear, as the command prints)."""
    return register_demarche_client(
        actor=None,
        demarche=ceres,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_URI],
    )


@pytest.fixture
def flow(ceres_client):
    return Flow(ceres_client.client_id, ceres_client.client_secret)


@pytest.fixture
def user(client):
    """A person signed in to the portal in `client`."""
    user = UserFactory()
    client.force_login(user)
    return user
