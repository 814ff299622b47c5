"""Pages that list things keep a fixed number of queries, whatever the number of rows."""

import pytest
from django.urls import reverse

from portail.audit.journal import record
from portail.demarches.codes import issue_activation_code
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def count_queries(client, url, django_assert_max_num_queries, limit, **params):
    with django_assert_max_num_queries(limit):
        assert client.get(url, params).status_code == 200


@pytest.mark.parametrize("rows", [1, 15])
def test_centre_page(agent_client, ceres, rows, django_assert_max_num_queries):
    centre = CentreFactory()
    for _ in range(rows):
        issue_activation_code(actor=None, demarche=ceres, siret=centre.establishment.siret)
        HabilitationFactory(
            role=ceres.roles.get(code="centre-agree"), establishment=centre.establishment
        )
        record("test.event", establishment=centre.establishment, target=centre)
    url = reverse("backoffice:centre", kwargs={"pk": centre.pk})
    count_queries(agent_client, url, django_assert_max_num_queries, 16)


@pytest.mark.parametrize("rows", [1, 20])
def test_support_search_and_account(agent_client, ceres, rows, django_assert_max_num_queries):
    users = [UserFactory(last_name="Lefebvre") for _ in range(rows)]
    for user in users:
        HabilitationFactory(user=users[0], role=ceres.roles.get(code="centre-agree"))
        record("test.event", actor=user, target=user)
    count_queries(
        agent_client, reverse("backoffice:support"), django_assert_max_num_queries, 8, q="Lefebvre"
    )
    url = reverse("backoffice:support_account", kwargs={"public_id": users[0].public_id})
    count_queries(agent_client, url, django_assert_max_num_queries, 13)


@pytest.mark.parametrize("rows", [1, 30])
def test_journal_and_followup(pdl_client, regions, ceres, rows, django_assert_max_num_queries):
    for _ in range(rows):
        centre = CentreFactory(region=regions["52"])
        record("test.event", establishment=centre.establishment, target=centre)
    count_queries(pdl_client, reverse("backoffice:journal"), django_assert_max_num_queries, 12)
    count_queries(pdl_client, reverse("backoffice:followup"), django_assert_max_num_queries, 10)
    count_queries(pdl_client, reverse("backoffice:letters"), django_assert_max_num_queries, 12)
