"""The agents' changes reach the démarche's feed of habilitation changes like the others."""

import pytest
from django.urls import reverse

from portail.habilitations.models import HabilitationChange
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory

pytestmark = pytest.mark.django_db


def test_an_agents_revocation_is_an_event(agent_client, ceres):
    habilitation = HabilitationFactory(role=ceres.roles.get(code="centre-agree"))
    url = reverse(
        "backoffice:support_revoke",
        kwargs={"public_id": habilitation.user.public_id, "habilitation_pk": habilitation.pk},
    )
    agent_client.post(url, {"reason": "Départ du centre"})
    event = HabilitationChange.objects.get(demarche=ceres)
    assert (event.kind, event.user, event.siret) == (
        "revoked",
        habilitation.user,
        habilitation.establishment.siret,
    )
    assert (event.roles_before, event.roles_after) == (["centre-agree"], [])


def test_closing_a_centre_tells_ceres_of_each_holder(agent_client, ceres):
    centre = CentreFactory()
    holders = [
        HabilitationFactory(role=ceres.roles.get(code=code), establishment=centre.establishment)
        for code in ("centre-agree", "gestionnaire-centres")
    ]
    agent_client.post(
        reverse("backoffice:centre_close", kwargs={"pk": centre.pk}), {"reason": "Fin"}
    )
    events = HabilitationChange.objects.filter(demarche=ceres).order_by("sequence")
    assert {(e.kind, e.user_id) for e in events} == {
        ("establishment_closed", h.user_id) for h in holders
    }
    assert [e.sequence for e in events] == [1, 2]
