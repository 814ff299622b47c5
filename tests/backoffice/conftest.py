import importlib

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.centres.models import Region
from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from tests.backoffice.factories import AgentFactory

REGIONS = importlib.import_module("portail.backoffice.migrations.0003_regions").REGIONS


@pytest.fixture
def regions(db):
    """The 18 regions of the data migration (re-created after a flush by transactional tests)."""
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def ceres(db):
    install_catalogue(Demarche, Role)
    return Demarche.objects.get(code=CERES)


def login_agent(client, agent):
    """A verified agent session without going through the forms (those have their own tests)."""
    client.force_login(agent.user)
    device = TOTPDevice.objects.get(user=agent.user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def national_agent(regions, ceres):
    return AgentFactory(is_national=True)


@pytest.fixture
def pdl_agent(regions, ceres):
    """An agent of Pays de la Loire (52) only."""
    return AgentFactory(regions=["52"])


@pytest.fixture
def agent_client(client, national_agent):
    return login_agent(client, national_agent)


@pytest.fixture
def pdl_client(client, pdl_agent):
    return login_agent(client, pdl_agent)
