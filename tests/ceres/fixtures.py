"""Fixtures starting CERES next to the portal's live server. Import them where needed:
`from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401`
(the fixtures are named `ceres` and `ceres_server`)."""

import pytest
from django.test import Client

from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from portail.oidc.clients import register_demarche_client
from tests.ceres.server import CLIENT_ID, CLIENT_SECRET, CeresServer


@pytest.fixture(scope="session", name="ceres_server")
def ceres_server_fixture(live_server, tmp_path_factory):
    server = CeresServer(live_server.url, tmp_path_factory.mktemp("ceres")).start()
    yield server
    server.stop()


def register_ceres(server: CeresServer) -> Demarche:
    """The catalogue, CERES registered as a client for `server`, its tile pointing at it."""
    install_catalogue(Demarche, Role)
    demarche = Demarche.objects.get(code=CERES)
    register_demarche_client(
        actor=None,
        demarche=demarche,
        redirect_uris=[server.callback_url],
        post_logout_redirect_uris=[server.logged_out_url],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        replace=True,
    )
    Demarche.objects.filter(pk=demarche.pk).update(url=f"{server.url}/")
    return Demarche.objects.get(pk=demarche.pk)


@pytest.fixture(name="ceres")
def ceres_fixture(ceres_server, transactional_db):
    register_ceres(ceres_server)
    return ceres_server


def portal_session_cookie(user, live_server_url: str) -> dict:
    """A portal session for `user` (the login page itself is tested by the accounts tests)."""
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server_url}
