import pytest
from django.urls import reverse

from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_and_no_agent_created_there(client, regions):
    CentreFactory()
    AgentFactory(regions=["52"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in (
        "centres_region",
        "backoffice_agentprofile",
        "centres_centre",
        "backoffice_letterbatch",
    ):
        assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert client.get(reverse("admin:backoffice_agentprofile_add")).status_code == 403
    assert client.get(reverse("admin:centres_centre_add")).status_code == 403
